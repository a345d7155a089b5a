import { test } from "node:test";
import assert from "node:assert/strict";
import { kmeansByMode, kmeansSampled } from "../src/cluster/kmeans-scale.js";
import { gatherRows, matrix, type Matrix } from "../src/linalg/matrix.js";
import { normalizeRows } from "../src/linalg/rows.js";
import { chooseFromSearch } from "../src/strategies/alfamix.js";
import { createLinear } from "../src/models/network.js";
import { Rng } from "../src/random.js";
import { createStrategy } from "../src/strategies/registry.js";
import { clusterTypicality, typicalPicks } from "../src/strategies/typiclust.js";
import { unlabeledRows, type QueryContext } from "../src/strategies/types.js";

/** Blobs of different spreads, so that typicality differs inside every cluster. */
function blobs(n: number, d: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const x = matrix(n, d);
  for (let i = 0; i < n; i++) {
    const c = i % 5;
    for (let j = 0; j < d; j++) x.data[i * d + j] = (j === c % d ? 4 * c : 0) + rng.normal(0, 0.3 + 0.2 * c);
  }
  return x;
}

/** The paper's typicality, literally: every pair's distance by hand, sorted. */
function literalTypicality(x: Matrix, members: number[], neighbours: number): number[] {
  const K = Math.min(neighbours, members.length - 1);
  return members.map((a) => {
    const distances = members
      .filter((b) => b !== a)
      .map((b) => Math.hypot(...Array.from({ length: x.cols }, (_, j) => x.data[a * x.cols + j] - x.data[b * x.cols + j])))
      .sort((u, v) => u - v);
    return K <= 0 ? 0 : K / distances.slice(0, K).reduce((s, v) => s + v, 0);
  });
}

/** TPC-RP literally: re-sort the clusters before every pick, take the most typical unlabelled member. */
function literalPicks(x: Matrix, labels: Int32Array, k: number, labeled: number[], budget: number, neighbours: number, minSize: number): number[] {
  const members = Array.from({ length: k }, (_, c) => Array.from(labels.keys()).filter((i) => labels[i] === c));
  const taken = new Set(labeled);
  const picks: number[] = [];
  for (let p = 0; p < budget; p++) {
    const open = members
      .map((m, c) => ({ c, size: m.length, count: m.filter((i) => taken.has(i)).length, free: m.some((i) => !taken.has(i)) }))
      .filter((e) => e.free);
    if (open.length === 0) break;
    const big = open.filter((e) => e.size >= minSize);
    const pool = big.length ? big : open;
    pool.sort((a, b) => a.count - b.count || b.size - a.size || a.c - b.c);
    const c = pool[0].c;
    const t = literalTypicality(x, members[c], neighbours);
    let best = -1;
    members[c].forEach((i, m) => {
      if (!taken.has(i) && (best < 0 || t[m] > t[best])) best = m;
    });
    picks.push(members[c][best]);
    taken.add(members[c][best]);
  }
  return picks;
}

test("typicality through the GEMM in blocks equals the literal pairwise one", () => {
  const x = blobs(120, 4, 3);
  const fast = clusterTypicality(x, 7);
  const literal = literalTypicality(
    x,
    Array.from({ length: 120 }, (_, i) => i),
    7,
  );
  fast.forEach((v, i) => assert.ok(Math.abs(v - literal[i]) <= 1e-4 * literal[i], `row ${i}: ${v} against ${literal[i]}`));
  assert.deepEqual(Array.from(clusterTypicality(matrix(1, 4), 20)), [0], "a lone row");
});

test("TypiClust's picks equal the literal TPC-RP on small blobs, with and without labels", () => {
  for (const [seed, labeledCount, budget, minSize] of [
    [1, 0, 12, 5],
    [2, 10, 15, 5],
    [3, 25, 30, 12],
  ]) {
    const x = blobs(200, 5, seed);
    const labeled = new Rng(seed).permutation(200).slice(0, labeledCount);
    const k = labeledCount + budget;
    const { labels } = kmeansSampled(x, k, { rng: new Rng(seed) });
    const fast = typicalPicks(x, labels, k, labeled, budget, { neighbours: 20, minSize });
    assert.deepEqual(Array.from(fast.rows), literalPicks(x, labels, k, Array.from(labeled), budget, 20, minSize), `seed ${seed}`);
  }
});

test("typiclust as a strategy: distinct unlabelled picks, typicality scores, deterministic under the seed, and no model needed", () => {
  const x = blobs(300, 5, 9);
  const labeled = Int32Array.from([0, 1, 2, 3, 4]);
  const isLabeled = new Uint8Array(300);
  for (const r of labeled) isLabeled[r] = 1;
  const context = (): QueryContext => ({
    pool: x,
    labeled,
    labels: Int32Array.from([0, 1, 2, 3, 4]),
    unlabeled: unlabeledRows(isLabeled),
    model: createLinear(5, 5, { seed: 1 }), // untrained: typiclust never reads it
    rng: new Rng(4),
  });
  const strategy = createStrategy("typiclust");
  const first = strategy.query(context(), 20);
  assert.equal(new Set(first.indices).size, 20);
  assert.ok(Array.from(first.indices).every((r) => !isLabeled[r]));
  assert.ok(Array.from(first.scores!).every((s) => s > 0));
  assert.deepEqual(first.stats, { clusters: 25, filled: 0 });
  assert.deepEqual(Array.from(strategy.query(context(), 20).indices), Array.from(first.indices), "the same seed, the same picks");
  // Every blob gets picks: 20 picks over 5 blobs of 60 leave none out.
  const blobsHit = new Set(Array.from(first.indices, (r) => r % 5));
  assert.equal(blobsHit.size, 5);
});

test("alfamix[select=typical] takes, from each k-means cluster of the candidates, the candidate most typical among all candidates", () => {
  const x = blobs(120, 4, 11);
  const unlabeled = Int32Array.from({ length: 100 }, (_, i) => i + 20);
  // Every third unlabelled item flips at the first cap: 34 candidates for a budget of 6.
  const firstCap = Uint8Array.from(unlabeled, (_, p) => (p % 3 === 0 ? 1 : 0));
  const search = { caps: [0.2, 0.4, 0.6, 0.8, 1], firstCap, capsEvaluated: 5 };
  const rowsOf = (rows: ArrayLike<number>) => gatherRows(x, rows);
  const inputs = { unlabeled, labeled: Int32Array.from({ length: 20 }, (_, i) => i), budget: 6, rowsOf, nInit: 1, kmeans: "sampled" as const };
  const chosen = chooseFromSearch(search, { ...inputs, rng: new Rng(5), select: "typical" });

  const candidates = Array.from(firstCap.keys()).filter((p) => firstCap[p] === 1);
  const points = normalizeRows(rowsOf(candidates.map((p) => unlabeled[p])));
  const { labels } = kmeansByMode("sampled", points, 6, { rng: new Rng(5), nInit: 1 });
  const all = Array.from(candidates.keys());
  const t = literalTypicality(points, all, 20);
  const expected = Array.from({ length: 6 }, (_, c) => all.filter((m) => labels[m] === c))
    .filter((members) => members.length > 0)
    .map((members) => members.reduce((best, m) => (t[m] > t[best] ? m : best)))
    .map((m) => unlabeled[candidates[m]]);
  assert.deepEqual(Array.from(chosen.indices), expected);
  assert.equal(chosen.stats.candidates, 34);
  // It differs from the default's nearest-to-centre picks here, so the test can tell them apart.
  const nearest = chooseFromSearch(search, { ...inputs, rng: new Rng(5), select: "kmeans" });
  assert.notDeepEqual(Array.from(nearest.indices), expected);
});
