import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kmeans } from "../src/cluster/kmeans.js";
import { kmeansParallel, localParts } from "../src/cluster/kmeans-parallel.js";
import { kmeansMiniBatch, kmeansSampled } from "../src/cluster/kmeans-scale.js";
import { encodeNpy } from "../src/data/npy.js";
import { readNpyMatrix } from "../src/data/pool.js";
import { matrix, type Matrix } from "../src/linalg/matrix.js";
import { normalizeRows } from "../src/linalg/rows.js";
import { Rng } from "../src/random.js";
import { emit } from "./timing.js";

/**
 * The k-means workloads of active learning: ALFA-Mix's selection (k = 1,000 over ~6,500
 * L2-normalised 512-d candidate embeddings), a 10-class pool of 60,000 post-ReLU 256-d embeddings
 * with k = 100, and the same at 100,000 points. Points are Gaussian blobs drawn from a fixed seed.
 */
export const KMEANS_CASES = [
  { name: "candidates", n: 6500, dim: 512, k: 1000, blobs: 50, normalize: true },
  { name: "pool", n: 60000, dim: 256, k: 100, blobs: 10, normalize: false },
  { name: "pool100k", n: 100000, dim: 256, k: 100, blobs: 10, normalize: false },
];

export function kmeansBenchData(c: (typeof KMEANS_CASES)[number]): Matrix {
  const rng = new Rng(`bench-kmeans-${c.name}`);
  const centres = matrix(c.blobs, c.dim);
  for (let i = 0; i < centres.data.length; i++) centres.data[i] = rng.normal(0, 1);
  const x = matrix(c.n, c.dim);
  for (let i = 0; i < c.n; i++) {
    const b = rng.int(c.blobs);
    for (let j = 0; j < c.dim; j++) x.data[i * c.dim + j] = Math.max(0, centres.data[b * c.dim + j] + rng.normal(0, 1.5));
  }
  return c.normalize ? normalizeRows(x, x) : x;
}

const MODES = {
  exact: (x: Matrix, k: number, nInit: number) => kmeans(x, k, { rng: new Rng(0), nInit }),
  sampled: (x: Matrix, k: number, nInit: number) => kmeansSampled(x, k, { rng: new Rng(0), nInit }),
  minibatch: (x: Matrix, k: number) => kmeansMiniBatch(x, k, { rng: new Rng(0) }),
  // k-means|| and Lloyd as query --queue runs them over shards: here 8 parts, one after another.
  parallel: async (x: Matrix, k: number) => {
    const result = await kmeansParallel(localParts(x, 8).run, k, { seed: 0 });
    return { ...result, iterations: result.passes };
  },
};

/**
 * Time k-means on each case in each mode (exact Lloyd; sampled as FAISS trains, ≤ 256 points per
 * centre then one full assignment; mini-batch; k-means|| and Lloyd over parts, whose
 * "iterations" are its passes over the parts): milliseconds and inertia over every point. With
 * `from`, on the points of that .npy instead (e.g. a query's candidates). `saveDir`: also write the
 * points as .npy for bench/sklearn_kmeans.py and bench/faiss_kmeans.py.
 */
export async function benchKmeans(json: boolean, nInit: number, saveDir?: string, from?: { file: string; k: number }): Promise<void> {
  const cases = from
    ? [{ name: from.file, k: from.k, x: (await readNpyMatrix(from.file, undefined)).x }]
    : KMEANS_CASES.map((c) => ({ name: c.name, k: c.k, x: kmeansBenchData(c) }));
  for (const c of cases) {
    if (saveDir) {
      mkdirSync(saveDir, { recursive: true });
      writeFileSync(join(saveDir, `kmeans-${c.name}.npy`), encodeNpy(c.x.data, [c.x.rows, c.x.cols]));
    }
    for (const [mode, run] of Object.entries(MODES)) {
      const start = performance.now();
      const result = await run(c.x, c.k, nInit);
      const ms = performance.now() - start;
      emit(
        json,
        {
          case: c.name,
          mode,
          n: c.x.rows,
          dim: c.x.cols,
          k: c.k,
          nInit,
          ms: Math.round(ms),
          iterations: result.iterations,
          inertia: Number(result.inertia.toPrecision(6)),
        },
        `k-means ${mode.padEnd(9)} n=${c.x.rows} dim=${c.x.cols} k=${c.k}: ${ms.toFixed(0)} ms (${result.iterations} iterations, inertia ${result.inertia.toPrecision(6)})`,
      );
    }
  }
}
