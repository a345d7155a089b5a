import { matmul } from "../../linalg/gemm.js";
import { matrix, type Matrix } from "../../linalg/matrix.js";
import type { Rng } from "../../random.js";
import { columnScalars, tileGemmScalars, winogradScalars, type TileGemm } from "./kernels.js";
import { split, splitElements, splitGemms } from "./split.js";
import { sharedFloats, uniformInit, volume, volumeSize, type Buffers, type Volume, type VolumeLayer } from "./volume.js";
import { accumulateWeightGradient, planeStride, tileBufferSize, tiling, transformWeights, type TileSize, type Tiling } from "./winograd.js";
import { imagesAtOnce, poolsInTiles } from "./winograd4.js";
import { MaxPool2d } from "./norm-pool.js";
import { inArena } from "./arena.js";

/** How a convolution runs: `auto` picks by shape (see Conv2d); the others force one, for tests. */
export type ConvAlgorithm = "auto" | "im2col" | "winograd" | "winograd4";

export const WINOGRAD_MIN_CHANNELS = 32;

/**
 * A first layer's products are thin (cnn's: 32 × 27 weights over 65,536 positions) and run badly on
 * OpenBLAS's two threads (42–65 GFLOP/s): with at most THIN_WEIGHTS weights and at least
 * PARTS × 1,024 positions, they go as PARTS products over parts of the positions, shared between the
 * threads (Conv2d's thinProducts).
 */
const THIN_WEIGHTS = 64 * 64;
const PARTS = 8;

let onesVector = new Float32Array(0);

/** n ones (grown, never shrunk), to sum rows through the GEMM. */
function ones(n: number): Float32Array {
  if (onesVector.length < n) onesVector = new Float32Array(n).fill(1);
  return onesVector.subarray(0, n);
}

/**
 * Conv2d (square kernel, stride, zero padding, optional bias) as im2col + one GEMM for the whole
 * batch: the columns (Cin·k·k rows × N·OH·OW) times the weights (Cout × Cin·k·k) give the output
 * channel-major at once. In training the columns are kept for the backward pass while the model's
 * column budget lasts (im2col costs as much as a third of the layer's GEMMs); past it, and in eval
 * mode, they live in a scratch buffer shared by every layer and are rebuilt in the backward pass.
 * A 1×1 kernel at stride 1 without padding needs no columns at all.
 *
 * With `relu`, the conv is followed by a ReLU, fused as BatchNorm2d's is: F(4×4, 3×3)'s output
 * transform writes max(0, ·) and its output-gradient transform reads dy masked by the output's sign,
 * so neither the output nor its gradient is read and written again by a layer of its own (cnn's
 * four ReLU layers were 12% of its training step). Elsewhere the ReLU is a pass of its own.
 * With `pool` too, a 2×2 max-pool at stride 2 follows the ReLU: F(4×4)'s output transform writes
 * only each window's maximum and where it was, and its output-gradient transform rebuilds each
 * tile's gradient from those, so the full-size output and its gradient are never written (output
 * sizes that are multiples of 4, in the arena); elsewhere a MaxPool2d of the layer's own runs.
 *
 * A 3×3 kernel at stride 1 with at least `WINOGRAD_MIN_CHANNELS` channels in and out goes through
 * Winograd instead, whose tiles are kept the same way: F(4×4, 3×3) (`winograd4.ts`) wherever its
 * images fit its SIMD transforms' scratch (up to about 80×80), else F(2×2, 3×3) (`winograd.ts`).
 * F(2×2)'s GEMMs are 2.25× smaller than im2col's and F(4×4)'s 4×, and their transforms cost a pass
 * over 4× and 2.25× the input. Measured (alternating pairs of 10-step fits, batch 64, 32×32):
 * - F(4×4) over F(2×2), with V8's WebAssembly inlining (wasm.ts): a ResNet-18 step 0.84–0.90
 *   against 1.23–1.26 s, `cnn`'s 74–76 against 98–100 ms.
 * - F(2×2) over im2col, from 32 channels with its transforms in SIMD: `cnn`'s step 108–113 against
 *   130–133 ms. Before SIMD, in JavaScript, one conv's forward + backward at batch 64 on one
 *   thread: level at 64 channels and 32×32 (124–134 against 125–131 ms), and ahead from 128
 *   channels at 16×16 (86–91 against 103–106 ms) to 512 at 4×4 (62–64 against 95 ms).
 */
export class Conv2d implements VolumeLayer {
  readonly paramCount: number;
  private W!: Matrix;
  private b?: Float32Array;
  /** The bias as of the forward pass, copied where the helper thread can read it (the parameters are not shared memory). */
  private readonly sharedBias?: Float32Array;
  /** The weights, likewise, for a thin layer (THIN_WEIGHTS). */
  private readonly sharedWeights?: Float32Array;
  private gW!: Matrix;
  private gb?: Float32Array;
  private input?: Volume;
  /** The forward pass's columns, when training kept them. */
  private keptColumns?: Matrix;
  /** The forward pass's Winograd tiles, when training kept them. */
  private keptTiles?: Float32Array;
  private readonly K: number;
  /** Through Winograd: F(2×2, 3×3), F(4×4, 3×3), or chosen by the input's size (auto). */
  private readonly winograd?: TileSize | "auto";
  /** The last forward pass's output, whose sign the backward pass reads when there is a ReLU. */
  private output?: Float32Array;
  /** The max-pool after the ReLU, when it runs as a layer of its own. */
  private readonly pooling?: MaxPool2d;
  /** Where each window's maximum was, when the last forward pass pooled in the output transform. */
  private positions?: Float32Array;
  /** The input is the output of the conv before's ReLU, and this layer masks its input gradient for it (`followsRelu`). */
  private masksInputGradient = false;
  /** The conv after masks the gradient for this layer's ReLU. */
  private gradientArrivesMasked = false;

  constructor(
    readonly name: string,
    private readonly buffers: Buffers,
    readonly inC: number,
    readonly outC: number,
    readonly k: number,
    readonly stride = 1,
    readonly pad = 0,
    readonly hasBias = true,
    algorithm: ConvAlgorithm = "auto",
    readonly relu = false,
    pool = false,
  ) {
    if (pool && !relu) throw new RangeError(`${name}: the fused max-pool follows a ReLU`);
    if (pool) this.pooling = new MaxPool2d(`${name}/pool`, buffers, 2);
    this.K = inC * k * k;
    const possible = k === 3 && stride === 1 && pad <= 2;
    if ((algorithm === "winograd" || algorithm === "winograd4") && !possible)
      throw new RangeError(`${name}: Winograd needs a 3×3 kernel at stride 1 with padding up to 2`);
    if (algorithm === "winograd") this.winograd = 2;
    else if (algorithm === "winograd4") this.winograd = 4;
    else if (algorithm === "auto" && possible && Math.min(inC, outC) >= WINOGRAD_MIN_CHANNELS) this.winograd = "auto";
    this.paramCount = outC * this.K + (hasBias ? outC : 0);
    if (hasBias) this.sharedBias = sharedFloats(outC);
    if (outC * this.K <= THIN_WEIGHTS) this.sharedWeights = sharedFloats(outC * this.K);
  }

  /**
   * Take over the ReLU's backward pass of `before`, whose output is this layer's input: the input
   * gradient goes out masked by [input > 0], in F(4×4)'s input-gradient transform as it writes it
   * (cnn's first layer, through im2col, otherwise masked it in a pass of its own: 2% of a step).
   */
  followsRelu(before: Conv2d): void {
    if (!before.relu || before.pooling) throw new RangeError(`${this.name}: ${before.name} has no ReLU of its own at its output`);
    this.masksInputGradient = true;
    before.gradientArrivesMasked = true;
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
    const shape = this.convShape(x);
    return this.pooling ? this.pooling.outputShape(shape) : shape;
  }

  /** The convolution's own output, before any pooling. */
  private convShape(x: Omit<Volume, "data">): Omit<Volume, "data"> {
    return {
      c: this.outC,
      n: x.n,
      h: Math.floor((x.h + 2 * this.pad - this.k) / this.stride) + 1,
      w: Math.floor((x.w + 2 * this.pad - this.k) / this.stride) + 1,
    };
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
    split("columns", [x.data, cols], columnScalars(x, this.k, this.stride, this.pad, shape.h, shape.w), x.c, this.K * M);
    return { cols: matrix(this.K, M, cols), kept: own !== undefined };
  }

  forward(x: Volume, train: boolean): Volume {
    const shape = this.convShape(x);
    const M = shape.n * shape.h * shape.w;
    this.input = x;
    if (this.b) this.sharedBias!.set(this.b);
    if (this.winograd) return this.forwardWinograd(x, shape, train);
    const out = matrix(this.outC, M, this.buffers.get(`${this.name}/out`, this.outC * M));
    const { cols, kept } = this.columns(x, shape, train);
    this.product(cols, out);
    this.keptColumns = kept ? cols : undefined;
    return this.activated(volume(shape, out.data), true, train);
  }

  /** y through the layer's ReLU, unless there is none or the output transform already `applied` it, and its pooling. */
  private activated(y: Volume, applied: boolean, train: boolean): Volume {
    if (this.relu && !applied) splitElements("relu", [y.data]);
    this.output = y.data;
    this.positions = undefined;
    return this.pooling ? this.pooling.forward(y, train) : y;
  }

  /** dy masked by [y > 0] (the ReLU's backward pass), in a gradient buffer, when the layer has a ReLU that neither the output-gradient transform nor the conv after applies. */
  private unactivated(dy: Volume, fused: boolean): Volume {
    if (!this.relu || fused || this.gradientArrivesMasked) return dy;
    const g = this.buffers.gradient(dy.data.length, dy.data);
    splitElements("passWherePositive", [dy.data, this.output!, g]);
    return volume(dy, g);
  }

  /** The input's Winograd tiles V; `keep` asks for a buffer of this layer's own. */
  private tiles(x: Volume, tl: Tiling, keep: boolean): { V: Float32Array; kept: boolean } {
    const size = tileBufferSize(this.inC * tl.tiles, tl.m);
    const own = keep ? this.buffers.keep(`${this.name}/tiles`, size) : undefined;
    const V = own ?? this.buffers.scratch("winograd/in", size);
    split("winogradInput", [x.data, V], winogradScalars(x, this.pad, tl), this.inC, V.length);
    return { V, kept: own !== undefined };
  }

  /**
   * The weights' Winograd transform U, in a scratch buffer every layer shares: the backward pass
   * transforms them again (under 1% of a ResNet-18 step) rather than keep 68 MB of U per model.
   */
  private transformedWeights(m: TileSize): Float32Array {
    const U = this.buffers.scratch("winograd/U", tileBufferSize(this.outC * this.inC, m));
    transformWeights(this.W.data, this.outC, this.inC, U, m);
    return U;
  }

  /**
   * The input's tiling: F(4×4, 3×3) on auto wherever its images fit the SIMD transforms' scratch and
   * the input lies in the arena (outside it, F(4×4)'s transforms are literal float64 loops, and
   * F(2×2)'s JavaScript loops are far faster).
   */
  private tiling(x: Volume): Tiling {
    if (this.winograd !== "auto") return tiling(x, this.pad, this.winograd);
    const four = tiling(x, this.pad, 4);
    return imagesAtOnce(four, 1) > 0 && inArena(x.data) ? four : tiling(x, this.pad, 2);
  }

  private forwardWinograd(x: Volume, shape: Omit<Volume, "data">, train: boolean): Volume {
    const { inC, outC } = this,
      tl = this.tiling(x);
    const U = this.transformedWeights(tl.m);
    const { V, kept } = this.tiles(x, tl, train);
    const products = this.buffers.scratch("winograd/out", tileBufferSize(outC * tl.tiles, tl.m));
    this.tileGemms("products", [U, V, products], outC, inC, tl);
    this.keptTiles = kept ? V : undefined;
    const bias = this.b ? [this.sharedBias!] : [];
    if (this.pooling) {
      const pooled = this.pooling.outputShape(shape);
      const p = volume(pooled, this.buffers.get(`${this.name}/pooled`, volumeSize(pooled)));
      const positions = this.buffers.get(`${this.name}/positions`, volumeSize(pooled));
      if (poolsInTiles(tl, products, p.data, positions)) {
        split("winogradOutputPooled", [products, p.data, positions, ...bias], winogradScalars(p, 0, tl), outC, products.length);
        this.positions = positions;
        return p;
      }
    }
    const y = volume(shape, this.buffers.get(`${this.name}/out`, volumeSize(shape)));
    const fused = this.relu && tl.m === 4;
    split("winogradOutput", [products, y.data, ...bias], [...winogradScalars(y, 0, tl), Number(fused)], outC, products.length);
    return this.activated(y, fused, train);
  }

  private backwardWinograd(dy: Volume, needInput: boolean): Volume | undefined {
    const x = this.input!,
      { inC, outC } = this,
      tl = this.tiling(x);
    const D = this.buffers.scratch("winograd/out", tileBufferSize(outC * tl.tiles, tl.m));
    if (this.positions) {
      split("winogradOutputGradientPooled", [dy.data, this.positions, D], winogradScalars(dy, 0, tl), outC, D.length);
    } else {
      if (this.pooling) dy = this.pooling.backward(dy, true);
      const fused = this.relu && tl.m === 4 && !this.gradientArrivesMasked;
      dy = this.unactivated(dy, fused);
      split("winogradOutputGradient", fused ? [dy.data, D, this.output!] : [dy.data, D], winogradScalars(dy, 0, tl), outC, D.length);
    }
    const V = this.keptTiles ?? this.tiles(x, tl, false).V;
    const dU = this.buffers.scratch("winograd/dU", tileBufferSize(outC * inC, tl.m));
    this.tileGemms("weightGradients", [D, V, dU], outC, inC, tl);
    accumulateWeightGradient(dU, outC, inC, this.gW.data, tl.m);
    this.addBiasGradientFromTiles(D, tl);
    if (!needInput) return undefined;
    // ∂V[ξ] = U[ξ]ᵀ D[ξ], then the tiles' B ∂V Bᵀ added back into ∂x.
    const dV = this.buffers.scratch("winograd/in", tileBufferSize(inC * tl.tiles, tl.m));
    this.tileGemms("transposedProducts", [this.transformedWeights(tl.m), D, dV], inC, outC, tl);
    const dx = volume(x, this.buffers.gradient(volumeSize(x), dy.data));
    const masked = this.masksInputGradient && tl.m === 4;
    split("winogradInputGradient", masked ? [dV, dx.data, x.data] : [dV, dx.data], winogradScalars(dx, this.pad, tl), inC, dV.length);
    return this.inputGradient(dx, masked);
  }

  /** dx, masked by [x > 0] for the ReLU before when this layer masks for it and has not `already`. */
  private inputGradient(dx: Volume, already: boolean): Volume {
    if (this.masksInputGradient && !already) splitElements("passWherePositive", [dx.data, this.input!.data, dx.data]);
    return dx;
  }

  /**
   * out = W · cols plus the bias and through the ReLU: in parts over both threads when the layer is
   * thin, each part's bias and ReLU while it is in cache; else one GEMM, then the bias and the ReLU
   * in one pass (a fill before it, for the GEMM to add to, wrote the output once more).
   */
  private product(cols: Matrix, out: Matrix): void {
    const bias = this.b ? [this.sharedBias!] : [],
      relu = Number(this.relu);
    if (this.thin(cols.cols)) {
      const w = this.sharedWeights!;
      w.set(this.W.data);
      const scalars = [this.outC, cols.cols, this.K, Math.ceil(cols.cols / PARTS), 0, relu];
      splitGemms("thinProducts", [w, cols.data, out.data, ...bias], scalars, PARTS, out.data.length);
      return;
    }
    matmul(this.W, cols, { out });
    if (this.b || this.relu) split("addBias", [out.data, ...bias], [cols.cols, relu], this.outC, out.data.length);
  }

  /** gW += dy · colsᵀ, in parts over both threads when the layer is thin, summed here in order. */
  private addWeightGradient(dOut: Matrix, cols: Matrix): void {
    const positions = dOut.cols;
    if (!this.thin(positions)) {
      matmul(dOut, cols, { transB: true, beta: 1, out: this.gW });
      return;
    }
    const size = this.outC * this.K;
    const parts = this.buffers.scratch("conv/parts", PARTS * size);
    splitGemms("thinProducts", [dOut.data, cols.data, parts], [this.outC, this.K, positions, Math.ceil(positions / PARTS), 1], PARTS, dOut.data.length);
    const g = this.gW.data;
    for (let c = 0; c < PARTS; c++) for (let i = 0; i < size; i++) g[i] += parts[c * size + i];
  }

  private thin(positions: number): boolean {
    return this.sharedWeights !== undefined && positions >= PARTS * 1024;
  }

  /** One of Winograd's sets of tile GEMMs (kernels.ts's tileGemms), over both threads. */
  private tileGemms(kind: TileGemm, arrays: Float32Array[], rows: number, inner: number, tl: Tiling): void {
    splitGemms("tileGemms", arrays, tileGemmScalars(kind, rows, inner, tl), tl.m === 4 ? 36 : 16, arrays[1].length);
  }

  /**
   * gb += each tile's Σ dy, summed over the tiles: row 1 of A (F(2×2)'s [1 1], F(4×4)'s [1 1 1 1])
   * sums a tile's outputs, so D's plane (1, 1) holds those sums, and with a fused ReLU, of the
   * masked dy, which is written nowhere else.
   */
  private addBiasGradientFromTiles(D: Float32Array, tl: Tiling): void {
    if (!this.gb) return;
    const n = this.outC * tl.tiles,
      at = (tl.m + 3) * planeStride(n);
    matmul(matrix(this.outC, tl.tiles, D.subarray(at, at + n)), matrix(tl.tiles, 1, ones(tl.tiles)), { beta: 1, out: matrix(this.outC, 1, this.gb) });
  }

  /**
   * gb += dy·1: each channel's row summed, as one matrix–vector product. A JavaScript sum per row
   * took 10 ms of cnn's 150 ms step (its rows are 65,536 values at 32×32), and sgemv under 1 ms.
   */
  private addBiasGradient(dy: Volume): void {
    if (!this.gb) return;
    const M = dy.n * dy.h * dy.w;
    matmul(matrix(this.outC, M, dy.data), matrix(M, 1, ones(M)), { beta: 1, out: matrix(this.outC, 1, this.gb) });
  }

  backward(dy: Volume, needInput: boolean): Volume | undefined {
    if (this.winograd) return this.backwardWinograd(dy, needInput);
    if (this.pooling) dy = this.pooling.backward(dy, true);
    dy = this.unactivated(dy, false);
    const x = this.input!,
      M = dy.n * dy.h * dy.w;
    const dOut = matrix(this.outC, M, dy.data);
    this.addWeightGradient(dOut, this.keptColumns ?? this.columns(x, dy, false).cols);
    this.addBiasGradient(dy);
    if (!needInput) return undefined;
    const dx = this.buffers.gradient(volumeSize(x), dy.data);
    if (this.pointwise) {
      matmul(this.W, dOut, { transA: true, out: matrix(this.K, M, dx) });
    } else if (this.stride === 1 && 2 * this.pad === this.k - 1) {
      // A "same" stride-1 conv's input gradient is the same conv of dy with the kernel flipped and
      // its channels swapped: one fast im2col and a GEMM, instead of col2im's scattered adds.
      const kOut = this.outC * this.k * this.k;
      const dyCols = this.buffers.scratch("conv/dcols", kOut * M);
      split("columns", [dy.data, dyCols], columnScalars(dy, this.k, 1, this.pad, dy.h, dy.w), dy.c, kOut * M);
      matmul(this.flippedWeights(), matrix(kOut, M, dyCols), { out: matrix(this.inC, M, dx) });
    } else {
      const dCols = matmul(this.W, dOut, { transA: true, out: matrix(this.K, M, this.buffers.scratch("conv/dcols", this.K * M)) });
      split("columnsAdjoint", [dCols.data, dx], columnScalars(x, this.k, this.stride, this.pad, dy.h, dy.w), x.c, this.K * M);
    }
    return this.inputGradient(volume(x, dx), false);
  }

  /** Wᶠ[ci][(co·k + ky)·k + kx] = W[co][(ci·k + k−1−ky)·k + k−1−kx]: the kernel flipped, channels swapped. */
  private flippedWeights(): Matrix {
    const { inC, outC, k } = this,
      kk = k * k;
    const flipped = matrix(inC, outC * kk, this.buffers.get(`${this.name}/flipped`, inC * outC * kk));
    const w = this.W.data,
      f = flipped.data;
    for (let co = 0; co < outC; co++) {
      for (let ci = 0; ci < inC; ci++) {
        const from = co * this.K + ci * kk,
          to = ci * outC * kk + co * kk;
        for (let t = 0; t < kk; t++) f[to + t] = w[from + kk - 1 - t];
      }
    }
    return flipped;
  }
}
