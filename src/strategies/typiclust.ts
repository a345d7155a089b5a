import { kmeansSampled } from "../cluster/kmeans-scale.js";
import { chunkRows, squaredDistances } from "../linalg/distances.js";
import { gatherRows, rowSlice, type Matrix } from "../linalg/matrix.js";
import { rowSquaredNorms } from "../linalg/rows.js";
import type { Rng } from "../random.js";
import { int, resolveParams, type ParamsOf, type ParamTable } from "./params.js";
import { checkQuery, fillAtRandom, type Strategy } from "./types.js";

/** TypiClust's parameters, declared once (see params.ts). */
export const TYPICLUST_PARAMS = {
  neighbours: int(20, 1, "nearest neighbours (within the cluster) whose mean distance defines typicality"),
  clusters: int(500, 2, "the most clusters: k-means makes |labelled| + budget of them, up to this"),
  minSize: int(5, 1, "clusters with fewer items than this are picked from only when no larger one is left"),
} as const satisfies ParamTable;
export type TypiClustParams = ParamsOf<typeof TYPICLUST_PARAMS>;

/**
 * TypiClust (Hacohen et al., ICML 2022), TPC-RP: k-means the pool's own rows into |L| + B
 * clusters (at most `clusters`); then B times, take the cluster with the fewest labelled items
 * (counting the picks so far; ties: the larger cluster, then the lower id) and pick its most
 * typical unlabelled item, typicality being the inverse mean Euclidean distance to the item's
 * `neighbours` nearest fellow members. It reads no model, so it is a cold start: it works with
 * no label at all.
 */
export function typiClustStrategy(params: Partial<TypiClustParams> = {}): Strategy {
  const p = resolveParams(TYPICLUST_PARAMS, params, "typiclust");
  return {
    name: "typiclust",
    scoreName: "typicality: 1 / mean distance to the nearest neighbours in its cluster (higher: more typical)",
    query(context, budget) {
      const b = checkQuery("typiclust", context, budget);
      return typicalBatch(context.pool, context.labeled, context.unlabeled, b, context.rng, p);
    },
  };
}

/**
 * TypiClust's batch without a model: what `query` and the cold starts of `alfamix query` and
 * `serve` (before every class has a label) pick. `budget` is at most |unlabeled|.
 */
export function typicalBatch(
  pool: Matrix,
  labeled: Int32Array,
  unlabeled: Int32Array,
  budget: number,
  rng: Rng,
  params: Partial<TypiClustParams> = {},
): { indices: Int32Array; scores: Float32Array; stats: Record<string, number> } {
  const p = resolveParams(TYPICLUST_PARAMS, params, "typiclust");
  if (budget === 0) return { indices: new Int32Array(0), scores: new Float32Array(0), stats: {} };
  const k = Math.min(labeled.length + budget, p.clusters, pool.rows);
  const { labels } = kmeansSampled(pool, k, { rng: rng.child("typiclust/kmeans") });
  const picks = typicalPicks(pool, labels, k, labeled, budget, p);
  const { indices, filled } = fillAtRandom(picks.rows, unlabeled, budget, rng);
  const scores = new Float32Array(budget).fill(Number.NaN);
  scores.set(picks.typicality);
  return { indices, scores, stats: { clusters: k, filled } };
}

/** The picking loop of TypiClust over a clustering of the pool (exported for the literal test). */
export function typicalPicks(
  pool: Matrix,
  labels: Int32Array,
  k: number,
  labeled: Int32Array,
  budget: number,
  p: Pick<TypiClustParams, "neighbours" | "minSize">,
): { rows: Int32Array; typicality: Float32Array } {
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < labels.length; i++) members[labels[i]].push(i);
  const count = new Int32Array(k);
  const taken = new Uint8Array(pool.rows);
  for (const r of labeled) {
    count[labels[r]]++;
    taken[r] = 1;
  }
  const typicality = new Map<number, Float64Array>(); // per cluster, per member; computed once
  const rows: number[] = [],
    scores: number[] = [];
  const open = (c: number) => members[c].some((r) => !taken[r]);
  for (let pick = 0; pick < budget; pick++) {
    // The emptiest cluster (fewest labelled), the larger first; small clusters only when nothing else is left.
    let best = -1;
    for (const small of [false, true]) {
      for (let c = 0; c < k; c++) {
        if (members[c].length < p.minSize !== small || !open(c)) continue;
        if (best < 0 || count[c] < count[best] || (count[c] === count[best] && members[c].length > members[best].length)) best = c;
      }
      if (best >= 0) break;
    }
    if (best < 0) break;
    if (!typicality.has(best)) typicality.set(best, clusterTypicality(gatherRows(pool, members[best]), p.neighbours));
    const t = typicality.get(best)!;
    let chosen = -1;
    members[best].forEach((r, m) => {
      if (!taken[r] && (chosen < 0 || t[m] > t[chosen])) chosen = m;
    });
    const row = members[best][chosen];
    rows.push(row);
    scores.push(t[chosen]);
    taken[row] = 1;
    count[best]++;
  }
  return { rows: Int32Array.from(rows), typicality: Float32Array.from(scores) };
}

/**
 * Each row's typicality among the rows of `x`: 1 / the mean Euclidean distance to its
 * min(neighbours, n − 1) nearest other rows (a lone row: 0). The distances come from the GEMM in
 * blocks of rows, so a large cluster never needs its n×n matrix at once.
 */
export function clusterTypicality(x: Matrix, neighbours: number): Float64Array {
  const n = x.rows,
    K = Math.min(neighbours, n - 1);
  const out = new Float64Array(n);
  if (K <= 0) return out;
  const norms = rowSquaredNorms(x);
  const block = Math.max(1, Math.min(n, chunkRows(n)));
  const nearest = new Float64Array(K);
  for (let start = 0; start < n; start += block) {
    const rowsHere = Math.min(block, n - start);
    const d = squaredDistances(rowSlice(x, start, start + rowsHere), x, norms.subarray(start, start + rowsHere), norms).data;
    for (let i = 0; i < rowsHere; i++) {
      // The K smallest distances to other rows, kept sorted (K is small).
      let size = 0;
      for (let j = 0; j < n; j++) {
        if (j === start + i) continue;
        const v = Math.sqrt(d[i * n + j]);
        if (size === K && v >= nearest[K - 1]) continue;
        let at = size < K ? size++ : K - 1;
        while (at > 0 && nearest[at - 1] > v) {
          nearest[at] = nearest[at - 1];
          at--;
        }
        nearest[at] = v;
      }
      let sum = 0;
      for (let q = 0; q < K; q++) sum += nearest[q];
      out[start + i] = sum > 0 ? K / sum : Number.POSITIVE_INFINITY;
    }
  }
  return out;
}
