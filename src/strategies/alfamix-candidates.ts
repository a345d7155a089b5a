import { matmul } from "../linalg/gemm.js";
import { chunkRows } from "../linalg/distances.js";
import { gatherRows, matrix, rowsAt, rowSlice, type Matrix } from "../linalg/matrix.js";
import { rowSquaredNorms } from "../linalg/rows.js";
import { Adam } from "../models/adam.js";
import type { Rng } from "../random.js";
import type { Anchors } from "./alfamix-anchors.js";

/** What the candidate search needs: unlabelled embeddings, anchors and the linear head. */
export interface MixingProblem {
  /** Embeddings of the whole pool; only the rows in `unlabeled` are mixed. */
  embeddings: Matrix;
  unlabeled: Int32Array;
  anchors: Anchors;
  /** Head weights (K×D) and bias: logits = z Wᵀ + b. */
  W: Matrix;
  b: Float32Array;
}

/** What the selection step can use, per unlabelled position. */
export interface CandidateSearch {
  /** The caps tried, ascending (0.2, 0.4, … 1 by default). */
  caps: number[];
  /** 1 + index into caps of the smallest cap at which the item's prediction flipped; 0 if never. */
  firstCap: Uint8Array;
  /** ‖α‖ of the flip with the smallest ‖α‖ at the first flipping cap (for `norm` selection). */
  alphaNorm?: Float32Array;
  /** Symmetric KL between p(z) and p(z̃) of the flip with the largest one at that cap (`symkl`). */
  symKL?: Float32Array;
  /** How many caps the search actually evaluated (it may stop early). */
  capsEvaluated: number;
}

export interface SearchOptions {
  caps: number[];
  /** Which per-flip values to keep for selection. */
  keep: "none" | "alphaNorm" | "symKL";
  /** The α modes that sample stop after the first cap with more than `budget` candidates. */
  budget: number;
}

/** Reusable per-chunk scratch: logits, p − onehot, gradients and anchor products. */
function chunkSize(problem: MixingProblem): number {
  const K = problem.W.rows, D = problem.W.cols, A = problem.anchors.anchors.rows;
  return Math.min(chunkRows(2 * D + 3 * K + A + K * A), 8192);
}

/** Row-wise logits, pseudo-labels ŷ and log-probabilities of a chunk of embeddings. */
function headOutputs(z: Matrix, W: Matrix, b: Float32Array): { logits: Matrix; yhat: Int32Array; r: Matrix; logp: Float64Array } {
  const K = W.rows;
  const logits = matrix(z.rows, K);
  for (let i = 0; i < z.rows; i++) logits.data.set(b, i * K);
  matmul(z, W, { transB: true, beta: 1, out: logits });
  const yhat = new Int32Array(z.rows);
  const r = matrix(z.rows, K);
  const logp = new Float64Array(z.rows * K);
  for (let i = 0; i < z.rows; i++) {
    const o = i * K;
    let best = 0;
    for (let c = 1; c < K; c++) if (logits.data[o + c] > logits.data[o + best]) best = c;
    yhat[i] = best;
    const max = logits.data[o + best];
    let sum = 0;
    for (let c = 0; c < K; c++) sum += Math.exp(logits.data[o + c] - max);
    const logZ = max + Math.log(sum);
    for (let c = 0; c < K; c++) {
      logp[o + c] = logits.data[o + c] - logZ;
      r.data[o + c] = Math.exp(logp[o + c]);
    }
    r.data[o + best] -= 1;
  }
  return { logits, yhat, r, logp };
}

/** argmax_c (base_c + s·dir_c) ≠ yhat, with argmax taking the first maximum (as PyTorch's does). */
function flips(base: Float32Array, o: number, s: number, dir: Float64Array, K: number, yhat: number): boolean {
  let best = 0, bestValue = base[o] + s * dir[0];
  for (let c = 1; c < K; c++) {
    const v = base[o + c] + s * dir[c];
    if (v > bestValue) {
      bestValue = v;
      best = c;
    }
  }
  return best !== yhat;
}

/** Σ (p − p̃)(log p − log p̃) with log p̃ = log-softmax(logits + s·dir). */
function symmetricKL(logits: Float32Array, o: number, s: number, dir: Float64Array, logp: Float64Array, K: number, scratch: Float64Array): number {
  let max = -Infinity;
  for (let c = 0; c < K; c++) {
    scratch[c] = logits[o + c] + s * dir[c];
    if (scratch[c] > max) max = scratch[c];
  }
  let sum = 0;
  for (let c = 0; c < K; c++) sum += Math.exp(scratch[c] - max);
  const logZ = max + Math.log(sum);
  let kl = 0;
  for (let c = 0; c < K; c++) {
    const lq = scratch[c] - logZ, lp = logp[o + c];
    kl += (Math.exp(lp) - Math.exp(lq)) * (lp - lq);
  }
  return kl;
}

/**
 * Closed-form α, in logit space (the fast path for a linear head). With g = Wᵀ(p − onehot(ŷ)) and
 * d = a − z, the reference's α_j = ε‖d‖/‖g‖ · g_j/(d_j + 1e-8) gives α⊙d = ε‖d‖/‖g‖ · g ⊙ m, where
 * m_j = 0 where d_j = 0 and 1 elsewhere (up to the 1e-8 term), so
 *   h(z̃) = h(z) + s·δ,   s = ε‖d‖/‖g‖,   δ = W(g ⊙ m) = (WWᵀ)r − Σ_{j: d_j = 0} g_j W[:, j],
 * with r = p − onehot(ŷ) and ‖g‖² = rᵀ(WWᵀ)r. Nothing D-wide is built per item or anchor: one GEMM
 * against [W; anchors] gives the logits and the anchor products, the rest is O(K²) per item.
 * d_j = 0 can only happen at an anchor's exact coordinates (Anchors.exact), checked one by one.
 * Logits move linearly in s, so a competitor c overtakes ŷ once, at s_c = (l_ŷ − l_c)/(δ_c − δ_ŷ):
 * the first flipping cap follows from min_c s_c and is confirmed by the direct argmax test.
 */
export function closedFormSearch(problem: MixingProblem, options: SearchOptions): CandidateSearch {
  const { embeddings, unlabeled, W, b } = problem;
  const { anchors: A, exact } = problem.anchors;
  const K = W.rows, D = W.cols, nA = A.rows, caps = options.caps, lastCap = caps[caps.length - 1];
  const n = unlabeled.length;
  const firstCap = new Uint8Array(n);
  const alphaNorm = options.keep === "alphaNorm" ? new Float32Array(n).fill(NaN) : undefined;
  const symKL = options.keep === "symKL" ? new Float32Array(n).fill(NaN) : undefined;
  // [W; A] so that one GEMM yields logits (minus bias) and anchor products; M = WWᵀ.
  const WA = matrix(K + nA, D);
  WA.data.set(W.data);
  WA.data.set(A.data, K * D);
  const M = matmul(W, W, { transB: true });
  const anchorNorms = rowSquaredNorms(A);
  // The union E of exact coordinates; W restricted to E (for g_E = r·W_E) and, per anchor, to its own.
  const union = Int32Array.from(new Set(exact.flatMap((e) => Array.from(e)))).sort();
  const slot = new Map(Array.from(union, (j, i) => [j, i]));
  const columnsOf = (columns: Int32Array) => {
    const out = matrix(K, columns.length);
    for (let c = 0; c < K; c++) for (let e = 0; e < columns.length; e++) out.data[c * columns.length + e] = W.data[c * D + columns[e]];
    return out;
  };
  const WE = columnsOf(union);
  const anchorColumns = exact.map(columnsOf);
  const exactSlots = exact.map((e) => Int32Array.from(e, (j) => slot.get(j)!));
  const invSqrtD = 1 / Math.sqrt(D);
  const dir = new Float64Array(K), Mr = new Float64Array(K), scratch = new Float64Array(K), l = new Float64Array(K);
  const logits = new Float32Array(K), logp = new Float64Array(K), gRow = new Float64Array(D);
  // The anchors' values at their exact coordinates, contiguous for the mask below.
  const exactValues = exact.map((columns, a) => Float32Array.from(columns, (j) => A.data[a * D + j]));
  const U = union.length;
  const maxExact = Math.max(0, ...exact.map((e) => e.length));
  let zE: Float32Array, q: Float32Array, gathered = 0;
  const correctionsFor = (z: Matrix, rows: number, r: Matrix): (Matrix | undefined)[] => {
    if (U === 0) return exact.map(() => undefined);
    if (gathered < rows) {
      zE = new Float32Array(rows * U);
      q = new Float32Array(rows * maxExact);
      gathered = rows;
    }
    const gE = matmul(r, WE).data; // g at the union's coordinates only
    const zd = z.data; // z at the union's coordinates, so each mask below reads one short row
    for (let i = 0; i < rows; i++) for (let e = 0, o = i * D; e < U; e++) zE[i * U + e] = zd[o + union[e]];
    return exact.map((columns, a) => {
      const E = columns.length;
      if (E === 0) return undefined;
      const slots = exactSlots[a], values = exactValues[a];
      for (let i = 0; i < rows; i++) {
        const o = i * U, qo = i * E;
        for (let e = 0; e < E; e++) {
          const s = o + slots[e];
          q[qo + e] = zE[s] === values[e] ? gE[s] : 0;
        }
      }
      return matmul(matrix(rows, E, q.subarray(0, rows * E)), anchorColumns[a], { transB: true });
    });
  };
  const chunk = chunkSize(problem);
  const zScratch = new Float32Array(Math.min(chunk, n) * D), zNorms = new Float32Array(chunk);
  const out = matrix(chunk, K + nA), r = matrix(chunk, K), yhat = new Int32Array(chunk);
  for (let start = 0; start < n; start += chunk) {
    const rows = unlabeled.subarray(start, Math.min(n, start + chunk));
    const z = rowsAt(embeddings, rows, zScratch);
    rowSquaredNorms(z, zNorms);
    matmul(z, WA, { transB: true, out: rowSlice(out, 0, rows.length) });
    for (let i = 0; i < rows.length; i++) {
      const o = i * (K + nA);
      let best = 0;
      for (let c = 0; c < K; c++) {
        out.data[o + c] += b[c];
        if (out.data[o + c] > out.data[o + best]) best = c;
      }
      yhat[i] = best;
      let sum = 0;
      for (let c = 0; c < K; c++) sum += Math.exp(out.data[o + c] - out.data[o + best]);
      for (let c = 0; c < K; c++) r.data[i * K + c] = Math.exp(out.data[o + c] - out.data[o + best]) / sum - (c === best ? 1 : 0);
    }
    // corrections[a] = Σ_{j ∈ exact[a], z_j = a_j} g_j W[:, j], as one masked GEMM per anchor.
    const corrections = correctionsFor(z, rows.length, rowSlice(r, 0, rows.length));
    const rM = matmul(rowSlice(r, 0, rows.length), M).data; // rows: (WWᵀ)r = W g (M is symmetric)
    for (let i = 0; i < rows.length; i++) {
      const o = i * (K + nA), y = yhat[i], ri = i * K, zo = i * D;
      let gNorm2 = 0;
      for (let c = 0; c < K; c++) {
        Mr[c] = rM[ri + c];
        gNorm2 += r.data[ri + c] * Mr[c];
        l[c] = out.data[o + c];
      }
      const gNorm = Math.sqrt(Math.max(0, gNorm2));
      if (!(gNorm > 0)) continue; // p is exactly one-hot: no direction to move in (decision: never a candidate)
      for (let c = 0; c < K; c++) logits[c] = out.data[o + c];
      let best = caps.length + 1, bestValue = NaN;
      for (let a = 0; a < nA; a++) {
        const dNorm = Math.sqrt(Math.max(0, anchorNorms[a] - 2 * out.data[o + K + a] + zNorms[i]));
        if (!(dNorm > 0)) continue; // z is the anchor: nothing to mix
        const ao = a * D, correction = corrections[a];
        dir.set(Mr);
        if (correction) for (let c = 0; c < K; c++) dir[c] -= correction.data[i * K + c];
        // s* = min over competitors of the crossing point; a cap flips the item iff cap·scale > s*.
        const scale = (dNorm / gNorm) * invSqrtD;
        let crossing = Infinity;
        for (let c = 0; c < K; c++) {
          const slope = dir[c] - dir[y];
          if (c !== y && slope > 0) crossing = Math.min(crossing, (l[y] - l[c]) / slope);
        }
        if (!(crossing <= lastCap * scale * (1 + 1e-9))) continue;
        let t = 0;
        while (t < caps.length - 1 && caps[t] * scale < crossing * (1 - 1e-9)) t++;
        // Confirm with the literal argmax (ties and rounding at the crossing decide here).
        while (t < Math.min(best, caps.length) && !flips(logits, 0, caps[t] * scale, dir, K, y)) t++;
        if (t >= Math.min(best, caps.length)) continue;
        const s = caps[t] * scale;
        if (t + 1 < best) {
          best = t + 1;
          bestValue = NaN;
        }
        if (alphaNorm) {
          // ‖α‖ = s · ‖g ⊘ (d + 1e-8)‖, the full g of this item built only now.
          gRow.fill(0);
          for (let c = 0; c < K; c++) {
            const rc = r.data[ri + c], wo = c * D;
            for (let j = 0; j < D; j++) gRow[j] += rc * W.data[wo + j];
          }
          let sq = 0;
          for (let j = 0; j < D; j++) sq += (gRow[j] / (A.data[ao + j] - z.data[zo + j] + 1e-8)) ** 2;
          const norm = s * Math.sqrt(sq);
          if (!(norm >= bestValue)) bestValue = norm;
        } else if (symKL) {
          let max = -Infinity;
          for (let c = 0; c < K; c++) max = Math.max(max, l[c]);
          let sum = 0;
          for (let c = 0; c < K; c++) sum += Math.exp(l[c] - max);
          for (let c = 0; c < K; c++) logp[c] = l[c] - max - Math.log(sum);
          const kl = symmetricKL(logits, 0, s, dir, logp, K, scratch);
          if (!(kl <= bestValue)) bestValue = kl;
        }
      }
      if (best <= caps.length) {
        firstCap[start + i] = best;
        if (alphaNorm) alphaNorm[start + i] = bestValue;
        if (symKL) symKL[start + i] = bestValue;
      }
    }
  }
  return { caps, firstCap, alphaNorm, symKL, capsEvaluated: caps.length };
}

/**
 * The sampled α modes, per cap and per anchor, cap after cap until more than `budget` items have
 * flipped: `random` draws one α ~ Normal(cap/2, cap/2) clamped to [1e-8, cap]; `learned` starts
 * there and takes `steps` Adam steps (lr 0.1, the last third 0.01) minimising
 * −CE(h(z̃), ŷ) + 0.01‖α‖₂, clamping after each; a flip seen at any step counts.
 */
export function sampledAlphaSearch(problem: MixingProblem, options: SearchOptions & { mode: "random" | "learned"; steps: number; rng: Rng }): CandidateSearch {
  const { embeddings, unlabeled, W, b } = problem;
  const A = problem.anchors.anchors;
  const K = W.rows, D = W.cols, nA = A.rows, caps = options.caps;
  const n = unlabeled.length;
  const firstCap = new Uint8Array(n);
  const alphaNorm = options.keep === "alphaNorm" ? new Float32Array(n).fill(NaN) : undefined;
  const symKL = options.keep === "symKL" ? new Float32Array(n).fill(NaN) : undefined;
  const chunk = chunkSize(problem);
  const optimizer = options.mode === "learned" ? new Adam(Math.min(chunk, n) * D) : undefined;
  const scratch = new Float64Array(K), zero = new Float64Array(K);
  let count = 0, evaluated = 0;
  for (let t = 0; t < caps.length; t++) {
    const cap = caps[t];
    evaluated++;
    for (let start = 0; start < n; start += chunk) {
      const rows = unlabeled.subarray(start, Math.min(n, start + chunk));
      const z = gatherRows(embeddings, rows);
      const { yhat, logp } = headOutputs(z, W, b);
      for (let a = 0; a < nA; a++) {
        const d = matrix(z.rows, D);
        for (let i = 0; i < z.rows; i++) for (let j = 0; j < D; j++) d.data[i * D + j] = A.data[a * D + j] - z.data[i * D + j];
        const alpha = optimizer ? matrix(z.rows, D, optimizer.params.subarray(0, z.rows * D)) : matrix(z.rows, D);
        for (let i = 0; i < alpha.data.length; i++) alpha.data[i] = Math.min(cap, Math.max(1e-8, options.rng.normal(cap / 2, cap / 2)));
        optimizer?.reset();
        const evaluations = optimizer ? options.steps + 1 : 1;
        for (let step = 0; step < evaluations; step++) {
          const mixed = matrix(z.rows, D);
          for (let i = 0; i < mixed.data.length; i++) mixed.data[i] = z.data[i] + alpha.data[i] * d.data[i];
          const out = headOutputs(mixed, W, b);
          for (let i = 0; i < z.rows; i++) {
            const p = start + i;
            if (out.yhat[i] === yhat[i] || (firstCap[p] !== 0 && firstCap[p] < t + 1)) continue;
            if (firstCap[p] === 0) count++;
            firstCap[p] = t + 1;
            if (alphaNorm) {
              let sq = 0;
              for (let j = 0; j < D; j++) sq += alpha.data[i * D + j] ** 2;
              if (!(Math.sqrt(sq) >= alphaNorm[p])) alphaNorm[p] = Math.sqrt(sq);
            } else if (symKL) {
              // p̃ from the mixed logits directly: the direction is already applied.
              const kl = symmetricKL(out.logits.data, i * K, 0, zero, logp, K, scratch);
              if (!(kl <= symKL[p])) symKL[p] = kl;
            }
          }
          if (!optimizer || step === options.steps) break;
          // ∂/∂α of −CE(h(z + α⊙d), ŷ) + 0.01‖α‖ = −d ⊙ (Wᵀ(p̃ − onehot(ŷ))) + 0.01 α/‖α‖; out.r holds p̃ − onehot(argmax p̃), so fix the target.
          for (let i = 0; i < z.rows; i++) {
            out.r.data[i * K + out.yhat[i]] += 1;
            out.r.data[i * K + yhat[i]] -= 1;
          }
          const gz = matmul(out.r, W);
          const grads = optimizer.grads;
          for (let i = 0; i < z.rows; i++) {
            let norm = 0;
            for (let j = 0; j < D; j++) norm += alpha.data[i * D + j] ** 2;
            const reg = 0.01 / Math.max(Math.sqrt(norm), 1e-12);
            for (let j = 0; j < D; j++) {
              const e = i * D + j;
              grads[e] = -d.data[e] * gz.data[e] + reg * alpha.data[e];
            }
          }
          grads.fill(0, z.rows * D);
          optimizer.step({ lr: step >= Math.floor((2 * options.steps) / 3) ? 0.01 : 0.1 });
          for (let i = 0; i < alpha.data.length; i++) alpha.data[i] = Math.min(cap, Math.max(1e-8, alpha.data[i]));
        }
      }
    }
    if (count > options.budget) break;
  }
  return { caps, firstCap, alphaNorm, symKL, capsEvaluated: evaluated };
}
