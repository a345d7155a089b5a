import { gatherRows, type Matrix } from "../linalg/matrix.js";
import { rowSquaredNorms } from "../linalg/rows.js";
import type { Rng } from "../random.js";
import { kmeansPlusPlus, kmeansPlusPlusInBlocks } from "./kmeans-plus-plus.js";
import { nearestCentersAfterMove } from "./nearest.js";
import { densePoints, gramPoints } from "./points.js";

export interface KMeansOptions {
  rng: Rng;
  /** Restarts from independent k-means++ seedings; the lowest inertia wins (default 1). */
  nInit?: number;
  /** Lloyd iterations per restart (default 300). */
  maxIter?: number;
  /** Stop when Σ‖Δcentre‖² ≤ tol × mean per-feature variance, as scikit-learn does (default 1e-4). */
  tol?: number;
  /** Seed from a uniform sample of at most this many points (default all of them). */
  seedingSample?: number;
  /** Seed with kmeansPlusPlusInBlocks, this many centres per block (default: the classic greedy seeding). */
  seedingBlock?: number;
  /**
   * Also stop when an iteration leaves every centre's nearest point where it was: the picks of
   * ALFA-Mix and DropQuery, all they read of the clustering (default false).
   */
  stopWhenPicksStable?: boolean;
}

export interface KMeansResult {
  centers: Matrix;
  labels: Int32Array;
  /** Σ squared distance of each point to its centre. */
  inertia: number;
  /** Lloyd iterations of the winning restart. */
  iterations: number;
  nInit: number;
}

/**
 * k-means: greedy k-means++ seeding, then Lloyd iterations with all distances through GEMM in
 * blocks (memory O(block), never O(n·k)). k ≥ n puts every point in its own cluster. A cluster
 * left empty during the iterations takes the point farthest from its centre; only coinciding
 * centres (fewer distinct points than k) can leave a cluster empty at the end.
 */
export function kmeans(x: Matrix, k: number, options: KMeansOptions): KMeansResult {
  const { rng, nInit = 1, maxIter = 300, tol = 1e-4 } = options;
  const n = x.rows;
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`kmeans: k must be a positive integer, got ${k}`);
  if (!(Number.isInteger(nInit) && nInit >= 1)) throw new RangeError(`kmeans: nInit must be a positive integer, got ${nInit}`);
  if (n === 0) throw new RangeError("kmeans: no points");
  if (k >= n) {
    return {
      centers: gatherRows(
        x,
        Int32Array.from({ length: n }, (_, i) => i),
      ),
      labels: Int32Array.from({ length: n }, (_, i) => i),
      inertia: 0,
      iterations: 0,
      nInit,
    };
  }
  const xNorms = rowSquaredNorms(x);
  const tolerance = tol * meanVariance(x);
  const localTrials = 2 + Math.floor(Math.log(k));
  const seedingSample = options.seedingSample ?? n;
  const seedFrom = n > seedingSample && seedingSample >= k ? gatherRows(x, rng.child("seeding sample").sample(n, seedingSample)) : x;
  const block = options.seedingBlock;
  // The classic seeding reads every point once per candidate; with many centres over few points,
  // one Gram GEMM (≤ 256 MB) is cheaper than k passes over X, and the restarts share it.
  const points = !block && seedFrom.rows <= 8192 && seedFrom.rows < 16 * k ? gramPoints(seedFrom) : densePoints(seedFrom, seedFrom === x ? xNorms : undefined);
  let best: KMeansResult | undefined;
  for (let run = 0; run < nInit; run++) {
    // Seeding in blocks over every point leaves each point's nearest seed: Lloyd's first pass.
    const seeded = block && seedFrom === x ? { index: new Int32Array(n), distance: new Float32Array(n) } : undefined;
    const seeds = block ? kmeansPlusPlusInBlocks(points, k, rng, { localTrials, block, assignment: seeded }) : kmeansPlusPlus(points, k, rng, { localTrials });
    const result = lloyd(x, xNorms, gatherRows(seedFrom, seeds), maxIter, tolerance, options.stopWhenPicksStable ?? false, seeded);
    if (!best || result.inertia < best.inertia) best = { ...result, nInit };
  }
  return best!;
}

function lloyd(
  x: Matrix,
  xNorms: Float32Array,
  centers: Matrix,
  maxIter: number,
  tolerance: number,
  stopWhenPicksStable: boolean,
  seeded?: { index: Int32Array; distance: Float32Array },
): Omit<KMeansResult, "nInit"> {
  const n = x.rows,
    k = centers.rows;
  const assignment = seeded ?? { index: new Int32Array(n), distance: new Float32Array(n) };
  const previous = new Int32Array(n).fill(-1);
  const counts = new Int32Array(k);
  // The members of each cluster, in ascending order, at members[first[c]…first[c + 1]).
  const first = new Int32Array(k + 1),
    members = new Int32Array(n),
    sumScratch = new Float64Array(x.cols);
  const picks = stopWhenPicksStable ? new Int32Array(k).fill(-1) : undefined;
  // The centres the last update moved (their clusters gained or lost a point): the next pass
  // compares most points with these alone (nearestCentersAfterMove), and only these are
  // recomputed, summed afresh from their members. Running sums over every cluster (k·d doubles)
  // are kept only once that costs more than a quarter of the points: they are fresh memory
  // (4 MB, 15 ms of ALFA-Mix's query here, whose late iterations move a few clusters), but
  // where clusters are large (TypiClust: 60,000 points) moving the changed points is far cheaper.
  const moved = new Uint8Array(k).fill(1);
  const values = new Float32Array(n); // each point's ‖c‖² − 2x·c for its centre, as the passes compare them
  let sums: Float64Array | undefined;
  let iterations = 0;
  let stable = false;
  while (iterations < maxIter) {
    iterations++;
    if (iterations > 1 || !seeded) nearestCentersAfterMove(x, xNorms, centers, moved, assignment, values);
    moved.fill(0);
    const labels = assignment.index;
    if (picks && !updatePicks(picks, assignment) && iterations > 1) {
      stable = true; // the labels are those of these centres
      break;
    }
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const to = labels[i],
        from = previous[i];
      if (to === from) continue;
      changed++;
      moved[to] = 1;
      if (from >= 0) moved[from] = 1;
    }
    if (changed === 0) {
      stable = true; // labels are a fixed point: the centres would not move
      break;
    }
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[labels[i]]++;
    relocateEmptyClusters(labels, assignment.distance, counts, moved);
    if (sums) {
      for (let i = 0; i < n; i++) {
        if (labels[i] === previous[i]) continue;
        addRow(sums, labels[i] * x.cols, x.data, i * x.cols, x.cols, 1);
        if (previous[i] >= 0) addRow(sums, previous[i] * x.cols, x.data, i * x.cols, x.cols, -1);
      }
    } else {
      first[0] = 0;
      for (let c = 0; c < k; c++) first[c + 1] = first[c] + counts[c];
      const at = first.slice(0, k);
      for (let i = 0; i < n; i++) members[at[labels[i]]++] = i;
      let work = 0; // rows summed to recompute the moved centres from their members
      for (let c = 0; c < k; c++) if (moved[c] === 1) work += counts[c];
      if (iterations > 1 && work > n / 4) {
        sums = new Float64Array(k * x.cols);
        for (let c = 0; c < k; c++) sumRows(x, members.subarray(first[c], first[c + 1]), sums.subarray(c * x.cols, (c + 1) * x.cols));
      }
    }
    previous.set(labels);
    let shift = 0;
    for (let c = 0; c < k; c++) {
      if (moved[c] === 0 || counts[c] === 0) continue;
      const sum = sums ? sums.subarray(c * x.cols, (c + 1) * x.cols) : sumRows(x, members.subarray(first[c], first[c + 1]), sumScratch);
      shift += moveTo(sum, counts[c], centers, c);
    }
    if (shift <= tolerance) break;
  }
  if (!stable) nearestCentersAfterMove(x, xNorms, centers, moved, assignment, values); // labels must match the final centres
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += assignment.distance[i];
  return { centers, labels: assignment.index, inertia, iterations };
}

/** sum ← Σ of the rows `of` of x, in float64, in their order. A small function, which V8 optimises within a few calls. */
function sumRows(x: Matrix, of: Int32Array, sum: Float64Array): Float64Array {
  sum.fill(0);
  for (const i of of) addRow(sum, 0, x.data, i * x.cols, x.cols, 1);
  return sum;
}

/** sums[t…t+d) += sign·x[o…o+d). */
function addRow(sums: Float64Array, t: number, x: Float32Array, o: number, d: number, sign: 1 | -1): void {
  if (sign === 1) for (let j = 0; j < d; j++) sums[t + j] += x[o + j];
  else for (let j = 0; j < d; j++) sums[t + j] -= x[o + j];
}

/** Centre c ← sum / count (rounded to float32); returns the squared distance it moved. */
function moveTo(sum: Float64Array, count: number, centers: Matrix, c: number): number {
  const d = centers.cols,
    s = c * d,
    inv = 1 / count;
  let shift = 0;
  for (let j = 0; j < d; j++) {
    const v = Math.fround(sum[j] * inv);
    const delta = v - centers.data[s + j];
    shift += delta * delta;
    centers.data[s + j] = v;
  }
  return shift;
}

/** picks[c] ← the point nearest centre c among its members (−1: none); whether any changed. */
function updatePicks(picks: Int32Array, assignment: { index: Int32Array; distance: Float32Array }): boolean {
  const k = picks.length,
    best = new Float32Array(k).fill(Number.POSITIVE_INFINITY),
    next = new Int32Array(k).fill(-1);
  for (let i = 0; i < assignment.index.length; i++) {
    const c = assignment.index[i];
    if (assignment.distance[i] < best[c]) {
      best[c] = assignment.distance[i];
      next[c] = i;
    }
  }
  let changed = false;
  for (let c = 0; c < k; c++) changed ||= next[c] !== picks[c];
  picks.set(next);
  return changed;
}

/** Give each empty cluster the farthest point of a cluster that can spare one (both marked moved). */
function relocateEmptyClusters(labels: Int32Array, distance: Float32Array, counts: Int32Array, moved: Uint8Array): void {
  let empty = 0;
  for (let c = 0; c < counts.length; c++) if (counts[c] === 0) empty++;
  if (empty === 0) return;
  const byDistance = Int32Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => distance[b] - distance[a] || a - b);
  let next = 0;
  for (let c = 0; c < counts.length; c++) {
    if (counts[c] !== 0) continue;
    while (next < byDistance.length && counts[labels[byDistance[next]]] < 2) next++;
    if (next === byDistance.length) return; // every cluster holds one point: nothing to spare
    const i = byDistance[next++],
      from = labels[i];
    counts[from]--;
    counts[c] = 1;
    moved[from] = moved[c] = 1;
    labels[i] = c;
    distance[i] = 0;
  }
}

function meanVariance(x: Matrix): number {
  const n = x.rows,
    d = x.cols,
    data = x.data;
  const mean = new Float64Array(d),
    sq = new Float64Array(d);
  // Four rows a step: a quarter of the loads and stores of the two sums (3 against 6.5 ms warm on
  // 6,568 × 512).
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const a = data[o + j],
        b = data[o + d + j],
        c = data[o + 2 * d + j],
        e = data[o + 3 * d + j];
      mean[j] += a + b + (c + e);
      sq[j] += a * a + b * b + (c * c + e * e);
    }
  }
  for (; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const v = data[o + j];
      mean[j] += v;
      sq[j] += v * v;
    }
  }
  let total = 0;
  for (let j = 0; j < d; j++) {
    const m = mean[j] / n;
    total += Math.max(0, sq[j] / n - m * m);
  }
  return d ? total / d : 0;
}

/** For each cluster, the member nearest its centre (−1 for an empty cluster). */
export function nearestMembers(x: Matrix, result: Pick<KMeansResult, "centers" | "labels">): Int32Array {
  const { centers, labels } = result;
  const k = centers.rows,
    d = x.cols;
  const best = new Int32Array(k).fill(-1);
  const bestDistance = new Float64Array(k).fill(Infinity);
  for (let i = 0; i < x.rows; i++) {
    const c = labels[i],
      o = i * d,
      s = c * d;
    let dist = 0;
    for (let j = 0; j < d; j++) {
      const diff = x.data[o + j] - centers.data[s + j];
      dist += diff * diff;
    }
    if (dist < bestDistance[c]) {
      bestDistance[c] = dist;
      best[c] = i;
    }
  }
  return best;
}
