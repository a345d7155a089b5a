import { matmul } from "../linalg/gemm.js";
import { matrix, rowSlice, type Matrix } from "../linalg/matrix.js";
import { rowSquaredNorms } from "../linalg/rows.js";
import type { Rng } from "../random.js";
import { nearestCenters } from "./nearest.js";

/**
 * k-means with fixed centres: `k` free centres placed among `points` while the rows of `fixed`
 * (the labelled items) count as centres that never move. Seeding is k-means++ that starts from
 * the fixed centres' distances; Lloyd's rounds then assign every point to its nearest centre of
 * either kind and move only the free ones, a free centre left empty jumping to the point farthest
 * from its own centre. This is CoreSet's covering objective with a sum in place of the maximum:
 * points the labelled items already cover cost nothing, and a lone outlier weighs its share
 * rather than everything. Returns, for each free centre, its member nearest to it (indices into
 * `points`, distinct), in centre order.
 */
export function kmeansAroundFixed(points: Matrix, fixed: Matrix, k: number, rng: Rng, maxIter = 100): Int32Array {
  const n = points.rows,
    d = points.cols,
    f = fixed.rows;
  if (!(Number.isInteger(k) && k >= 0 && k <= n)) throw new RangeError(`kmeansAroundFixed: k must be in 0..${n}, got ${k}`);
  if (k === 0) return new Int32Array(0);
  const norms = rowSquaredNorms(points);
  const centers = matrix(f + k, d);
  centers.data.set(fixed.data.subarray(0, f * d));
  seedFree(points, norms, fixed, centers, k, rng);

  const assigned = { index: new Int32Array(n).fill(-1), distance: new Float32Array(n) };
  const previous = new Int32Array(n);
  const sums = new Float64Array(k * d),
    counts = new Int32Array(k);
  for (let iter = 0; iter < maxIter; iter++) {
    previous.set(assigned.index);
    nearestCenters(points, centers, norms, assigned);
    if (iter > 0 && assigned.index.every((c, i) => c === previous[i])) break;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = assigned.index[i] - f;
      if (c < 0) continue;
      counts[c]++;
      for (let j = 0; j < d; j++) sums[c * d + j] += points.data[i * d + j];
    }
    for (let c = 0; c < k; c++) {
      const row = (f + c) * d;
      if (counts[c] > 0) {
        for (let j = 0; j < d; j++) centers.data[row + j] = sums[c * d + j] / counts[c];
      } else {
        // Empty: move onto the point worst served by its centre, which then belongs here alone.
        let worst = 0;
        for (let i = 1; i < n; i++) if (assigned.distance[i] > assigned.distance[worst]) worst = i;
        centers.data.set(points.data.subarray(worst * d, (worst + 1) * d), row);
        assigned.distance[worst] = 0;
        assigned.index[worst] = f + c;
      }
    }
  }
  nearestCenters(points, centers, norms, assigned);
  // Each free centre's nearest member; a centre without members takes the farthest unpicked point.
  const best = new Int32Array(k).fill(-1),
    bestDistance = new Float64Array(k).fill(Infinity);
  for (let i = 0; i < n; i++) {
    const c = assigned.index[i] - f;
    if (c >= 0 && assigned.distance[i] < bestDistance[c]) {
      bestDistance[c] = assigned.distance[i];
      best[c] = i;
    }
  }
  const picked = new Uint8Array(n);
  for (const i of best) if (i >= 0) picked[i] = 1;
  for (let c = 0; c < k; c++) {
    if (best[c] >= 0) continue;
    let worst = -1;
    for (let i = 0; i < n; i++) if (!picked[i] && (worst < 0 || assigned.distance[i] > assigned.distance[worst])) worst = i;
    best[c] = worst;
    picked[worst] = 1;
  }
  return best;
}

/** k-means++ for the free centres (rows f.. of `centers`), D² measured from the fixed centres on. */
function seedFree(points: Matrix, norms: Float32Array, fixed: Matrix, centers: Matrix, k: number, rng: Rng): void {
  const n = points.rows,
    d = points.cols,
    f = fixed.rows;
  const minDistance = new Float32Array(n);
  if (f > 0) nearestCenters(points, fixed, norms, { index: new Int32Array(n), distance: minDistance });
  else minDistance.fill(Infinity);
  const dots = matrix(n, 1);
  for (let t = 0; t < k; t++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += Number.isFinite(minDistance[i]) ? minDistance[i] : 0;
    const next = total > 0 ? rng.weightedIndex(minDistance, total) : rng.int(n);
    centers.data.set(points.data.subarray(next * d, (next + 1) * d), (f + t) * d);
    matmul(points, rowSlice(points, next, next + 1), { transB: true, out: dots });
    for (let i = 0; i < n; i++) {
      const dist = Math.max(0, norms[i] + norms[next] - 2 * dots.data[i]);
      if (!(dist >= minDistance[i])) minDistance[i] = dist;
    }
  }
}
