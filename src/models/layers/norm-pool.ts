import type { Rng } from "../../random.js";
import { split, splitElements } from "./split.js";
import { sharedFloats } from "./volume.js";
import { volume, type Buffers, type Volume, type VolumeLayer } from "./volume.js";

/**
 * BatchNorm2d as PyTorch computes it: in training, each channel normalised by its batch mean and
 * biased variance, and the running statistics updated with momentum 0.1 (the unbiased variance);
 * in evaluation, the running statistics. eps 1e-5; γ = 1, β = 0 at initialisation. The passes are
 * kernels.ts's, split over channels (split.ts), so every per-channel array is in shared memory.
 * With `relu`, it is BatchNorm2d followed by ReLU, in the same passes: ResNet's stem and the first
 * half of each block. The output is then written once and read once less each way, and the
 * results are the same bits as the two layers.
 */
export class BatchNorm2d implements VolumeLayer {
  readonly paramCount: number;
  readonly runningMean: Float32Array;
  readonly runningVar: Float32Array;
  private gamma!: Float32Array;
  private beta!: Float32Array;
  private gGamma!: Float32Array;
  private gBeta!: Float32Array;
  /** γ and β as of the forward pass, copied where the helper thread can read them. */
  private readonly affine: Float32Array;
  private readonly mean: Float32Array;
  private readonly invStd: Float32Array;
  /** Per channel Σ dy and Σ dy·x̂ from the backward pass, before they are added to dβ and dγ. */
  private readonly sums: Float32Array;
  /**
   * The last forward pass's input, read again by the backward pass instead of a stored x̂ (one
   * tensor less to write and keep). It is a convolution's output buffer, which nothing changes
   * until that convolution's next forward pass.
   */
  private input?: Float32Array;
  /** Whether the last forward pass was in training mode (the backward pass differs). */
  private trained = false;
  /** The last forward pass's output, whose sign the backward pass reads when there is a ReLU. */
  private output?: Float32Array;

  constructor(
    readonly name: string,
    private readonly buffers: Buffers,
    readonly channels: number,
    readonly relu = false,
    readonly momentum = 0.1,
    readonly eps = 1e-5,
  ) {
    this.paramCount = 2 * channels;
    this.runningMean = sharedFloats(channels);
    this.runningVar = sharedFloats(channels).fill(1);
    this.affine = sharedFloats(2 * channels);
    this.mean = sharedFloats(channels);
    this.invStd = sharedFloats(channels);
    this.sums = sharedFloats(2 * channels);
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
    const C = this.channels,
      M = x.n * x.h * x.w,
      d = x.data;
    const out = this.buffers.get(`${this.name}/out`, d.length);
    this.affine.set(this.gamma);
    this.affine.set(this.beta, C);
    const gamma = this.affine.subarray(0, C),
      beta = this.affine.subarray(C);
    split(
      "batchNormForward",
      [d, out, gamma, beta, this.mean, this.invStd, this.runningMean, this.runningVar],
      [M, Number(train), this.eps, this.momentum, Number(this.relu)],
      C,
      d.length,
    );
    this.input = d;
    this.output = out;
    this.trained = train;
    return volume(x, out);
  }

  backward(dy: Volume, _needInput: boolean): Volume {
    const C = this.channels,
      M = dy.n * dy.h * dy.w,
      g = dy.data;
    const dx = this.buffers.gradient(g.length, g);
    const sumG = this.sums.subarray(0, C),
      dot = this.sums.subarray(C);
    const arrays = [g, this.input!, dx, this.affine.subarray(0, C), this.mean, this.invStd, sumG, dot];
    split("batchNormBackward", this.relu ? [...arrays, this.output!] : arrays, [M, Number(this.trained)], C, g.length);
    if (this.trained) {
      for (let c = 0; c < C; c++) {
        this.gBeta[c] += sumG[c];
        this.gGamma[c] += dot[c];
      }
    }
    return volume(dy, dx);
  }
}

/** ReLU in place on its input (the layer before keeps no use for it); the backward pass reads the output's sign. */
export class ReLU implements VolumeLayer {
  readonly paramCount = 0;
  private output?: Float32Array;

  constructor(
    readonly name: string,
    private readonly buffers: Buffers,
  ) {}
  bind(): void {}
  init(): void {}
  outputShape(x: Omit<Volume, "data">): Omit<Volume, "data"> {
    return x;
  }

  forward(x: Volume, _train: boolean): Volume {
    splitElements("relu", [x.data]);
    this.output = x.data;
    return x;
  }

  backward(dy: Volume, _needInput: boolean): Volume {
    const dx = this.buffers.gradient(dy.data.length, dy.data);
    splitElements("passWherePositive", [dy.data, this.output!, dx]);
    return volume(dy, dx);
  }
}

/** MaxPool2d (square window, stride, zero-free padding): the argmax of each window is kept for the backward pass. */
export class MaxPool2d implements VolumeLayer {
  readonly paramCount = 0;
  private argmax?: Int32Array;
  private inputShape?: Omit<Volume, "data">;

  constructor(
    readonly name: string,
    private readonly buffers: Buffers,
    readonly k: number,
    readonly stride = k,
    readonly pad = 0,
  ) {}
  bind(): void {}
  init(): void {}
  outputShape(x: Omit<Volume, "data">): Omit<Volume, "data"> {
    return { c: x.c, n: x.n, h: Math.floor((x.h + 2 * this.pad - this.k) / this.stride) + 1, w: Math.floor((x.w + 2 * this.pad - this.k) / this.stride) + 1 };
  }

  forward(x: Volume, _train: boolean): Volume {
    const shape = this.outputShape(x),
      { h, w } = x,
      { h: oh, w: ow } = shape,
      planes = x.c * x.n;
    const size = planes * oh * ow;
    const out = this.buffers.get(`${this.name}/out`, size);
    // The indices share the arena with the values, for pool.wat (as int32 bits in a float buffer).
    const indices = this.buffers.get(`${this.name}/argmax`, size);
    const argmax = new Int32Array(indices.buffer, indices.byteOffset, size);
    const { k, stride: s, pad: p } = this,
      d = x.data;
    this.argmax = argmax;
    this.inputShape = x;
    if (this.windows2x2(x)) {
      split("maxPool2x2", [d, out, indices], [h, w], planes, d.length);
      return volume(shape, out);
    }
    for (let plane = 0; plane < planes; plane++) {
      const src = plane * h * w,
        dst = plane * oh * ow;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let best = -Infinity,
            at = -1;
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
    return volume(shape, out);
  }

  /** 2×2 windows at stride 2 over even sizes: kernels.ts's loops, split over planes (pool.wat's when rows are a multiple of 8 wide). */
  private windows2x2(x: Omit<Volume, "data">): boolean {
    return this.k === 2 && this.stride === 2 && this.pad === 0 && x.h % 2 === 0 && x.w % 2 === 0;
  }

  backward(dy: Volume, _needInput: boolean): Volume {
    const x = this.inputShape!,
      dx = this.buffers.gradient(x.c * x.n * x.h * x.w, dy.data);
    const argmax = this.argmax!,
      g = dy.data;
    if (this.windows2x2(x)) {
      split("maxPool2x2Backward", [g, new Float32Array(argmax.buffer, argmax.byteOffset, argmax.length), dx], [x.h, x.w], x.c * x.n, dx.length);
      return volume(x, dx);
    }
    dx.fill(0);
    for (let i = 0; i < g.length; i++) dx[argmax[i]] += g[i];
    return volume(x, dx);
  }
}
