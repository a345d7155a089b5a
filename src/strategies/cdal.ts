import { matmul } from "../linalg/gemm.js";
import { gatherRows, matrix, rowSlice, type Matrix } from "../linalg/matrix.js";
import { softmaxRows } from "../linalg/rows.js";
import { flag, resolveParams, type ParamsOf, type ParamTable } from "./params.js";
import { checkQuery, poolPredictions, type Strategy } from "./types.js";

export const CDAL_PARAMS = {
  doubleSoftmax: flag("apply softmax to the probabilities again, as the public code does"),
} as const satisfies ParamTable;
export type CdalParams = ParamsOf<typeof CDAL_PARAMS>;

/** Probabilities are clamped here before logs, so a float32 zero is not −∞. */
const FLOOR = 1e-12;

/** Symmetric KL between two distributions: Σ (p − q)(log p − log q). */
export function distributionSymmetricKL(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < p.length; k++) s += (p[k] - q[k]) * (Math.log(Math.max(p[k], FLOOR)) - Math.log(Math.max(q[k], FLOOR)));
  return s;
}

/** Rows of log(max(p, FLOOR)) and each row's Σ p log p. */
function logsOf(p: Matrix): { log: Matrix; selfTerm: Float64Array } {
  const log = matrix(p.rows, p.cols),
    selfTerm = new Float64Array(p.rows);
  for (let i = 0; i < p.data.length; i++) log.data[i] = Math.log(Math.max(p.data[i], FLOOR));
  for (let r = 0; r < p.rows; r++) {
    let s = 0;
    for (let k = 0; k < p.cols; k++) s += p.data[r * p.cols + k] * log.data[r * p.cols + k];
    selfTerm[r] = s;
  }
  return { log, selfTerm };
}

const BLOCK = 4096;

/**
 * Greedy k-center under symmetric KL (farthest-first): `budget` times, take the point whose
 * distribution is farthest from every centre so far (the rows of `centers`, then the points taken)
 * in symmetric KL. The distances to the initial centres come from two GEMMs per block:
 * KL_sym(p, q) = Σp log p + Σq log q − p·log q − q·log p.
 */
export function kCenterSymmetricKL(points: Matrix, centers: Matrix, budget: number): { indices: Int32Array; distances: Float32Array } {
  const n = points.rows,
    K = points.cols;
  const P = logsOf(points),
    C = logsOf(centers);
  const minDistance = new Float64Array(n).fill(Infinity);
  for (let start = 0; start < n && centers.rows > 0; start += BLOCK) {
    const end = Math.min(n, start + BLOCK);
    const cross = matmul(rowSlice(points, start, end), C.log, { transB: true });
    matmul(rowSlice(P.log, start, end), centers, { transB: true, beta: 1, out: cross });
    for (let i = start; i < end; i++) {
      const row = (i - start) * centers.rows;
      for (let c = 0; c < centers.rows; c++) {
        const d = P.selfTerm[i] + C.selfTerm[c] - cross.data[row + c];
        if (d < minDistance[i]) minDistance[i] = d;
      }
    }
  }
  const taken = new Int32Array(budget),
    takenDistance = new Float32Array(budget);
  for (let t = 0; t < budget; t++) {
    let next = 0;
    for (let i = 1; i < n; i++) if (minDistance[i] > minDistance[next]) next = i;
    taken[t] = next;
    takenDistance[t] = minDistance[next];
    const q = points.data.subarray(next * K, (next + 1) * K),
      logQ = P.log.data.subarray(next * K, (next + 1) * K);
    for (let i = 0; i < n; i++) {
      if (minDistance[i] === -Infinity) continue;
      let d = 0;
      for (let k = 0; k < K; k++) d += (points.data[i * K + k] - q[k]) * (P.log.data[i * K + k] - logQ[k]);
      if (d < minDistance[i]) minDistance[i] = d;
    }
    minDistance[next] = -Infinity; // never taken twice
  }
  return { indices: taken, distances: takenDistance };
}

/**
 * CDAL-CS (Agarwal et al. 2020, the coreset variant): greedy k-center on the model's predicted
 * class distributions, with symmetric KL as the distance, starting from the labelled items.
 * Deviates from the public code on purpose: softmax is applied once (its code applies it to the
 * probabilities a second time; `doubleSoftmax` reproduces that).
 */
export function cdalStrategy(params: Partial<CdalParams> = {}): Strategy {
  const double = resolveParams(CDAL_PARAMS, params, "cdal").doubleSoftmax;
  return {
    name: "cdal",
    scoreName: "symmetric KL to the nearest labelled or chosen item's predicted distribution when picked",
    query(context, budget) {
      const b = checkQuery("cdal", context, budget);
      let probs = poolPredictions(context).probs;
      if (double) probs = softmaxRows(probs);
      const picks = kCenterSymmetricKL(gatherRows(probs, context.unlabeled), gatherRows(probs, context.labeled), b);
      return { indices: picks.indices.map((p) => context.unlabeled[p]), scores: picks.distances };
    },
  };
}
