import { matmul } from "../../linalg/gemm.js";
import { matrix, type Matrix } from "../../linalg/matrix.js";
import type { Rng } from "../../random.js";
import { uniformInit, volume, type Buffers, type Volume, type VolumeLayer } from "./volume.js";

/**
 * Conv2d (square kernel, stride, zero padding, optional bias) as im2col + one GEMM for the whole
 * batch: the columns (Cin·k·k rows × N·OH·OW) times the weights (Cout × Cin·k·k) give the output
 * channel-major at once. In training the columns are kept for the backward pass while the model's
 * column budget lasts (im2col costs as much as a third of the layer's GEMMs); past it, and in eval
 * mode, they live in a scratch buffer shared by every layer and are rebuilt in the backward pass.
 * A 1×1 kernel at stride 1 without padding needs no columns at all.
 */
export class Conv2d implements VolumeLayer {
  readonly paramCount: number;
  private W!: Matrix;
  private b?: Float32Array;
  private gW!: Matrix;
  private gb?: Float32Array;
  private input?: Volume;
  /** The forward pass's columns, when training kept them. */
  private keptColumns?: Matrix;
  private readonly K: number;

  constructor(
    readonly name: string,
    private readonly buffers: Buffers,
    readonly inC: number, readonly outC: number, readonly k: number,
    readonly stride = 1, readonly pad = 0, readonly hasBias = true,
  ) {
    this.K = inC * k * k;
    this.paramCount = outC * this.K + (hasBias ? outC : 0);
  }

  bind(params: Float32Array, grads: Float32Array): void {
    const n = this.outC * this.K;
    this.W = matrix(this.outC, this.K, params.subarray(0, n));
    this.gW = matrix(this.outC, this.K, grads.subarray(0, n));
    if (this.hasBias) {
      this.b = params.subarray(n, n + this.outC);
      this.gb = grads.subarray(n, n + this.outC);
    }
  }

  /** PyTorch's default: kaiming_uniform_(a = √5), i.e. uniform ±1/√fan_in, and the same for the bias. */
  init(rng: Rng): void {
    const bound = 1 / Math.sqrt(this.K);
    uniformInit(this.W.data, bound, rng);
    if (this.b) uniformInit(this.b, bound, rng);
  }

  outputShape(x: Omit<Volume, "data">): Omit<Volume, "data"> {
    return { c: this.outC, n: x.n, h: Math.floor((x.h + 2 * this.pad - this.k) / this.stride) + 1, w: Math.floor((x.w + 2 * this.pad - this.k) / this.stride) + 1 };
  }

  private get pointwise(): boolean {
    return this.k === 1 && this.stride === 1 && this.pad === 0;
  }

  /** The input's columns (K × N·OH·OW), or the input itself for a pointwise conv; `keep` asks for a buffer of this layer's own. */
  private columns(x: Volume, shape: Omit<Volume, "data">, keep: boolean): { cols: Matrix; kept: boolean } {
    const M = shape.n * shape.h * shape.w;
    if (this.pointwise) return { cols: matrix(this.K, M, x.data), kept: false };
    const own = keep ? this.buffers.keep(`${this.name}/cols`, this.K * M) : undefined;
    const cols = own ?? this.buffers.scratch("conv/cols", this.K * M);
    im2col(x, this.k, this.stride, this.pad, shape.h, shape.w, cols);
    return { cols: matrix(this.K, M, cols), kept: own !== undefined };
  }

  forward(x: Volume, train: boolean): Volume {
    const shape = this.outputShape(x);
    const M = shape.n * shape.h * shape.w;
    const out = matrix(this.outC, M, this.buffers.get(`${this.name}/out`, this.outC * M));
    if (this.b) for (let c = 0; c < this.outC; c++) out.data.fill(this.b[c], c * M, (c + 1) * M);
    const { cols, kept } = this.columns(x, shape, train);
    matmul(this.W, cols, { beta: this.b ? 1 : 0, out });
    this.input = x;
    this.keptColumns = kept ? cols : undefined;
    return volume(shape, out.data);
  }

  backward(dy: Volume, needInput: boolean): Volume | undefined {
    const x = this.input!, M = dy.n * dy.h * dy.w;
    const dOut = matrix(this.outC, M, dy.data);
    matmul(dOut, this.keptColumns ?? this.columns(x, dy, false).cols, { transB: true, beta: 1, out: this.gW });
    if (this.gb) {
      for (let c = 0; c < this.outC; c++) {
        let s = 0;
        for (let i = c * M; i < (c + 1) * M; i++) s += dy.data[i];
        this.gb[c] += s;
      }
    }
    if (!needInput) return undefined;
    const dx = this.buffers.get(`${this.name}/dx`, x.c * x.n * x.h * x.w);
    if (this.pointwise) {
      matmul(this.W, dOut, { transA: true, out: matrix(this.K, M, dx) });
    } else {
      const dCols = matmul(this.W, dOut, { transA: true, out: matrix(this.K, M, this.buffers.scratch("conv/dcols", this.K * M)) });
      col2im(dCols.data, this.k, this.stride, this.pad, dy.h, dy.w, volume(x, dx));
    }
    return volume(x, dx);
  }
}

/**
 * Columns of a convolution: row (ci·k + ky)·k + kx holds, for every output position (n, oy, ox),
 * the input at (ci, n, oy·s − p + ky, ox·s − p + kx), or 0 in the padding.
 */
export function im2col(x: Volume, k: number, s: number, p: number, oh: number, ow: number, out: Float32Array): void {
  const { c, n, h, w, data } = x;
  const M = n * oh * ow;
  for (let ci = 0; ci < c; ci++) {
    for (let ky = 0; ky < k; ky++) {
      for (let kx = 0; kx < k; kx++) {
        const row = ((ci * k + ky) * k + kx) * M;
        // Output columns ox whose input column ix = ox·s − p + kx lies inside the image.
        const lo = Math.max(0, Math.ceil((p - kx) / s)), hi = Math.min(ow, Math.floor((w - 1 + p - kx) / s) + 1);
        for (let b = 0; b < n; b++) {
          const plane = (ci * n + b) * h * w;
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * s - p + ky, dst = row + (b * oh + oy) * ow;
            if (iy < 0 || iy >= h) {
              out.fill(0, dst, dst + ow);
              continue;
            }
            const src = plane + iy * w - p + kx;
            for (let ox = 0; ox < lo; ox++) out[dst + ox] = 0;
            if (s === 1) for (let ox = lo; ox < hi; ox++) out[dst + ox] = data[src + ox];
            else for (let ox = lo; ox < hi; ox++) out[dst + ox] = data[src + ox * s];
            for (let ox = Math.max(lo, hi); ox < ow; ox++) out[dst + ox] = 0;
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: every column value added back at the input position it came from (dx is overwritten). */
export function col2im(cols: Float32Array, k: number, s: number, p: number, oh: number, ow: number, dx: Volume): void {
  const { c, n, h, w, data } = dx;
  data.fill(0);
  const M = n * oh * ow;
  for (let ci = 0; ci < c; ci++) {
    for (let ky = 0; ky < k; ky++) {
      for (let kx = 0; kx < k; kx++) {
        const row = ((ci * k + ky) * k + kx) * M;
        const lo = Math.max(0, Math.ceil((p - kx) / s)), hi = Math.min(ow, Math.floor((w - 1 + p - kx) / s) + 1);
        for (let b = 0; b < n; b++) {
          const plane = (ci * n + b) * h * w;
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * s - p + ky;
            if (iy < 0 || iy >= h) continue;
            const src = row + (b * oh + oy) * ow, dst = plane + iy * w - p + kx;
            if (s === 1) for (let ox = lo; ox < hi; ox++) data[dst + ox] += cols[src + ox];
            else for (let ox = lo; ox < hi; ox++) data[dst + ox * s] += cols[src + ox];
          }
        }
      }
    }
  }
}
