import { gatherRows, matrix, type Matrix } from "../linalg/matrix.js";
import { rowSquaredNorms } from "../linalg/rows.js";
import { Rng } from "../random.js";
import { kmeansPlusPlus } from "./kmeans-plus-plus.js";
import { nearestCenters } from "./nearest.js";
import { densePoints } from "./points.js";

/**
 * k-means over points split into parts that are never gathered in one place: k-means|| seeding
 * (Bahmani et al. 2012) and Lloyd iterations, each a pass that every part runs where it lives
 * (`runKMeansPass`) and the driver reduces (`kmeansParallel`). Only centres, sums and counts
 * travel. Random draws come from a hash of (seed, round, row), so the result does not depend on
 * how the points are split, and a pass run twice returns the same thing.
 */

/** One part of the points: their coordinates and their global row numbers (ascending). */
export interface KMeansPart {
  points: Matrix;
  rows: Int32Array;
}

/** What a part is asked to compute in one pass. */
export type KMeansPass =
  /** The part's size and its point of smallest draw: the global minimum is a uniform pick. */
  | { op: "pick"; seed: number }
  /** k-means|| oversampling: each point with probability min(1, ℓ·d²(x, C) / cost); cost 0 takes every point. */
  | { op: "sample"; centers: Matrix; cost: number; oversampling: number; seed: number; round: number }
  /** Each point to its nearest centre: counts, inertia, optionally the coordinate sums, and each centre's nearest member. */
  | { op: "assign"; centers: Matrix; sums: boolean };

export interface PickResult {
  count: number;
  row: number;
  draw: number;
  point: Float32Array;
}
export interface SampleResult {
  rows: Int32Array;
  points: Float32Array;
}
export interface AssignResult {
  counts: Float64Array;
  inertia: number;
  sums?: Float64Array;
  /** Per centre: the global row of its nearest member (−1: no member here) and the squared distance. */
  nearestRow: Int32Array;
  nearestDistance: Float64Array;
}
export type KMeansPassResult = PickResult | SampleResult | AssignResult;

/** A uniform draw in [0, 1) for a (seed, round, row): the same wherever the row lives. */
export function rowDraw(seed: number, round: number, row: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(round + 1, 0xc2b2ae35) ^ Math.imul(row, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** One pass over one part. Pure: the same part and pass always give the same result. */
export function runKMeansPass(part: KMeansPart, pass: KMeansPass): KMeansPassResult {
  const { points, rows } = part;
  const d = points.cols;
  if (pass.op === "pick") {
    let best = -1,
      bestDraw = Infinity;
    rows.forEach((row, i) => {
      const u = rowDraw(pass.seed, 0, row);
      if (u < bestDraw) [best, bestDraw] = [i, u];
    });
    return {
      count: rows.length,
      row: best >= 0 ? rows[best] : -1,
      draw: bestDraw,
      point: best >= 0 ? points.data.slice(best * d, (best + 1) * d) : new Float32Array(0),
    };
  }
  if (points.rows === 0) return pass.op === "sample" ? { rows: new Int32Array(0), points: new Float32Array(0) } : emptyAssign(pass.centers.rows, d, pass.sums);
  const nearest = nearestCenters(points, pass.centers, rowSquaredNorms(points));
  if (pass.op === "sample") {
    const picked: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (pass.cost === 0 || rowDraw(pass.seed, pass.round, rows[i]) * pass.cost < pass.oversampling * nearest.distance[i]) picked.push(i);
    }
    return { rows: Int32Array.from(picked, (i) => rows[i]), points: gatherRows(points, picked).data };
  }
  const k = pass.centers.rows;
  const result = emptyAssign(k, d, pass.sums);
  for (let i = 0; i < rows.length; i++) {
    const c = nearest.index[i],
      dist = nearest.distance[i];
    result.counts[c]++;
    result.inertia += dist;
    if (result.sums) for (let j = 0, o = i * d, s = c * d; j < d; j++) result.sums[s + j] += points.data[o + j];
    if (dist < result.nearestDistance[c]) [result.nearestDistance[c], result.nearestRow[c]] = [dist, rows[i]];
  }
  return result;
}

function emptyAssign(k: number, d: number, sums: boolean): AssignResult {
  return {
    counts: new Float64Array(k),
    inertia: 0,
    sums: sums ? new Float64Array(k * d) : undefined,
    nearestRow: new Int32Array(k).fill(-1),
    nearestDistance: new Float64Array(k).fill(Infinity),
  };
}

/** Runs a pass on every part (in workers, threads or here) and returns the results in part order. */
export type RunPass = (pass: KMeansPass) => Promise<KMeansPassResult[]>;

export interface KMeansParallelOptions {
  seed: number;
  /** k-means|| rounds (default 5, the paper's choice). */
  rounds?: number;
  /** ℓ = oversampling × k points expected per round (default 2). */
  oversampling?: number;
  /** Lloyd passes at most (default 50). */
  maxIter?: number;
  /** Stop when a pass lowers the inertia by no more than tol × inertia (default 1e-4). */
  tol?: number;
  onPass?: (what: string) => void;
}

export interface KMeansParallelResult {
  centers: Matrix;
  /** Per centre, the global row of the member nearest it (−1 for an empty cluster): distinct rows. */
  nearestRows: Int32Array;
  inertia: number;
  /** Lloyd passes. */
  iterations: number;
  /** k-means|| candidates before reclustering. */
  seeds: number;
  /** Passes over the parts in all. */
  passes: number;
}

/**
 * k-means over parts: k-means|| picks about rounds × ℓ weighted candidate centres, which are
 * reclustered here into k by weighted k-means++ and Lloyd; then Lloyd passes over the parts until
 * the inertia stops falling; the last pass gives each centre its nearest member.
 */
export async function kmeansParallel(run: RunPass, k: number, options: KMeansParallelOptions): Promise<KMeansParallelResult> {
  const { seed, rounds = 5, oversampling = 2, maxIter = 50, tol = 1e-4, onPass } = options;
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`kmeansParallel: k must be a positive integer, got ${k}`);
  let passes = 0;
  const pass = async <T extends KMeansPassResult>(p: KMeansPass, what: string): Promise<T[]> => {
    passes++;
    onPass?.(what);
    return (await run(p)) as T[];
  };
  const picks = await pass<PickResult>({ op: "pick", seed }, "k-means|| first centre");
  const n = picks.reduce((s, p) => s + p.count, 0);
  if (n === 0) throw new RangeError("kmeansParallel: no points");
  const first = picks.filter((p) => p.count > 0).reduce((a, b) => (b.draw < a.draw || (b.draw === a.draw && b.row < a.row) ? b : a));
  const d = first.point.length;
  if (n <= k) {
    // Every point is its own centre, as in the local k-means.
    const all = await pass<SampleResult>({ op: "sample", centers: matrix(1, d, first.point), cost: 0, oversampling: 1, seed, round: 0 }, "every point");
    const rows = Int32Array.from(all.flatMap((r) => Array.from(r.rows)));
    return {
      centers: appendRows(
        matrix(0, d),
        all.map((r) => r.points),
      ),
      nearestRows: rows,
      inertia: 0,
      iterations: 0,
      seeds: rows.length,
      passes,
    };
  }

  // k-means|| seeding: each round adds the points sampled in proportion to their squared distance.
  let seeds = matrix(1, d, first.point.slice());
  for (let round = 1; round <= rounds; round++) {
    const cost = sumOf(await pass<AssignResult>({ op: "assign", centers: seeds, sums: false }, `k-means|| round ${round} cost`), (r) => r.inertia);
    if (!(cost > 0)) break; // every point is a seed already
    const sampled = await pass<SampleResult>(
      { op: "sample", centers: seeds, cost, oversampling: oversampling * k, seed, round },
      `k-means|| round ${round} sample`,
    );
    seeds = appendRows(
      seeds,
      sampled.map((s) => s.points),
    );
  }
  const weights = reduceAssign(await pass<AssignResult>({ op: "assign", centers: seeds, sums: false }, "k-means|| weights"), seeds.rows, d).counts;
  let centers = seeds.rows <= k ? seeds : weightedKMeans(seeds, weights, k, new Rng(seed).child("recluster"));

  // Lloyd over the parts: each pass gives the inertia of the centres it was sent.
  let previous = Infinity,
    iterations = 0,
    last: AssignResult;
  for (;;) {
    last = reduceAssign(await pass<AssignResult>({ op: "assign", centers, sums: true }, `Lloyd pass ${iterations + 1}`), centers.rows, d);
    if (previous - last.inertia <= tol * last.inertia || iterations === maxIter) break;
    previous = last.inertia;
    iterations++;
    const next = matrix(centers.rows, d);
    for (let c = 0; c < centers.rows; c++) {
      for (let j = 0; j < d; j++) next.data[c * d + j] = last.counts[c] > 0 ? Math.fround(last.sums![c * d + j] / last.counts[c]) : centers.data[c * d + j];
    }
    centers = next;
  }
  return { centers, nearestRows: last.nearestRow, inertia: last.inertia, iterations, seeds: seeds.rows, passes };
}

/** The parts' assignments as one: summed in part order (deterministic), nearest members by distance then row. */
function reduceAssign(results: AssignResult[], k: number, d: number): AssignResult {
  const total = emptyAssign(
    k,
    d,
    results.some((r) => r.sums),
  );
  for (const r of results) {
    total.inertia += r.inertia;
    for (let c = 0; c < k; c++) {
      total.counts[c] += r.counts[c];
      const better =
        r.nearestDistance[c] < total.nearestDistance[c] ||
        (r.nearestDistance[c] === total.nearestDistance[c] && r.nearestRow[c] >= 0 && r.nearestRow[c] < total.nearestRow[c]);
      if (r.nearestRow[c] >= 0 && better) [total.nearestDistance[c], total.nearestRow[c]] = [r.nearestDistance[c], r.nearestRow[c]];
    }
    if (r.sums) for (let i = 0; i < r.sums.length; i++) total.sums![i] += r.sums[i];
  }
  return total;
}

const sumOf = <T>(items: T[], f: (t: T) => number) => items.reduce((s, t) => s + f(t), 0);

function appendRows(m: Matrix, blocks: Float32Array[]): Matrix {
  const out = matrix(m.rows + blocks.reduce((s, b) => s + b.length, 0) / m.cols, m.cols);
  out.data.set(m.data);
  let o = m.data.length;
  for (const b of blocks) {
    out.data.set(b, o);
    o += b.length;
  }
  return out;
}

/** k centres for weighted points (the k-means|| candidates): weighted k-means++ then weighted Lloyd. */
export function weightedKMeans(x: Matrix, weights: Float64Array, k: number, rng: Rng, maxIter = 300): Matrix {
  const d = x.cols;
  const centers = gatherRows(x, kmeansPlusPlus(densePoints(x), k, rng, { weights, localTrials: 2 + Math.floor(Math.log(k)) }));
  const norms = rowSquaredNorms(x);
  let labels: Int32Array = new Int32Array(x.rows).fill(-1);
  for (let iteration = 0; iteration < maxIter; iteration++) {
    const next = nearestCenters(x, centers, norms).index;
    if (next.every((c, i) => c === labels[i])) break;
    labels = next;
    const sums = new Float64Array(k * d),
      mass = new Float64Array(k);
    for (let i = 0; i < x.rows; i++) {
      const c = labels[i],
        w = weights[i];
      mass[c] += w;
      for (let j = 0; j < d; j++) sums[c * d + j] += w * x.data[i * d + j];
    }
    for (let c = 0; c < k; c++) if (mass[c] > 0) for (let j = 0; j < d; j++) centers.data[c * d + j] = Math.fround(sums[c * d + j] / mass[c]);
  }
  return centers;
}

/** Points held here split into `parts` contiguous parts: the driver's passes run in this thread. */
export function localParts(x: Matrix, parts: number): { parts: KMeansPart[]; run: RunPass } {
  const size = Math.ceil(x.rows / parts);
  const list = Array.from({ length: parts }, (_, p) => {
    const rows = Int32Array.from({ length: Math.max(0, Math.min(x.rows, (p + 1) * size) - p * size) }, (_, i) => p * size + i);
    return { rows, points: gatherRows(x, rows) };
  });
  return { parts: list, run: async (pass) => list.map((part) => runKMeansPass(part, pass)) };
}
