import type { Rng } from "../random.js";
import { instantiateKernel } from "../wasm.js";
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
  const pass = seedingPasses(n, trials);
  const { closest, cumulative, dots } = pass;
  if (options.weights) pass.weights.set(options.weights);
  else pass.weights.fill(1);
  const norms = pass.norms;
  norms.set(points.squaredNorms());
  const chosen = new Uint8Array(n);
  const centers = new Int32Array(k);
  const one = new Int32Array(1);

  // With one trial per centre, a set that can skip points does the update itself.
  const lower = trials === 1 && points.lowerDistances ? (c: number) => points.lowerDistances!(c, closest) : undefined;
  const first = options.first ?? rng.int(n);
  centers[0] = first;
  chosen[first] = 1;
  closest.fill(Number.POSITIVE_INFINITY);
  if (lower) lower(first);
  else {
    one[0] = first;
    points.dotsWith(one, dots);
    pass.update(0, norms[first]);
  }

  for (let c = 1; c < k; c++) {
    const potential = pass.prefix();
    let next: number,
      trial = 0;
    if (potential > 0) {
      const candidates = new Int32Array(trials);
      for (let t = 0; t < trials; t++) candidates[t] = searchAbove(cumulative, rng.uniform() * potential);
      if (!lower) points.dotsWith(candidates, dots);
      let bestPotential = Infinity;
      for (let t = 0; trials > 1 && t < trials; t++) {
        const p = pass.potential(t, norms[candidates[t]]);
        if (p < bestPotential) {
          bestPotential = p;
          trial = t;
        }
      }
      next = candidates[trial];
    } else {
      next = uniformUnchosen(chosen, n - c, rng);
      one[0] = next;
      if (!lower) points.dotsWith(one, dots);
    }
    if (lower) lower(next);
    else pass.update(trial, norms[next]);
    centers[c] = next;
    chosen[next] = 1;
    closest[next] = 0;
  }
  return centers;
}

/**
 * The seeding's arrays in the memory of seeding.wat, and its passes over every point: squared
 * distances from norms and the inner products `dots` (row t: candidate t's with every point).
 */
function seedingPasses(n: number, trials: number) {
  const at = [0, 8 * n, 16 * n, 24 * n, 28 * n]; // closest, weights, cumulative (f64); norms, dots (f32)
  const { exports, memory } = instantiateKernel("cluster/seeding", at[4] + 4 * trials * n);
  const f64 = (a: number) => new Float64Array(memory.buffer, at[a], n);
  const potential = exports.potential as (closest: number, weights: number, norms: number, dots: number, n: number, normC: number) => number;
  const update = exports.update as (closest: number, norms: number, dots: number, n: number, normC: number) => void;
  const prefix = exports.prefix as (closest: number, weights: number, cumulative: number, n: number) => number;
  return {
    closest: f64(0),
    weights: f64(1),
    cumulative: f64(2),
    norms: new Float32Array(memory.buffer, at[3], n),
    dots: new Float32Array(memory.buffer, at[4], trials * n),
    /** Σ weight·min(closest, distance to the point of row t), whose squared norm is normC. */
    potential: (t: number, normC: number) => potential(at[0], at[1], at[3], at[4] + 4 * t * n, n, normC),
    /** closest ← min(closest, distance to the point of row t). */
    update: (t: number, normC: number) => update(at[0], at[3], at[4] + 4 * t * n, n, normC),
    /** cumulative ← the running sums of weight·closest; their total. */
    prefix: () => prefix(at[0], at[1], at[2], n),
  };
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
