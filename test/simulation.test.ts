import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CONFIG, simulate, type SimulationConfig } from "../src/loop/simulation.js";
import { readResults } from "../src/loop/results-store.js";
import { readMapRecords, readSeedMap } from "../src/loop/maps.js";
import { buildReport, writeReport } from "../src/report/report.js";
import { tempDir } from "./helpers.js";

const config: SimulationConfig = {
  ...DEFAULT_CONFIG,
  dataset: "vowel",
  model: "mlp",
  hidden: [32],
  strategies: ["random", "entropy", "alfamix"],
  seeds: [1, 2],
  init: 22,
  query: 11,
  rounds: 2,
  epochs: 40,
};

test("paired runs: every strategy shares a seed's split, initial labels and weights; resuming skips finished runs", async () => {
  const dir = tempDir();
  const out = join(dir, "run");
  const seen: string[] = [];
  const results = await simulate(config, { out, onProgress: (p) => seen.push(`${p.strategy}/${p.seed}/${p.round}`) });
  assert.equal(results.length, 3 * 2 * 3);
  assert.equal(seen.length, 18);
  for (const seed of [1, 2]) {
    const round0 = results.filter((r) => r.seed === seed && r.round === 0);
    assert.equal(new Set(round0.map((r) => r.accuracy)).size, 1, "round 0 is identical for every strategy");
    for (const r of results.filter((x) => x.seed === seed)) assert.equal(r.labeled, 22 + 11 * r.round);
  }
  assert.ok(results.every((r) => r.accuracy > 0.1 && r.accuracy <= 1 && (r.round === 0 ? r.queryMs === 0 : r.queryMs > 0)));
  const alfamix = results.filter((r) => r.strategy === "alfamix" && r.round > 0);
  assert.ok(alfamix.every((r) => r.stats && r.stats.candidates >= 0 && r.stats.cap >= 0));
  const saved = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
  assert.deepEqual(saved.strategies, config.strategies);

  // Same command again: nothing runs. One more strategy: only it runs.
  seen.length = 0;
  await simulate(config, { out, onProgress: (p) => seen.push(p.strategy) });
  assert.equal(seen.length, 0);
  const more = await simulate({ ...config, strategies: ["random", "margin"] }, { out, onProgress: (p) => seen.push(p.strategy) });
  assert.deepEqual([...new Set(seen)], ["margin"]);
  assert.equal(more.length, 4 * 2 * 3);
  assert.deepEqual(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).strategies, ["random", "entropy", "alfamix", "margin"]);

  // A second directory gives the same numbers: runs are deterministic.
  const again = await simulate({ ...config, strategies: ["alfamix"], seeds: [2] }, { out: join(dir, "again") });
  const key = (r: { strategy: string; seed: number; round: number; accuracy: number }) => `${r.strategy}/${r.seed}/${r.round}/${r.accuracy}`;
  assert.deepEqual(again.map(key), results.filter((r) => r.strategy === "alfamix" && r.seed === 2).map(key));
  // Every round records the stopping criteria that fire after it, the same in every run of a seed.
  assert.ok(
    results.every(
      (r) => Array.isArray(r.stop) && r.stop.every((c) => ["kappa-average", "classification-change", "overall-uncertainty", "estimate-gain"].includes(c)),
    ),
  );
  // The estimate-gain audit: 10% of a batch of 11 rounds to one item a round, guessed right or not.
  assert.ok(results.every((r) => r.audit?.n === 1 && (r.audit.correct === 0 || r.audit.correct === 1)));
  assert.ok(
    results.every((r) => !r.stop!.includes("estimate-gain")),
    "one audit item a round over three rounds cannot be confident",
  );
  assert.deepEqual(
    again.map((r) => r.audit),
    results.filter((r) => r.strategy === "alfamix" && r.seed === 2).map((r) => r.audit),
  );
  assert.deepEqual(
    again.map((r) => r.stop),
    results.filter((r) => r.strategy === "alfamix" && r.seed === 2).map((r) => r.stop),
  );
  assert.ok(
    results.every((r) => r.round !== 0 || !r.stop!.includes("classification-change")),
    "no change can be counted at round 0",
  );
});

test("a partial run left by an interruption is redone, not duplicated", async () => {
  const dir = tempDir();
  const small = { ...config, strategies: ["random"], seeds: [1] };
  await simulate(small, { out: dir });
  const rows = readResults(dir);
  writeFileSync(
    join(dir, "results.jsonl"),
    rows
      .slice(0, 2)
      .map((r) => JSON.stringify(r))
      .join("\n") + "\n",
  );
  const redone = await simulate(small, { out: dir });
  const untimed = (r: { trainMs?: number; queryMs?: number }) => ({ ...r, trainMs: 0, queryMs: 0 });
  assert.deepEqual(
    redone.map((r) => r.round),
    [0, 1, 2],
  );
  assert.deepEqual(redone.map(untimed), rows.map(untimed));
});

test("more rounds extend a finished simulation: the rounds stored come out the same, and fewer rounds never shrink it", async () => {
  const dir = tempDir();
  const small = { ...config, strategies: ["random", "alfamix"], seeds: [1] };
  const before = await simulate(small, { out: dir });
  const extended = await simulate({ ...small, rounds: 3 }, { out: dir });
  const untimed = (r: { trainMs?: number; queryMs?: number; stats?: Record<string, number> }) => ({
    ...r,
    trainMs: 0,
    queryMs: 0,
    stats: Object.fromEntries(Object.entries(r.stats ?? {}).filter(([k]) => !k.endsWith("Ms"))),
  });
  assert.equal(extended.length, 2 * 4);
  assert.deepEqual(extended.filter((r) => r.round <= 2).map(untimed), before.map(untimed));
  assert.equal(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).rounds, 3);
  const again = await simulate(small, { out: dir });
  assert.deepEqual(again.map(untimed), extended.map(untimed), "rounds 2 on a 3-round directory runs nothing");
});

test("settings that change the experiment cannot be mixed into an existing directory", async () => {
  const dir = tempDir();
  const small = { ...config, strategies: ["random"], seeds: [1] };
  await simulate(small, { out: dir });
  await assert.rejects(
    simulate({ ...small, rounds: 3, lr: 0.01 }, { out: dir }),
    /holds results of a different simulation \(lr: 0\.001 there, 0\.01 here\); use another --out/,
  );
  await assert.rejects(simulate({ ...small, strategies: ["bald"] }, { out: join(dir, "b") }), /bald needs a model with dropout/);
  await assert.rejects(simulate({ ...small, strategies: ["nope"] }, { out: join(dir, "c") }), /unknown strategy "nope"/);
  await assert.rejects(simulate({ ...small, init: 900, rounds: 10, query: 50 }, { out: join(dir, "d") }), /exceed the pool of 792 items/);
  assert.equal(existsSync(join(dir, "c", "results.jsonl")), false);
});

test("variants run paired under their labels; the report draws the ablation table and the round-1 maps", async () => {
  const dir = tempDir();
  const out = join(dir, "ablation");
  const entries = ["random", "alfamix", "alfamix[select=norm]", "learned=alfamix[alpha=learned]", "alfamix[select=kcenter]"];
  const results = await simulate({ ...config, strategies: entries, seeds: [1, 2], rounds: 2 }, { out });
  assert.deepEqual([...new Set(results.map((r) => r.strategy))], ["random", "alfamix", "alfamix[select=norm]", "learned", "alfamix[select=kcenter]"]);
  for (const seed of [1, 2]) assert.equal(new Set(results.filter((r) => r.seed === seed && r.round === 0).map((r) => r.accuracy)).size, 1, "paired at round 0");
  const records = readMapRecords(out, 1);
  assert.deepEqual(records.map((r) => r.strategy).sort(), ["alfamix", "alfamix[select=kcenter]", "alfamix[select=norm]", "learned", "random"]);
  assert.ok(records.every((r) => r.round === 1 && r.batch.length === 11 && r.labelled.length === 22));
  const map = readSeedMap(out, [1, 2])!;
  assert.equal(map.seed, 1);
  for (const r of records) for (const i of [...r.labelled, ...r.batch]) assert.ok(map.indices.includes(i), "every labelled and picked item is on the map");
  assert.ok(map.xy.every((v) => v >= 0 && v <= 1));
  const report = buildReport([out]);
  writeReport(report, out);
  const html = readFileSync(join(out, "report.html"), "utf8");
  assert.match(html, /<h2>Ablation of ALFA-Mix<\/h2>/);
  assert.match(html, /learned α<\/td><td>\d+\.\d+% ±/);
  assert.match(html, /norm \(smallest ‖α‖\)<\/td><td>\d+\.\d+% ±/);
  assert.match(html, /sym\. KL<\/td><td>–<\/td>/, "a variant that did not run is a dash");
  assert.match(html, /<h2>Where the picks fall<\/h2>/);
  assert.match(html, /<h2>When to stop<\/h2>[\s\S]*<th>classification-change<\/th>[\s\S]*(never \(0 of 2\)|\d of 2 runs)/);
  assert.match(html, /initial slope/);
  assert.match(html, /<span class="ci">\[0\.\d+, 0\.\d+\]<\/span>/, "AULC intervals over the seeds");
  assert.match(html, /Only 2 seeds in some comparisons: the test has 1 degree of freedom/, "two seeds: the report says the test is powerless");
  await assert.rejects(simulate({ ...config, strategies: ["alfamix", "alfamix"] }, { out: join(dir, "twice") }), /the strategy "alfamix" is listed twice/);
  await assert.rejects(simulate({ ...config, strategies: ["a=random", "a=entropy"] }, { out: join(dir, "twice") }), /the strategy "a" is listed twice/);
});
