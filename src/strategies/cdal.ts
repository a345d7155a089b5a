import { matmul } from "../linalg/gemm.js";
import { gatherRows, matrix, type Matrix } from "../linalg/matrix.js";
import { minOfProducts } from "../linalg/row-min.js";
import { softmaxRows } from "../linalg/rows.js";
import { flag, resolveParams, type ParamsOf, type ParamTable } from "./params.js";
import { checkQuery, poolProbabilities, type Strategy } from "./types.js";

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

/**
 * Rows [p, log p] (or [log p, p] with `swapped`) with log p = log(max(p, FLOOR)), and each row's
 * Σ p log p: KL_sym(p, q) = Σp log p + Σq log q − [p, log p]·[log q, q].
 */
function joinedLogs(p: Matrix, swapped = false): { joined: Matrix; selfTerm: Float64Array } {
  const K = p.cols,
    joined = matrix(p.rows, 2 * K),
    selfTerm = new Float64Array(p.rows);
  const [probAt, logAt] = swapped ? [K, 0] : [0, K];
  for (let r = 0; r < p.rows; r++) {
    let s = 0;
    for (let k = 0; k < K; k++) {
      const v = p.data[r * K + k],
        log = Math.log(Math.max(v, FLOOR));
      joined.data[r * 2 * K + probAt + k] = v;
      joined.data[r * 2 * K + logAt + k] = log;
      s += v * log;
    }
    selfTerm[r] = s;
  }
  return { joined, selfTerm };
}

/**
 * Greedy k-center under symmetric KL (farthest-first): `budget` times, take the point whose
 * distribution is farthest from every centre so far (the rows of `centers`, then the points taken)
 * in symmetric KL. Every distance goes through products with the rows [p, log p]: blocked GEMMs
 * against the initial centres, one matrix-vector product per point taken.
 */
export function kCenterSymmetricKL(points: Matrix, centers: Matrix, budget: number): { indices: Int32Array; distances: Float32Array } {
  const n = points.rows,
    K = points.cols;
  const P = joinedLogs(points),
    C = joinedLogs(centers, true);
  // min over centres c of Σp log p + Σc log c − [p, log p]·[log c, c].
  const minDistance = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  if (centers.rows > 0) {
    const nearest = minOfProducts(P.joined, C.joined, Float32Array.from(C.selfTerm), -1);
    for (let i = 0; i < n; i++) minDistance[i] = P.selfTerm[i] + nearest.value[i];
  }
  const pick = matrix(2 * K, 1),
    crossPick = matrix(n, 1);
  const taken = new Int32Array(budget),
    takenDistance = new Float32Array(budget);
  // The farthest point is found while the distances are updated: one pass over them per pick.
  let next = 0;
  for (let i = 1; i < n; i++) if (minDistance[i] > minDistance[next]) next = i;
  for (let t = 0; t < budget; t++) {
    taken[t] = next;
    takenDistance[t] = minDistance[next];
    minDistance[next] = Number.NEGATIVE_INFINITY; // never taken twice
    // [log q, q], the taken point's row swapped.
    pick.data.set(P.joined.data.subarray(next * 2 * K + K, (next + 1) * 2 * K));
    pick.data.set(P.joined.data.subarray(next * 2 * K, next * 2 * K + K), K);
    matmul(P.joined, pick, { out: crossPick });
    const selfQ = P.selfTerm[next];
    next = 0;
    for (let i = 0; i < n; i++) {
      const d = P.selfTerm[i] + selfQ - crossPick.data[i];
      if (d < minDistance[i]) minDistance[i] = d;
      if (minDistance[i] > minDistance[next]) next = i;
    }
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
      let probs = poolProbabilities(context);
      if (double) probs = softmaxRows(probs);
      const picks = kCenterSymmetricKL(gatherRows(probs, context.unlabeled), gatherRows(probs, context.labeled), b);
      return { indices: picks.indices.map((p) => context.unlabeled[p]), scores: picks.distances };
    },
  };
}
