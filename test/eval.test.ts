import { test } from "node:test";
import assert from "node:assert/strict";
import { areaUnderCurve, std } from "../src/eval/metrics.js";
import { penaltyMatrix, type CurvePoint } from "../src/eval/penalty.js";
import { studentTCdf, tCritical } from "../src/eval/student-t.js";
import { summarizeSetting } from "../src/eval/summary.js";
import { penaltyCsv, settingName } from "../src/report/report.js";
import { DEFAULT_CONFIG } from "../src/loop/simulation.js";
import { percentOverSeeds } from "../src/eval/format.js";
import { accuracyCurve, wilson } from "../src/eval/accuracy-estimate.js";
import { agreementReport, cohenKappa, krippendorffAlpha } from "../src/eval/agreement.js";

test("Student t: critical values and the CDF match the tables", () => {
  for (const [df, t] of [
    [1, 12.706],
    [2, 4.303],
    [4, 2.776],
    [9, 2.262],
    [29, 2.045],
  ])
    assert.ok(Math.abs(tCritical(df) - t) < 1e-3, `df ${df}: ${tCritical(df)}`);
  assert.ok(Math.abs(studentTCdf(0, 5) - 0.5) < 1e-12);
  assert.ok(Math.abs(studentTCdf(2.015, 5) - 0.95) < 1e-3);
});

test("AULC by the trapezoid rule, divided by the label range", () => {
  assert.ok(Math.abs(areaUnderCurve([100, 200, 300], [0.5, 0.7, 0.9]) - 0.7) < 1e-12);
  assert.equal(areaUnderCurve([100], [0.8]), 0.8);
  assert.ok(Math.abs(std([1, 2, 3]) - 1) < 1e-12);
  assert.ok(Math.abs(std([1, 2, 3], 0) - Math.sqrt(2 / 3)) < 1e-12);
});

/** Strategy a against b over 3 seeds; round 0 is shared, so it never counts. */
function setting(deltasByRound: number[][]): CurvePoint[] {
  const points: CurvePoint[] = [];
  [1, 2, 3].forEach((seed, s) => {
    points.push({ strategy: "a", seed, round: 0, accuracy: 0.5 }, { strategy: "b", seed, round: 0, accuracy: 0.5 });
    deltasByRound.forEach((deltas, r) => {
      points.push({ strategy: "a", seed, round: r + 1, accuracy: 0.8 + deltas[s] }, { strategy: "b", seed, round: r + 1, accuracy: 0.8 });
    });
  });
  return points;
}

test("penalty matrix on a hand-computed example, with both ddof conventions and two settings", () => {
  // Round 1: Δ = (0.02, 0.03, 0.025): mean 0.025, std 0.005, t = √3·5 = 8.66 > 4.303: a beats b.
  // Round 2: Δ = 0.02 ∓ 0.00866: t = 4.00 with ddof 1 (not significant), 4.90 with ddof 0 (significant).
  const one = setting([
    [0.02, 0.03, 0.025],
    [0.02 - 0.00866, 0.02, 0.02 + 0.00866],
  ]);
  const sample = penaltyMatrix([one]);
  assert.deepEqual(sample.names, ["a", "b"]);
  assert.deepEqual(sample.matrix, [
    [0, 0.5],
    [0, 0],
  ]);
  assert.deepEqual(sample.columnMean, [0, 0.5]);
  assert.equal(sample.ddof, 1);
  assert.ok(Math.abs(sample.tCritical[0] - 4.3027) < 1e-4);
  assert.equal(sample.fewestPairs, 3);
  const reordered = penaltyMatrix([one], { order: ["b", "absent", "a"] });
  assert.deepEqual(
    [reordered.names, reordered.matrix, reordered.columnMean],
    [
      ["b", "a"],
      [
        [0, 0],
        [0.5, 0],
      ],
      [0.5, 0],
    ],
  );
  const population = penaltyMatrix([one], { ddof: 0 });
  assert.deepEqual(population.matrix, [
    [0, 1],
    [0, 0],
  ]);
  // Settings add up: the same setting twice doubles every entry.
  const twice = penaltyMatrix([one, one]);
  assert.deepEqual(twice.matrix, [
    [0, 1],
    [0, 0],
  ]);
  assert.equal(twice.settings, 2);
  assert.equal(penaltyCsv({ ...sample }), ",a,b\na,0,0.5\nb,0,0\ncolumn mean,0,0.5\n");
  // Equal accuracies everywhere: nobody beats anybody (std 0 and mean 0).
  assert.deepEqual(penaltyMatrix([setting([[0, 0, 0]])]).matrix, [
    [0, 0],
    [0, 0],
  ]);
});

test("a setting's summary: curves, final accuracy and query times", () => {
  const rows = [1, 2].flatMap((seed) =>
    [0, 1].map((round) => ({
      strategy: "s",
      seed,
      round,
      labeled: 10 + 5 * round,
      accuracy: 0.5 + 0.1 * round + 0.01 * seed,
      trainMs: 2,
      queryMs: round ? 4 * seed : 0,
    })),
  );
  const summary = summarizeSetting("toy", rows).strategies.s;
  assert.deepEqual(
    summary.curve.map((p) => [p.round, p.labeled, Number(p.mean.toFixed(3))]),
    [
      [0, 10, 0.515],
      [1, 15, 0.615],
    ],
  );
  assert.ok(Math.abs(summary.final.std - Math.SQRT1_2 * 0.01) < 1e-9);
  assert.equal(summary.meanQueryMs, 6);
  assert.ok(Math.abs(summary.aulc - 0.565) < 1e-9);
});

test("accuracy over seeds: mean ± std, and one seed says so instead of ± 0.00", () => {
  assert.equal(percentOverSeeds(0.5318, 0, 1), "53.18% (1 seed)");
  assert.equal(percentOverSeeds(0.5, 0.0123, 3), "50.00% ± 1.23");
});

test("a setting is named by its dataset, model and schedule; a split folder keeps the folder above it", () => {
  const config = { ...DEFAULT_CONFIG, dataset: "data/cifar10/train", model: "cnn" as const, init: 1000, rounds: 5, query: 1000 };
  assert.equal(settingName(config, "runs/x"), "cifar10/train · CNN · 1000 + 5 × 1000");
  assert.equal(settingName({ ...config, dataset: "mnist", model: "mlp", hidden: [256] }, "runs/x"), "mnist · MLP 256 · 1000 + 5 × 1000");
  assert.equal(settingName({ ...config, dataset: "emb/photos.npy" }, "runs/x"), "photos.npy · CNN · 1000 + 5 × 1000");
  assert.equal(settingName(undefined, "runs/old-run"), "old-run");
});

test("agreement: Cohen's κ and Krippendorff's α against published worked examples", () => {
  // Cohen's κ (Wikipedia's example): 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: p_o = 0.7, p_e = 0.5, κ = 0.4.
  const a = [..."y".repeat(25), ..."n".repeat(25)];
  const b = [..."y".repeat(20), ..."n".repeat(5), ..."y".repeat(10), ..."n".repeat(15)];
  assert.ok(Math.abs(cohenKappa(a, b)! - 0.4) < 1e-12);
  assert.equal(cohenKappa(["x", "x"], ["x", "x"]), null, "every label the same: chance agreement is 1, κ undefined");
  assert.equal(cohenKappa([], []), null);
  // Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal data of 4 coders with
  // missing values: α = 0.743.
  const A = [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
    B = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3];
  const C = [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
    D = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null];
  const units = A.map((_, i) => [A[i], B[i], C[i], D[i]].filter((v) => v !== null).map(String));
  assert.equal(krippendorffAlpha(units)!.toFixed(3), "0.743");
  // By hand, two coders: units (a,a) (a,b) (b,b) (b,b): o_aa = 2, o_ab = o_ba = 1, o_bb = 4; n_a = 3,
  // n_b = 5, n = 8; α = 1 − (n − 1)·2 / (2·3·5) = 1 − 14/30.
  assert.ok(
    Math.abs(
      krippendorffAlpha([
        ["a", "a"],
        ["a", "b"],
        ["b", "b"],
        ["b", "b"],
      ])! -
        16 / 30,
    ) < 1e-12,
  );
});

test("agreement report: pairs keyed by their names whoever labelled first, classes one against the rest", () => {
  const pair = (x: string, l1: string, y: string, l2: string) => ({ first: { annotator: x, label: l1 }, second: { annotator: y, label: l2 } });
  const report = agreementReport(
    [pair("ana", "cat", "ben", "cat"), pair("ben", "dog", "ana", "cat"), pair("ana", "dog", "ben", "dog"), pair("cy", "cat", "ana", "cat")],
    ["cat", "dog", "emu"],
  );
  assert.equal(report.items, 4);
  assert.equal(report.observed, 3 / 4);
  const ab = report.pairs.find((p) => p.annotators.join() === "ana,ben")!;
  // ana: cat, cat, dog; ben: cat, dog, dog → p_o = 2/3, p_e = (2/3)(1/3) + (1/3)(2/3) = 4/9, κ = (2/3 − 4/9)/(5/9) = 0.4.
  assert.equal(ab.items, 3);
  assert.ok(Math.abs(ab.kappa! - 0.4) < 1e-12);
  assert.deepEqual(
    report.pairs.map((p) => p.annotators.join()),
    ["ana,ben", "ana,cy"],
  );
  const dog = report.classes.find((c) => c.label === "dog")!;
  assert.deepEqual([dog.items, dog.observed], [2, 1 / 2]);
  assert.deepEqual(
    report.classes.find((c) => c.label === "emu"),
    { label: "emu", items: 0, observed: null, kappa: null },
  );
});

test("the live accuracy estimate: runs of at least 20 random items, each with its Wilson interval; a small n keeps its wide interval", () => {
  const labels = (n: number, right: (i: number) => boolean) =>
    Array.from({ length: n }, (_, i) => ({ label: "a", predicted: right(i) ? "a" : "b", modelVersion: 1 + Math.floor(i / 10), seq: 10 + i }));
  const two = accuracyCurve(labels(2, () => true));
  assert.equal(two.length, 1);
  assert.deepEqual([two[0].n, two[0].correct, two[0].accuracy], [2, 2, 1]);
  assert.ok(two[0].low < 0.35 && two[0].high === 1, "n = 2 at 100%: the interval reaches down to about a third");
  const many = accuracyCurve(labels(50, (i) => i % 4 !== 0));
  assert.deepEqual(
    many.map((p) => p.n),
    [20, 30],
    "the last run takes the rest rather than leave a few",
  );
  assert.deepEqual(many[0].models, [1, 2]);
  // Wilson at k = 8, n = 10: centre (0.8 + 1.92/10)/(1 + 3.84/10) …: 0.4902–0.9433 (published tables).
  const w = wilson(8, 10);
  assert.deepEqual([w.low.toFixed(4), w.high.toFixed(4)], ["0.4902", "0.9433"]);
});
