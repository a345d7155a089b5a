import { matmul } from "../linalg/gemm.js";
import { matrix, rowsAt } from "../linalg/matrix.js";
import { Adam } from "../models/adam.js";
import type { Rng } from "../random.js";
import { FlipRecord, pseudoLabels, searchChunkRows, symmetricKL, type CandidateSearch, type MixingProblem, type SearchOptions } from "./alfamix-candidates.js";

/**
 * The sampled α modes, per cap and per anchor, cap after cap until more than `budget` items have
 * flipped: `random` draws one α ~ Normal(cap/2, cap/2) clamped to [1e-8, cap]; `learned` starts
 * there and takes `steps` Adam steps (lr 0.1, the last third 0.01) minimising
 * −CE(h(z̃), ŷ) + 0.01‖α‖₂ per item, clamping after each; a flip seen at any step counts.
 */
export function sampledAlphaSearch(problem: MixingProblem, options: SearchOptions & { mode: "random" | "learned"; steps: number; rng: Rng }): CandidateSearch {
  const { embeddings, unlabeled, W, b } = problem;
  const A = problem.anchors.anchors;
  const K = W.rows,
    D = W.cols,
    nA = A.rows,
    caps = options.caps;
  const n = unlabeled.length;
  const record = new FlipRecord(n, options.keep);
  const chunk = searchChunkRows(problem);
  const optimizer = options.mode === "learned" ? new Adam(Math.min(chunk, n) * D) : undefined;
  const zScratch = new Float32Array(Math.min(chunk, n) * D);
  const zero = new Float64Array(K);
  const headLogits = (z: { rows: number; cols: number; data: Float32Array }) => {
    const logits = matrix(z.rows, K);
    for (let i = 0; i < z.rows; i++) logits.data.set(b, i * K);
    return matmul(z, W, { transB: true, beta: 1, out: logits });
  };
  let evaluated = 0;
  for (let t = 0; t < caps.length; t++) {
    const cap = caps[t];
    evaluated++;
    for (let start = 0; start < n; start += chunk) {
      const z = rowsAt(embeddings, unlabeled.subarray(start, Math.min(n, start + chunk)), zScratch);
      const m = z.rows;
      const { yhat, logp } = pseudoLabels(headLogits(z).data, K, m, K);
      for (let a = 0; a < nA; a++) {
        const d = matrix(m, D);
        for (let i = 0; i < m; i++) for (let j = 0; j < D; j++) d.data[i * D + j] = A.data[a * D + j] - z.data[i * D + j];
        const alpha = optimizer ? matrix(m, D, optimizer.params.subarray(0, m * D)) : matrix(m, D);
        for (let e = 0; e < alpha.data.length; e++) alpha.data[e] = Math.min(cap, Math.max(1e-8, options.rng.normal(cap / 2, cap / 2)));
        optimizer?.reset();
        for (let step = 0; ; step++) {
          const mixed = matrix(m, D);
          for (let e = 0; e < mixed.data.length; e++) mixed.data[e] = z.data[e] + alpha.data[e] * d.data[e];
          const logits = headLogits(mixed).data;
          const mix = pseudoLabels(logits, K, m, K);
          for (let i = 0; i < m; i++) {
            const p = start + i;
            if (mix.yhat[i] === yhat[i] || !record.wants(p, t + 1)) continue;
            let value = NaN;
            if (options.keep === "alphaNorm") {
              let sq = 0;
              for (let j = 0; j < D; j++) sq += alpha.data[i * D + j] ** 2;
              value = Math.sqrt(sq);
            } else if (options.keep === "symKL") {
              value = symmetricKL(logits, i * K, 0, zero, logp, i * K, K);
            }
            record.record(p, t + 1, value);
          }
          if (!optimizer || step === options.steps) break;
          // ∂/∂α of −CE(h(z + α⊙d), ŷ) + 0.01‖α‖ = −d ⊙ (Wᵀ(p̃ − onehot(ŷ))) + 0.01 α/‖α‖;
          // mix.r holds p̃ − onehot(argmax p̃), so move the one-hot to ŷ.
          for (let i = 0; i < m; i++) {
            mix.r.data[i * K + mix.yhat[i]] += 1;
            mix.r.data[i * K + yhat[i]] -= 1;
          }
          const gz = matmul(mix.r, W);
          const grads = optimizer.grads;
          for (let i = 0; i < m; i++) {
            let norm = 0;
            for (let j = 0; j < D; j++) norm += alpha.data[i * D + j] ** 2;
            const reg = 0.01 / Math.max(Math.sqrt(norm), 1e-12);
            for (let j = 0; j < D; j++) {
              const e = i * D + j;
              grads[e] = -d.data[e] * gz.data[e] + reg * alpha.data[e];
            }
          }
          grads.fill(0, m * D);
          optimizer.step({ lr: step >= Math.floor((2 * options.steps) / 3) ? 0.01 : 0.1 });
          for (let e = 0; e < alpha.data.length; e++) alpha.data[e] = Math.min(cap, Math.max(1e-8, alpha.data[e]));
        }
      }
    }
    if (record.candidates > options.budget) break;
  }
  return record.result(caps, evaluated);
}
