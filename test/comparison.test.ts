import { test } from "node:test";
import assert from "node:assert/strict";
import { UserError } from "../src/errors.js";
import { fromRows, matrix } from "../src/linalg/matrix.js";
import { normalizeRows } from "../src/linalg/rows.js";
import { createMLP, linearFromWeights } from "../src/models/network.js";
import { Rng } from "../src/random.js";
import { distributionSymmetricKL, kCenterSymmetricKL } from "../src/strategies/cdal.js";
import { LowRankAdjacency, trainCoreGcn } from "../src/strategies/coregcn.js";
import { deepFoolSquaredNorms } from "../src/strategies/dfal.js";
import { createStrategy } from "../src/strategies/registry.js";
import { parseStrategyEntry, splitStrategyList } from "../src/strategies/variants.js";
import { assertClose, kernelGenerators, randomMatrix } from "./helpers.js";

test("the logit Jacobian of an MLP matches central differences", () => {
  const rng = new Rng(3);
  const model = createMLP(5, 3, { hidden: [7, 4], seed: 2 });
  const x = randomMatrix(2, 5, rng);
  const J = model.logitJacobian(x);
  assert.deepEqual([J.rows, J.cols], [6, 5]);
  const h = 1e-3;
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 5; j++) {
      const plus = matrix(1, 5, x.data.slice(i * 5, i * 5 + 5)),
        minus = matrix(1, 5, x.data.slice(i * 5, i * 5 + 5));
      plus.data[j] += h;
      minus.data[j] -= h;
      const fp = model.headLogits(model.embed(plus)).data,
        fm = model.headLogits(model.embed(minus)).data;
      for (let k = 0; k < 3; k++) assertClose([J.data[(i * 3 + k) * 5 + j]], [(fp[k] - fm[k]) / (2 * h)], 2e-3, `∂f${k}/∂x${j} of row ${i}`);
    }
});

test("DFAL on a linear model: one DeepFool step lands just past the closest boundary (not the last class's)", () => {
  // f = (x₀, 1.5, x₁) at x = (2, 1): f = (2, 1.5, 1), ŷ = 0. Class 1 is 0.5 away along (−1, 0);
  // class 2 is 1/√2 away along (−1, 1). The step is (0.5 + 1e-4)·(−1, 0), and the item flips to class 1.
  const model = linearFromWeights(
    fromRows([
      [1, 0],
      [0, 0],
      [0, 1],
    ]),
    Float32Array.from([0, 1.5, 0]),
  );
  const result = deepFoolSquaredNorms(model, fromRows([[2, 1]]), 50);
  assert.deepEqual([result.steps[0], result.flipped[0]], [1, 1]);
  assertClose([result.squaredNorm[0]], [0.5001 ** 2], 1e-6);
});

test("DFAL: the batched DeepFool equals DeepFool run on each item alone", () => {
  const rng = new Rng(11);
  const model = createMLP(6, 4, { hidden: [12], seed: 5 });
  const x = randomMatrix(300, 6, rng, 2); // more items than a step's gradients take at once (256)
  const batched = deepFoolSquaredNorms(model, x, 50);
  for (let i = 0; i < x.rows; i++) {
    const alone = deepFoolSquaredNorms(model, matrix(1, 6, x.data.slice(i * 6, i * 6 + 6)), 50);
    assert.equal(alone.steps[0], batched.steps[i], `steps of item ${i}`);
    assertClose([alone.squaredNorm[0]], [batched.squaredNorm[i]], 1e-5, `‖η‖² of item ${i}`);
  }
  assert.ok(
    batched.flipped.every((f) => f === 1),
    "every item flips within 50 steps",
  );
});

test("DFAL: the factored DeepFool (Gram matrix at the first layer) follows the literal one (full Jacobian)", () => {
  const rng = new Rng(12);
  for (const model of [createMLP(6, 4, { hidden: [16, 8], seed: 7 }), createMLP(6, 4, { hidden: [], seed: 7 })]) {
    const x = randomMatrix(600, 6, rng, 2); // more items than a step's gradients take at once (256)
    const factored = deepFoolSquaredNorms(model, x, 50),
      literal = deepFoolSquaredNorms(model, x, 50, true);
    assert.deepEqual(Array.from(factored.steps), Array.from(literal.steps), `${model.kind}: steps`);
    assert.deepEqual(Array.from(factored.flipped), Array.from(literal.flipped), `${model.kind}: flipped`);
    assertClose(factored.squaredNorm, literal.squaredNorm, 1e-4, `${model.kind}: ‖η‖²`);
    const order = (v: Float64Array) =>
      Array.from(v.keys())
        .sort((a, b) => v[a] - v[b])
        .slice(0, 20);
    assert.deepEqual(order(factored.squaredNorm), order(literal.squaredNorm), `${model.kind}: the 20 closest`);
  }
});

test("CDAL: symmetric KL by hand, and the k-center order under it", () => {
  // (0.5 − 0.9)(ln 0.5 − ln 0.9) + (0.5 − 0.1)(ln 0.5 − ln 0.1)
  assertClose([distributionSymmetricKL([0.5, 0.5], [0.9, 0.1])], [0.4 * Math.log(0.9 / 0.5) + 0.4 * Math.log(0.5 / 0.1)], 1e-12);
  assert.equal(distributionSymmetricKL([0.3, 0.7], [0.3, 0.7]), 0);
  // Centre (0.9, 0.1). Distances to it: 0.165, 0.879, 2.508, 3.516, so (0.1, 0.9) goes first; then
  // (0.5, 0.5) (0.879 from the nearer centre); then (0.75, 0.25) at 0.165 beats (0.2, 0.8), 0.081 from (0.1, 0.9).
  const points = fromRows([
    [0.75, 0.25],
    [0.5, 0.5],
    [0.2, 0.8],
    [0.1, 0.9],
  ]);
  const picks = kCenterSymmetricKL(points, fromRows([[0.9, 0.1]]), 3);
  assert.deepEqual(Array.from(picks.indices), [3, 1, 0]);
  assertClose([picks.distances[0]], [distributionSymmetricKL([0.1, 0.9], [0.9, 0.1])], 1e-5);
});

test("CoreGCN: the adjacency by hand on 4 points, applied without forming it; training lowers the loss, deterministically", () => {
  // F rows (unit): a = (1, 0), b = (0, 1), c = (1, 0), d = (0.6, 0.8). FFᵀ − I has zero diagonal;
  // column sums: a: 0 + 1 + 0.6 = 1.6, b: 0 + 0 + 0.8 = 0.8, c: 1 + 0 + 0.6 = 1.6, d: 0.6 + 0.8 + 0.6 = 2.
  const F = fromRows([
    [1, 0],
    [0, 1],
    [1, 0],
    [0.6, 0.8],
  ]);
  const A = new LowRankAdjacency(F);
  const expected = [
    [1, 0, 1 / 1.6, 0.6 / 2],
    [0, 1, 0, 0.8 / 2],
    [1 / 1.6, 0, 1, 0.6 / 2],
    [0.6 / 1.6, 0.8 / 0.8, 0.6 / 1.6, 1],
  ];
  assertClose(A.dense().data, expected.flat(), 1e-6, "Â");
  const Y = fromRows([
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
  ]);
  const dense = (M: number[][], T = false) =>
    Array.from({ length: 4 }, (_, i) => [0, 1].map((c) => M.reduce((s, _row, j) => s + (T ? M[j][i] : M[i][j]) * Y.data[j * 2 + c], 0))).flat();
  assertClose(A.apply(Y).data, dense(expected), 1e-5, "Â·Y");
  assertClose(A.applyTransposed(Y).data, dense(expected, true), 1e-5, "Âᵀ·Y");

  const rng = new Rng(4);
  const points = normalizeRows(randomMatrix(60, 8, rng));
  const labeled = new Uint8Array(60).fill(1, 0, 15);
  for (let i = 0; i < 15; i++) points.data[i * 8] += 1; // the labelled ones lean one way
  const adjacency = new LowRankAdjacency(normalizeRows(points));
  const first = trainCoreGcn(adjacency, labeled, { epochs: 60, lr: 1e-2, rng: new Rng(9) });
  assert.ok(first.losses[first.losses.length - 1] < first.losses[0] * 0.9, `loss ${first.losses[0]} → ${first.losses[first.losses.length - 1]}`);
  const again = trainCoreGcn(adjacency, labeled, { epochs: 60, lr: 1e-2, rng: new Rng(9) });
  assert.deepEqual(Array.from(again.features.data), Array.from(first.features.data));
  assert.deepEqual([first.features.rows, first.features.cols], [60, 128]);
});

/**
 * CoreGCN's training written out literally, in float64: the dense Â, Â·(F·W₁) and Fᵀ·(Âᵀ·δ) as the
 * paper writes them, its own Adam, and the dropout masks from the kernels' generators written out
 * with scalars (kernelGenerators).
 */
function literalCoreGcn(F: ReturnType<typeof matrix>, labeled: Uint8Array, hidden: number, epochs: number, lr: number, rng: Rng) {
  const n = F.rows,
    d = F.cols,
    dropout = 0.3,
    keep = 1 / (1 - dropout),
    lambda = 1.2,
    wd = 5e-4;
  const A = Array.from(new LowRankAdjacency(F).dense().data);
  const f = Array.from(F.data);
  const nL = labeled.reduce((a, v) => a + v, 0),
    nU = n - nL;
  const size = d * hidden + 2 * hidden + 1,
    p = new Float64Array(size);
  const init = rng.child("init");
  for (let i = 0; i < d * hidden + hidden; i++) p[i] = (2 * init.uniform() - 1) / Math.sqrt(hidden);
  for (let i = d * hidden + hidden; i < size; i++) p[i] = 2 * init.uniform() - 1;
  const W1 = (k: number, j: number) => p[k * hidden + j],
    b1 = (j: number) => p[d * hidden + j],
    W2 = (j: number) => p[d * hidden + hidden + j],
    b2 = () => p[size - 1];
  const draw = kernelGenerators(rng.child("dropout"));
  const threshold = Math.round(dropout * 4294967296);
  const mulA = (Y: number[], cols: number, T = false) =>
    Array.from({ length: n * cols }, (_, idx) => {
      const i = Math.floor(idx / cols),
        c = idx % cols;
      let s = 0;
      for (let j = 0; j < n; j++) s += (T ? A[j * n + i] : A[i * n + j]) * Y[j * cols + c];
      return s;
    });
  const m = new Float64Array(size),
    v = new Float64Array(size),
    losses: number[] = [];
  const FW1 = () =>
    Array.from({ length: n * hidden }, (_, idx) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += f[Math.floor(idx / hidden) * d + k] * W1(k, idx % hidden);
      return s;
    });
  for (let t = 1; t <= epochs; t++) {
    const Z1 = mulA(FW1(), hidden).map((z, idx) => z + b1(idx % hidden));
    const mask = Z1.map((_, e) => (draw(e) < threshold ? 0 : keep));
    const Hd = Z1.map((z, e) => Math.max(z, 0) * mask[e]);
    const z = Array.from({ length: n }, (_, i) => Hd.slice(i * hidden, (i + 1) * hidden).reduce((s, h, j) => s + h * W2(j), 0));
    const Z2 = mulA(z, 1);
    const g = new Float64Array(size);
    let loss = 0;
    const dZ2 = Z2.map((z2, i) => {
      const s = 1 / (1 + Math.exp(-(z2 + b2())));
      loss -= labeled[i] ? Math.log(s) / nL : (lambda * Math.log(1 - s)) / nU;
      return labeled[i] ? -(1 - s) / nL : (lambda * s) / nU;
    });
    losses.push(loss);
    g[size - 1] = dZ2.reduce((a, b) => a + b, 0);
    const dS2 = mulA(dZ2, 1, true);
    for (let j = 0; j < hidden; j++) for (let i = 0; i < n; i++) g[d * hidden + hidden + j] += Hd[i * hidden + j] * dS2[i];
    const dH = Z1.map((z1, e) => (z1 > 0 ? dS2[Math.floor(e / hidden)] * W2(e % hidden) * mask[e] : 0));
    for (let e = 0; e < n * hidden; e++) g[d * hidden + (e % hidden)] += dH[e];
    const AtdH = mulA(dH, hidden, true);
    for (let k = 0; k < d; k++) for (let j = 0; j < hidden; j++) for (let i = 0; i < n; i++) g[k * hidden + j] += f[i * d + k] * AtdH[i * hidden + j];
    for (let i = 0; i < size; i++) {
      const gi = g[i] + wd * p[i];
      m[i] = 0.9 * m[i] + 0.1 * gi;
      v[i] = 0.999 * v[i] + 0.001 * gi * gi;
      p[i] -= ((lr / (1 - 0.9 ** t)) * m[i]) / (Math.sqrt(v[i]) / Math.sqrt(1 - 0.999 ** t) + 1e-8);
    }
  }
  const features = mulA(FW1(), hidden).map((z, idx) => Math.max(z + b1(idx % hidden), 0));
  return { features, losses };
}

test("CoreGCN: the fused training (Â·F formed once, SIMD element-wise passes) follows the literal one", () => {
  const rng = new Rng(5);
  const points = normalizeRows(randomMatrix(40, 6, rng));
  const labeled = new Uint8Array(40).fill(1, 0, 10);
  for (let i = 0; i < 10; i++) points.data[i * 6] += 1;
  const F = normalizeRows(points);
  const fused = trainCoreGcn(new LowRankAdjacency(F), labeled, { hidden: 16, epochs: 25, lr: 1e-2, rng: new Rng(3) });
  const literal = literalCoreGcn(F, labeled, 16, 25, 1e-2, new Rng(3));
  assertClose(fused.losses, literal.losses, 2e-4, "losses");
  assertClose(fused.features.data, literal.features, 2e-3, "hidden features");
  assert.throws(() => trainCoreGcn(new LowRankAdjacency(F), labeled, { hidden: 12, epochs: 1, rng: new Rng(3) }), /multiple of 8/);
});

test("strategy entries: names, settings and aliases; each bad form is one clear line", () => {
  assert.deepEqual(parseStrategyEntry("alfamix"), { label: "alfamix", name: "alfamix", settings: {} });
  assert.deepEqual(parseStrategyEntry("alfamix[select=norm]"), { label: "alfamix[select=norm]", name: "alfamix", settings: { select: "norm" } });
  assert.deepEqual(parseStrategyEntry("alfamix-norm=alfamix[select=norm, alpha=learned]"), {
    label: "alfamix-norm",
    name: "alfamix",
    settings: { select: "norm", alpha: "learned" },
  });
  assert.deepEqual(splitStrategyList("random, alfamix[select=norm,alpha=learned],x=cdal[double-softmax=true]"), [
    "random",
    "alfamix[select=norm,alpha=learned]",
    "x=cdal[double-softmax=true]",
  ]);
  assert.equal(createStrategy("a2=alfamix[alpha=random]").name, "a2");
  assert.equal(createStrategy("alfamix[select=uniform]").name, "alfamix[select=uniform]");
  const bad = (entry: string, pattern: RegExp) =>
    assert.throws(
      () => createStrategy(entry),
      (e: Error) => e instanceof UserError && pattern.test(e.message) && !e.message.includes("\n"),
    );
  bad(
    "alfamix[select=best]",
    /strategy "alfamix\[select=best\]": select expects one of kmeans, norm, symkl, uniform, kcenter, kmeans-labeled, typical, got "best"/,
  );
  bad("alfamix[colour=red]", /strategy "alfamix\[colour=red\]": unknown setting "colour"; known: alpha, cap, select, ninit, steps, kmeans/);
  bad("alfamix[select]", /expected key=value settings inside \[ \], found "select"/);
  bad("alfamix[select=norm", /expected NAME, NAME\[key=value,…\] or ALIAS=NAME\[key=value,…\]/);
  bad("alfamix[select=norm,select=kmeans]", /select is set twice/);
  bad("entropy[t=2]", /unknown setting "t"; it has no settings/);
  bad("cdal[double-softmax=maybe]", /double-softmax expects true or false/);
  bad("alfamix[cap=2]", /cap expects a number in \(0, 1\]/);
  bad("psychic[x=1]", /unknown strategy "psychic"/);
});
