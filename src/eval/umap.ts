import { matmul } from "../linalg/gemm.js";
import { matrix, rowSlice, type Matrix } from "../linalg/matrix.js";
import { rowSquaredNorms } from "../linalg/rows.js";
import type { Rng } from "../random.js";
import { instantiateKernel } from "../wasm.js";

/**
 * UMAP (McInnes, Healy and Melville 2018) to two dimensions, as umap-learn computes it, over typed
 * arrays: the exact k nearest neighbours through the GEMM (a few thousand points are one product,
 * where NN-descent in JavaScript took seconds), the fuzzy simplicial set (smooth kNN distances, then
 * the fuzzy union of both directions), and the SGD of the layout with negative sampling (umap.wat), from the
 * data's first two principal axes.
 */
export interface UmapOptions {
  /** Neighbours per point, the point itself included (umap-learn's n_neighbors). */
  neighbours: number;
  epochs: number;
  rng: Rng;
}

/** umap-learn's b for min_dist 0.1, spread 1 (find_ab_params); umap.wat holds a and b too. */
const B = 0.8950608781227859;
const NEGATIVE_SAMPLE_RATE = 5;
const BLOCK = 1024;

/** x, y per row of `x` (interleaved). */
export function umap2d(x: Matrix, options: UmapOptions): Float32Array {
  const n = x.rows;
  const k = Math.min(options.neighbours, n);
  const { indices, distances } = exactNeighbours(x, k);
  const graph = fuzzySimplicialSet(indices, distances, n, k);
  return optimizeLayout(graph, principalStart(x, options.rng), options.epochs, options.rng);
}

/**
 * The layout's start: the data on its first two principal axes (subspace iteration on the
 * covariance, through the GEMM), scaled to [−10, 10] as umap-learn scales its spectral start, with
 * a little noise so no two points coincide. From there the SGD needs about half the epochs a
 * random start needs for the same trustworthiness.
 */
export function principalStart(x: Matrix, rng: Rng): Float64Array {
  const n = x.rows,
    d = x.cols;
  const centred = matrix(n, d);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) mean[c] += x.data[i * d + c] / n;
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) centred.data[i * d + c] = x.data[i * d + c] - mean[c];
  const covariance = matmul(centred, centred, { transA: true });
  let basis = matrix(d, 2);
  for (let i = 0; i < basis.data.length; i++) basis.data[i] = rng.normal();
  for (let step = 0; step < 60; step++) {
    basis = matmul(covariance, basis);
    orthonormalizeColumns(basis);
  }
  const projected = matmul(centred, basis);
  let largest = 0;
  for (const v of projected.data) largest = Math.max(largest, Math.abs(v));
  const y = new Float64Array(n * 2);
  for (let i = 0; i < y.length; i++) y[i] = (largest > 0 ? (10 * projected.data[i]) / largest : 0) + rng.normal(0, 1e-4);
  return y;
}

/** Gram–Schmidt on the two columns of a d×2 matrix. */
function orthonormalizeColumns(m: Matrix): void {
  const d = m.rows;
  const column = (c: number) => Array.from({ length: d }, (_, r) => m.data[r * 2 + c]);
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, a) => s + a * a, 0)) || 1;
  const first = column(0);
  const n0 = norm(first);
  for (let r = 0; r < d; r++) m.data[r * 2] = first[r] / n0;
  const second = column(1);
  let dot = 0;
  for (let r = 0; r < d; r++) dot += second[r] * m.data[r * 2];
  for (let r = 0; r < d; r++) second[r] -= dot * m.data[r * 2];
  const n1 = norm(second);
  for (let r = 0; r < d; r++) m.data[r * 2 + 1] = second[r] / n1;
}

/**
 * Each row's k nearest rows (itself first, at distance 0), nearest first: squared distances
 * ‖a‖² + ‖b‖² − 2a·b from one GEMM per block of rows, then a partial insertion sort per row.
 */
export function exactNeighbours(x: Matrix, k: number): { indices: Int32Array; distances: Float32Array } {
  const n = x.rows;
  const norms = rowSquaredNorms(x);
  const indices = new Int32Array(n * k),
    distances = new Float32Array(n * k);
  const bestD = new Float64Array(k),
    bestI = new Int32Array(k);
  for (let start = 0; start < n; start += BLOCK) {
    const end = Math.min(n, start + BLOCK);
    const dots = matmul(rowSlice(x, start, end), x, { transB: true });
    for (let i = start; i < end; i++) {
      let filled = 0;
      const row = (i - start) * n;
      for (let j = 0; j < n; j++) {
        // The point itself is at 0 exactly (the product's rounding may say otherwise).
        const d = j === i ? -1 : Math.max(0, norms[i] + norms[j] - 2 * dots.data[row + j]);
        if (filled === k && d >= bestD[k - 1]) continue;
        let at = filled < k ? filled++ : k - 1;
        while (at > 0 && bestD[at - 1] > d) {
          bestD[at] = bestD[at - 1];
          bestI[at] = bestI[at - 1];
          at--;
        }
        bestD[at] = d;
        bestI[at] = j;
      }
      for (let m = 0; m < k; m++) {
        indices[i * k + m] = bestI[m];
        distances[i * k + m] = bestD[m] < 0 ? 0 : Math.sqrt(bestD[m]);
      }
    }
  }
  return { indices, distances };
}

/**
 * umap-learn's smooth_knn_dist for one row: ρ is the distance to the nearest other point, and σ
 * solves Σ_{j≥1} exp(−max(0, d_j − ρ)/σ) = log2(k) by bisection (64 steps), kept above 1e-3 of
 * the mean distance.
 */
export function smoothDistance(row: Float32Array, meanOfAll: number): { rho: number; sigma: number } {
  const k = row.length,
    target = Math.log2(k);
  let rho = 0;
  for (let j = 0; j < k; j++)
    if (row[j] > 0) {
      rho = row[j];
      break;
    }
  let lo = 0,
    hi = Infinity,
    mid = 1;
  for (let step = 0; step < 64; step++) {
    let sum = 0;
    for (let j = 1; j < k; j++) {
      const d = row[j] - rho;
      sum += d > 0 ? Math.exp(-d / mid) : 1;
    }
    if (Math.abs(sum - target) < 1e-5) break;
    if (sum > target) {
      hi = mid;
      mid = (lo + hi) / 2;
    } else {
      lo = mid;
      mid = hi === Infinity ? mid * 2 : (lo + hi) / 2;
    }
  }
  let mean = 0;
  for (let j = 0; j < k; j++) mean += row[j];
  mean /= k;
  const floor = 1e-3 * (rho > 0 ? mean : meanOfAll);
  return { rho, sigma: Math.max(mid, floor) };
}

/** The fuzzy graph's edges, each pair in both directions. */
export interface Graph {
  head: Int32Array;
  tail: Int32Array;
  weight: Float32Array;
}

/** The membership strengths exp(−(d − ρ)/σ), made symmetric by the fuzzy union w + wᵀ − w∘wᵀ; each pair in both directions. */
function fuzzySimplicialSet(indices: Int32Array, distances: Float32Array, n: number, k: number): Graph {
  let meanOfAll = 0;
  for (let i = 0; i < distances.length; i++) meanOfAll += distances[i];
  meanOfAll /= distances.length;
  const strength = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const row = distances.subarray(i * k, (i + 1) * k);
    const { rho, sigma } = smoothDistance(row, meanOfAll);
    for (let m = 0; m < k; m++) {
      const j = indices[i * k + m];
      if (j === i) continue;
      const w = row[m] - rho <= 0 ? 1 : Math.exp(-(row[m] - rho) / sigma);
      strength.set(i * n + j, w);
    }
  }
  const head: number[] = [],
    tail: number[] = [],
    weight: number[] = [];
  for (const [key, w] of strength) {
    const i = Math.floor(key / n),
      j = key % n;
    const back = strength.get(j * n + i) ?? 0;
    const union = w + back - w * back;
    head.push(i);
    tail.push(j);
    weight.push(union);
    // A one-way edge gets its reverse here; a two-way edge gets it from the other side.
    if (!strength.has(j * n + i)) {
      head.push(j);
      tail.push(i);
      weight.push(union);
    }
  }
  return { head: Int32Array.from(head), tail: Int32Array.from(tail), weight: Float32Array.from(weight) };
}

/** Bytes of umap.wat's tables for d²ᵇ at the start of its memory. */
const POWER_TABLES = 20480;

/** 2^((e − 1023)·B) for each biased exponent e, then (1 + i/256)^B and 2⁻⁵² / (1 + i/256) for i < 256 (see umap.wat). */
function fillPowerTables(memory: WebAssembly.Memory): void {
  const tables = new Float64Array(memory.buffer, 0, POWER_TABLES / 8);
  for (let e = 0; e < 2048; e++) tables[e] = 2 ** ((e - 1023) * B);
  for (let i = 0; i < 256; i++) {
    tables[2048 + i] = (1 + i / 256) ** B;
    tables[2304 + i] = 2 ** -52 / (1 + i / 256);
  }
}

/** d ↦ d^B as umap.wat computes it, for checking against exp(B·ln d). */
export function curvePower(): (d: number) => number {
  const { exports, memory } = instantiateKernel("eval/umap", POWER_TABLES);
  fillPowerTables(memory);
  return exports.power as (d: number) => number;
}

type OptimizeKernel = (
  y: number,
  n: number,
  head: number,
  tail: number,
  per: number,
  next: number,
  perNegative: number,
  nextNegative: number,
  edges: number,
  epoch: number,
  epochs: number,
  state: number,
) => void;

/**
 * umap-learn's optimize_layout_euclidean (umap.wat runs it): each edge is sampled every max(w)/w
 * epochs (edges below max(w)/epochs never), pulls its ends together along the curve
 * 1/(1 + a·d^(2b)), and pushes its head from NEGATIVE_SAMPLE_RATE random points per sample; the
 * step falls linearly to 0. The negative samples come from a xoshiro128** generator seeded from `rng`.
 */
export function optimizeLayout(graph: Graph, y: Float64Array, epochs: number, rng: Rng): Float32Array {
  const n = y.length / 2;
  let maxWeight = 0;
  for (const w of graph.weight) maxWeight = Math.max(maxWeight, w);
  const sampled: number[] = [];
  for (let e = 0; e < graph.weight.length; e++) if (graph.weight[e] >= maxWeight / epochs) sampled.push(e);
  const edges = sampled.length;
  // umap.wat's power tables, y, then four f64 and two i32 arrays per edge, then the generator's state.
  const at = [POWER_TABLES, POWER_TABLES + 16 * n];
  for (let a = 0; a < 4; a++) at.push(at[at.length - 1] + 8 * edges);
  at.push(at[5] + 4 * edges, at[5] + 8 * edges);
  const { exports, memory } = instantiateKernel("eval/umap", at[7] + 16);
  const f64 = (a: number, length: number) => new Float64Array(memory.buffer, at[a], length);
  const i32 = (a: number, length: number) => new Int32Array(memory.buffer, at[a], length);
  const layout = f64(0, 2 * n),
    perSample = f64(1, edges),
    nextSample = f64(2, edges),
    perNegative = f64(3, edges),
    nextNegative = f64(4, edges),
    head = i32(5, edges),
    tail = i32(6, edges),
    state = i32(7, 4);
  fillPowerTables(memory);
  layout.set(y);
  sampled.forEach((e, s) => {
    perSample[s] = nextSample[s] = maxWeight / graph.weight[e];
    perNegative[s] = nextNegative[s] = perSample[s] / NEGATIVE_SAMPLE_RATE;
    head[s] = graph.head[e];
    tail[s] = graph.tail[e];
  });
  for (let w = 0; w < 4; w++) state[w] = rng.nextUint32();
  if (!state.some((w) => w !== 0)) state[0] = 1; // xoshiro's one forbidden state
  const optimize = exports.optimize as OptimizeKernel;
  for (let epoch = 0; epoch < epochs; epoch++) optimize(at[0], n, at[5], at[6], at[1], at[2], at[3], at[4], edges, epoch, epochs, at[7]);
  return Float32Array.from(layout);
}
