import { matmul } from "../linalg/gemm.js";
import { matrix, rowSlice, type Matrix } from "../linalg/matrix.js";
import { rowSquaredNorms } from "../linalg/rows.js";
import type { Rng } from "../random.js";
import { nearestCenters } from "./nearest.js";

/**
 * Greedy k-center (farthest-first traversal, Sener & Savarese 2018): `budget` times, take the
 * point of `points` farthest from every centre so far (the rows of `centers`, then the points
 * already taken) and make it a centre. Returns indices into `points` in the order taken; ties go
 * to the lower index. With no centres at all, the first point is drawn at random. Also returns
 * each pick's squared distance to its nearest centre at the moment it was taken (∞ for a first
 * pick with no centres).
 */
export function kCenterGreedy(points: Matrix, centers: Matrix, budget: number, rng: Rng): { indices: Int32Array; squaredDistances: Float32Array } {
  const n = points.rows;
  if (!(Number.isInteger(budget) && budget >= 0 && budget <= n)) throw new RangeError(`kCenterGreedy: budget must be in 0..${n}, got ${budget}`);
  if (centers.rows > 0 && centers.cols !== points.cols) throw new RangeError(`kCenterGreedy: centres have ${centers.cols} columns, points ${points.cols}`);
  const norms = rowSquaredNorms(points);
  const minDistance = new Float32Array(n);
  if (centers.rows > 0) nearestCenters(points, centers, norms, { index: new Int32Array(n), distance: minDistance });
  else minDistance.fill(Infinity);
  const taken = new Int32Array(budget);
  const takenDistance = new Float32Array(budget);
  const dots = matrix(n, 1);
  for (let t = 0; t < budget; t++) {
    let next: number;
    if (t === 0 && centers.rows === 0) next = rng.int(n);
    else {
      next = -1;
      let farthest = -1;
      for (let i = 0; i < n; i++) {
        if (minDistance[i] > farthest) {
          farthest = minDistance[i];
          next = i;
        }
      }
    }
    taken[t] = next;
    takenDistance[t] = minDistance[next];
    // Distances to the new centre: one matrix–vector product over all points.
    matmul(points, rowSlice(points, next, next + 1), { transB: true, out: dots });
    const normNext = norms[next];
    for (let i = 0; i < n; i++) {
      const d = norms[i] + normNext - 2 * dots.data[i];
      if (d < minDistance[i]) minDistance[i] = Math.max(d, 0);
    }
    minDistance[next] = -1; // never taken twice, even when every distance is 0
  }
  return { indices: taken, squaredDistances: takenDistance };
}
