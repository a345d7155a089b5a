import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../src/errors.js";
import { Rng } from "../src/random.js";
import { loadDataset } from "../src/embed/load-dataset.js";
import { fitStandardizer, scalarStandardizer, standardizeInPlace } from "../src/data/transform.js";
import { subset } from "../src/data/dataset.js";
import { matrix, type Matrix } from "../src/linalg/matrix.js";
import { applyDropout } from "../src/models/ops.js";
import { argmaxRows } from "../src/linalg/rows.js";
import { Adam } from "../src/models/adam.js";
import { allocate, release } from "../src/models/layers/arena.js";
import { kernels } from "../src/models/layers/kernels.js";
import { helperJobs, helperReady } from "../src/models/layers/split.js";
import { Buffers } from "../src/models/layers/volume.js";
import { BatchSampler } from "../src/models/batches.js";
import { createLinear, createMLP, NeuralClassifier } from "../src/models/network.js";
import { decodeModel, encodeModel, loadModel, saveModel } from "../src/models/serialize.js";
import { assertClose, kernelGenerators, randomMatrix, tempDir } from "./helpers.js";

test("the SIMD Adam kernel matches a literal float64 Adam, with weight decay and a length not divisible by 4", () => {
  const size = 11,
    rng = new Rng(1);
  const adam = new Adam(size);
  const p = Float64Array.from({ length: size }, () => rng.normal());
  const m = new Float64Array(size),
    v = new Float64Array(size);
  adam.params.set(p);
  const options = { lr: 0.01, weightDecay: 0.1 };
  for (let t = 1; t <= 5; t++) {
    const g = Float64Array.from({ length: size }, () => rng.normal());
    adam.grads.set(g);
    adam.step(options);
    for (let i = 0; i < size; i++) {
      const gi = g[i] + 0.1 * p[i];
      m[i] = 0.9 * m[i] + 0.1 * gi;
      v[i] = 0.999 * v[i] + 0.001 * gi * gi;
      const mHat = m[i] / (1 - 0.9 ** t),
        denom = Math.sqrt(v[i]) / Math.sqrt(1 - 0.999 ** t) + 1e-8;
      p[i] -= (0.01 * mHat) / denom;
    }
    assertClose(adam.params, p, 1e-5, `step ${t}`);
  }
  adam.reset();
  adam.grads.fill(0);
  const before = adam.params.slice();
  adam.step(options);
  assert.notDeepEqual(Array.from(adam.params), Array.from(before)); // weight decay alone moves them
});

test("Adam over the conv layers' arena, its step shared with the helper thread, gives the bits of Adam in a memory of its own, and its JavaScript twin the kernel's", async () => {
  assert.ok(await helperReady(), "the helper thread starts");
  const size = 300_001, // past split.ts's threshold for sharing a pass, and not a multiple of 4
    rng = new Rng(2);
  const own = new Adam(size),
    inArena = new Adam(size, new Buffers());
  const p = Float32Array.from({ length: size }, () => rng.normal());
  own.params.set(p);
  inArena.params.set(p);
  const helped = helperJobs();
  for (let t = 1; t <= 4; t++) {
    const g = Float32Array.from({ length: size }, () => rng.normal());
    own.grads.set(g);
    inArena.grads.set(g);
    own.step({ lr: 0.01, weightDecay: 0.1 });
    inArena.step({ lr: 0.01, weightDecay: 0.1 });
    assert.deepEqual(inArena.params, own.params, `step ${t}`);
  }
  assert.ok(helperJobs() > helped, "the helper took part");
  // The twin that runs on arrays outside the arena, against the kernel, from the same state.
  const arrays = () => [p, p.map((x) => x * 0.5 - 0.1), p.map((x) => x * 0.01), p.map((x) => x * x * 0.001)].map((a) => a.slice(0, 1000));
  const scalars = [0.9, 0.999, 0.01 / (1 - 0.9 ** 3), 1 / Math.sqrt(1 - 0.999 ** 3), 1e-8, 0.1];
  const literal = arrays(),
    fast = arrays().map((a) => {
      const b = allocate(a.length)!;
      b.set(a);
      return b;
    });
  kernels.adam(literal, scalars, 0, 1000);
  kernels.adam(fast, scalars, 0, 1000);
  for (let k = 0; k < 4; k++) assert.deepEqual(Float32Array.from(fast[k]), literal[k], ["p", "g", "m", "v"][k]);
  fast.forEach(release);
});

test("the batch sampler gathers each batch's rows in the epoch's shuffled order, the last batch shorter", () => {
  const x = matrix(
    5,
    3,
    Float32Array.from({ length: 15 }, (_, i) => i),
  );
  const sampler = new BatchSampler(x, 2);
  sampler.shuffle(new Rng(4));
  const order = Array.from(sampler.order);
  assert.deepEqual([...order].sort(), [0, 1, 2, 3, 4]);
  assert.deepEqual(order, Array.from(new Rng(4).permutation(5)), "the same stream as Rng.permutation");
  const rowsOf = (m: Matrix) => Array.from({ length: m.rows }, (_, r) => Array.from(m.data.subarray(r * 3, r * 3 + 3)));
  for (const start of [0, 2, 4]) {
    const batch = sampler.batch(start);
    const want = order.slice(start, start + 2).map((i) => [3 * i, 3 * i + 1, 3 * i + 2]);
    assert.deepEqual(rowsOf(batch), want);
  }
  assert.equal(sampler.batch(4).rows, 1);
});

/** Central differences of the mean loss against the analytic gradient, parameter by parameter. */
function gradientCheck(model: NeuralClassifier, x: Matrix, y: Int32Array): void {
  const mask = () => new Rng("mask"); // the same dropout mask for every evaluation
  const { gradient } = model.lossAndGradient(x, y, mask());
  const h = 1e-2;
  for (let i = 0; i < model.params.length; i++) {
    const original = model.params[i];
    model.params[i] = original + h;
    const up = model.lossAndGradient(x, y, mask()).loss;
    model.params[i] = original - h;
    const down = model.lossAndGradient(x, y, mask()).loss;
    model.params[i] = original;
    const numeric = (up - down) / (2 * h);
    assert.ok(Math.abs(numeric - gradient[i]) <= 2e-3 + 2e-2 * Math.abs(numeric), `parameter ${i}: analytic ${gradient[i]}, numeric ${numeric}`);
  }
}

test("gradient check: every layer of an MLP with two hidden layers and dropout", () => {
  const rng = new Rng(2);
  const model = new NeuralClassifier(4, 3, { hidden: [6, 5], dropout: 0.3, seed: 3 });
  gradientCheck(model, randomMatrix(7, 4, rng), Int32Array.from([0, 1, 2, 2, 1, 0, 1]));
});

test("gradient check: softmax regression", () => {
  const rng = new Rng(4);
  const model = createLinear(5, 4, { seed: 5 });
  gradientCheck(model, randomMatrix(6, 5, rng), Int32Array.from([3, 1, 0, 2, 1, 3]));
});

test("gradient check: the loss with respect to the embedding", () => {
  const rng = new Rng(6);
  const model = createMLP(3, 4, { hidden: [5], seed: 7 });
  const z = randomMatrix(4, 5, rng),
    targets = Int32Array.from([0, 3, 2, 1]);
  const g = model.lossGradientWrtEmbedding(z, targets);
  const loss = (row: number) => {
    const logits = model.headLogits(matrix(1, 5, z.data.slice(row * 5, row * 5 + 5))).data;
    const max = Math.max(...logits);
    return Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0)) + max - logits[targets[row]];
  };
  const h = 1e-2;
  for (let i = 0; i < z.data.length; i++) {
    const row = Math.floor(i / 5),
      original = z.data[i];
    z.data[i] = original + h;
    const up = loss(row);
    z.data[i] = original - h;
    const down = loss(row);
    z.data[i] = original;
    const numeric = (up - down) / (2 * h);
    assert.ok(Math.abs(numeric - g.data[i]) <= 1e-3 + 1e-2 * Math.abs(numeric), `z[${i}]: analytic ${g.data[i]}, numeric ${numeric}`);
  }
});

test("the head, its logits and predictions agree with each other", () => {
  const rng = new Rng(8);
  const model = createMLP(6, 3, { hidden: [4], seed: 9 });
  const x = randomMatrix(5, 6, rng);
  const { probs, embeddings } = model.predict(x);
  const { W, b } = model.head();
  assert.deepEqual([W.rows, W.cols, b.length, embeddings.cols], [3, 4, 3, 4]);
  const logits = model.headLogits(embeddings);
  for (let i = 0; i < 5; i++) {
    for (let k = 0; k < 3; k++) {
      let s = b[k];
      for (let j = 0; j < 4; j++) s += W.data[k * 4 + j] * embeddings.data[i * 4 + j];
      assert.ok(Math.abs(s - logits.data[i * 3 + k]) < 1e-5);
    }
  }
  assertClose(model.predictProbs(x).data, probs.data, 1e-7);
  for (const v of embeddings.data) assert.ok(v >= 0, "embeddings are ReLU outputs");
  const linear = createLinear(6, 3);
  assert.equal(linear.predict(x).embeddings, x, "a linear model's embedding is its input");
});

test("same seed ⇒ same initial weights; fit twice ⇒ the same model; another seed differs", () => {
  const rng = new Rng(10);
  const x = randomMatrix(100, 8, rng);
  const y = Int32Array.from({ length: 100 }, (_, i) => (x.data[i * 8] > 0 ? 1 : 0));
  const a = createMLP(8, 2, { hidden: [16], dropout: 0.2, seed: 1 });
  const b = createMLP(8, 2, { hidden: [16], dropout: 0.2, seed: 1 });
  assert.deepEqual(Array.from(a.initialParams), Array.from(b.initialParams));
  a.fit(x, y, { epochs: 5 });
  const first = a.params.slice();
  a.fit(x, y, { epochs: 5 });
  assert.deepEqual(Array.from(a.params), Array.from(first));
  b.fit(x, y, { epochs: 5 });
  assert.deepEqual(Array.from(b.predictProbs(x).data), Array.from(a.predictProbs(x).data));
  const c = createMLP(8, 2, { hidden: [16], dropout: 0.2, seed: 2 });
  assert.notDeepEqual(Array.from(c.initialParams), Array.from(a.initialParams));
  // PyTorch's default initialisation: every weight within ±1/√fan_in.
  const bound = 1 / Math.sqrt(8);
  assert.ok(a.initialParams.subarray(0, 8 * 16).every((w) => Math.abs(w) <= bound));
});

test("the stopping rule ends training once an epoch reaches the target accuracy", () => {
  const rng = new Rng(11);
  const x = randomMatrix(200, 2, rng);
  const y = Int32Array.from({ length: 200 }, (_, i) => (x.data[2 * i] + x.data[2 * i + 1] > 0 ? 1 : 0));
  const report = createLinear(2, 2).fit(x, y, { epochs: 500, lr: 0.05 });
  assert.equal(report.stoppedEarly, true);
  assert.ok(report.trainAccuracy >= 0.99 && report.epochs < 500);
  const full = createLinear(2, 2).fit(x, y, { epochs: 3, targetAccuracy: 1.01 });
  assert.deepEqual([full.epochs, full.stoppedEarly], [3, false]);
});

test("MC dropout: identical passes without dropout, differing passes that average near predict with it", () => {
  const rng = new Rng(12);
  const x = randomMatrix(20, 5, rng);
  const plain = createMLP(5, 3, { hidden: [32], seed: 1 });
  const passes = plain.mcPredict(x, 3, new Rng(1));
  assert.deepEqual(Array.from(passes[0].data), Array.from(passes[2].data));
  const noisy = createMLP(5, 3, { hidden: [32], dropout: 0.5, seed: 1 });
  const mc = noisy.mcPredict(x, 400, new Rng(2));
  assert.notDeepEqual(Array.from(mc[0].data), Array.from(mc[1].data));
  const mean = new Float64Array(mc[0].data.length);
  for (const p of mc) for (let i = 0; i < mean.length; i++) mean[i] += p.data[i] / mc.length;
  const exact = noisy.predictProbs(x).data;
  for (let i = 0; i < mean.length; i++) assert.ok(Math.abs(mean[i] - exact[i]) < 0.03, `mean ${mean[i]} vs ${exact[i]}`);
  assert.deepEqual(Array.from(noisy.mcPredict(x, 2, new Rng(3))[1].data), Array.from(noisy.mcPredict(x, 2, new Rng(3))[1].data));
});

test("bad inputs to a model are one-line user errors", () => {
  const model = createMLP(4, 3, { hidden: [5] });
  assert.throws(() => model.fit(matrix(2, 5), new Int32Array(2)), /fit: rows have 5 features, the model expects 4/);
  assert.throws(() => model.fit(matrix(2, 4), new Int32Array(3)), /fit: 3 labels for 2 rows/);
  assert.throws(() => model.fit(matrix(1, 4), Int32Array.from([3])), /label 3 at row 0 is outside 0..2/);
  assert.throws(() => model.predict(matrix(1, 2)), UserError);
  assert.throws(() => createMLP(4, 1), /at least 2 classes/);
  assert.throws(() => createMLP(4, 3, { dropout: 1 }), /dropout must be in \[0, 1\)/);
});

test("save and load give the same predictions; corrupt or mismatched files are refused", () => {
  const dir = tempDir();
  const rng = new Rng(13);
  const x = randomMatrix(30, 6, rng);
  const y = Int32Array.from({ length: 30 }, (_, i) => i % 3);
  const model = createMLP(6, 3, { hidden: [8], dropout: 0.1, seed: 4 });
  model.fit(x, y, { epochs: 3 });
  const path = join(dir, "m.alfamix");
  saveModel(path, model, { classNames: ["a", "b", "c"] });
  const { model: loaded, metadata } = loadModel(path);
  assert.deepEqual(metadata, { classNames: ["a", "b", "c"] });
  assert.deepEqual(Array.from(loaded.predictProbs(x).data), Array.from(model.predictProbs(x).data));
  assert.deepEqual(Array.from(loaded.initialParams), Array.from(model.initialParams));
  const bytes = readFileSync(path);
  assert.throws(() => decodeModel(bytes.subarray(0, bytes.length - 4), "cut"), /cut \(byte \d+\): expected \d+ float32 weights/);
  assert.throws(() => decodeModel(Buffer.from("not a model at all"), "junk"), /junk \(byte 0\): expected an alfamix model file/);
  const mismatched = Buffer.from(encodeModel(model).toString("latin1").replace('"inputDim":6', '"inputDim":7'), "latin1");
  assert.throws(() => decodeModel(mismatched, "edited"), /edited \(byte \d+\): expected \d+ float32 weights/);
  const broken = Buffer.from(bytes);
  broken[13] = 0x78; // the opening quote of the first key: no longer JSON
  writeFileSync(join(dir, "broken"), broken);
  assert.throws(() => loadModel(join(dir, "broken")), /broken \(byte 12\): expected a JSON header/);
  assert.throws(() => loadModel(join(dir, "none")), /none: no such file/);
  assert.throws(() => loaded.predict(matrix(1, 5)), /expects 6/);
});

test("learnability: an MLP on 1,000 MNIST images reaches ≥ 85% on the 10,000 test images", async () => {
  const { train, test: testPart } = await loadDataset("mnist");
  const s = scalarStandardizer(784, 0.1307, 0.3081);
  const small = subset(train, new Rng(1).sample(train.x.rows, 1000));
  standardizeInPlace(small.x, s);
  const testX = standardizeInPlace({ ...testPart!.x, data: testPart!.x.data.slice() }, s);
  const model = createMLP(784, 10, { seed: 1 });
  const report = model.fit(small.x, small.y, { epochs: 50 });
  const predicted = argmaxRows(model.predictProbs(testX));
  const accuracy = predicted.reduce((c, p, i) => c + (p === testPart!.y[i] ? 1 : 0), 0) / testPart!.y.length;
  assert.ok(report.trainAccuracy >= 0.99, `training accuracy ${report.trainAccuracy}`);
  assert.ok(accuracy >= 0.85, `test accuracy ${accuracy}`);
});

test("learnability: softmax regression on optdigits reaches ≥ 90% on its test file", async () => {
  const { train, test } = await loadDataset("optdigits");
  const testPart = test!;
  const s = fitStandardizer(train.x);
  standardizeInPlace(train.x, s);
  standardizeInPlace(testPart.x, s);
  const model = createLinear(64, 10, { seed: 1 });
  model.fit(train.x, train.y, { epochs: 30 });
  const predicted = argmaxRows(model.predictProbs(testPart.x));
  const accuracy = predicted.reduce((c, p, i) => c + (p === testPart.y[i] ? 1 : 0), 0) / testPart.y.length;
  assert.ok(accuracy >= 0.9, `test accuracy ${accuracy}`);
});

test("dropout (SIMD kernel) draws exactly what eight scalar xoshiro128** generators draw, drops about p, and scales the rest", () => {
  const n = 200_003, // past one kernel block, not a multiple of 8
    p = 0.3;
  const m = matrix(
    1,
    n,
    Float32Array.from({ length: n }, (_, i) => 1 + (i % 7)),
  );
  const before = m.data.slice(),
    mask = new Float32Array(n);
  applyDropout(m, mask, p, new Rng("dropout"));
  // The literal twin: the kernel's generators, seeded from the same 32 draws, value e from
  // generator e mod 8 (set ⌊g/4⌋, lane g mod 4) at its step ⌊e/8⌋ within each block of 2^16.
  const draw = kernelGenerators(new Rng("dropout"));
  const threshold = Math.round(p * 4294967296),
    keep = Math.fround(1 / (1 - p));
  let dropped = 0;
  for (let start = 0; start < n; start += 1 << 16) {
    const length = Math.ceil(Math.min(1 << 16, n - start) / 8) * 8; // the kernel runs the padded block
    for (let e = 0; e < length; e++) {
      const f = draw(e) < threshold ? 0 : keep;
      if (start + e >= n) continue;
      assert.equal(mask[start + e], f, `mask at ${start + e}`);
      assert.equal(m.data[start + e], Math.fround(before[start + e] * f));
      dropped += f === 0 ? 1 : 0;
    }
  }
  assert.ok(Math.abs(dropped / n - p) < 0.005, `dropped ${dropped / n}`);
});
