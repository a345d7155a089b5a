import type { Rng } from "../random.js";
import type { PointSet } from "./points.js";

export interface SeedingOptions {
  /** Index of the first centre; drawn uniformly when absent. */
  first?: number;
  /**
   * Candidates tried per centre, keeping the one that lowers the potential most ("greedy
   * k-means++", as scikit-learn does with 2 + ⌊ln k⌋). 1 gives the classic D² sampling.
   */
  localTrials?: number;
  /** A weight per point (default 1): a point of weight w counts as w coinciding points. */
  weights?: Float64Array;
}

/**
 * k-means++ seeding (Arthur & Vassilvitskii 2007): each new centre is drawn with probability
 * proportional to its squared distance to the nearest centre so far. Returns k distinct point
 * indices (all points when k ≥ n). When every remaining point coincides with a centre, the rest
 * are drawn uniformly from the points not yet chosen.
 */
export function kmeansPlusPlus(points: PointSet, k: number, rng: Rng, options: SeedingOptions = {}): Int32Array {
  const n = points.size;
  if (!(Number.isInteger(k) && k >= 0)) throw new RangeError(`kmeansPlusPlus: k must be a non-negative integer, got ${k}`);
  if (k >= n) return Int32Array.from({ length: n }, (_, i) => i);
  if (k === 0) return new Int32Array(0);
  const trials = Math.max(1, options.localTrials ?? 1);
  const weights = options.weights ?? new Float64Array(n).fill(1);
  const norms = points.squaredNorms();
  const chosen = new Uint8Array(n);
  const centers = new Int32Array(k);
  const closest = new Float64Array(n);
  const cumulative = new Float64Array(n);
  const dots = new Float32Array(trials * n);
  const one = new Int32Array(1);

  // With one trial per centre, a set that can skip points does the update itself.
  const lower = trials === 1 && points.lowerDistances ? (c: number) => points.lowerDistances!(c, closest) : undefined;
  const first = options.first ?? rng.int(n);
  centers[0] = first;
  chosen[first] = 1;
  if (lower) {
    closest.fill(Number.POSITIVE_INFINITY);
    lower(first);
  } else {
    one[0] = first;
    points.dotsWith(one, dots);
    for (let i = 0; i < n; i++) closest[i] = squaredDistance(norms[i], norms[first], dots[i]);
  }

  for (let c = 1; c < k; c++) {
    let potential = 0;
    for (let i = 0; i < n; i++) {
      potential += weights[i] * closest[i];
      cumulative[i] = potential;
    }
    let next: number,
      offset = 0;
    if (potential > 0) {
      const candidates = new Int32Array(trials);
      for (let t = 0; t < trials; t++) candidates[t] = searchAbove(cumulative, rng.uniform() * potential);
      if (!lower) points.dotsWith(candidates, dots);
      let bestPotential = Infinity,
        bestTrial = 0;
      for (let t = 0; trials > 1 && t < trials; t++) {
        const o = t * n,
          normC = norms[candidates[t]];
        let p = 0;
        for (let i = 0; i < n; i++) p += weights[i] * Math.min(closest[i], squaredDistance(norms[i], normC, dots[o + i]));
        if (p < bestPotential) {
          bestPotential = p;
          bestTrial = t;
        }
      }
      next = candidates[bestTrial];
      offset = bestTrial * n;
    } else {
      next = uniformUnchosen(chosen, n - c, rng);
      one[0] = next;
      if (!lower) points.dotsWith(one, dots);
    }
    if (lower) lower(next);
    else {
      const normNext = norms[next];
      for (let i = 0; i < n; i++) closest[i] = Math.min(closest[i], squaredDistance(norms[i], normNext, dots[offset + i]));
    }
    centers[c] = next;
    chosen[next] = 1;
    closest[next] = 0;
  }
  return centers;
}

function squaredDistance(normA: number, normB: number, dot: number): number {
  const d = normA + normB - 2 * dot;
  return Math.max(d, 0);
}

/** The first index whose cumulative weight exceeds `target`: a point with positive weight. */
function searchAbove(cumulative: Float64Array, target: number): number {
  let lo = 0,
    hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function uniformUnchosen(chosen: Uint8Array, remaining: number, rng: Rng): number {
  let skip = rng.int(remaining);
  for (let i = 0; i < chosen.length; i++) {
    if (chosen[i]) continue;
    if (skip-- === 0) return i;
  }
  throw new Error("uniformUnchosen: no point left");
}
