import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeNpy } from "../src/data/npy.js";
import { localRunner } from "../src/loop/local-runner.js";
import { shardedQuery, whyNotSharded } from "../src/loop/sharded-query.js";
import { matrix } from "../src/linalg/matrix.js";
import { selectBatch } from "../src/loop/select-batch.js";
import { openSimulation, DEFAULT_CONFIG, type SimulationConfig } from "../src/loop/simulation.js";
import { createMLP } from "../src/models/network.js";
import { Rng } from "../src/random.js";
import { kebab } from "../src/strategies/params.js";
import { createStrategy, resolveStrategy, STRATEGY_NAMES, strategyInfo } from "../src/strategies/registry.js";
import type { QueryContext } from "../src/strategies/types.js";
import { randomMatrix, tempDir } from "./helpers.js";

/**
 * For every parameter of every strategy, a value other than the default and what to run it on
 * (as scikit-activeml's template checks that every parameter has a test). A parameter added
 * without a probe here fails the first test below.
 */
const PROBES: Record<string, { value: string; base?: string; n?: number; budget?: number }> = {
  "alfamix.alpha": { value: "learned" },
  "alfamix.cap": { value: "0.05" },
  "alfamix.select": { value: "kcenter" },
  "alfamix.ninit": { value: "3" },
  // Adam's steps matter only for learned α.
  "alfamix.steps": { value: "1", base: "alpha=learned" },
  // Sampled and exact k-means differ only past 256 candidates per centre.
  "alfamix.kmeans": { value: "exact", n: 3000, budget: 2 },
  "bald.samples": { value: "2" },
  "dfal.steps": { value: "1" },
  "cdal.doubleSoftmax": { value: "true" },
  "coregcn.subset": { value: "40" },
  "coregcn.epochs": { value: "3", base: "subset=60" },
  "typiclust.neighbours": { value: "2" },
  // 30 labelled + 10 picks make 40 clusters; 12 leaves most of them empty-handed.
  "typiclust.clusters": { value: "12" },
  "typiclust.minSize": { value: "9" },
  "probcover.purity": { value: "0.5" },
  "cluster-margin.candidates": { value: "2" },
  "cluster-margin.clusters": { value: "3" },
  "dropquery.passes": { value: "6" },
  "dropquery.rate": { value: "0.3" },
  // Sampled and exact k-means differ only past 256 candidates per centre.
  "dropquery.kmeans": { value: "exact", n: 3000, budget: 2 },
};

const declared = STRATEGY_NAMES.flatMap((name) => Object.keys(strategyInfo(name).params).map((key) => `${name}.${key}`));

function scenario(n: number, seed = 1): QueryContext {
  const rng = new Rng(seed),
    d = 6,
    classes = 3;
  const x = randomMatrix(n, d, rng);
  for (let i = 0; i < n; i++) x.data[i * d + (i % classes)] += 1.5;
  const labeled = rng.permutation(n).slice(0, 30);
  const isLabeled = new Set(labeled);
  const labels = labeled.map((i) => i % classes);
  const model = createMLP(d, classes, { hidden: [16], dropout: 0.2, seed });
  const lx = matrix(labeled.length, d);
  labeled.forEach((i, r) => lx.data.set(x.data.subarray(i * d, (i + 1) * d), r * d));
  model.fit(lx, labels, { epochs: 30 });
  return { pool: x, labeled, labels, unlabeled: Int32Array.from({ length: n }, (_, i) => i).filter((i) => !isLabeled.has(i)), model, rng: new Rng(seed + 100) };
}

test("every strategy parameter has a probe in this test", () => {
  assert.deepEqual([...declared].sort(), Object.keys(PROBES).sort());
});

const entry = (name: string, ...settings: (string | undefined)[]) => {
  const given = settings.filter(Boolean);
  return given.length ? `${name}[${given.join(",")}]` : name;
};

for (const [id, probe] of Object.entries(PROBES)) {
  const [name, key] = id.split(".");
  test(`a non-default ${name} ${kebab(key)} changes the picks or the stats`, () => {
    const run = (e: string) => {
      const result = createStrategy(resolveStrategy(e)).query(scenario(probe.n ?? 240), probe.budget ?? 10);
      return JSON.stringify([Array.from(result.indices), Object.entries(result.stats ?? {}).filter(([k]) => !k.endsWith("Ms"))]);
    };
    const base = entry(name, probe.base),
      changed = entry(name, probe.base, `${kebab(key)}=${probe.value}`);
    assert.notEqual(resolveStrategy(changed).params[key], resolveStrategy(base).params[key], "the probe's value is not the default");
    assert.notEqual(run(changed), run(base), `${changed} against ${base}`);
  });
}

test("every parameter gives the same batch whole and streamed, wherever the strategy streams", async () => {
  const dir = tempDir(),
    n = 2000,
    d = 6,
    rng = new Rng(5);
  const x = randomMatrix(n, d, rng);
  for (let i = 0; i < n; i++) x.data[i * d + (i % 3)] += 1.5;
  const ids = Array.from({ length: n }, (_, i) => `r${i}`);
  writeFileSync(join(dir, "pool.npy"), encodeNpy(x.data, [n, d]));
  writeFileSync(join(dir, "pool.ids"), ids.join("\n") + "\n");
  const labeled = { ids: ids.slice(0, 30), labels: ids.slice(0, 30).map((_, i) => `c${i % 3}`) };
  const entries = [
    "entropy",
    "margin",
    "least-confidence",
    ...Object.entries(PROBES)
      .filter(([id]) => id.startsWith("alfamix.") || id.startsWith("cluster-margin."))
      .map(([id, p]) => entry(id.split(".")[0], p.base, `${kebab(id.split(".")[1])}=${p.value}`)),
    "cluster-margin",
  ];
  const runner = localRunner();
  const streamed: string[] = [];
  try {
    for (const e of entries) {
      const spec = resolveStrategy(e);
      if (whyNotSharded(spec)) continue;
      streamed.push(e);
      const whole = selectBatch({ pool: { ids, x }, labeled, strategy: spec, budget: 12, seed: 3 });
      runner.ids = undefined;
      const sharded = await shardedQuery({ runner, files: [join(dir, "pool.npy")], labeled, strategy: spec, budget: 12, seed: 3 });
      assert.deepEqual(
        sharded.items.map((i) => i.id),
        whole.items.map((i) => i.id),
        e,
      );
      assert.deepEqual(sharded.stats, Object.fromEntries(Object.entries(whole.stats).filter(([k]) => !k.endsWith("Ms"))), `${e}: stats`);
    }
  } finally {
    await runner.close();
  }
  // Learned α needs the whole pool; every other ALFA-Mix and Cluster-Margin parameter streams.
  assert.deepEqual(
    streamed,
    entries.filter((e) => !e.includes("alpha=learned")),
  );
});

test("an entry's settings reach the streamed path (cap and ninit were once dropped there)", () => {
  const spec = resolveStrategy("alfamix[cap=0.05,ninit=5]", { alfamix: { cap: 0.5, select: "uniform" } });
  assert.deepEqual(spec.params, { alpha: "closed", cap: 0.05, select: "uniform", ninit: 5, steps: 5, kmeans: "sampled" });
});

test("results are identified per entry: another strategy's parameters never block resuming", () => {
  const out = tempDir();
  const config = (strategies: string[], strategyOptions: SimulationConfig["strategyOptions"]): SimulationConfig => ({
    ...DEFAULT_CONFIG,
    dataset: "iris",
    strategies,
    strategyOptions,
  });
  openSimulation(config(["random", "alfamix"], {}), out);
  openSimulation(config(["random", "alfamix", "entropy"], { dfal: { steps: 10 } }), out);
  openSimulation(config(["random"], { alfamix: { cap: 0.1 } }), out);
  assert.throws(
    () => openSimulation(config(["alfamix"], { alfamix: { cap: 0.1 } }), out),
    /holds results of alfamix with cap=0\.2; this run has cap=0\.1\. Use another --out, or give this one an alias/,
  );
  openSimulation(config(["alfamix-fine=alfamix[cap=0.1]"], {}), out);
  // A config.json written before parameters had one name (capStep, and every strategy's defaults) still reads.
  const old = tempDir();
  writeFileSync(
    join(old, "config.json"),
    JSON.stringify({
      ...config(["alfamix"], {}),
      strategyOptions: {
        alfamix: { alpha: "closed", capStep: 0.2, select: "kmeans", nInit: 1, kmeans: "sampled" },
        dfal: { maxSteps: 50 },
        bald: { samples: 10 },
      },
    }),
  );
  openSimulation(config(["alfamix", "dfal"], { dfal: { steps: 7 } }), old);
  assert.throws(() => openSimulation(config(["alfamix"], { alfamix: { ninit: 2 } }), old), /alfamix with ninit=1; this run has ninit=2/);
});
