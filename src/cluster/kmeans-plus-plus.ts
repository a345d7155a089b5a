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
 * Greedy k-means++ with the inner products taken a block of centres at a time: one product of
 * 3·`block` candidates with every point (a GEMM) per block, where the classic seeding takes one
 * per centre and reads every point each time. The candidates are drawn together by D² from the
 * distances before the block; each centre of the block then takes the best of `localTrials`
 * drawn among the candidates, weighted by their distances as they stand, so a candidate beside a
 * centre just taken is passed over. A block ends early once its candidates' weight falls more
 * than twice as fast as the points' (they no longer stand for the points). Each candidate's
 * potential is exact, over every point.
 *
 * Why: ALFA-Mix seeds k = 1,000 centres among thousands of candidates. The classic greedy seeding
 * needs 8 candidates' products per centre, 8·k rows, which only the Gram matrix made affordable:
 * n² floats, 172 MB for 6,568 candidates, 470–590 ms of a 1.2 s query on a VM whose host backs
 * fresh pages lazily. Here it is 3·k rows and O(block·n) memory. The batch's Σ squared distance
 * to its nearest pick came 0.4–1.7% above the classic seeding's and 0.8–3.5% below FAISS's, on
 * ALFA-Mix's candidates, MNIST and optdigits (docs/benchmarks.md).
 */
export function kmeansPlusPlusInBlocks(
  points: PointSet,
  k: number,
  rng: Rng,
  options: Omit<SeedingOptions, "weights"> & {
    block: number;
    /** Filled with each point's nearest centre (its number in the result) and squared distance. */
    assignment?: { index: Int32Array; distance: Float32Array };
  },
): Int32Array {
  const n = points.size;
  const block = options.block;
  if (!(Number.isInteger(k) && k >= 0)) throw new RangeError(`kmeansPlusPlusInBlocks: k must be a non-negative integer, got ${k}`);
  if (!(Number.isInteger(block) && block >= 1)) throw new RangeError(`kmeansPlusPlusInBlocks: block must be a positive integer, got ${block}`);
  if (k >= n) {
    const all = Int32Array.from({ length: n }, (_, i) => i);
    options.assignment?.index.set(all);
    options.assignment?.distance.fill(0);
    return all;
  }
  if (k === 0) return new Int32Array(0);
  const trials = Math.max(1, options.localTrials ?? 1);
  const pass = blockPasses(n, CANDIDATES_PER_CENTRE * block, trials);
  const { closest, dots, norms } = pass;
  norms.set(points.squaredNorms());
  const cumulative = new Float64Array(n);
  const chosen = new Uint8Array(n);
  const centers = new Int32Array(k);
  const pool = new Int32Array(CANDIDATES_PER_CENTRE * block);
  const poolCumulative = new Float64Array(CANDIDATES_PER_CENTRE * block);
  // drawnFor[t]: the centre whose trials last included candidate t (each trial counted once).
  const drawnFor = new Int32Array(CANDIDATES_PER_CENTRE * block).fill(-1);
  let potential = 0; // Σ closest as the last centre left it
  const take = (c: number, t: number) => {
    const row = pool[t];
    // The centre's distance to itself (‖r‖² + ‖r‖² − 2r·r, rounded: not always 0) leaves the sum.
    potential = pass.lower(t, norms[row], c) - closest[row];
    centers[c] = row;
    chosen[row] = 1;
    closest[row] = 0;
    pass.nearest[row] = c;
  };
  pool[0] = options.first ?? rng.int(n);
  closest.fill(Number.POSITIVE_INFINITY);
  points.dotsWith(pool.subarray(0, 1), dots);
  take(0, 0);
  let c = 1;
  while (c < k) {
    let blockPotential = 0;
    for (let i = 0; i < n; i++) cumulative[i] = blockPotential += closest[i];
    if (!Number.isFinite(blockPotential)) throw new RangeError("kmeansPlusPlusInBlocks: a distance is NaN or infinite (non-finite coordinates?)");
    if (!(blockPotential > 0)) {
      // Every point left coincides with a centre: the rest are drawn uniformly, one at a time.
      pool[0] = uniformUnchosen(chosen, n - c, rng);
      points.dotsWith(pool.subarray(0, 1), dots);
      take(c++, 0);
      continue;
    }
    const size = CANDIDATES_PER_CENTRE * Math.min(block, k - c);
    for (let t = 0; t < size; t++) pool[t] = searchAbove(cumulative, rng.uniform() * blockPotential);
    points.dotsWith(pool.subarray(0, size), dots);
    const drawn = poolCumulative.subarray(0, size);
    let poolPotential = 0;
    for (let taken = 0; taken < size / CANDIDATES_PER_CENTRE && c < k; taken++) {
      let total = 0;
      for (let t = 0; t < size; t++) drawn[t] = total += closest[pool[t]];
      if (taken === 0) poolPotential = total;
      // The candidates stand for the points only while their weight falls no faster than the
      // points' (at most twice as fast): past that they sit where the block's centres already
      // are (one centre per blob, say) and the next block's draw is the fair one. Every block
      // takes its first centre (drawn by D², its weight is positive), so the seeding always ends.
      else if (!(total > 0) || total / poolPotential < potential / blockPotential / 2) break;
      if (!(total > 0)) throw new Error("kmeansPlusPlusInBlocks: a block drew no candidate of positive weight");
      // The distinct trials in the order drawn; the first with the largest gain is taken.
      let count = 0;
      for (let trial = 0; trial < trials; trial++) {
        const t = searchAbove(drawn, rng.uniform() * total);
        if (drawnFor[t] === c) continue;
        drawnFor[t] = c;
        pass.trialRows[count] = t;
        pass.trialNorms[count++] = norms[pool[t]];
      }
      take(c++, count === 1 ? pass.trialRows[0] : pass.trialRows[pass.best(count)]);
    }
  }
  if (options.assignment) {
    options.assignment.index.set(pass.nearest);
    options.assignment.distance.set(closest);
  }
  return centers;
}

/**
 * Candidates drawn per centre of a block: the seeding's cost (its GEMM rows) and its quality. On
 * ALFA-Mix's 136,600 candidates of a 10⁶ pool (k = 1,000, seeds 0–2) 2, 3 and 4 a centre left the
 * batch's Σ squared distance to its nearest pick at 142,469–142,580, 142,086–142,112 and
 * 141,903–142,040, against FAISS's 142,073–142,276; on the 6,568 candidates of the 50,000 × 512
 * query, 3 took the query from 547 to 475 ms (medians of 6 alternating runs) and covered them
 * 0.1% less closely than 4 (6,340 against 6,334; FAISS 6,390). Three keeps FAISS's quality at
 * less cost. Leftover candidates carried into the next block, or 16 trials a centre, did not
 * help: fresh draws do.
 */
export const CANDIDATES_PER_CENTRE = 3;

/**
 * The blocked seeding's arrays in the memory of seeding-blocks.wat: closest, nearest, norms, then
 * the inner products of `rows` candidates with every point (row t: candidate t's).
 */
function blockPasses(n: number, rows: number, trials: number) {
  const trialsAt = 4 * n * (3 + rows);
  const { exports, memory } = instantiateKernel("cluster/seeding-blocks", trialsAt + 8 * trials);
  const best = exports.best as (
    closest: number,
    norms: number,
    dots: number,
    n: number,
    rowBytes: number,
    rows: number,
    normCs: number,
    count: number,
  ) => number;
  const lower = exports.lower as (closest: number, nearest: number, norms: number, dots: number, n: number, normC: number, centre: number) => number;
  const row = (t: number) => 4 * n * (3 + t);
  return {
    closest: new Float32Array(memory.buffer, 0, n),
    nearest: new Int32Array(memory.buffer, 4 * n, n),
    norms: new Float32Array(memory.buffer, 8 * n, n),
    dots: new Float32Array(memory.buffer, row(0), rows * n),
    /** A centre's distinct trials: their rows and squared norms, for `best`. */
    trialRows: new Int32Array(memory.buffer, trialsAt, trials),
    trialNorms: new Float32Array(memory.buffer, trialsAt + 4 * trials, trials),
    /**
     * Of the first `count` trials, the first with the largest gain (Σ_i max(closest_i − distance_i,
     * 0) to its candidate).
     */
    best: (count: number) => best(0, 8 * n, row(0), n, 4 * n, trialsAt, trialsAt + 4 * trials, count),
    /** Where the candidate of row t is nearer than closest: closest ← its distance, nearest ← centre; returns Σ closest. */
    lower: (t: number, normC: number, centre: number) => lower(0, 4 * n, 8 * n, row(t), n, normC, centre),
  };
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
