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
