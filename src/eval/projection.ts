import { matrix, type Matrix } from "../linalg/matrix.js";
import type { Rng } from "../random.js";
import { umap2d } from "./umap.js";

/** Pool items a map projects besides those it must show (a stratified sample of the rest). */
export const MAP_SAMPLE = 2000;

/** A 2-D picture of a pool: which items it holds and where they sit. */
export interface Projection {
  /** Pool indices of the projected items. */
  indices: Int32Array;
  /** x, y per projected item (interleaved), scaled to [0, 1]. */
  xy: Float32Array;
  /** Items in the pool, for the note on the figure when not all are shown. */
  poolSize: number;
}

/**
 * SGD epochs of the maps' layout. From the principal-axes start, 100 keep neighbours as well as
 * umap-js's 200 from a random start (trustworthiness by scikit-learn, `alfamix bench umap`).
 */
export const MAP_UMAP_EPOCHS = 100;

/**
 * UMAP (umap2d, seeded by `rng`) of `must` (the labelled and picked items, always shown) and a
 * class-stratified sample of at most MAP_SAMPLE other items. Stratified so that every class keeps
 * its share; the sample keeps the layout readable.
 */
export function projectForMap(embeddings: Matrix, classes: Int32Array, must: Iterable<number>, rng: Rng, sampleSize = MAP_SAMPLE): Projection {
  const required = new Set(must);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < embeddings.rows; i++) {
    if (required.has(i)) continue;
    const list = byClass.get(classes[i]) ?? [];
    list.push(i);
    byClass.set(classes[i], list);
  }
  const others = [...byClass.values()].reduce((n, l) => n + l.length, 0);
  const chosen: number[] = [...required];
  for (const k of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(k)!;
    const take = others <= sampleSize ? members.length : Math.round((sampleSize * members.length) / others);
    chosen.push(...rng.child(`class/${k}`).choice(Int32Array.from(members), Math.min(take, members.length)));
  }
  const indices = Int32Array.from(chosen).sort();
  const d = embeddings.cols;
  const rows = matrix(indices.length, d);
  indices.forEach((i, r) => rows.data.set(embeddings.data.subarray(i * d, (i + 1) * d), r * d));
  const layout =
    indices.length > 2
      ? umap2d(rows, { neighbours: 15, epochs: MAP_UMAP_EPOCHS, rng: rng.child("umap") })
      : Float32Array.from({ length: indices.length * 2 }, (_, v) => (v % 2 ? 0 : v / 2));
  const points = Array.from({ length: indices.length }, (_, i) => [layout[i * 2], layout[i * 2 + 1]]);
  // Scaled to the unit square, so a renderer needs no range.
  const xy = new Float32Array(indices.length * 2);
  for (const axis of [0, 1]) {
    let lo = Infinity,
      hi = -Infinity;
    for (const p of points) {
      lo = Math.min(lo, p[axis]);
      hi = Math.max(hi, p[axis]);
    }
    points.forEach((p, i) => (xy[i * 2 + axis] = hi > lo ? (p[axis] - lo) / (hi - lo) : 0.5));
  }
  return { indices, xy, poolSize: embeddings.rows };
}
