import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { classBalancedScores } from "../src/eval/metrics.js";
import { aulcInterval } from "../src/eval/summary.js";
import { longTailRows, noisyAnswers, regimeBudget } from "../src/loop/protocol.js";
import { readResults } from "../src/loop/results-store.js";
import { Rng } from "../src/random.js";
import { cli, cliWith, tempDir, userError } from "./helpers.js";

test("balanced accuracy and macro-F1 by hand (scikit-learn's definitions)", () => {
  // truth 0 0 0 0 1 1 2 ; predicted 0 0 0 1 1 2 2
  const truth = Int32Array.from([0, 0, 0, 0, 1, 1, 2]),
    predicted = Int32Array.from([0, 0, 0, 1, 1, 2, 2]);
  const { balancedAccuracy, macroF1 } = classBalancedScores(predicted, truth, 4);
  // recalls 3/4, 1/2, 1/1 → 0.75; F1: class 0 2·3/(4+3) = 6/7, class 1 2·1/(2+2) = 1/2, class 2 2·1/(1+2) = 2/3; class 3 absent from both.
  assert.ok(Math.abs(balancedAccuracy - (0.75 + 0.5 + 1) / 3) < 1e-12);
  assert.ok(Math.abs(macroF1 - (6 / 7 + 1 / 2 + 2 / 3) / 3) < 1e-12);
  // A class predicted but absent from the truth counts in macro-F1 with F1 0, not in balanced accuracy.
  const extra = classBalancedScores(Int32Array.from([0, 3]), Int32Array.from([0, 0]), 4);
  assert.equal(extra.balancedAccuracy, 0.5);
  assert.ok(Math.abs(extra.macroF1 - (2 / 3 + 0) / 2) < 1e-12);
});

test("regimes are labels per class, initially and per round", () => {
  assert.deepEqual(regimeBudget("low", 10), { init: 10, query: 10 });
  assert.deepEqual(regimeBudget("mid", 11), { init: 55, query: 55 });
  assert.deepEqual(regimeBudget("high", 4), { init: 80, query: 80 });
  assert.deepEqual(regimeBudget("large", 3), { init: 300, query: 300 });
});

test("a long tail keeps ⌊n·R^(−c/(K−1))⌋ rows of class c, seeded, in pool order", () => {
  const y = Int32Array.from({ length: 1000 }, (_, i) => i % 4); // 250 a class
  const kept = longTailRows(y, 4, 10, new Rng(1));
  const counts = [0, 0, 0, 0];
  for (const r of kept) counts[y[r]]++;
  assert.deepEqual(counts, [250, Math.floor(250 * 10 ** (-1 / 3)), Math.floor(250 * 10 ** (-2 / 3)), 25]);
  assert.deepEqual(kept, longTailRows(y, 4, 10, new Rng(1)), "deterministic");
  assert.notDeepEqual(kept, longTailRows(y, 4, 10, new Rng(2)), "another seed, other rows");
  assert.ok(kept.every((r, i) => i === 0 || r > kept[i - 1]));
  assert.equal(longTailRows(y, 4, 1, new Rng(1)).length, 1000, "ratio 1 keeps all");
});

test("the noisy oracle flips the asked share, never to the truth when symmetric, to c+1 when pairwise, the same for every strategy", () => {
  const y = Int32Array.from({ length: 20000 }, (_, i) => i % 5);
  const symmetric = noisyAnswers(y, 5, 0.3, "symmetric", new Rng(4));
  const flipped = symmetric.filter((v, i) => v !== y[i]).length / y.length;
  assert.ok(Math.abs(flipped - 0.3) < 0.015, `flipped ${flipped}`);
  const wrongTo = [0, 0, 0, 0, 0];
  symmetric.forEach((v, i) => {
    if (y[i] === 0 && v !== 0) wrongTo[v]++;
  });
  assert.equal(wrongTo[0], 0);
  assert.ok(
    wrongTo.slice(1).every((n) => n > 250),
    `wrong answers spread over the other classes: ${wrongTo}`,
  );
  const pairwise = noisyAnswers(y, 5, 0.3, "pairwise", new Rng(4));
  pairwise.forEach((v, i) => assert.ok(v === y[i] || v === (y[i] + 1) % 5));
  // The same draws decide which rows flip, whatever the kind.
  assert.deepEqual(
    pairwise.map((v, i) => (v === y[i] ? 0 : 1)),
    symmetric.map((v, i) => (v === y[i] ? 0 : 1)),
  );
  assert.deepEqual(noisyAnswers(y, 5, 0, "symmetric", new Rng(4)), y);
});

test("simulate --regime, --imbalance and --label-noise: recorded, applied, and judged by balanced accuracy and macro-F1", () => {
  const dir = tempDir();
  const run = (name: string, ...extra: string[]) => {
    const out = join(dir, name);
    const r = cli(
      "simulate",
      "--dataset",
      "vowel",
      "--strategies",
      "random,margin",
      "--seeds",
      "1,2",
      "--rounds",
      "2",
      "--hidden",
      "16",
      "--epochs",
      "20",
      "--out",
      out,
      "--quiet",
      ...extra,
    );
    assert.equal(r.status, 0, r.stderr);
    return { out, rows: readResults(out), config: JSON.parse(readFileSync(join(out, "config.json"), "utf8")) };
  };
  const low = run("low", "--regime", "low");
  assert.equal(low.config.regime, "low");
  assert.equal(low.config.init, 11, "vowel has 11 classes");
  assert.deepEqual(
    low.rows.filter((r) => r.strategy === "random" && r.seed === 1).map((r) => r.labeled),
    [11, 22, 33],
  );
  assert.ok(low.rows.every((r) => r.balancedAccuracy! >= 0 && r.balancedAccuracy! <= 1 && r.macroF1! >= 0 && r.macroF1! <= 1));
  const tail = run("tail", "--regime", "low", "--imbalance", "10");
  assert.equal(tail.config.imbalance, 10);
  const noisy = run("noisy", "--regime", "low", "--label-noise", "0.3");
  assert.deepEqual(noisy.config.labelNoise, 0.3);
  assert.equal(noisy.config.noise, "symmetric");
  const accuracy = (rows: typeof low.rows) => rows.map((r) => r.accuracy).join(",");
  assert.notEqual(accuracy(tail.rows), accuracy(low.rows), "the long tail changes the runs");
  assert.notEqual(accuracy(noisy.rows), accuracy(low.rows), "wrong answers change the runs");
  const typical = run("typical", "--regime", "low", "--initial", "typiclust");
  assert.equal(typical.config.initial, "typiclust");
  assert.notEqual(accuracy(typical.rows.filter((r) => r.round === 0)), accuracy(low.rows.filter((r) => r.round === 0)), "another initial set");
  assert.deepEqual(
    run("typical-again", "--regime", "low", "--initial", "typiclust").rows.map((r) => r.accuracy),
    typical.rows.map((r) => r.accuracy),
    "deterministic",
  );
  // The report names the settings by their protocol.
  const report = cli("report", low.out, tail.out, noisy.out, typical.out, "--out", join(dir, "report"));
  assert.equal(report.status, 0, report.stderr);
  const html = readFileSync(join(dir, "report", "report.html"), "utf8");
  // What ran is on record, in config.json and in the report's summary.json.
  const [machine] = low.config.machines;
  assert.equal(machine.node, process.version);
  assert.match(machine.gemm, /^(openblas \(OpenBLAS .*core .+\)|js)$/);
  assert.ok(machine.cores >= 1 && machine.cpu.length > 0 && machine.gemmThreads >= 1);
  const summary = JSON.parse(readFileSync(join(dir, "report", "summary.json"), "utf8"));
  assert.deepEqual(summary.settings[0].machines, low.config.machines);
  assert.match(html, /low regime · long tail 10/);
  assert.match(html, /low regime · symmetric noise 0\.3/);
  assert.match(html, /low regime · TypiClust start/);
  userError(cli("simulate", "--dataset", "vowel", "--regime", "low", "--init", "5"), /--regime sets --init and --query/);
  userError(cli("simulate", "--dataset", "vowel", "--regime", "tiny"), /--regime expects one of low, mid, high, large/);
  userError(cli("simulate", "--dataset", "vowel", "--noise", "pairwise"), /--noise says how --label-noise flips labels/);
  userError(cli("simulate", "--dataset", "vowel", "--imbalance", "0.5"), /--imbalance/);
});

test("the AULC bootstrap interval lies within the seeds' own AULCs, around their mean, and is fixed by a constant seed", () => {
  const rows = [0.3, 0.5, 0.4, 0.6, 0.45].flatMap((top, seed) =>
    [0, 1, 2].map((round) => ({ strategy: "s", seed, round, labeled: 10 + 10 * round, accuracy: (top * round) / 2, trainMs: 0, queryMs: 0 })),
  );
  const perSeed = [0.3, 0.5, 0.4, 0.6, 0.45].map((top) => top / 2); // the area under 0 → top/2 → top over [10, 30], normalised
  const [lo, hi] = aulcInterval(rows)!;
  const m = perSeed.reduce((s, v) => s + v, 0) / perSeed.length;
  assert.ok(lo >= Math.min(...perSeed) - 1e-12 && hi <= Math.max(...perSeed) + 1e-12 && lo < m && m < hi, `[${lo}, ${hi}] around ${m}`);
  assert.deepEqual(aulcInterval(rows), [lo, hi]);
  assert.equal(aulcInterval(rows.filter((r) => r.seed === 0)), undefined, "one seed has no interval");
});

test("simulate --threads: the runs spread over threads give the lines of one process with OpenBLAS on one thread", () => {
  const dir = tempDir();
  const args = [
    "simulate",
    "--dataset",
    "vowel",
    "--strategies",
    "random,margin,alfamix",
    "--seeds",
    "1,2,3",
    "--regime",
    "mid",
    "--rounds",
    "2",
    "--hidden",
    "16",
    "--epochs",
    "20",
    "--quiet",
  ];
  const lines = (out: string) =>
    readResults(out).map((r) =>
      JSON.stringify({ ...r, trainMs: 0, queryMs: 0, stats: r.stats && Object.fromEntries(Object.entries(r.stats).filter(([k]) => !k.endsWith("Ms"))) }),
    );
  const one = cliWith({ OPENBLAS_NUM_THREADS: "1" }, ...args, "--out", join(dir, "one"));
  assert.equal(one.status, 0, one.stderr);
  const threaded = cli(...args, "--out", join(dir, "threads"), "--threads", "2");
  assert.equal(threaded.status, 0, threaded.stderr);
  assert.deepEqual(lines(join(dir, "threads")), lines(join(dir, "one")));
  assert.equal(JSON.parse(readFileSync(join(dir, "threads", "config.json"), "utf8")).machines[0].gemmThreads, 1);
  userError(cli(...args, "--out", join(dir, "x"), "--threads", "2", "--queue", "redis://127.0.0.1:1"), /--queue and --threads are two ways/);
});
