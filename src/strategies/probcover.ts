import { createHash } from "node:crypto";
import { kmeansSampled } from "../cluster/kmeans-scale.js";
import { UserError } from "../errors.js";
import { chunkRows, squaredDistances } from "../linalg/distances.js";
import { rowSlice, type Matrix } from "../linalg/matrix.js";
import { rowSquaredNorms } from "../linalg/rows.js";
import { Rng } from "../random.js";
import { fraction, resolveParams, type ParamsOf, type ParamTable } from "./params.js";
import { checkQuery, fillAtRandom, type Strategy } from "./types.js";

/** ProbCover's parameters, declared once (see params.ts). */
export const PROBCOVER_PARAMS = {
  purity: fraction(0.95, "δ is the largest ball radius at which this share of balls is pure under a k-means of the pool into as many clusters as classes"),
} as const satisfies ParamTable;
export type ProbCoverParams = ParamsOf<typeof PROBCOVER_PARAMS>;

/** The most edges the δ-ball graph may hold (4 bytes each, twice: out- and in-edges). */
export const MAX_EDGES = 100_000_000;

/** A directed graph in compressed rows: the neighbours of row i are `to[from[i]..from[i+1])`. */
export interface Graph {
  from: Int32Array;
  to: Int32Array;
}

/** The δ-ball graph of a pool, with the δ it was built at. */
export interface BallGraph {
  delta: number;
  out: Graph;
  /** The reverse edges: who covers row i. */
  in: Graph;
}

/**
 * ProbCover (Yehuda et al., NeurIPS 2022): every pool row covers the rows within distance δ of
 * it (its δ-ball, itself included); the labelled rows' balls are covered first, then B times the
 * unlabelled row whose ball holds the most still-uncovered rows is taken. Once everything is
 * covered the rest of the batch is random, as in the paper. δ comes from the paper's purity rule:
 * the largest δ at which `purity` of the balls hold one k-means cluster only (k = the number of
 * classes). The graph is built a block of rows at a time through the GEMM, never as an N×N
 * matrix, and it reads only the pool's own rows (no model), so it is a cold start too.
 */
export function probCoverStrategy(params: Partial<ProbCoverParams> = {}): Strategy {
  const p = resolveParams(PROBCOVER_PARAMS, params, "probcover");
  return {
    name: "probcover",
    scoreName: "uncovered rows the pick's δ-ball covered when it was taken",
    query(context, budget) {
      const b = checkQuery("probcover", context, budget);
      const { pool, labeled, unlabeled, rng, model } = context;
      const graph = cachedBallGraph(pool, model.numClasses, p.purity);
      const picks = greedyCover(graph.out, graph.in, labeled, unlabeled, b);
      const { indices, filled } = fillAtRandom(picks.rows, unlabeled, b, rng);
      const scores = new Float32Array(b).fill(Number.NaN);
      scores.set(picks.gains);
      return { indices, scores, stats: { delta: graph.delta, meanDegree: graph.out.to.length / pool.rows, filled } };
    },
  };
}

/**
 * Graphs by the pool's content and settings: the pool's rows do not change between rounds, and a
 * fixed pool (MNIST's train set) is the same for every seed of a simulation, which copies it per
 * seed; so the key is a hash of the rows, not the matrix object. Two graphs are kept, the last used.
 */
const graphs = new Map<string, BallGraph>();
const KEPT_GRAPHS = 2;

function cachedBallGraph(pool: Matrix, classes: number, purity: number): BallGraph {
  const data = pool.data;
  const rows = createHash("sha256")
    .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .digest("hex");
  const key = `${pool.rows}x${pool.cols}/${rows}/${classes}/${purity}`;
  let graph = graphs.get(key);
  if (!graph) {
    const delta = purityDelta(pool, puritySplit(pool, classes), purity);
    const out = ballGraph(pool, delta);
    graph = { delta, out, in: reverse(out) };
  }
  graphs.delete(key);
  graphs.set(key, graph);
  while (graphs.size > KEPT_GRAPHS) graphs.delete(graphs.keys().next().value as string);
  return graph;
}

/** The k-means clustering the purity rule is judged by, seeded by the pool's shape only (the same every round). */
export function puritySplit(pool: Matrix, classes: number): Int32Array {
  const k = Math.max(1, Math.min(classes, pool.rows));
  return kmeansSampled(pool, k, { rng: new Rng(`probcover/${pool.rows}/${k}`) }).labels;
}

/**
 * The largest δ at which at least `purity` of the balls are pure: a ball B(x, δ) = {y : ‖x − y‖ < δ}
 * is pure when no row of another cluster lies in it, that is when δ ≤ the distance from x to the
 * nearest row of another cluster. So δ is that distance's ⌈purity·N⌉-th largest value over the rows.
 */
export function purityDelta(x: Matrix, clusters: Int32Array, purity: number, block = blockRows(x.rows)): number {
  const n = x.rows;
  const nearestOther = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  forEachBlock(x, block, (start, d) => {
    for (let i = 0; i < d.length / n; i++) {
      const own = clusters[start + i];
      let best = Number.POSITIVE_INFINITY;
      for (let j = 0, o = i * n; j < n; j++) if (clusters[j] !== own && d[o + j] < best) best = d[o + j];
      nearestOther[start + i] = best;
    }
  });
  const sorted = nearestOther.sort().reverse();
  const m = Math.min(n, Math.max(1, Math.ceil(purity * n - 1e-9)));
  const deltaSq = sorted[m - 1];
  // With a single cluster every ball is pure: δ is then the pool's diameter, which covers all.
  return Number.isFinite(deltaSq) ? Math.sqrt(deltaSq) : Math.sqrt(largestDistance(x, block)) * (1 + 1e-6);
}

/** The δ-ball graph: row i points at every row j with ‖x_i − x_j‖ < δ, and at itself. */
export function ballGraph(x: Matrix, delta: number, block = blockRows(x.rows)): Graph {
  const n = x.rows,
    deltaSq = delta * delta;
  const from = new Int32Array(n + 1);
  let to = new Int32Array(Math.min(MAX_EDGES, n * 16));
  let edges = 0;
  forEachBlock(x, block, (start, d) => {
    for (let i = 0; i < d.length / n; i++) {
      const row = start + i;
      for (let j = 0, o = i * n; j < n; j++) {
        if (!(d[o + j] < deltaSq || j === row)) continue;
        if (edges === to.length) {
          if (edges >= MAX_EDGES) {
            throw new UserError(
              `probcover: the δ-ball graph (δ = ${delta.toPrecision(3)}) has more than ${MAX_EDGES} edges over ${n} rows; ask for purer balls (probcover[purity=0.99]) for a smaller δ`,
            );
          }
          const grown = new Int32Array(Math.min(MAX_EDGES, to.length * 2));
          grown.set(to);
          to = grown;
        }
        to[edges++] = j;
      }
      from[row + 1] = edges;
    }
  });
  return { from, to: to.slice(0, edges) };
}

/** The graph with every edge turned round. */
export function reverse(g: Graph): Graph {
  const n = g.from.length - 1;
  const from = new Int32Array(n + 1);
  for (const j of g.to) from[j + 1]++;
  for (let i = 0; i < n; i++) from[i + 1] += from[i];
  const to = new Int32Array(g.to.length);
  const at = from.slice(0, n);
  for (let i = 0; i < n; i++) for (let e = g.from[i]; e < g.from[i + 1]; e++) to[at[g.to[e]]++] = i;
  return { from, to };
}

/**
 * The greedy max cover: the labelled rows' balls are covered first; then, up to `budget` times,
 * the unlabelled row covering the most uncovered rows (ties: the lower row) is taken, until every
 * row is covered. Returns the picks and how many rows each newly covered.
 */
export function greedyCover(out: Graph, into: Graph, labeled: Int32Array, unlabeled: Int32Array, budget: number): { rows: Int32Array; gains: Float32Array } {
  const n = out.from.length - 1;
  const covered = new Uint8Array(n);
  const gain = new Int32Array(n);
  for (let i = 0; i < n; i++) gain[i] = out.from[i + 1] - out.from[i];
  const cover = (row: number) => {
    for (let e = out.from[row]; e < out.from[row + 1]; e++) {
      const y = out.to[e];
      if (covered[y]) continue;
      covered[y] = 1;
      for (let f = into.from[y]; f < into.from[y + 1]; f++) gain[into.to[f]]--;
    }
  };
  for (const row of labeled) cover(row);
  const open = new Uint8Array(n);
  for (const row of unlabeled) open[row] = 1;
  const rows: number[] = [],
    gains: number[] = [];
  while (rows.length < budget) {
    let best = -1;
    for (let i = 0; i < n; i++) if (open[i] && gain[i] > 0 && (best < 0 || gain[i] > gain[best])) best = i;
    if (best < 0) break;
    rows.push(best);
    gains.push(gain[best]);
    open[best] = 0;
    cover(best);
  }
  return { rows: Int32Array.from(rows), gains: Float32Array.from(gains) };
}

/** Rows per block so that a block of distances stays near 16 MB. */
function blockRows(n: number): number {
  return Math.max(1, Math.min(n, chunkRows(n)));
}

/** Squared distances from each block of rows to every row, through the GEMM, one block at a time. */
function forEachBlock(x: Matrix, block: number, visit: (start: number, d: Float32Array) => void): void {
  const norms = rowSquaredNorms(x);
  for (let start = 0; start < x.rows; start += block) {
    const end = Math.min(x.rows, start + block);
    visit(start, squaredDistances(rowSlice(x, start, end), x, norms.subarray(start, end), norms).data);
  }
}

function largestDistance(x: Matrix, block: number): number {
  let most = 0;
  forEachBlock(x, block, (_, d) => {
    for (const v of d) if (v > most) most = v;
  });
  return most;
}
