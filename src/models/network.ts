import { UserError } from "../errors.js";
import { matmul } from "../linalg/gemm.js";
import { matrix, rowSlice, type Matrix } from "../linalg/matrix.js";
import { softmaxRows } from "../linalg/rows.js";
import { chunkRows } from "../linalg/distances.js";
import { Rng } from "../random.js";
import { Adam } from "./adam.js";
import { BatchSampler } from "./batches.js";
import { applyDropout, columnSums, multiplyInPlace, relu, reluBackward } from "./ops.js";
import type { Classifier, FitOptions, FitReport, Predictions } from "./classifier.js";

export interface NetworkOptions {
  /** Hidden layer widths (ReLU); [] is softmax regression on the input. */
  hidden?: number[];
  /** Dropout rate on the embedding (the head's input) during training and mcPredict. */
  dropout?: number;
  /** Seeds the initial weights and every fit's shuffling and dropout. */
  seed?: number | string;
}

interface Layer {
  inDim: number;
  outDim: number;
  /** Offsets of W (outDim×inDim, row-major) and b in the flat parameter buffer. */
  w: number;
  b: number;
}

/** Per-batch-size activation buffers, allocated once and reused by every batch. */
interface BatchBuffers {
  /** acts[0] is the batch's input (set before each pass); acts[l] the output of layer l − 1. */
  acts: Matrix[];
  deltas: Matrix[];
  mask: Float32Array;
}

/**
 * A feed-forward classifier: input → hidden ReLU layers → dropout → linear head, trained with
 * Adam on softmax cross-entropy. With no hidden layer it is softmax regression and the embedding
 * is the input itself. All parameters live in one flat buffer (so Adam is one fused loop) and
 * every matrix product goes through the GEMM backend.
 */
export class NeuralClassifier implements Classifier {
  readonly kind: "linear" | "mlp";
  readonly embeddingDim: number;
  readonly dropout: number;
  readonly hidden: readonly number[];
  readonly seed: number | string;
  /** Current weights and biases of every layer, flat. */
  readonly params: Float32Array;
  /** The weights every fit starts from. */
  readonly initialParams: Float32Array;
  private readonly optimizer: Adam;
  private readonly grads: Float32Array;
  private readonly layers: Layer[];
  private readonly buffers = new Map<number, BatchBuffers>();
  /** Views of each layer's weights and of their gradients, made once: no allocation per batch. */
  private readonly views: { W: Matrix; b: Float32Array }[];
  private readonly gradViews: { W: Matrix; b: Float32Array }[];
  /** Loss sum and correct count of the last batch (fields, not a returned object, in the hot loop). */
  private batchLoss = 0;
  private batchCorrect = 0;

  constructor(
    readonly inputDim: number,
    readonly numClasses: number,
    options: NetworkOptions = {},
  ) {
    const { hidden = [256], dropout = 0, seed = 0 } = options;
    if (!(Number.isInteger(inputDim) && inputDim >= 1)) throw new UserError(`model: input dimension must be a positive integer, got ${inputDim}`);
    if (!(Number.isInteger(numClasses) && numClasses >= 2)) throw new UserError(`model: needs at least 2 classes, got ${numClasses}`);
    if (!hidden.every((h) => Number.isInteger(h) && h >= 1)) throw new UserError(`model: hidden sizes must be positive integers, got ${hidden.join(",")}`);
    if (!(dropout >= 0 && dropout < 1)) throw new UserError(`model: dropout must be in [0, 1), got ${dropout}`);
    this.kind = hidden.length === 0 ? "linear" : "mlp";
    this.hidden = [...hidden];
    this.dropout = dropout;
    this.seed = seed;
    const widths = [inputDim, ...hidden, numClasses];
    this.embeddingDim = widths[widths.length - 2];
    this.layers = [];
    let offset = 0;
    for (let l = 0; l + 1 < widths.length; l++) {
      const layer = { inDim: widths[l], outDim: widths[l + 1], w: offset, b: offset + widths[l] * widths[l + 1] };
      offset = layer.b + layer.outDim;
      this.layers.push(layer);
    }
    this.optimizer = new Adam(offset);
    this.params = this.optimizer.params;
    this.grads = this.optimizer.grads;
    // PyTorch's nn.Linear default: weights and biases uniform in ±1/√fan_in.
    const rng = new Rng(seed).child("init");
    for (const layer of this.layers) {
      const bound = 1 / Math.sqrt(layer.inDim);
      for (let i = layer.w; i < layer.b + layer.outDim; i++) this.params[i] = (2 * rng.uniform() - 1) * bound;
    }
    this.initialParams = this.params.slice();
    this.views = this.layers.map((_, l) => this.layerViews(l, this.params));
    this.gradViews = this.layers.map((_, l) => this.layerViews(l, this.grads));
  }

  /** Layer l's weights (outDim×inDim) and bias as views of `source` (the parameters or their gradients). */
  private layerViews(l: number, source: Float32Array): { W: Matrix; b: Float32Array } {
    const { w, b, inDim, outDim } = this.layers[l];
    return { W: matrix(outDim, inDim, source.subarray(w, w + outDim * inDim)), b: source.subarray(b, b + outDim) };
  }

  weights(): Float32Array {
    return this.params.slice();
  }

  setWeights(weights: Float32Array): void {
    this.params.set(weights);
  }

  head(): { W: Matrix; b: Float32Array } {
    const last = this.layers.length - 1;
    return this.views[last];
  }

  fit(x: Matrix, y: Int32Array, options: FitOptions = {}): FitReport {
    const { epochs = 1000, batchSize = 64, lr = 1e-3, weightDecay = 0, targetAccuracy = 0.99, onEpoch } = options;
    this.checkInput(x, "fit");
    if (y.length !== x.rows) throw new UserError(`fit: ${y.length} labels for ${x.rows} rows`);
    if (x.rows === 0) throw new UserError("fit: no training rows");
    for (let i = 0; i < y.length; i++) {
      if (!(y[i] >= 0 && y[i] < this.numClasses)) throw new UserError(`fit: label ${y[i]} at row ${i} is outside 0..${this.numClasses - 1}`);
    }
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new UserError(`fit: batch size must be a positive integer, got ${batchSize}`);
    const start = performance.now();
    this.params.set(this.initialParams);
    this.optimizer.reset();
    const adamOptions = { lr, weightDecay };
    const rng = new Rng(this.seed).child("fit");
    const n = x.rows;
    const sampler = new BatchSampler(x, batchSize);
    let report: FitReport = { epochs: 0, trainAccuracy: 0, loss: NaN, stoppedEarly: false, ms: 0 };
    for (let epoch = 1; epoch <= epochs; epoch++) {
      sampler.shuffle(rng);
      let correct = 0,
        lossSum = 0;
      for (let s = 0; s < n; s += batchSize) {
        const input = sampler.batch(s);
        const buffers = this.batchBuffers(input.rows);
        buffers.acts[0] = input;
        this.forward(buffers, rng);
        this.lossAndOutputDelta(buffers, y, sampler.order, s);
        correct += this.batchCorrect;
        lossSum += this.batchLoss;
        this.backward(buffers);
        this.optimizer.step(adamOptions);
      }
      report = { epochs: epoch, trainAccuracy: correct / n, loss: lossSum / n, stoppedEarly: false, ms: 0 };
      onEpoch?.(epoch, report.trainAccuracy, report.loss);
      if (report.trainAccuracy >= targetAccuracy) {
        report.stoppedEarly = true;
        break;
      }
    }
    report.ms = performance.now() - start;
    return report;
  }

  /**
   * Mean cross-entropy over (x, y) and its gradient with respect to every parameter (flat, in
   * `params` order), at the current weights, as one batch. With dropout, `rng` draws the mask.
   */
  lossAndGradient(x: Matrix, y: Int32Array, rng = new Rng(this.seed).child("gradient")): { loss: number; gradient: Float32Array } {
    this.checkInput(x, "lossAndGradient");
    const buffers = this.batchBuffers(x.rows);
    buffers.acts[0] = { rows: x.rows, cols: x.cols, data: x.data.slice() }; // dropout may write to it
    this.forward(buffers, rng);
    this.lossAndOutputDelta(
      buffers,
      y,
      Int32Array.from({ length: x.rows }, (_, i) => i),
      0,
    );
    this.backward(buffers);
    return { loss: this.batchLoss / x.rows, gradient: this.grads.slice() };
  }

  private batchBuffers(rows: number): BatchBuffers {
    let buffers = this.buffers.get(rows);
    if (!buffers) {
      // Full batches and one remainder size are in use at a time; older sizes are dropped.
      if (this.buffers.size >= 3) this.buffers.clear();
      const widths = [this.inputDim, ...this.hidden, this.numClasses];
      buffers = {
        acts: widths.map((w, l) => matrix(l === 0 ? 0 : rows, l === 0 ? 0 : w)),
        deltas: widths.map((w) => matrix(rows, w)),
        mask: new Float32Array(this.dropout > 0 ? rows * this.embeddingDim : 0),
      };
      this.buffers.set(rows, buffers);
    }
    return buffers;
  }

  /** Training-mode forward pass: ReLU on hidden layers, inverted dropout on the embedding. */
  private forward(buffers: BatchBuffers, rng: Rng): void {
    const { acts, mask } = buffers;
    const last = this.layers.length - 1;
    for (let l = 0; l <= last; l++) {
      if (l === last && this.dropout > 0) applyDropout(acts[l], mask, this.dropout, rng);
      this.affine(l, acts[l], acts[l + 1]);
      if (l < last) relu(acts[l + 1]);
    }
  }

  /** out = a Wᵀ + b: rows start as b, then one GEMM accumulates. */
  private affine(l: number, a: Matrix, out: Matrix): void {
    const { W, b } = this.views[l];
    for (let r = 0; r < out.rows; r++) out.data.set(b, r * out.cols);
    matmul(a, W, { transB: true, beta: 1, out });
  }

  /** Softmax cross-entropy of the batch: writes ∂loss/∂logits (mean over the batch), the loss sum and the hits. */
  private lossAndOutputDelta(buffers: BatchBuffers, y: Int32Array, order: Int32Array, start: number): void {
    const logits = buffers.acts[buffers.acts.length - 1];
    const delta = buffers.deltas[buffers.deltas.length - 1];
    const k = this.numClasses,
      rows = logits.rows,
      z = logits.data,
      g = delta.data;
    let loss = 0,
      correct = 0;
    const invRows = 1 / rows;
    for (let r = 0; r < rows; r++) {
      const o = r * k,
        target = y[order[start + r]];
      let max = -Infinity,
        best = 0;
      for (let j = 0; j < k; j++) {
        if (z[o + j] > max) {
          max = z[o + j];
          best = j;
        }
      }
      if (best === target) correct++;
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const e = Math.exp(z[o + j] - max);
        g[o + j] = e;
        sum += e;
      }
      loss += Math.log(sum) + max - z[o + target];
      const inv = invRows / sum;
      for (let j = 0; j < k; j++) g[o + j] *= inv;
      g[o + target] -= invRows;
    }
    this.batchLoss = loss;
    this.batchCorrect = correct;
  }

  private backward(buffers: BatchBuffers): void {
    const { acts, deltas, mask } = buffers;
    const last = this.layers.length - 1;
    for (let l = last; l >= 0; l--) {
      const delta = deltas[l + 1];
      matmul(delta, acts[l], { transA: true, out: this.gradViews[l].W });
      columnSums(delta, this.gradViews[l].b);
      if (l === 0) break;
      const below = deltas[l];
      matmul(delta, this.views[l].W, { out: below });
      if (l === last && this.dropout > 0) multiplyInPlace(below.data, mask);
      reluBackward(below, acts[l]);
    }
  }

  predict(x: Matrix): Predictions {
    this.checkInput(x, "predict");
    const probs = matrix(x.rows, this.numClasses);
    const embeddings = this.kind === "linear" ? x : matrix(x.rows, this.embeddingDim);
    this.forEachEmbeddingChunk(x, (start, end, z) => this.headProbs(z, rowSlice(probs, start, end)), embeddings);
    return { probs, embeddings };
  }

  embed(x: Matrix): Matrix {
    this.checkInput(x, "embed");
    if (this.kind === "linear") return x;
    const embeddings = matrix(x.rows, this.embeddingDim);
    this.forEachEmbeddingChunk(x, () => {}, embeddings);
    return embeddings;
  }

  predictProbs(x: Matrix): Matrix {
    this.checkInput(x, "predict");
    const probs = matrix(x.rows, this.numClasses);
    this.forEachEmbeddingChunk(x, (start, end, z) => this.headProbs(z, rowSlice(probs, start, end)));
    return probs;
  }

  mcPredict(x: Matrix, samples: number, rng: Rng): Matrix[] {
    this.checkInput(x, "mcPredict");
    if (!(Number.isInteger(samples) && samples >= 1)) throw new UserError(`mcPredict: samples must be a positive integer, got ${samples}`);
    if (this.dropout === 0) {
      const probs = this.predictProbs(x); // without dropout every pass is the same
      return Array.from({ length: samples }, (_, t) => (t === 0 ? probs : { ...probs, data: probs.data.slice() }));
    }
    const out = Array.from({ length: samples }, () => matrix(x.rows, this.numClasses));
    let dropped: Matrix | undefined,
      mask = new Float32Array(0);
    this.forEachEmbeddingChunk(x, (start, end, z) => {
      if (!dropped || dropped.rows !== z.rows) {
        dropped = matrix(z.rows, z.cols);
        mask = new Float32Array(z.rows * z.cols);
      }
      for (let t = 0; t < samples; t++) {
        dropped.data.set(z.data);
        applyDropout(dropped, mask, this.dropout, rng);
        this.headProbs(dropped, rowSlice(out[t], start, end));
      }
    });
    return out;
  }

  headLogits(z: Matrix): Matrix {
    if (z.cols !== this.embeddingDim) throw new UserError(`headLogits: embeddings have ${z.cols} columns, the head expects ${this.embeddingDim}`);
    const logits = matrix(z.rows, this.numClasses);
    this.affine(this.layers.length - 1, z, logits);
    return logits;
  }

  lossGradientWrtEmbedding(z: Matrix, targets: Int32Array): Matrix {
    if (targets.length !== z.rows) throw new UserError(`lossGradientWrtEmbedding: ${targets.length} targets for ${z.rows} rows`);
    const r = softmaxRows(this.headLogits(z));
    for (let i = 0; i < z.rows; i++) r.data[i * this.numClasses + targets[i]] -= 1;
    return matmul(r, this.head().W);
  }

  /**
   * ∂logits/∂input (eval mode, dropout off): row i·K + k is ∇ₓ f_k(x_i), an (N·K)×inputDim matrix:
   * the product of logitJacobianFactors.
   */
  logitJacobian(x: Matrix): Matrix {
    const { upper, first } = this.logitJacobianFactors(x);
    return matmul(upper, first);
  }

  /**
   * The logit Jacobian factored at the first layer, J = upper·first: row i·K + k of `upper` is
   * ∂f_k(x_i)/∂(first layer's pre-activation), and `first` is that layer's weights (a view of the
   * parameters). With `relativeTo`, row i·K + k is for f_k − f_{relativeTo[i]} instead. One
   * backward pass for every class of every row at once: a row's K output gradients are the head's
   * rows, masked by the row's ReLUs and carried down by one GEMM per layer above the first. For
   * softmax regression `upper` holds an identity per row and `first` is W. `scratch`, when large
   * enough, holds `upper` for a one-hidden-layer network (DFAL's steps reuse one buffer).
   */
  logitJacobianFactors(x: Matrix, relativeTo?: Int32Array, scratch?: Float32Array): { upper: Matrix; first: Matrix } {
    this.checkInput(x, "logitJacobian");
    const n = x.rows,
      K = this.numClasses,
      last = this.layers.length - 1;
    const acts: Matrix[] = [x];
    for (let l = 0; l < last; l++) {
      const out = matrix(n, this.layers[l].outDim);
      this.affine(l, acts[l], out);
      relu(out);
      acts.push(out);
    }
    // The head's rows (less row relativeTo[i]), masked by the last hidden layer's ReLUs, in one pass.
    const W = last === 0 ? identity(K) : this.views[last].W.data,
      cols = last === 0 ? K : this.layers[last].inDim,
      zero = new Float32Array(cols),
      mask = new Float32Array(cols).fill(1);
    let g = matrix(n * K, cols, scratch && scratch.length >= n * K * cols ? scratch.subarray(0, n * K * cols) : undefined);
    for (let i = 0; i < n; i++) {
      if (last > 0) for (let j = 0; j < cols; j++) mask[j] = Number(acts[last].data[i * cols + j] > 0);
      const minus = relativeTo ? W.subarray(relativeTo[i] * cols, (relativeTo[i] + 1) * cols) : zero;
      for (let k = 0; k < K; k++) {
        const o = (i * K + k) * cols,
          wk = k * cols;
        for (let j = 0; j < cols; j++) g.data[o + j] = (W[wk + j] - minus[j]) * mask[j];
      }
    }
    for (let l = last - 1; l >= 1; l--) {
      g = matmul(g, this.views[l].W);
      const a = acts[l].data,
        c = g.cols;
      for (let r = 0; r < g.rows; r++) {
        const o = r * c,
          ao = Math.floor(r / K) * c;
        for (let j = 0; j < c; j++) g.data[o + j] *= Number(a[ao + j] > 0);
      }
    }
    return { upper: g, first: this.views[0].W };
  }

  private headProbs(z: Matrix, out: Matrix): void {
    this.affine(this.layers.length - 1, z, out);
    softmaxRows(out, out);
  }

  /**
   * Eval-mode embeddings of `x`, a chunk of rows at a time (bounded memory for huge pools), the
   * last hidden layer written into `into`'s rows when given. The chunks reuse one buffer per
   * layer: a fresh 8 MB array per chunk cost more in page faults than its ReLU pass.
   */
  private forEachEmbeddingChunk(x: Matrix, fn: (start: number, end: number, z: Matrix) => void, into?: Matrix): void {
    const last = this.layers.length - 1;
    const chunk = chunkRows(Math.max(...this.hidden, 1) * 2);
    // The last hidden layer has no buffer of its own when it goes straight into `into`.
    const scratch = this.layers.slice(0, into ? last - 1 : last).map((layer) => new Float32Array(Math.min(chunk, x.rows) * layer.outDim));
    for (let start = 0; start < x.rows; start += chunk) {
      const end = Math.min(x.rows, start + chunk);
      let a = rowSlice(x, start, end);
      for (let l = 0; l < last; l++) {
        const width = this.layers[l].outDim;
        const out = l === last - 1 && into ? rowSlice(into, start, end) : matrix(end - start, width, scratch[l].subarray(0, (end - start) * width));
        this.affine(l, a, out);
        relu(out);
        a = out;
      }
      fn(start, end, a);
    }
  }

  private checkInput(x: Matrix, what: string): void {
    if (x.cols !== this.inputDim) throw new UserError(`${what}: rows have ${x.cols} features, the model expects ${this.inputDim}`);
  }
}

/** Softmax regression (no hidden layer): the head used on precomputed embeddings. */
export function createLinear(inputDim: number, numClasses: number, options: Omit<NetworkOptions, "hidden"> = {}): NeuralClassifier {
  return new NeuralClassifier(inputDim, numClasses, { ...options, hidden: [] });
}

/** Softmax regression with given head weights W (K×D) and bias b, e.g. a head trained elsewhere. */
export function linearFromWeights(W: Matrix, b: Float32Array): NeuralClassifier {
  if (b.length !== W.rows) throw new UserError(`linearFromWeights: ${b.length} biases for ${W.rows} classes`);
  const model = createLinear(W.cols, W.rows);
  const head = model.head();
  head.W.data.set(W.data);
  head.b.set(b);
  return model;
}

/** The paper's MLP: input → 256 ReLU (by default) → dropout → linear head. */
export function createMLP(inputDim: number, numClasses: number, options: NetworkOptions = {}): NeuralClassifier {
  return new NeuralClassifier(inputDim, numClasses, { hidden: [256], ...options });
}

function identity(k: number): Float32Array {
  const out = new Float32Array(k * k);
  for (let i = 0; i < k; i++) out[i * k + i] = 1;
  return out;
}
