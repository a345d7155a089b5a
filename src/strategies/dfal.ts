import { matmul } from "../linalg/gemm.js";
import { cloneMatrix, gatherRows, matrix, rowSlice, type Matrix } from "../linalg/matrix.js";
import { dotAt } from "../linalg/rows.js";
import type { Classifier } from "../models/classifier.js";
import { int, resolveParams, type ParamsOf, type ParamTable } from "./params.js";
import { checkQuery, topK, type Strategy } from "./types.js";

export const DFAL_PARAMS = {
  steps: int(50, 1, "DeepFool steps per item at most"),
} as const satisfies ParamTable;
export type DfalParams = ParamsOf<typeof DFAL_PARAMS>;

/**
 * Items per chunk. Factored, 4,096: bigger chunks spread each step's fixed costs, 1,024 took 10%
 * longer and 8,192 gained nothing (with all 4,096 items' gradients formed at once; they now go
 * STEP_ITEMS at a time). With the full Jacobian, (chunk·K)×D values stay under 2^24 (64 MB).
 */
function chunkSize(model: Classifier): number {
  return model.logitJacobianFactors ? 4096 : Math.max(16, Math.floor(2 ** 24 / (model.numClasses * model.inputDim)));
}

/**
 * Items whose gradients a step forms at a time: u and u·G (2.6 MB for the MNIST MLP) then stay in
 * cache between the GEMM that writes them and the products that read them. Formed for all 4,096
 * items of a chunk at once (42 MB each), MNIST's query took 2.81–2.87 s against 2.36–2.51 s
 * (128 and 512 items: the same as 256).
 */
const STEP_ITEMS = 256;

/**
 * DeepFool on a chunk of inputs, all items stepping together: per step one forward pass and one
 * backward pass for every item not yet flipped. Each step moves an item towards its closest
 * boundary: l = argmin_k |f_k − f_ŷ| / ‖w_k‖ over k ≠ ŷ with w_k = ∇f_k − ∇f_ŷ, then
 * r = (|f_l − f_ŷ| + 1e-4) / ‖w_l‖² · w_l. Returns ‖η‖², the squared norm of the total
 * perturbation when the prediction flipped (or after `maxSteps`), per row.
 *
 * Where the model factors its Jacobian at the first layer (J = U·A), w_k = u_k·A with
 * u_k = U_k − U_ŷ, so ‖w_k‖² = u_k·(A·Aᵀ)·u_kᵀ: the Gram matrix A·Aᵀ is formed once, and only the
 * chosen direction is carried to input space (an MLP 784-256-10: 0.9M multiply-adds per item and
 * step where forming J took 2M). `literal` forms J instead (for checking).
 */
export function deepFoolSquaredNorms(
  model: Classifier,
  x0: Matrix,
  maxSteps: number,
  literal = false,
): { squaredNorm: Float64Array; steps: Int32Array; flipped: Uint8Array } {
  const n = x0.rows,
    D = x0.cols,
    K = model.numClasses;
  const squaredNorm = new Float64Array(n),
    steps = new Int32Array(n),
    flipped = new Uint8Array(n),
    yhat = new Int32Array(n);
  // The perturbed inputs x0 + η of the items still going, compacted: row a is item active[a].
  const X = cloneMatrix(x0),
    active = Int32Array.from({ length: n }, (_, i) => i),
    activeY = new Int32Array(n),
    gap = new Float32Array(n * K);
  // Buffers sized at the first step (the most items) and reused by the later ones.
  let ugBuffer: Float32Array | undefined, chosenBuffer: Float32Array | undefined, upperBuffer: Float32Array | undefined;
  let count = n,
    gram: Matrix | undefined;
  for (let step = 0; count > 0; step++) {
    const logits = model.headLogits(model.embed(rowSlice(X, 0, count))).data;
    // Items that flipped (or ran out of steps) leave with their ‖η‖²; the rest move up.
    let kept = 0;
    for (let a = 0; a < count; a++) {
      const i = active[a];
      let best = 0;
      for (let k = 1; k < K; k++) if (logits[a * K + k] > logits[a * K + best]) best = k;
      if (step === 0) yhat[i] = best;
      else if (best !== yhat[i]) flipped[i] = 1;
      if (flipped[i] || step === maxSteps) {
        let s = 0;
        for (let j = 0; j < D; j++) s += (X.data[a * D + j] - x0.data[i * D + j]) ** 2;
        squaredNorm[i] = s;
        continue;
      }
      if (kept !== a) X.data.copyWithin(kept * D, a * D, (a + 1) * D);
      active[kept] = i;
      activeY[kept] = yhat[i];
      for (let k = 0; k < K; k++) gap[kept * K + k] = Math.abs(logits[a * K + k] - logits[a * K + yhat[i]]);
      kept++;
    }
    count = kept;
    if (count === 0) break;
    const x = rowSlice(X, 0, count),
      ys = activeY.subarray(0, count);
    let first: Matrix | undefined,
      width = 0;
    for (let s0 = 0; s0 < count; s0 += STEP_ITEMS) {
      const s1 = Math.min(count, s0 + STEP_ITEMS),
        part = s1 - s0;
      // u_k = ∇(f_k − f_ŷ) per item (at the first layer, or in input space when not factored).
      const factors =
        !literal && model.logitJacobianFactors
          ? model.logitJacobianFactors(rowSlice(x, s0, s1), ys.subarray(s0, s1), upperBuffer)
          : literalFactors(model, rowSlice(x, s0, s1), ys.subarray(s0, s1));
      upperBuffer ??= factors.upper.data;
      first = factors.first;
      const U = factors.upper.data,
        H = (width = factors.upper.cols);
      chosenBuffer ??= new Float32Array(count * H);
      if (first && !gram) gram = matmul(first, first, { transB: true });
      ugBuffer ??= new Float32Array(part * K * H);
      const UG = gram ? matmul(factors.upper, gram, { out: matrix(part * K, H, ugBuffer.subarray(0, part * K * H)) }).data : U;
      // The closest boundary per item, and the step along its u_l.
      const chosen = chosenBuffer.subarray(s0 * H, s1 * H).fill(0);
      for (let b = 0; b < part; b++) {
        const a = s0 + b;
        let l = -1,
          bestRatio = Number.POSITIVE_INFINITY,
          bestGap = 0,
          bestNorm2 = 0;
        for (let k = 0; k < K; k++) {
          if (k === ys[a]) continue;
          const norm2 = dotAt(U, (b * K + k) * H, UG, (b * K + k) * H, H);
          const ratio = gap[a * K + k] / Math.sqrt(norm2);
          if (norm2 > 0 && ratio < bestRatio) {
            bestRatio = ratio;
            l = k;
            bestGap = gap[a * K + k];
            bestNorm2 = norm2;
          }
        }
        if (l < 0) continue; // flat in every direction: no step can flip it
        const scale = (bestGap + 1e-4) / bestNorm2,
          o = (b * K + l) * H;
        for (let j = 0; j < H; j++) chosen[b * H + j] = scale * U[o + j];
        steps[active[a]]++;
      }
    }
    const chosen = matrix(count, width, chosenBuffer!.subarray(0, count * width));
    if (first) matmul(chosen, first, { beta: 1, out: x });
    else for (let j = 0; j < count * D; j++) x.data[j] += chosen.data[j];
  }
  return { squaredNorm, steps, flipped };
}

/** The full logit Jacobian, rows less the row of each item's ŷ: the path for any model (and the check on the factored one). */
function literalFactors(model: Classifier, x: Matrix, ys: Int32Array): { upper: Matrix; first: undefined } {
  const J = model.logitJacobian(x),
    K = model.numClasses,
    D = J.cols;
  for (let a = 0; a < x.rows; a++) {
    const base = a * K * D,
      y = base + ys[a] * D;
    for (let k = 0; k < K; k++) if (k !== ys[a]) for (let j = 0; j < D; j++) J.data[base + k * D + j] -= J.data[y + j];
    J.data.fill(0, y, y + D);
  }
  return { upper: J, first: undefined };
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
      const size = chunkSize(model);
      for (let start = 0; start < unlabeled.length; start += size) {
        const chunk = unlabeled.subarray(start, Math.min(unlabeled.length, start + size));
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
