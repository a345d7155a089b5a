import { gatherRows, type Matrix } from "../linalg/matrix.js";
import { rowSquaredNorms } from "../linalg/rows.js";
import { kmeans, nearestMembers, type KMeansOptions, type KMeansResult } from "./kmeans.js";
import { kmeansPlusPlus } from "./kmeans-plus-plus.js";
import { nearestCenters } from "./nearest.js";
import { densePoints } from "./points.js";

/** Training points per centre at most in sampled k-means (FAISS's default). */
export const POINTS_PER_CENTER = 256;

/** How ALFA-Mix's (and the service's) k-means runs over many points. */
export const KMEANS_MODES = ["sampled", "exact"] as const;
export type KMeansMode = (typeof KMEANS_MODES)[number];

/** FAISS's Lloyd iterations (faiss.Kmeans' niter). */
const FAISS_ITERATIONS = 25;

/** Centres per block of the large problems' seeding (kmeansPlusPlusInBlocks). */
const SEEDING_BLOCK = 32;

/** Multiply-adds in one Lloyd pass (about 10 ms here) beyond which training takes FAISS's shortcuts. */
const LARGE_PASS = 2 ** 30;

/**
 * k-means as FAISS trains it: Lloyd on a uniform sample of at most `maxPerCenter`·k points, then
 * one assignment of every point to the trained centres (inertia and labels are over all points).
 * Where one Lloyd pass over the training points is large (ALFA-Mix's k = 1,000 over thousands of
 * candidates), it also trains as FAISS does, for at most 25 iterations, and seeds greedy
 * k-means++ in blocks of 32 centres (kmeansPlusPlusInBlocks: 3k rows of products where the
 * classic seeding needs 8k, or the Gram matrix) from a uniform sample of max(8,192, 8k) points
 * (FAISS starts from random points); `stopWhenPicksStable` is honoured only there. Smaller
 * problems seed and run Lloyd to scikit-learn's tolerance as the paper's code does.
 */
export function kmeansSampled(x: Matrix, k: number, options: KMeansOptions & { maxPerCenter?: number }): KMeansResult {
  const limit = (options.maxPerCenter ?? POINTS_PER_CENTER) * k;
  const train = x.rows <= limit ? x : gatherRows(x, options.rng.child("sample").sample(x.rows, limit));
  const large = train.rows * k * x.cols > LARGE_PASS;
  const trainOptions = large
    ? { maxIter: FAISS_ITERATIONS, seedingSample: Math.max(8192, 8 * k), seedingBlock: SEEDING_BLOCK, ...options }
    : { ...options, stopWhenPicksStable: false };
  const trained = kmeans(train, k, trainOptions);
  return train === x ? trained : assignAll(x, trained.centers, trained.iterations, trained.nInit);
}

/** The clustering of every point of `x` by the given centres. */
function assignAll(x: Matrix, centers: Matrix, iterations: number, nInit: number): KMeansResult {
  const assignment = nearestCenters(x, centers, rowSquaredNorms(x));
  let inertia = 0;
  for (let i = 0; i < x.rows; i++) inertia += assignment.distance[i];
  return { centers, labels: assignment.index, inertia, iterations, nInit };
}

/** k-means in the mode asked for: `exact` Lloyd over every point, or `sampled` (see kmeansSampled). */
export function kmeansByMode(mode: KMeansMode, x: Matrix, k: number, options: KMeansOptions): KMeansResult {
  return mode === "exact" ? kmeans(x, k, options) : kmeansSampled(x, k, options);
}

/**
 * k representatives of `x`: the row nearest each k-means centre (in the given mode), in centre
 * order, empty clusters skipped. ALFA-Mix and DropQuery choose their batch this way. Where
 * sampled k-means is large (see kmeansSampled), it stops once an iteration leaves those rows
 * unchanged, as they are all a caller gets: on 136,630 ALFA-Mix candidates with k = 1,000, 2 s
 * where Lloyd to scikit-learn's tolerance took 54.5 s (82 iterations), and the rows covered the
 * candidates more closely than FAISS's (smaller Σ squared distance to the nearest chosen row;
 * docs/benchmarks.md, "Speed").
 */
export function nearestToCentres(mode: KMeansMode, x: Matrix, k: number, options: KMeansOptions): { rows: Int32Array; result: KMeansResult } {
  const result = kmeansByMode(mode, x, k, mode === "sampled" ? { stopWhenPicksStable: true, ...options } : options);
  return { rows: nearestMembers(x, result).filter((m) => m >= 0), result };
}

/**
 * Mini-batch k-means (Sculley 2010), for comparison: k-means++ on a sample of 3 batches, then
 * `steps` batches of `batchSize` random points, each moving its points' centres by a per-centre
 * learning rate 1/count; a final assignment of every point.
 */
export function kmeansMiniBatch(x: Matrix, k: number, options: KMeansOptions & { batchSize?: number; steps?: number }): KMeansResult {
  const { rng, batchSize = 1024, steps = 100 } = options;
  const d = x.cols;
  const seedSample = gatherRows(x, rng.child("seed").sample(x.rows, Math.min(x.rows, Math.max(3 * batchSize, k))));
  const centers = gatherRows(seedSample, kmeansPlusPlus(densePoints(seedSample), k, rng.child("init"), { localTrials: 2 + Math.floor(Math.log(k)) }));
  const counts = new Float64Array(k);
  const draw = rng.child("batches");
  for (let step = 0; step < steps; step++) {
    const batch = gatherRows(x, draw.sample(x.rows, Math.min(batchSize, x.rows)));
    const { index } = nearestCenters(batch, centers);
    for (let i = 0; i < batch.rows; i++) {
      const c = index[i],
        eta = 1 / ++counts[c];
      for (let j = 0; j < d; j++) centers.data[c * d + j] += eta * (batch.data[i * d + j] - centers.data[c * d + j]);
    }
  }
  return assignAll(x, centers, steps, 1);
}
