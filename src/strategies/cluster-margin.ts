import { kmeans } from "../cluster/kmeans.js";
import { nearestCenters } from "../cluster/nearest.js";
import { gatherRows, type Matrix } from "../linalg/matrix.js";
import { Rng } from "../random.js";
import { int, resolveParams, type ParamsOf, type ParamTable } from "./params.js";
import { checkQuery, fillAtRandom, poolProbabilities, topK, scoresOf, type ShardPlan, type Strategy } from "./types.js";
import { marginScores, rankingPlan } from "./uncertainty.js";

/** Cluster-Margin's parameters, declared once (see params.ts). */
export const CLUSTER_MARGIN_PARAMS = {
  candidates: int(10, 1, "the lowest-margin unlabelled items considered, as a multiple of the budget (k_m / k_t in the paper)"),
  clusters: int(0, 0, "k-means clusters of the pool, made once (0: √N, at most 1,000)"),
} as const satisfies ParamTable;
export type ClusterMarginParams = ParamsOf<typeof CLUSTER_MARGIN_PARAMS>;

/** Pool rows per centre that the one-off clustering trains on (FAISS warns below 39). */
const ROWS_PER_CENTRE = 40;

/**
 * Cluster-Margin (Citovsky et al., NeurIPS 2021): the pool is clustered once; each round the
 * `candidates`·B lowest-margin unlabelled items are grouped by cluster, the clusters visited from
 * the smallest group up, round-robin, taking one item of each (in a seeded random order) until B.
 * The paper clusters with average-linkage HAC; we use k-means trained on a seeded sample of the
 * pool (at most 40 rows a centre), so the clustering is linear in N and the same on every path.
 * Its seed depends only on the pool's size, so "once" holds across rounds without a cache, and the
 * streamed and queued paths make the same clusters as `query` does in memory.
 */
export function clusterMarginStrategy(params: Partial<ClusterMarginParams> = {}): Strategy {
  const p = resolveParams(CLUSTER_MARGIN_PARAMS, params, "cluster-margin");
  const ranking = rankingPlan(marginScores, false);
  const plan: ShardPlan<{ W: Matrix; b: Float32Array; budget: number; picks: number }, { rows: Int32Array; scores: Float32Array }> = {
    prepare: (inputs) => ({ ...ranking.prepare({ ...inputs, budget: inputs.budget * p.candidates }), picks: inputs.budget }),
    scoreChunk: (state, chunk) => ranking.scoreChunk(state, chunk),
    async finish(state, parts, context) {
      const ranked = await ranking.finish(state, parts, context);
      const poolRows = context.unlabeled.length + context.labeled.length;
      return roundRobin(
        ranked.indices,
        ranked.scores ?? new Float32Array(ranked.indices.length),
        context.rowsOf,
        poolRows,
        state.picks,
        context.unlabeled,
        p,
        context.rng,
      );
    },
  };
  return {
    name: "cluster-margin",
    scoreName: "top-two probability margin",
    query(context, budget) {
      const b = checkQuery("cluster-margin", context, budget);
      const { unlabeled, pool, rng } = context;
      const margins = marginScores(gatherRows(poolProbabilities(context), unlabeled));
      const lowest = topK(
        margins.map((m) => -m),
        b * p.candidates,
      );
      const rowsOf = (rows: ArrayLike<number>) => gatherRows(pool, rows);
      return roundRobin(
        lowest.map((i) => unlabeled[i]),
        scoresOf(lowest, margins),
        rowsOf,
        pool.rows,
        b,
        unlabeled,
        p,
        rng,
      );
    },
    plan,
  };
}

/** The number of clusters for a pool of `rows` rows. */
export function clusterCount(rows: number, clusters: number): number {
  return Math.max(1, Math.min(rows, clusters > 0 ? clusters : Math.min(1000, Math.round(Math.sqrt(rows)))));
}

/**
 * The centres of the pool's one clustering: k-means over a sample of pool rows drawn with a seed
 * that depends only on the pool's size.
 */
export function poolCentres(rowsOf: (rows: ArrayLike<number>) => Matrix, poolRows: number, k: number): Matrix {
  const rng = new Rng(`cluster-margin/${poolRows}/${k}`);
  const sample = rng
    .child("sample")
    .sample(poolRows, Math.min(poolRows, ROWS_PER_CENTRE * k))
    .sort();
  return kmeans(rowsOf(sample), k, { rng: rng.child("kmeans") }).centers;
}

/**
 * The round-robin over clusters: `candidates` (pool rows, lowest margin first) grouped by their
 * nearest pool centre; the groups visited smallest first (ties: the lower cluster), one item of
 * each per turn, in a seeded random order within the group, until `budget` items.
 */
function roundRobin(
  candidates: Int32Array,
  margins: Float32Array,
  rowsOf: (rows: ArrayLike<number>) => Matrix,
  poolRows: number,
  budget: number,
  unlabeled: Int32Array,
  p: ClusterMarginParams,
  rng: Rng,
): { indices: Int32Array; scores: Float32Array; stats: Record<string, number> } {
  const k = clusterCount(poolRows, p.clusters);
  const groups = new Map<number, number[]>(); // cluster → positions into candidates
  if (candidates.length > 0) {
    const { index } = nearestCenters(rowsOf(candidates), poolCentres(rowsOf, poolRows, k));
    index.forEach((c, i) => {
      if (!groups.has(c)) groups.set(c, []);
      groups.get(c)!.push(i);
    });
  }
  const order = [...groups.keys()].sort((a, c) => groups.get(a)!.length - groups.get(c)!.length || a - c);
  const shuffle = rng.child("cluster-margin/order");
  const queues = order.map((c) => {
    const members = groups.get(c)!;
    return Array.from(shuffle.permutation(members.length), (i) => members[i]);
  });
  const chosen: number[] = [];
  for (let turn = 0; chosen.length < budget && queues.some((q) => turn < q.length); turn++) {
    for (const queue of queues) {
      if (chosen.length === budget) break;
      if (turn < queue.length) chosen.push(queue[turn]);
    }
  }
  const { indices, filled } = fillAtRandom(
    Int32Array.from(chosen, (i) => candidates[i]),
    unlabeled,
    budget,
    rng,
  );
  const scores = new Float32Array(budget).fill(Number.NaN);
  chosen.forEach((i, at) => (scores[at] = margins[i]));
  return { indices, scores, stats: { clusters: k, candidates: candidates.length, groups: groups.size, filled } };
}
