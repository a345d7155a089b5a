import { UserError } from "../errors.js";
import { matmul } from "../linalg/gemm.js";
import { matrix, rowSlice, type Matrix } from "../linalg/matrix.js";
import { softmaxRows } from "../linalg/rows.js";
import { Rng } from "../random.js";
import { Adam } from "./adam.js";
import { BatchSampler } from "./batches.js";
import type { Classifier, FitOptions, FitReport, Predictions } from "./classifier.js";
import { architecture, type ConvArchitecture, type ConvKind } from "./layers/architectures.js";
import { split } from "./layers/split.js";
import { Buffers, volume, type Volume } from "./layers/volume.js";
import { applyDropout, relu, reluBackward } from "./ops.js";
import { Sgd } from "./sgd.js";

export interface ConvNetOptions {
  kind: ConvKind;
  /** Channels, height and width of an input image (rows are C×H×W, planar). */
  input: { c: number; h: number; w: number };
  numClasses: number;
  /** Dropout on the embedding, before the head (for BALD). */
  dropout?: number;
  /** resnet18: a 3×3 stride-1 stem for 32×32 inputs (default), or ImageNet's 7×7 stem with max-pool. */
  stem?: "cifar" | "imagenet";
  seed?: number | string;
}

/**
 * Training keeps each conv layer's im2col columns (or Winograd tiles) from the forward pass for the
 * backward pass, up to a budget: all of cnn's at batch 64 (40 MB for 32×32×3: its first layer's
 * columns and F(4×4)'s tiles, 2.25× each input), where rebuilding them costs as much as a third of
 * the layer's GEMMs. ResNet-18 keeps none: with F(2×2)'s tiles, 4× each input, the 256 MB budget it
 * had kept only the first stage's and held 240 MB more at its peak (1,270 against 1,031–1,041 MiB),
 * for a step 2–4% faster (1.46–1.50 against 1.53 s, pairs of ten-step epochs); all of its F(4×4)
 * tiles would be about 250 MB.
 */
const KEPT_COLUMN_FLOATS: Record<ConvKind, number> = { cnn: 32 * 1024 * 1024, resnet18: 0 };

/**
 * Images per chunk when predicting a pool: activations stay bounded however large the pool. The
 * training batch, so evaluation reuses training's buffers: with chunks of 256, ResNet-18's bench
 * peaked at 4.2 GB against 2.0 GB (fit on 448 images, predict 512), for a forward pass 7% faster
 * (7.8 against 8.4 ms an image).
 */
const PREDICT_CHUNK = 64;

/**
 * A convolutional classifier from pixels (`cnn`, `resnet18`) behind the same interface as the MLP,
 * so every strategy works unchanged: a trunk of Conv2d/BatchNorm2d/ReLU/pooling layers over
 * channel-major batches, flattened (cnn) or globally averaged (resnet18) to a vector, a dense layer
 * to the 256-d embedding, dropout, and the linear head. Every fit starts from the seed's weights.
 */
export class ConvClassifier implements Classifier {
  readonly kind: ConvKind;
  readonly inputDim: number;
  readonly numClasses: number;
  readonly embeddingDim = 256;
  readonly dropout: number;
  readonly seed: number | string;
  readonly params: Float32Array;
  readonly initialParams: Float32Array;
  private readonly initialState: Float32Array[];
  private readonly adam: Adam;
  private readonly grads: Float32Array;
  private readonly net: ConvArchitecture;
  private readonly buffers: Buffers;
  private readonly W1: Matrix;
  private readonly b1: Float32Array;
  private readonly W2: Matrix;
  private readonly b2: Float32Array;
  private readonly gW1: Matrix;
  private readonly gb1: Float32Array;
  private readonly gW2: Matrix;
  private readonly gb2: Float32Array;

  constructor(readonly options: ConvNetOptions) {
    const { kind, input, numClasses, dropout = 0, seed = 0 } = options;
    if (!(numClasses >= 2)) throw new UserError(`model: needs at least 2 classes, got ${numClasses}`);
    if (!(dropout >= 0 && dropout < 1)) throw new UserError(`model: dropout must be in [0, 1), got ${dropout}`);
    this.kind = kind;
    this.inputDim = input.c * input.h * input.w;
    this.numClasses = numClasses;
    this.dropout = dropout;
    this.seed = seed;
    this.buffers = new Buffers(KEPT_COLUMN_FLOATS[kind]);
    this.net = architecture(kind, input, this.buffers, options.stem ?? "cifar");
    const trunk = this.net.trunk.paramCount,
      F = this.net.features,
      E = this.embeddingDim;
    const dense = E * F + E + numClasses * E + numClasses;
    this.adam = new Adam(trunk + dense, this.buffers);
    this.params = this.adam.params;
    this.grads = this.adam.grads;
    this.net.trunk.bind(this.params.subarray(0, trunk), this.grads.subarray(0, trunk));
    let o = trunk;
    const take = (n: number) => [this.params.subarray(o, o + n), this.grads.subarray(o, (o += n))] as const;
    const [w1, gw1] = take(E * F),
      [b1, gb1] = take(E),
      [w2, gw2] = take(numClasses * E),
      [b2, gb2] = take(numClasses);
    [this.W1, this.gW1, this.b1, this.gb1] = [matrix(E, F, w1), matrix(E, F, gw1), b1, gb1];
    [this.W2, this.gW2, this.b2, this.gb2] = [matrix(numClasses, E, w2), matrix(numClasses, E, gw2), b2, gb2];
    const rng = new Rng(seed).child("init");
    this.net.trunk.init(rng.child("trunk"));
    // nn.Linear's default: uniform ±1/√fan_in for weights and biases.
    const linear = (W: Matrix, b: Float32Array, r: Rng) => {
      const bound = 1 / Math.sqrt(W.cols);
      for (let i = 0; i < W.data.length; i++) W.data[i] = (2 * r.uniform() - 1) * bound;
      for (let i = 0; i < b.length; i++) b[i] = (2 * r.uniform() - 1) * bound;
    };
    linear(this.W1, this.b1, rng.child("fc"));
    linear(this.W2, this.b2, rng.child("head"));
    this.initialParams = this.params.slice();
    this.initialState = this.net.trunk.state!().map((s) => s.slice());
  }

  /** The weights and the running statistics, as one copy (to restore with setWeights). */
  weights(): Float32Array {
    return concatenate(this.params, this.net.trunk.state!());
  }

  setWeights(weights: Float32Array): void {
    this.params.set(weights.subarray(0, this.params.length));
    let o = this.params.length;
    for (const s of this.net.trunk.state!()) {
      s.set(weights.subarray(o, o + s.length));
      o += s.length;
    }
  }

  head(): { W: Matrix; b: Float32Array } {
    return { W: this.W2, b: this.b2 };
  }

  /** Planar image rows (N×C·H·W) as a channel-major batch, randomly cropped (4-pixel padding) and flipped when `augment`. */
  private inputVolume(x: Matrix, augment?: Rng): Volume {
    const { c, h, w } = this.options.input,
      n = x.rows,
      hw = h * w;
    const out = this.buffers.get("input", c * n * hw);
    for (let i = 0; i < n; i++) {
      const dy = augment ? augment.int(9) - 4 : 0,
        dx = augment ? augment.int(9) - 4 : 0,
        flip = augment ? augment.uniform() < 0.5 : false;
      for (let ch = 0; ch < c; ch++) {
        const src = i * c * hw + ch * hw,
          dst = (ch * n + i) * hw;
        if (!augment) {
          out.set(x.data.subarray(src, src + hw), dst);
          continue;
        }
        for (let yy = 0; yy < h; yy++) {
          const sy = yy + dy;
          for (let xx = 0; xx < w; xx++) {
            const sx = (flip ? w - 1 - xx : xx) + dx;
            out[dst + yy * w + xx] = sy >= 0 && sy < h && sx >= 0 && sx < w ? x.data[src + sy * w + sx] : 0;
          }
        }
      }
    }
    return volume({ c, n, h, w }, out);
  }

  /** The trunk's output as one row per image: flattened (c, y, x order) or averaged over positions. */
  private toVector(v: Volume): Matrix {
    const { c, n, h, w } = v,
      hw = h * w;
    if (this.net.vector === "gap") {
      const out = matrix(n, c, this.buffers.get("vector", n * c));
      for (let ch = 0; ch < c; ch++)
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let p = (ch * n + i) * hw, e = p + hw; p < e; p++) s += v.data[p];
          out.data[i * c + ch] = s / hw;
        }
      return out;
    }
    const out = matrix(n, c * hw, this.buffers.get("vector", n * c * hw));
    split("transposeBlocks", [v.data.subarray(0, n * c * hw), out.data], [c, n, hw], c, n * c * hw);
    return out;
  }

  /** The adjoint of toVector. */
  private fromVector(g: Matrix, shape: Omit<Volume, "data">): Volume {
    const { c, n, h, w } = shape,
      hw = h * w;
    const out = this.buffers.get("vector/dx", c * n * hw);
    if (this.net.vector === "gap") {
      for (let ch = 0; ch < c; ch++) for (let i = 0; i < n; i++) out.fill(g.data[i * c + ch] / hw, (ch * n + i) * hw, (ch * n + i + 1) * hw);
    } else split("transposeBlocks", [g.data.subarray(0, n * c * hw), out], [n, c, hw], n, out.length);
    return volume(shape, out);
  }

  /** out = a Wᵀ + b. */
  private affine(a: Matrix, W: Matrix, b: Float32Array, key: string): Matrix {
    const out = matrix(a.rows, W.rows, this.buffers.get(key, a.rows * W.rows));
    for (let r = 0; r < a.rows; r++) out.data.set(b, r * W.rows);
    return matmul(a, W, { transB: true, beta: 1, out });
  }

  /** Trunk, vector and the dense layer: the embeddings z of a batch (and what the backward pass needs). */
  private embedBatch(x: Matrix, train: boolean, augment?: Rng) {
    const trunkOut = this.net.trunk.forward(this.inputVolume(x, augment), train);
    const vector = this.toVector(trunkOut);
    const z = this.affine(vector, this.W1, this.b1, "z");
    if (this.net.reluEmbedding) relu(z);
    return { trunkOut, vector, z };
  }

  /** Backward from ∂loss/∂z (the embedding, before dropout): dense layer, vector, trunk. */
  private backwardFromEmbedding(dz: Matrix, z: Matrix, vector: Matrix, trunkOut: Volume, needInput: boolean): Volume | undefined {
    if (this.net.reluEmbedding) reluBackward(dz, z);
    matmul(dz, vector, { transA: true, beta: 1, out: this.gW1 });
    for (let r = 0; r < dz.rows; r++) for (let j = 0; j < dz.cols; j++) this.gb1[j] += dz.data[r * dz.cols + j];
    const dVector = matmul(dz, this.W1, { out: matrix(dz.rows, this.W1.cols, this.buffers.get("dvector", dz.rows * this.W1.cols)) });
    return this.net.trunk.backward(this.fromVector(dVector, trunkOut), needInput);
  }

  fit(x: Matrix, y: Int32Array, options: FitOptions = {}): FitReport {
    const {
      epochs = 1000,
      batchSize = 64,
      lr = 1e-3,
      weightDecay = 0,
      targetAccuracy = 0.99,
      onEpoch,
      optimizer = "adam",
      augment = false,
      momentum = 0.9,
    } = options;
    this.checkInput(x, "fit");
    if (y.length !== x.rows || x.rows === 0) throw new UserError(`fit: ${y.length} labels for ${x.rows} rows`);
    for (let i = 0; i < y.length; i++)
      if (!(y[i] >= 0 && y[i] < this.numClasses)) throw new UserError(`fit: label ${y[i]} at row ${i} is outside 0..${this.numClasses - 1}`);
    const started = performance.now();
    this.setWeights(this.initialWeights());
    this.adam.reset();
    const sgd = optimizer === "sgd" ? new Sgd(this.params, this.grads, momentum) : undefined;
    const rng = new Rng(this.seed).child("fit"),
      K = this.numClasses;
    const sampler = new BatchSampler(x, batchSize);
    const dLogits = new Float32Array(batchSize * K),
      mask = new Float32Array(batchSize * this.embeddingDim);
    let report: FitReport = { epochs: 0, trainAccuracy: 0, loss: NaN, stoppedEarly: false, ms: 0 };
    for (let epoch = 1; epoch <= epochs; epoch++) {
      sampler.shuffle(rng);
      // Cosine annealing for SGD, from lr to 0 over the epochs.
      const epochLr = sgd ? (lr * (1 + Math.cos((Math.PI * (epoch - 1)) / epochs))) / 2 : lr;
      let correct = 0,
        lossSum = 0;
      for (let s = 0; s < x.rows; s += batchSize) {
        const batch = sampler.batch(s),
          n = batch.rows;
        this.grads.fill(0);
        const { trunkOut, vector, z } = this.embedBatch(batch, true, augment ? rng : undefined);
        let zd = z;
        if (this.dropout > 0) {
          zd = matrix(n, z.cols, this.buffers.get("z/dropped", z.data.length));
          zd.data.set(z.data);
          applyDropout(zd, mask, this.dropout, rng);
        }
        const logits = this.affine(zd, this.W2, this.b2, "logits");
        // Softmax cross-entropy, mean over the batch.
        for (let i = 0; i < n; i++) {
          const o = i * K,
            target = y[sampler.order[s + i]];
          let max = -Infinity,
            best = 0;
          for (let k = 0; k < K; k++) if (logits.data[o + k] > max) [max, best] = [logits.data[o + k], k];
          if (best === target) correct++;
          let sum = 0;
          for (let k = 0; k < K; k++) sum += dLogits[o + k] = Math.exp(logits.data[o + k] - max);
          lossSum += Math.log(sum) + max - logits.data[o + target];
          for (let k = 0; k < K; k++) dLogits[o + k] /= sum * n;
          dLogits[o + target] -= 1 / n;
        }
        const dl = matrix(n, K, dLogits.subarray(0, n * K));
        matmul(dl, zd, { transA: true, beta: 1, out: this.gW2 });
        for (let r = 0; r < n; r++) for (let k = 0; k < K; k++) this.gb2[k] += dl.data[r * K + k];
        const dz = matmul(dl, this.W2, { out: matrix(n, this.embeddingDim, this.buffers.get("dz", n * this.embeddingDim)) });
        if (this.dropout > 0) for (let i = 0; i < dz.data.length; i++) dz.data[i] *= mask[i];
        this.backwardFromEmbedding(dz, z, vector, trunkOut, false);
        if (sgd) sgd.step(epochLr, weightDecay);
        else this.adam.step({ lr, weightDecay });
      }
      report = { epochs: epoch, trainAccuracy: correct / x.rows, loss: lossSum / x.rows, stoppedEarly: false, ms: 0 };
      onEpoch?.(epoch, report.trainAccuracy, report.loss);
      if (report.trainAccuracy >= targetAccuracy) {
        report.stoppedEarly = true;
        break;
      }
    }
    report.ms = performance.now() - started;
    return report;
  }

  private initialWeights(): Float32Array {
    return concatenate(this.initialParams, this.initialState);
  }

  /** Eval-mode embeddings a chunk at a time: no activations of the whole pool are ever kept. */
  private forEachChunk(x: Matrix, fn: (start: number, z: Matrix) => void): void {
    this.checkInput(x, "predict");
    for (let start = 0; start < x.rows; start += PREDICT_CHUNK) {
      const chunk = rowSlice(x, start, Math.min(x.rows, start + PREDICT_CHUNK));
      fn(start, this.embedBatch(chunk, false).z);
    }
  }

  embed(x: Matrix): Matrix {
    const out = matrix(x.rows, this.embeddingDim);
    this.forEachChunk(x, (start, z) => out.data.set(z.data, start * this.embeddingDim));
    return out;
  }

  predict(x: Matrix): Predictions {
    const embeddings = this.embed(x);
    return { probs: softmaxRows(this.headLogits(embeddings)), embeddings };
  }

  /** predict's probabilities, the same bits (the head over the whole pool: per chunk, a one-row last chunk took another GEMM path). */
  predictProbs(x: Matrix): Matrix {
    return softmaxRows(this.headLogits(this.embed(x)));
  }

  headLogits(z: Matrix): Matrix {
    if (z.cols !== this.embeddingDim) throw new UserError(`headLogits: embeddings have ${z.cols} columns, the head expects ${this.embeddingDim}`);
    const out = matrix(z.rows, this.numClasses);
    for (let r = 0; r < z.rows; r++) out.data.set(this.b2, r * this.numClasses);
    return matmul(z, this.W2, { transB: true, beta: 1, out });
  }

  lossGradientWrtEmbedding(z: Matrix, targets: Int32Array): Matrix {
    const r = softmaxRows(this.headLogits(z));
    for (let i = 0; i < z.rows; i++) r.data[i * this.numClasses + targets[i]] -= 1;
    return matmul(r, this.W2);
  }

  mcPredict(x: Matrix, samples: number, rng: Rng): Matrix[] {
    const out = Array.from({ length: samples }, () => matrix(x.rows, this.numClasses));
    this.forEachChunk(x, (start, z) => {
      const dropped = matrix(z.rows, z.cols),
        mask = new Float32Array(z.data.length);
      for (let t = 0; t < samples; t++) {
        dropped.data.set(z.data);
        if (this.dropout > 0) applyDropout(dropped, mask, this.dropout, rng);
        softmaxRows(this.headLogits(dropped), rowSlice(out[t], start, start + z.rows));
      }
    });
    return out;
  }

  /** ∂logits/∂input per image and class (eval mode): one backward pass through the whole network per class. */
  logitJacobian(x: Matrix): Matrix {
    this.checkInput(x, "logitJacobian");
    const K = this.numClasses,
      D = this.inputDim,
      { c, h, w } = this.options.input,
      hw = h * w;
    const out = matrix(x.rows * K, D);
    for (let start = 0; start < x.rows; start += PREDICT_CHUNK) {
      const chunk = rowSlice(x, start, Math.min(x.rows, start + PREDICT_CHUNK)),
        n = chunk.rows;
      for (let k = 0; k < K; k++) {
        const { trunkOut, vector, z } = this.embedBatch(chunk, false);
        const dz = matrix(n, this.embeddingDim);
        for (let i = 0; i < n; i++) dz.data.set(this.W2.data.subarray(k * this.embeddingDim, (k + 1) * this.embeddingDim), i * this.embeddingDim);
        const dx = this.backwardFromEmbedding(dz, z, vector, trunkOut, true)!;
        for (let i = 0; i < n; i++)
          for (let ch = 0; ch < c; ch++) {
            out.data.set(dx.data.subarray((ch * n + i) * hw, (ch * n + i + 1) * hw), ((start + i) * K + k) * D + ch * hw);
          }
      }
    }
    this.grads.fill(0); // the passes above accumulated parameter gradients nobody wants
    return out;
  }

  private checkInput(x: Matrix, what: string): void {
    if (x.cols !== this.inputDim)
      throw new UserError(
        `${what}: rows have ${x.cols} values, the ${this.kind} expects ${this.inputDim} (${this.options.input.c}×${this.options.input.h}×${this.options.input.w} images)`,
      );
  }
}

/** Parameters followed by the state arrays (running statistics), as one copy: what setWeights reads. */
function concatenate(params: Float32Array, state: Float32Array[]): Float32Array {
  const out = new Float32Array(params.length + state.reduce((n, s) => n + s.length, 0));
  out.set(params);
  let o = params.length;
  for (const s of state) {
    out.set(s, o);
    o += s.length;
  }
  return out;
}
