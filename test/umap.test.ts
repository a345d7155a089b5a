import { test } from "node:test";
import assert from "node:assert/strict";
import { matrix, type Matrix } from "../src/linalg/matrix.js";
import { curvePower, exactNeighbours, optimizeLayout, smoothDistance, umap2d, type Graph } from "../src/eval/umap.js";
import { Rng } from "../src/random.js";
import { assertClose, randomMatrix, xoshiroNext } from "./helpers.js";

const squaredDistance = (x: Matrix, i: number, j: number) => {
  let s = 0;
  for (let c = 0; c < x.cols; c++) s += (x.data[i * x.cols + c] - x.data[j * x.cols + c]) ** 2;
  return s;
};

/** Ranks of every other point by distance from i, nearest first (the literal kNN). */
const byDistance = (x: Matrix, i: number) =>
  Array.from({ length: x.rows }, (_, j) => j)
    .filter((j) => j !== i)
    .sort((a, b) => squaredDistance(x, i, a) - squaredDistance(x, i, b));

/** scikit-learn's trustworthiness: 1 − 2/(n k (2n − 3k − 1)) Σ_i Σ_{j new among i's k nearest in the map} (rank of j in the input − k). */
function trustworthiness(x: Matrix, y: Float32Array, k: number): number {
  const n = x.rows;
  const map = matrix(n, 2, y);
  let penalty = 0;
  for (let i = 0; i < n; i++) {
    const inputRank = new Map(byDistance(x, i).map((j, r) => [j, r + 1]));
    for (const j of byDistance(map, i).slice(0, k)) penalty += Math.max(0, inputRank.get(j)! - k);
  }
  return 1 - (2 / (n * k * (2 * n - 3 * k - 1))) * penalty;
}

test("the exact neighbours through the GEMM are the literal ones: itself first, then nearest first", () => {
  const x = randomMatrix(300, 12, new Rng("knn"));
  const { indices, distances } = exactNeighbours(x, 8);
  for (let i = 0; i < x.rows; i++) {
    assert.equal(indices[i * 8], i);
    assert.equal(distances[i * 8], 0);
    const literal = byDistance(x, i).slice(0, 7);
    assert.deepEqual([...indices.subarray(i * 8 + 1, i * 8 + 8)], literal, `row ${i}`);
    assertClose(
      distances.subarray(i * 8 + 1, i * 8 + 8),
      literal.map((j) => Math.sqrt(squaredDistance(x, i, j))),
      1e-4,
    );
  }
});

test("the smooth kNN distance solves UMAP's equation: Σ exp(−(d − ρ)/σ) = log2 k", () => {
  const rng = new Rng("sigma");
  for (let t = 0; t < 20; t++) {
    const row = Float32Array.from([0, ...Array.from({ length: 14 }, () => 0.5 + 3 * rng.uniform()).sort((a, b) => a - b)]);
    const { rho, sigma } = smoothDistance(row, 1);
    assert.equal(rho, row[1], "ρ is the nearest other point's distance");
    let sum = 0;
    for (let j = 1; j < row.length; j++) sum += Math.exp(-Math.max(0, row[j] - rho) / sigma);
    assertClose([sum], [Math.log2(15)], 1e-4);
  }
});

test("the layout is seeded, keeps neighbours (trustworthiness), and separates clusters", () => {
  // Three clusters in 10-d, 40 points each, far apart relative to their spread.
  const rng = new Rng("clusters");
  const x = matrix(120, 10);
  for (let i = 0; i < 120; i++) for (let c = 0; c < 10; c++) x.data[i * 10 + c] = rng.normal(c === Math.floor(i / 40) ? 8 : 0, 1);
  const layout = umap2d(x, { neighbours: 15, epochs: 200, rng: new Rng(1) });
  assert.deepEqual(umap2d(x, { neighbours: 15, epochs: 200, rng: new Rng(1) }), layout, "the same seed, the same layout");
  assert.notDeepEqual(umap2d(x, { neighbours: 15, epochs: 200, rng: new Rng(2) }), layout);
  const map = matrix(120, 2, layout);
  let same = 0;
  for (let i = 0; i < 120; i++) if (Math.floor(byDistance(map, i)[0] / 40) === Math.floor(i / 40)) same++;
  assert.equal(same, 120, "every point's nearest point on the map is of its cluster");
  const t = trustworthiness(x, layout, 5);
  assert.ok(t > 0.9, `trustworthiness ${t}`);
  // A random layout keeps far fewer neighbours: the test can fail.
  const scattered = Float32Array.from({ length: 240 }, () => rng.uniform());
  assert.ok(trustworthiness(x, scattered, 5) < t - 0.2);
});

const A = 1.5769434603113077,
  B = 0.8950608781227859;

test("the layout kernel's d^b is exp(b ln d) within 1e-9, subnormal and huge d included", () => {
  const power = curvePower();
  const rng = new Rng("power");
  const ds = [
    5e-324,
    1e-310,
    2.2250738585072014e-308,
    1,
    2,
    1.9999999999,
    1.7e308,
    ...Array.from({ length: 20000 }, () => Math.exp(1400 * rng.uniform() - 700)),
  ];
  let worst = 0;
  for (const d of ds) worst = Math.max(worst, Math.abs(power(d) - Math.exp(B * Math.log(d))) / Math.exp(B * Math.log(d)));
  assert.ok(worst < 1.1e-9, `relative error ${worst}`);
  assert.ok(worst > 0, "the tables approximate: a check that could not fail would say 0");
});

/**
 * The layout SGD written out in JavaScript (umap-learn's optimize_layout_euclidean), with a
 * xoshiro128** seeded as optimizeLayout seeds its own, and d^b from `power`.
 */
function literalLayout(graph: Graph, start: Float64Array, epochs: number, rng: Rng, power: (d: number) => number): Float64Array {
  const y = Float64Array.from(start),
    n = y.length / 2;
  const s = Uint32Array.from({ length: 4 }, () => rng.nextUint32());
  const draw = () => xoshiroNext(s);
  const clip = (v: number) => Math.min(4, Math.max(-4, v));
  const maxWeight = Math.max(...graph.weight);
  const per = Array.from(graph.weight, (w) => (w < maxWeight / epochs ? -1 : maxWeight / w));
  const next = [...per],
    perNegative = per.map((p) => p / 5),
    nextNegative = [...perNegative];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const alpha = 1 - epoch / epochs;
    for (let e = 0; e < per.length; e++) {
      if (per[e] < 0 || next[e] > epoch) continue;
      const j = graph.head[e] * 2,
        k = graph.tail[e] * 2;
      let dx = y[j] - y[k],
        dy = y[j + 1] - y[k + 1],
        d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const p = power(d2);
        const coeff = (-2 * A * B * (p / d2)) / (A * p + 1);
        const gx = clip(coeff * dx) * alpha,
          gy = clip(coeff * dy) * alpha;
        y[j] += gx;
        y[j + 1] += gy;
        y[k] -= gx;
        y[k + 1] -= gy;
      }
      next[e] += per[e];
      const negatives = Math.floor((epoch - nextNegative[e]) / perNegative[e]);
      for (let p = 0; p < negatives; p++) {
        const other = Math.floor((draw() * n) / 4294967296) * 2;
        if (other === j) continue;
        dx = y[j] - y[other];
        dy = y[j + 1] - y[other + 1];
        d2 = dx * dx + dy * dy;
        if (d2 > 0) {
          const coeff = (2 * B) / ((0.001 + d2) * (A * power(d2) + 1));
          y[j] += clip(coeff * dx) * alpha;
          y[j + 1] += clip(coeff * dy) * alpha;
        } else {
          y[j] += 4 * alpha;
          y[j + 1] += 4 * alpha;
        }
      }
      nextNegative[e] += negatives * perNegative[e];
    }
  }
  return y;
}

test("the layout kernel takes the literal SGD's steps, bit for bit (coinciding points and never-sampled edges included)", () => {
  const rng = new Rng("sgd");
  const n = 150;
  const head: number[] = [],
    tail: number[] = [],
    weight: number[] = [];
  for (let i = 0; i < n; i++)
    for (let m = 0; m < 6; m++) {
      const j = (i + 1 + Math.floor(rng.uniform() * (n - 1))) % n;
      const w = m === 5 ? 0.001 : rng.uniform(); // a light edge per point, below max/epochs: never sampled
      head.push(i, j);
      tail.push(j, i);
      weight.push(w, w);
    }
  const graph = { head: Int32Array.from(head), tail: Int32Array.from(tail), weight: Float32Array.from(weight) };
  const start = Float64Array.from({ length: 2 * n }, () => 20 * rng.uniform() - 10);
  start.set([start[0], start[1]], 2); // points 0 and 1 coincide: the repulsion's d² = 0 branch
  const epochs = 60;
  const fast = optimizeLayout(graph, start, epochs, new Rng(4));
  // With Math.exp(b·Math.log(d)) for d^b the two agree for a few epochs (4.7e-7 after 7), then part:
  // points that nearly coincide repel with a gain of 2b/0.001, which magnifies the 1e-9 difference.
  const literal = literalLayout(graph, start, epochs, new Rng(4), curvePower());
  let moved = 0;
  for (let i = 0; i < 2 * n; i++) moved = Math.max(moved, Math.abs(literal[i] - start[i]));
  assert.ok(moved > 1, "the points moved");
  assert.deepEqual(fast, Float32Array.from(literal));
});
