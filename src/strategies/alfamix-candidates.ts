import { chunkRows } from "../linalg/distances.js";
import { matrix, type Matrix } from "../linalg/matrix.js";
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
  /** Which per-flip value to keep for selection. */
  keep: "none" | "alphaNorm" | "symKL";
  /** The sampled α modes stop after the first cap with more than `budget` candidates. */
  budget: number;
}

/** Rows per chunk of the pool: the per-chunk buffers stay near 16 MB, and never above 8,192 rows. */
export function searchChunkRows(problem: MixingProblem): number {
  const K = problem.W.rows,
    D = problem.W.cols,
    A = problem.anchors.anchors.rows;
  return Math.min(chunkRows(2 * D + 3 * K + A + K * A), 8192);
}

export interface PseudoLabels {
  yhat: Int32Array;
  r: Matrix;
  logp: Float64Array;
}

/**
 * From logits (row i at logits[i·stride], K classes): the pseudo-labels ŷ (first maximum, as
 * PyTorch's argmax), r = p − onehot(ŷ) and log p; written into `into` (views of its first rows)
 * when given, so that a scan over chunks reuses one set of arrays.
 */
export function pseudoLabels(logits: Float32Array, stride: number, rows: number, K: number, into?: PseudoLabels): PseudoLabels {
  const yhat = into ? into.yhat.subarray(0, rows) : new Int32Array(rows),
    r = matrix(rows, K, into?.r.data.subarray(0, rows * K)),
    logp = into ? into.logp.subarray(0, rows * K) : new Float64Array(rows * K),
    rData = r.data;
  for (let i = 0; i < rows; i++) {
    const o = i * stride,
      q = i * K;
    let best = 0;
    for (let c = 1; c < K; c++) if (logits[o + c] > logits[o + best]) best = c;
    yhat[i] = best;
    const max = logits[o + best];
    let sum = 0;
    for (let c = 0; c < K; c++) sum += logp[q + c] = Math.exp(logits[o + c] - max); // e^(l − max) for now
    const logZ = max + Math.log(sum),
      inverse = 1 / sum;
    for (let c = 0; c < K; c++) {
      rData[q + c] = logp[q + c] * inverse - (c === best ? 1 : 0);
      logp[q + c] = logits[o + c] - logZ;
    }
  }
  return { yhat, r, logp };
}

/** argmax_c (base_c + s·dir_c) ≠ yhat, the argmax taking the first maximum. */
export function flips(base: Float32Array, o: number, s: number, dir: Float64Array, K: number, yhat: number): boolean {
  let best = 0,
    bestValue = base[o] + s * dir[0];
  for (let c = 1; c < K; c++) {
    const v = base[o + c] + s * dir[c];
    if (v > bestValue) {
      bestValue = v;
      best = c;
    }
  }
  return best !== yhat;
}

/** Σ (p − p̃)(log p − log p̃), with log p at logp[q…] and p̃ = softmax(base[o…] + s·dir). */
export function symmetricKL(base: Float32Array, o: number, s: number, dir: Float64Array, logp: Float64Array, q: number, K: number): number {
  let max = -Infinity;
  for (let c = 0; c < K; c++) max = Math.max(max, base[o + c] + s * dir[c]);
  let sum = 0;
  for (let c = 0; c < K; c++) sum += Math.exp(base[o + c] + s * dir[c] - max);
  const logZ = max + Math.log(sum);
  let kl = 0;
  for (let c = 0; c < K; c++) {
    const lq = base[o + c] + s * dir[c] - logZ,
      lp = logp[q + c];
    kl += (Math.exp(lp) - Math.exp(lq)) * (lp - lq);
  }
  return kl;
}

/**
 * The search's findings per unlabelled position: the first cap that flipped the item and, for
 * `norm` and `symkl` selection, the best flip's value at that cap (smallest ‖α‖, largest KL).
 */
export class FlipRecord {
  readonly firstCap: Uint8Array;
  readonly values?: Float32Array;
  candidates = 0;

  constructor(
    n: number,
    private readonly keep: SearchOptions["keep"],
  ) {
    this.firstCap = new Uint8Array(n);
    if (keep !== "none") this.values = new Float32Array(n).fill(NaN);
  }

  /** Whether a flip of item p at cap number t (1-based) would change the record (at the recorded cap, only a kept value can). */
  wants(p: number, t: number): boolean {
    const current = this.firstCap[p];
    return current === 0 || t < current || (t === current && this.values !== undefined);
  }

  /** Record a flip of item p at cap number t with its selection value (if one is kept). */
  record(p: number, t: number, value = NaN): void {
    const current = this.firstCap[p];
    if (current !== 0 && t > current) return;
    if (current === 0) this.candidates++;
    const values = this.values;
    if (current === 0 || t < current) {
      this.firstCap[p] = t;
      if (values) values[p] = value;
    } else if (values) {
      values[p] = this.keep === "alphaNorm" ? Math.min(values[p], value) : Math.max(values[p], value);
    }
  }

  result(caps: number[], capsEvaluated: number): CandidateSearch {
    return {
      caps,
      capsEvaluated,
      firstCap: this.firstCap,
      alphaNorm: this.keep === "alphaNorm" ? this.values : undefined,
      symKL: this.keep === "symKL" ? this.values : undefined,
    };
  }
}
