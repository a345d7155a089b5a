import { test } from "node:test";
import assert from "node:assert/strict";
import { nearestToCentres } from "../src/cluster/kmeans-scale.js";
import { gatherRows, matrix, type Matrix } from "../src/linalg/matrix.js";
import { createLinear } from "../src/models/network.js";
import { Rng } from "../src/random.js";
import { clusterCount, poolCentres } from "../src/strategies/cluster-margin.js";
import { dropoutDisagreements } from "../src/strategies/dropquery.js";
import { createStrategy } from "../src/strategies/registry.js";
import { fillAtRandom, unlabeledRows, type QueryContext } from "../src/strategies/types.js";

/** 3 overlapping classes in 4-d with a linear head trained on 24 labelled rows. */
function scenario(n: number, seed: number): QueryContext {
  const rng = new Rng(seed),
    d = 4;
  const x = matrix(n, d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x.data[i * d + j] = (j === i % 3 ? 1.2 : 0) + rng.normal(0, 0.7);
  const labeled = rng.permutation(n).slice(0, 24);
  const isLabeled = new Uint8Array(n);
  for (const r of labeled) isLabeled[r] = 1;
  const labels = labeled.map((r) => r % 3);
  const model = createLinear(d, 3, { seed });
  model.fit(gatherRows(x, labeled), labels, { epochs: 60 });
  return { pool: x, labeled, labels, unlabeled: unlabeledRows(isLabeled), model, rng: new Rng(seed).child("query") };
}

/** argmax of W z + b, by hand. */
function predict(W: Matrix, b: Float32Array, z: ArrayLike<number>): number {
  let best = -1,
    bestLogit = -Infinity;
  for (let k = 0; k < W.rows; k++) {
    let logit = b[k];
    for (let j = 0; j < W.cols; j++) logit += W.data[k * W.cols + j] * z[j];
    if (logit > bestLogit) [best, bestLogit] = [k, logit];
  }
  return best;
}

test("dropout disagreements equal the literal passes: the same masks, by hand through the head", () => {
  const context = scenario(300, 1);
  const { W, b } = context.model.head();
  const p = { passes: 3, rate: 0.75 };
  const counts = dropoutDisagreements(context.model, context.pool, context.unlabeled, p, new Rng(5));
  const rng = new Rng(5),
    d = context.pool.cols;
  const literal = new Int32Array(context.unlabeled.length);
  const masks = Array.from({ length: p.passes }, () => Array.from({ length: context.unlabeled.length * d }, () => rng.uniform() >= p.rate));
  context.unlabeled.forEach((row, i) => {
    const z = Array.from(context.pool.data.subarray(row * d, (row + 1) * d));
    const clean = predict(W, b, z);
    for (const mask of masks)
      if (
        predict(
          W,
          b,
          z.map((v, j) => (mask[i * d + j] ? v / (1 - p.rate) : 0)),
        ) !== clean
      )
        literal[i]++;
  });
  assert.deepEqual(counts, literal);
  assert.ok(literal.some((c) => c >= 2) && literal.some((c) => c === 0), "some rows are stable, some are not");
});

test("dropquery: candidates change in most passes; the batch is the candidate nearest each k-means centre", () => {
  const context = scenario(400, 2);
  const result = createStrategy("dropquery").query(scenario(400, 2), 10);
  const rng = new Rng(2).child("query");
  const counts = dropoutDisagreements(context.model, context.pool, context.unlabeled, { passes: 3, rate: 0.75 }, rng.child("dropquery/masks"));
  const candidates = Array.from(context.unlabeled).filter((_, i) => counts[i] >= 2);
  assert.equal(result.stats!.candidates, candidates.length);
  assert.ok(candidates.length > 10, `more candidates (${candidates.length}) than the budget`);
  const { rows } = nearestToCentres("sampled", gatherRows(context.pool, candidates), 10, { rng: rng.child("dropquery/kmeans") });
  const expected = fillAtRandom(
    rows.map((m) => candidates[m]),
    context.unlabeled,
    10,
    rng,
  ).indices;
  assert.deepEqual(Array.from(result.indices), Array.from(expected));
  assert.ok(Array.from(result.scores!).every((s) => s >= 2 / 3 || Number.isNaN(s)));
  assert.deepEqual(createStrategy("dropquery").query(scenario(400, 2), 10), result, "deterministic under the seed");
  assert.throws(() => createStrategy("dropquery[rate=1]"), /dropquery: rate expects a number in \(0, 1\)/);
});

test("cluster-margin: the lowest-margin candidates, round-robin over the pool's clusters, smallest group first", () => {
  const context = scenario(500, 3);
  const budget = 12,
    multiple = 4;
  const result = createStrategy(`cluster-margin[candidates=${multiple}]`).query(scenario(500, 3), budget);
  // Literally: margins by hand, the 48 lowest (ties: lower row), each to its nearest centre by hand.
  const probs = context.model.predictProbs(context.pool);
  const margin = (r: number) => {
    const p = Array.from(probs.data.subarray(r * 3, r * 3 + 3)).sort((a, b) => b - a);
    return p[0] - p[1];
  };
  const candidates = Array.from(context.unlabeled)
    .sort((a, b) => margin(a) - margin(b) || a - b)
    .slice(0, budget * multiple);
  const k = clusterCount(500, 0);
  assert.equal(k, 22);
  const centres = poolCentres((rows) => gatherRows(context.pool, rows), 500, k);
  const nearest = (r: number) => {
    let best = -1,
      bestD = Infinity;
    for (let c = 0; c < k; c++) {
      let dd = 0;
      for (let j = 0; j < 4; j++) dd += (context.pool.data[r * 4 + j] - centres.data[c * 4 + j]) ** 2;
      if (dd < bestD) [best, bestD] = [c, dd];
    }
    return best;
  };
  const groups = new Map<number, number[]>();
  candidates.forEach((r, i) => groups.set(nearest(r), [...(groups.get(nearest(r)) ?? []), i]));
  const order = [...groups.keys()].sort((a, b) => groups.get(a)!.length - groups.get(b)!.length || a - b);
  const shuffle = new Rng(3).child("query").child("cluster-margin/order");
  const queues = order.map((c) => Array.from(shuffle.permutation(groups.get(c)!.length), (i) => groups.get(c)![i]));
  const picks: number[] = [];
  for (let turn = 0; picks.length < budget; turn++) for (const q of queues) if (picks.length < budget && turn < q.length) picks.push(candidates[q[turn]]);
  assert.deepEqual(Array.from(result.indices), picks);
  assert.equal(result.stats!.groups, groups.size);
  assert.ok(groups.size > 3, "the candidates span several clusters");
  // The first turn takes one item of each of the smallest groups: never two of one cluster before every group has one.
  const firstTurn = picks.slice(0, Math.min(budget, groups.size)).map(nearest);
  assert.equal(new Set(firstTurn).size, firstTurn.length);
});
