import { test } from "node:test";
import assert from "node:assert/strict";
import { matrix, type Matrix } from "../src/linalg/matrix.js";
import { createLinear } from "../src/models/network.js";
import { Rng } from "../src/random.js";
import { ballGraph, greedyCover, purityDelta, puritySplit, reverse } from "../src/strategies/probcover.js";
import { createStrategy } from "../src/strategies/registry.js";
import { unlabeledRows, type QueryContext } from "../src/strategies/types.js";

/** Four blobs of different spreads in 3-d. */
function blobs(n: number, seed: number): Matrix {
  const rng = new Rng(seed),
    d = 3;
  const x = matrix(n, d);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    for (let j = 0; j < d; j++) x.data[i * d + j] = (j === c % d ? 3 * (1 + (c >> 1)) : 0) + rng.normal(0, 0.4 + 0.25 * c);
  }
  return x;
}

const distance = (x: Matrix, a: number, b: number) => Math.hypot(...Array.from({ length: x.cols }, (_, j) => x.data[a * x.cols + j] - x.data[b * x.cols + j]));

/** Pairs whose distance is within rounding of δ, where the GEMM and the literal sum may disagree. */
const nearEdge = (x: Matrix, delta: number, a: number, b: number) => Math.abs(distance(x, a, b) - delta) < 1e-4 * Math.max(1, delta);

test("the δ-ball graph built in blocks of rows equals the dense one and the literal distances", () => {
  const x = blobs(230, 1),
    delta = 1.1;
  const dense = ballGraph(x, delta, x.rows);
  for (const block of [1, 7, 64]) assert.deepEqual(ballGraph(x, delta, block), dense, `blocks of ${block}`);
  let edges = 0;
  for (let i = 0; i < x.rows; i++) {
    const mine = new Set(dense.to.subarray(dense.from[i], dense.from[i + 1]));
    for (let j = 0; j < x.rows; j++) {
      if (nearEdge(x, delta, i, j)) continue;
      assert.equal(mine.has(j), i === j || distance(x, i, j) < delta, `edge ${i}→${j}`);
    }
    edges += mine.size;
  }
  assert.ok(edges > 5 * x.rows && edges < x.rows * x.rows, `a graph neither empty nor complete (${edges} edges)`);
});

test("δ is the largest radius at which the purity share of balls hold one cluster, as the literal balls find", () => {
  const x = blobs(200, 2);
  const clusters = puritySplit(x, 4);
  const pureShare = (delta: number) => {
    let pure = 0;
    for (let i = 0; i < x.rows; i++) {
      let ok = true;
      for (let j = 0; j < x.rows && ok; j++) if (distance(x, i, j) < delta && clusters[j] !== clusters[i]) ok = false;
      pure += ok ? 1 : 0;
    }
    return pure / x.rows;
  };
  for (const purity of [0.95, 0.8, 0.5]) {
    const delta = purityDelta(x, clusters, purity, 13);
    assert.equal(delta, purityDelta(x, clusters, purity, x.rows), "blocks do not change δ");
    assert.ok(pureShare(delta * (1 - 1e-5)) >= purity, `purity ${purity}: δ = ${delta} keeps the share`);
    assert.ok(pureShare(delta * (1 + 1e-3)) < purity, `purity ${purity}: a larger δ loses it`);
  }
  assert.ok(purityDelta(x, clusters, 0.5) > purityDelta(x, clusters, 0.95), "purer balls are smaller");
});

/** The paper's greedy literally: recount every candidate's uncovered ball before every pick. */
function literalCover(x: Matrix, delta: number, labeled: number[], unlabeled: number[], budget: number): number[] {
  const n = x.rows;
  const ball = (i: number) => Array.from({ length: n }, (_, j) => j).filter((j) => j === i || distance(x, i, j) < delta);
  const covered = new Set<number>();
  for (const l of labeled) for (const j of ball(l)) covered.add(j);
  const open = new Set(unlabeled);
  const picks: number[] = [];
  while (picks.length < budget) {
    let best = -1,
      bestGain = 0;
    for (const i of [...open].sort((a, b) => a - b)) {
      const gain = ball(i).filter((j) => !covered.has(j)).length;
      if (gain > bestGain) [best, bestGain] = [i, gain];
    }
    if (best < 0) break;
    picks.push(best);
    open.delete(best);
    for (const j of ball(best)) covered.add(j);
  }
  return picks;
}

test("the greedy cover picks what the literal greedy picks, labelled balls covered first, until all is covered", () => {
  const x = blobs(160, 3);
  // The purity rule's δ is a distance between two rows, where rounding decides the edge; just below it, none does.
  const delta = 0.97 * purityDelta(x, puritySplit(x, 4), 0.95);
  const graph = ballGraph(x, delta, 11);
  for (const labeledCount of [0, 5, 20]) {
    const labeled = Array.from(new Rng(labeledCount).permutation(x.rows).slice(0, labeledCount));
    const isLabeled = new Uint8Array(x.rows);
    for (const r of labeled) isLabeled[r] = 1;
    const unlabeled = unlabeledRows(isLabeled);
    const ours = greedyCover(graph, reverse(graph), Int32Array.from(labeled), unlabeled, 200);
    const literal = literalCover(x, delta, labeled, Array.from(unlabeled), 200);
    assert.deepEqual(Array.from(ours.rows), literal, `${labeledCount} labelled`);
    assert.ok(ours.rows.length < 200, "it stops once every row is covered");
    assert.ok(
      ours.gains.every((g, i) => i === 0 || g <= ours.gains[i - 1]),
      "gains never grow",
    );
  }
});

test("reverse turns every edge round", () => {
  const g = { from: Int32Array.from([0, 2, 3, 3]), to: Int32Array.from([1, 2, 0]) };
  assert.deepEqual(reverse(g), { from: Int32Array.from([0, 1, 2, 3]), to: Int32Array.from([1, 0, 0]) });
});

test("probcover: distinct unlabelled picks, deterministic under the seed, with no label at all, and random once all is covered", () => {
  const x = blobs(300, 4);
  const model = createLinear(3, 4, { seed: 1 });
  const context = (labeledCount: number, seed: number): QueryContext => {
    const labeled = new Rng(9).permutation(x.rows).slice(0, labeledCount);
    const isLabeled = new Uint8Array(x.rows);
    for (const r of labeled) isLabeled[r] = 1;
    return { pool: x, labeled, labels: Int32Array.from(labeled, (r) => r % 4), unlabeled: unlabeledRows(isLabeled), model, rng: new Rng(seed) };
  };
  for (const labeledCount of [0, 12]) {
    const a = createStrategy("probcover").query(context(labeledCount, 1), 15);
    const b = createStrategy("probcover").query(context(labeledCount, 1), 15);
    assert.deepEqual(a, b, "deterministic");
    assert.equal(new Set(a.indices).size, 15);
    const labeled = new Set(context(labeledCount, 1).labeled);
    assert.ok(Array.from(a.indices).every((r) => !labeled.has(r)));
    assert.ok(a.stats!.delta > 0 && a.stats!.meanDegree > 1);
  }
  const all = createStrategy("probcover").query(context(0, 2), 290);
  assert.ok(all.stats!.filled > 0, "a budget past full coverage is filled at random");
  assert.equal(new Set(all.indices).size, 290);
});
