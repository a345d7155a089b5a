import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { matrix } from "../src/linalg/matrix.js";
import {
  classificationChange,
  cohenKappa,
  deltaFScore,
  kappaAverage,
  maxIterations,
  overallUncertainty,
  stoppingSummary,
  type StoppingCriterion,
} from "../src/eval/stopping.js";

/** small-text's criteria on two hand-worked sequences (test/fixtures/stopping-hand-cases.json, worked out by hand and checked against small-text 2.0.0.dev3). */
const reference = JSON.parse(readFileSync(new URL("../../test/fixtures/stopping-hand-cases.json", import.meta.url), "utf8"));

type Params = { num_classes?: number; window_size?: number; kappa?: number; threshold?: number; max_iterations?: number };
function criterion(name: string, p: Params): StoppingCriterion {
  const window = p.window_size;
  if (name === "KappaAverage") return kappaAverage(p.num_classes!, { window, kappa: p.kappa });
  if (name === "ClassificationChange") return classificationChange({ threshold: p.threshold });
  if (name === "OverallUncertainty") return overallUncertainty({ threshold: p.threshold });
  if (name === "DeltaFScore") return deltaFScore({ window, threshold: p.threshold });
  if (name === "MaxIterations") return maxIterations(p.max_iterations!);
  throw new Error(`no criterion ${name}`);
}

test("Cohen's κ on the hand-worked cases (identical and constant vectors included)", () => {
  for (const c of reference.kappa_cases) assert.ok(Math.abs(cohenKappa(c.y1, c.y2, c.num_classes) - c.kappa) < 1e-12, c.arithmetic);
});

test("every criterion stops (and reports its value) exactly where small-text does, round by round", () => {
  let checked = 0;
  for (const sequence of reference.hand_cases) {
    for (const [label, expected] of Object.entries(sequence.criteria) as [
      string,
      { class: string; params: Params; stop: boolean[]; value: (number | string | null)[] },
    ][]) {
      const c = criterion(expected.class, expected.params);
      sequence.predictions.forEach((predictions: number[], t: number) => {
        const probs = sequence.proba[t] as number[][];
        const result = c.check(Int32Array.from(predictions), matrix(probs.length, probs[0].length, Float32Array.from(probs.flat())));
        assert.equal(result.stop, expected.stop[t], `${sequence.id} ${label} round ${t}: stop`);
        if (expected.class === "MaxIterations") return; // small-text reports its own counter there
        const want = expected.value[t];
        if (want === null) assert.equal(result.value, null, `${sequence.id} ${label} round ${t}: no value yet`);
        else if (want === "NaN") assert.ok(Number.isNaN(result.value), `${sequence.id} ${label} round ${t}: NaN`);
        else assert.ok(Math.abs(result.value! - (want as number)) < 1e-6, `${sequence.id} ${label} round ${t}: ${result.value} against ${want}`);
      });
      checked++;
    }
  }
  assert.equal(checked, 18, "every criterion of both sequences");
});

test("the stopping summary: each criterion's first stop per run, labels saved against accuracy lost", () => {
  const row = (seed: number, round: number, accuracy: number, stop: string[]) => ({
    strategy: "a",
    seed,
    round,
    labeled: 10 + 10 * round,
    accuracy,
    trainMs: 0,
    queryMs: 0,
    stop,
  });
  const results = [
    row(1, 0, 0.5, []),
    row(1, 1, 0.7, ["classification-change"]),
    row(1, 2, 0.8, []),
    row(1, 3, 0.9, ["classification-change", "kappa-average"]),
    row(2, 0, 0.4, []),
    row(2, 1, 0.6, []),
    row(2, 2, 0.7, ["classification-change"]),
    row(2, 3, 0.75, []),
  ];
  const summary = Object.fromEntries(stoppingSummary(results).map((s) => [s.criterion, s]));
  // classification-change: seed 1 stops at round 1 (20 labels, 0.7; 20 saved, 0.2 lost), seed 2 at round 2 (30, 0.7; 10 saved, 0.05 lost).
  const change = summary["classification-change"];
  assert.deepEqual([change.fired, change.runs, change.labelsAtStop, change.labelsSaved], [2, 2, 25, 15]);
  assert.ok(Math.abs(change.accuracyAtStop - 0.7) < 1e-12 && Math.abs(change.accuracyLost - 0.125) < 1e-12);
  assert.deepEqual([summary["kappa-average"].fired, summary["kappa-average"].labelsSaved, summary["kappa-average"].accuracyLost], [1, 0, 0]);
  assert.equal(summary["overall-uncertainty"].fired, 0, "listed, never fired");
  assert.deepEqual(stoppingSummary(results.map(({ stop: _, ...r }) => r)), [], "results recorded before the criteria: nothing to say");
});
