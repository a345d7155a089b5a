import { test } from "node:test";
import assert from "node:assert/strict";
import { matrix, type Matrix } from "../src/linalg/matrix.js";
import { exactNeighbours, smoothDistance, umap2d } from "../src/eval/umap.js";
import { Rng } from "../src/random.js";
import { assertClose, randomMatrix } from "./helpers.js";

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
