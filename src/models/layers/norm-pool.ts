import type { Rng } from "../../random.js";
import { sumAndDot, sumAndSquares, volume, type Buffers, type Volume, type VolumeLayer } from "./volume.js";

/**
 * BatchNorm2d as PyTorch computes it: in training, each channel normalised by its batch mean and
 * biased variance, and the running statistics updated with momentum 0.1 (the unbiased variance);
 * in evaluation, the running statistics. eps 1e-5; γ = 1, β = 0 at initialisation.
 */
export class BatchNorm2d implements VolumeLayer {
  readonly paramCount: number;
  readonly runningMean: Float32Array;
  readonly runningVar: Float32Array;
  private gamma!: Float32Array;
  private beta!: Float32Array;
  private gGamma!: Float32Array;
  private gBeta!: Float32Array;
  private readonly mean: Float32Array;
  private readonly invStd: Float32Array;
  /**
   * The last forward pass's input, read again by the backward pass instead of a stored x̂ (one
   * tensor less to write and keep). It is a convolution's output buffer, which nothing changes
   * until that convolution's next forward pass.
   */
  private input?: Float32Array;
  /** Whether the last forward pass was in training mode (the backward pass differs). */
  private trained = false;

  constructor(readonly name: string, private readonly buffers: Buffers, readonly channels: number, readonly momentum = 0.1, readonly eps = 1e-5) {
    this.paramCount = 2 * channels;
    this.runningMean = new Float32Array(channels);
    this.runningVar = new Float32Array(channels).fill(1);
    this.mean = new Float32Array(channels);
    this.invStd = new Float32Array(channels);
  }

  bind(params: Float32Array, grads: Float32Array): void {
    const c = this.channels;
    this.gamma = params.subarray(0, c);
    this.beta = params.subarray(c, 2 * c);
    this.gGamma = grads.subarray(0, c);
    this.gBeta = grads.subarray(c, 2 * c);
  }

  init(_rng: Rng): void {
    this.gamma.fill(1);
    this.beta.fill(0);
    this.runningMean.fill(0);
    this.runningVar.fill(1);
  }

  state(): Float32Array[] {
    return [this.runningMean, this.runningVar];
  }

  outputShape(x: Omit<Volume, "data">): Omit<Volume, "data"> {
    return { c: x.c, n: x.n, h: x.h, w: x.w };
  }

  forward(x: Volume, train: boolean): Volume {
    const M = x.n * x.h * x.w, d = x.data;
    const out = this.buffers.get(`${this.name}/out`, d.length);
    for (let c = 0; c < this.channels; c++) {
      const o = c * M;
      let mean: number, invStd: number;
      if (train) {
        // One pass for both moments, in float64: the cancellation in E[x²] − E[x]² costs a few of
        // float64's 16 digits, far below float32's 7, and the pass reads the channel once less.
        const { sum: s, squares } = sumAndSquares(d, o, o + M);
        mean = s / M;
        const v = Math.max(0, squares - s * mean);
        const variance = v / M;
        invStd = 1 / Math.sqrt(variance + this.eps);
        this.runningMean[c] = (1 - this.momentum) * this.runningMean[c] + this.momentum * mean;
        this.runningVar[c] = (1 - this.momentum) * this.runningVar[c] + this.momentum * (M > 1 ? (v / (M - 1)) : variance);
      } else {
        mean = this.runningMean[c];
        invStd = 1 / Math.sqrt(this.runningVar[c] + this.eps);
      }
      this.mean[c] = mean;
      this.invStd[c] = invStd;
      const scale = this.gamma[c] * invStd, shift = this.beta[c] - mean * scale;
      for (let i = o; i < o + M; i++) out[i] = d[i] * scale + shift;
    }
    this.input = d;
    this.trained = train;
    return volume(x, out);
  }

  /**
   * Training mode: dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂)) per channel, dγ = Σ dy·x̂,
   * dβ = Σ dy, with x̂ = (x − μ)/σ. Expanded, dx is a·dy + b·x + c per channel, so one pass
   * sums dy and dy·x and a second writes dx. Evaluation mode (the input gradients DFAL needs): the
   * layer is affine, dx = γ/σ · dy.
   */
  backward(dy: Volume, _needInput: boolean): Volume {
    const M = dy.n * dy.h * dy.w, g = dy.data, x = this.input!;
    const dx = this.buffers.get(`${this.name}/dx`, g.length);
    if (!this.trained) {
      for (let c = 0; c < this.channels; c++) {
        const scale = this.gamma[c] * this.invStd[c];
        for (let i = c * M; i < (c + 1) * M; i++) dx[i] = scale * g[i];
      }
      return volume(dy, dx);
    }
    for (let c = 0; c < this.channels; c++) {
      const o = c * M, mean = this.mean[c], invStd = this.invStd[c];
      const { sum: sumG, dot: dotGX } = sumAndDot(g, x, o, o + M);
      const dot = invStd * (dotGX - mean * sumG); // Σ dy·x̂
      this.gBeta[c] += sumG;
      this.gGamma[c] += dot;
      const scale = this.gamma[c] * invStd, meanG = sumG / M, meanDot = dot / M;
      const a = scale, b = -scale * invStd * meanDot, k = scale * (mean * invStd * meanDot - meanG);
      for (let i = o; i < o + M; i++) dx[i] = a * g[i] + b * x[i] + k;
    }
    return volume(dy, dx);
  }
}

/** ReLU in place on its input (the layer before keeps no use for it); the backward pass reads the output's sign. */
export class ReLU implements VolumeLayer {
  readonly paramCount = 0;
  private output?: Float32Array;

  constructor(readonly name: string, private readonly buffers: Buffers) {}
  bind(): void {}
  init(): void {}
  outputShape(x: Omit<Volume, "data">): Omit<Volume, "data"> {
    return x;
  }

  // Multiplying by the comparison instead of branching: half the signs are random, and the
  // mispredicted branches made these loops 3–5× slower. (+ 0 turns the −0 of negative inputs into 0.)
  forward(x: Volume, _train: boolean): Volume {
    const d = x.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      d[i] = v * Number(v > 0) + 0;
    }
    this.output = d;
    return x;
  }

  backward(dy: Volume, _needInput: boolean): Volume {
    const dx = this.buffers.get(`${this.name}/dx`, dy.data.length);
    passWherePositive(dy.data, this.output!, dx);
    return volume(dy, dx);
  }
}

/** dx = g where out > 0, else 0: ReLU's backward pass, branch-free (see ReLU). */
export function passWherePositive(g: Float32Array, out: Float32Array, dx: Float32Array): void {
  for (let i = 0; i < g.length; i++) dx[i] = g[i] * Number(out[i] > 0) + 0;
}

/** MaxPool2d (square window, stride, zero-free padding): the argmax of each window is kept for the backward pass. */
export class MaxPool2d implements VolumeLayer {
  readonly paramCount = 0;
  private argmax?: Int32Array;
  private inputShape?: Omit<Volume, "data">;
  private readonly argmaxes = new Map<number, Int32Array>();

  constructor(readonly name: string, private readonly buffers: Buffers, readonly k: number, readonly stride = k, readonly pad = 0) {}
  bind(): void {}
  init(): void {}
  outputShape(x: Omit<Volume, "data">): Omit<Volume, "data"> {
    return { c: x.c, n: x.n, h: Math.floor((x.h + 2 * this.pad - this.k) / this.stride) + 1, w: Math.floor((x.w + 2 * this.pad - this.k) / this.stride) + 1 };
  }

  forward(x: Volume, _train: boolean): Volume {
    const shape = this.outputShape(x), { h, w } = x, { h: oh, w: ow } = shape, planes = x.c * x.n;
    const size = planes * oh * ow;
    const out = this.buffers.get(`${this.name}/out`, size);
    let argmax = this.argmaxes.get(size);
    if (!argmax) this.argmaxes.set(size, (argmax = new Int32Array(size)));
    const { k, stride: s, pad: p } = this, d = x.data;
    if (k === 2 && s === 2 && p === 0 && h % 2 === 0 && w % 2 === 0) {
      maxPool2x2(d, planes, h, w, out, argmax);
      this.argmax = argmax;
      this.inputShape = x;
      return volume(shape, out);
    }
    for (let plane = 0; plane < planes; plane++) {
      const src = plane * h * w, dst = plane * oh * ow;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let best = -Infinity, at = -1;
          for (let ky = 0; ky < k; ky++) {
            const iy = oy * s - p + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < k; kx++) {
              const ix = ox * s - p + kx;
              if (ix < 0 || ix >= w) continue;
              const v = d[src + iy * w + ix];
              if (v > best) {
                best = v;
                at = src + iy * w + ix;
              }
            }
          }
          out[dst + oy * ow + ox] = best;
          argmax[dst + oy * ow + ox] = at;
        }
      }
    }
    this.argmax = argmax;
    this.inputShape = x;
    return volume(shape, out);
  }

  backward(dy: Volume, _needInput: boolean): Volume {
    const x = this.inputShape!, dx = this.buffers.get(`${this.name}/dx`, x.c * x.n * x.h * x.w);
    dx.fill(0);
    const argmax = this.argmax!, g = dy.data;
    for (let i = 0; i < g.length; i++) dx[argmax[i]] += g[i];
    return volume(x, dx);
  }
}

/** The common 2×2, stride-2 window without the general loop's bounds checks: the same maxima, ties to the first in row order. */
function maxPool2x2(d: Float32Array, planes: number, h: number, w: number, out: Float32Array, argmax: Int32Array): void {
  const ow = w / 2;
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    for (let oy = 0; oy < h / 2; oy++) {
      const top = plane * h * w + 2 * oy * w;
      for (let ox = 0; ox < ow; ox++, o++) {
        const a = top + 2 * ox, b = a + w;
        let best = -Infinity, at = -1;
        if (d[a] > best) [best, at] = [d[a], a];
        if (d[a + 1] > best) [best, at] = [d[a + 1], a + 1];
        if (d[b] > best) [best, at] = [d[b], b];
        if (d[b + 1] > best) [best, at] = [d[b + 1], b + 1];
        out[o] = best;
        argmax[o] = at;
      }
    }
  }
}
