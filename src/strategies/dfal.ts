import { gatherRows, matrix, type Matrix } from "../linalg/matrix.js";
import type { Classifier } from "../models/classifier.js";
import { int, resolveParams, type ParamsOf, type ParamTable } from "./params.js";
import { checkQuery, topK, type Strategy } from "./types.js";

export const DFAL_PARAMS = {
  steps: int(50, 1, "DeepFool steps per item at most"),
} as const satisfies ParamTable;
export type DfalParams = ParamsOf<typeof DFAL_PARAMS>;

/** Items per chunk: (chunk·K)×D Jacobians stay a few tens of MB. */
const CHUNK = 1024;

/**
 * DeepFool on a chunk of inputs, all items stepping together: per step one forward pass and one
 * backward pass (the logit Jacobian) for every item not yet flipped. Each step moves an item
 * towards its closest boundary: l = argmin_k |f_k − f_ŷ| / ‖∇f_k − ∇f_ŷ‖ over k ≠ ŷ, then
 * r = (|f_l − f_ŷ| + 1e-4) / ‖w_l‖² · w_l. Returns ‖η‖², the squared norm of the total
 * perturbation when the prediction flipped (or after `maxSteps`), per row.
 */
export function deepFoolSquaredNorms(model: Classifier, x0: Matrix, maxSteps: number): { squaredNorm: Float64Array; steps: Int32Array; flipped: Uint8Array } {
  const n = x0.rows,
    D = x0.cols,
    K = model.numClasses;
  const eta = new Float64Array(n * D);
  const squaredNorm = new Float64Array(n),
    steps = new Int32Array(n),
    flipped = new Uint8Array(n);
  const yhat = new Int32Array(n);
  let active = Int32Array.from({ length: n }, (_, i) => i);
  for (let step = 0; step <= maxSteps && active.length > 0; step++) {
    // The perturbed inputs of the items still going.
    const x = matrix(active.length, D);
    active.forEach((i, a) => {
      for (let j = 0; j < D; j++) x.data[a * D + j] = x0.data[i * D + j] + eta[i * D + j];
    });
    const logits = model.headLogits(model.embed(x)).data;
    const still: number[] = [];
    active.forEach((i, a) => {
      let best = 0;
      for (let k = 1; k < K; k++) if (logits[a * K + k] > logits[a * K + best]) best = k;
      if (step === 0) yhat[i] = best;
      else if (best !== yhat[i]) flipped[i] = 1;
      if (!flipped[i] && step < maxSteps) still.push(a);
    });
    if (still.length === 0) break;
    const J = model.logitJacobian(gatherRows(x, still)).data;
    still.forEach((a, s) => {
      const i = active[a],
        y = yhat[i],
        base = s * K * D;
      // The closest boundary: smallest |f_k − f_ŷ| / ‖∇f_k − ∇f_ŷ‖.
      let l = -1,
        bestRatio = Infinity,
        bestGap = 0,
        bestNorm2 = 0;
      for (let k = 0; k < K; k++) {
        if (k === y) continue;
        let norm2 = 0;
        for (let j = 0; j < D; j++) {
          const w = J[base + k * D + j] - J[base + y * D + j];
          norm2 += w * w;
        }
        const gap = Math.abs(logits[a * K + k] - logits[a * K + y]);
        const ratio = gap / Math.sqrt(norm2);
        if (norm2 > 0 && ratio < bestRatio) {
          bestRatio = ratio;
          l = k;
          bestGap = gap;
          bestNorm2 = norm2;
        }
      }
      if (l < 0) return; // flat in every direction: no step can flip it
      const scale = (bestGap + 1e-4) / bestNorm2;
      for (let j = 0; j < D; j++) eta[i * D + j] += scale * (J[base + l * D + j] - J[base + y * D + j]);
      steps[i]++;
    });
    active = Int32Array.from(still, (a) => active[a]);
  }
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += eta[i * D + j] * eta[i * D + j];
    squaredNorm[i] = s;
  }
  return { squaredNorm, steps, flipped };
}

/**
 * DFAL (Ducoffe & Precup 2018): the items closest to the decision boundary in input space, by the
 * size of the DeepFool perturbation that flips them, smallest first. Deviates from the public
 * ALFA-Mix code on purpose: each step goes towards the closest other class, as DeepFool defines
 * it (the public code steps towards the last class by mistake).
 */
export function dfalStrategy(params: Partial<DfalParams> = {}): Strategy {
  const { steps: maxSteps } = resolveParams(DFAL_PARAMS, params, "dfal");
  return {
    name: "dfal",
    scoreName: "squared norm of the DeepFool perturbation that flips the prediction (lower: closer to the boundary)",
    query(context, budget) {
      const b = checkQuery("dfal", context, budget);
      const { unlabeled, pool, model } = context;
      const scores = new Float64Array(unlabeled.length);
      let flippedCount = 0,
        stepSum = 0;
      for (let start = 0; start < unlabeled.length; start += CHUNK) {
        const chunk = unlabeled.subarray(start, Math.min(unlabeled.length, start + CHUNK));
        const result = deepFoolSquaredNorms(model, gatherRows(pool, chunk), maxSteps);
        scores.set(result.squaredNorm, start);
        for (let i = 0; i < chunk.length; i++) {
          flippedCount += result.flipped[i];
          stepSum += result.steps[i];
        }
      }
      // Smallest perturbation first: the top k of the negated norms.
      const order = topK(
        scores.map((v) => -v),
        b,
      );
      return {
        indices: order.map((p) => unlabeled[p]),
        scores: Float32Array.from(order, (p) => scores[p]),
        stats: { flipped: flippedCount, meanSteps: unlabeled.length ? stepSum / unlabeled.length : 0 },
      };
    },
  };
}
