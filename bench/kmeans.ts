import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kmeans } from "../src/cluster/kmeans.js";
import { encodeNpy } from "../src/data/npy.js";
import { matrix, type Matrix } from "../src/linalg/matrix.js";
import { normalizeRows } from "../src/linalg/rows.js";
import { Rng } from "../src/random.js";
import { emit } from "./timing.js";

/**
 * The two k-means workloads of active learning: ALFA-Mix's selection (k = 1,000 over ~6,500
 * L2-normalised 512-d candidate embeddings) and a 10-class pool of 60,000 post-ReLU 256-d
 * embeddings with k = 100. Points are Gaussian blobs drawn from a fixed seed.
 */
export const KMEANS_CASES = [
  { name: "candidates", n: 6500, dim: 512, k: 1000, blobs: 50, normalize: true },
  { name: "pool", n: 60000, dim: 256, k: 100, blobs: 10, normalize: false },
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

/** Time k-means (nInit restarts) on each case; optionally save the data as .npy for scikit-learn. */
export function benchKmeans(json: boolean, nInit: number, saveDir?: string): void {
  for (const c of KMEANS_CASES) {
    const x = kmeansBenchData(c);
    if (saveDir) {
      mkdirSync(saveDir, { recursive: true });
      writeFileSync(join(saveDir, `kmeans-${c.name}.npy`), encodeNpy(x.data, [x.rows, x.cols]));
    }
    const start = performance.now();
    const result = kmeans(x, c.k, { rng: new Rng(0), nInit });
    const ms = performance.now() - start;
    emit(json, { n: c.n, dim: c.dim, k: c.k, nInit, ms: Math.round(ms), iterations: result.iterations, inertia: Number(result.inertia.toPrecision(6)) },
      `k-means n=${c.n} dim=${c.dim} k=${c.k} nInit=${nInit}: ${ms.toFixed(0)} ms (${result.iterations} iterations, inertia ${result.inertia.toPrecision(6)})`);
  }
}
