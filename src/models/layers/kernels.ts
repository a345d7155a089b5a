/**
 * The conv layers' memory-bound passes, each over a range [from, to) of its units (channels or
 * elements) so that split.ts can run one range on a helper thread and the rest here. A unit is
 * always done whole by one thread, so a split gives the same bits as a single pass.
 *
 * Where every array a pass streams through lies in the arena, it runs layers.wat's SIMD loops;
 * these JavaScript loops are their twins, for buffers outside it (and the tests' reference).
 */
import { sgemm } from "../../linalg/gemm.js";
import { address as at, arenaKernels as simd } from "./arena.js";
import { col2im, im2col } from "./columns.js";
import {
  tileProducts,
  tileWeightGradients,
  transformInput,
  transformInputGradient,
  transformOutput,
  transformOutputGradient,
  type TileSize,
  type Tiling,
} from "./winograd.js";
import {
  transformInput4,
  transformInputGradient4,
  transformOutput4,
  transformOutputGradient4,
  transformOutputGradientPooled4,
  transformOutputPooled4,
} from "./winograd4.js";
import type { Volume } from "./volume.js";

export type Kernel = (arrays: Float32Array[], scalars: number[], from: number, to: number) => void;

/**
 * Batch norm's forward pass over channels; scalars [M (values per channel), train (1|0), eps,
 * momentum, relu (1|0)]; arrays [x, out, gamma, beta, mean, invStd, runningMean, runningVar].
 * Training: each channel's batch mean and 1/σ (biased variance) go to mean and invStd, and the
 * running statistics move by `momentum` (with the unbiased variance, as PyTorch). Evaluation: the
 * running statistics, also written to mean and invStd for the backward pass. With relu, the
 * output is max(0, ·) in the same pass (a ReLU layer after it would read and write it again).
 */
function batchNormForward(
  [x, out, gamma, beta, mean, invStd, runningMean, runningVar]: Float32Array[],
  [M, train, eps, momentum, relu]: number[],
  from: number,
  to: number,
): void {
  const wasm = simd(x, out);
  for (let c = from; c < to; c++) {
    const o = c * M;
    let m: number, s: number;
    if (train) {
      // One pass for both moments, in float64: the cancellation in E[x²] − E[x]² costs a few of
      // float64's 16 digits, far below float32's 7, and the pass reads the channel once less.
      const [sum, squares] = wasm ? wasm.sumSquares(at(x, o), M) : sumAndSquares(x, o, o + M);
      m = sum / M;
      const v = Math.max(0, squares - sum * m);
      s = 1 / Math.sqrt(v / M + eps);
      runningMean[c] = (1 - momentum) * runningMean[c] + momentum * m;
      runningVar[c] = (1 - momentum) * runningVar[c] + momentum * (M > 1 ? v / (M - 1) : v / M);
    } else {
      m = runningMean[c];
      s = 1 / Math.sqrt(runningVar[c] + eps);
    }
    mean[c] = m;
    invStd[c] = s;
    const scale = gamma[c] * s,
      shift = beta[c] - m * scale;
    if (wasm) {
      wasm.normalize(at(x, o), at(out, o), M, scale, shift, relu);
      continue;
    }
    if (!relu) {
      for (let i = o; i < o + M; i++) out[i] = x[i] * scale + shift;
      continue;
    }
    for (let i = o; i < o + M; i++) {
      const v = x[i] * scale + shift;
      out[i] = v * Number(v > 0) + 0;
    }
  }
}

/**
 * Batch norm's backward pass over channels; scalars [M, train]; arrays [g, x, dx, gamma, mean,
 * invStd, sumG, dotGXhat], and the forward output when it had a ReLU, whose sign masks g first
 * (read where needed rather than written out as a masked copy). Training: dx = γ/σ · (dy −
 * mean(dy) − x̂ · mean(dy · x̂)), with x̂ = (x − μ)/σ. Expanded, dx is a·dy + b·x + k per channel,
 * so one pass sums dy and dy·x and a second writes dx. Σ dy and Σ dy·x̂ (dβ and dγ) go to sumG
 * and dotGXhat. Evaluation (the input gradients DFAL needs): the layer is affine, dx = γ/σ · dy.
 */
function batchNormBackward([g, x, dx, gamma, mean, invStd, sumG, dotGXhat, out]: Float32Array[], [M, train]: number[], from: number, to: number): void {
  const wasm = out ? simd(g, x, dx, out) : simd(g, x, dx);
  for (let c = from; c < to; c++) {
    const o = c * M,
      scale = gamma[c] * invStd[c];
    if (!train) {
      if (wasm) wasm.scaleGradient(at(g, o), at(dx, o), M, scale, out ? at(out, o) : 0);
      else if (out) for (let i = o; i < o + M; i++) dx[i] = scale * (g[i] * Number(out[i] > 0) + 0);
      else for (let i = o; i < o + M; i++) dx[i] = scale * g[i];
      continue;
    }
    const mu = mean[c],
      s = invStd[c];
    const [sg, dotGX] = wasm
      ? out
        ? wasm.maskedSumDot(at(g, o), at(out, o), at(x, o), M)
        : wasm.sumDot(at(g, o), at(x, o), M)
      : out
        ? maskedSumAndDot(g, out, x, o, o + M)
        : sumAndDot(g, x, o, o + M);
    const dot = s * (dotGX - mu * sg);
    sumG[c] = sg;
    dotGXhat[c] = dot;
    const meanG = sg / M,
      meanDot = dot / M;
    const a = scale,
      b = -scale * s * meanDot,
      k = scale * (mu * s * meanDot - meanG);
    if (wasm) wasm.normGradient(at(g, o), at(x, o), at(dx, o), M, a, b, k, out ? at(out, o) : 0);
    else if (out) for (let i = o; i < o + M; i++) dx[i] = a * (g[i] * Number(out[i] > 0) + 0) + b * x[i] + k;
    else for (let i = o; i < o + M; i++) dx[i] = a * g[i] + b * x[i] + k;
  }
}

// ReLU multiplies by the comparison instead of branching: half the signs are random, and the
// mispredicted branches made these loops 3–5× slower. (+ 0 turns the −0 of negative inputs into 0.)

/** max(0, d) in place. */
function relu([d]: Float32Array[], _s: number[], from: number, to: number): void {
  const wasm = simd(d);
  if (wasm) {
    wasm.relu(at(d, from), to - from);
    return;
  }
  for (let i = from; i < to; i++) {
    const v = d[i];
    d[i] = v * Number(v > 0) + 0;
  }
}

/** dx = g where out > 0, else 0: ReLU's backward pass. */
function passWherePositive([g, out, dx]: Float32Array[], _s: number[], from: number, to: number): void {
  const wasm = simd(g, out, dx);
  if (wasm) {
    wasm.passWherePositive(at(g, from), at(out, from), at(dx, from), to - from);
    return;
  }
  for (let i = from; i < to; i++) dx[i] = g[i] * Number(out[i] > 0) + 0;
}

/** out = max(0, a + b): a residual block's sum and ReLU in one pass. */
function addRelu([a, b, out]: Float32Array[], _s: number[], from: number, to: number): void {
  const wasm = simd(a, b, out);
  if (wasm) {
    wasm.addRelu(at(a, from), at(b, from), at(out, from), to - from);
    return;
  }
  for (let i = from; i < to; i++) {
    const v = a[i] + b[i];
    out[i] = v * Number(v > 0) + 0;
  }
}

/**
 * A conv's output after its GEMM, over channels: each row plus its channel's bias (arrays [y,
 * bias]; [y] adds 0), through a ReLU when scalars [M, relu] say so, in place.
 */
function addBias([y, bias]: Float32Array[], [M, relu]: number[], from: number, to: number): void {
  for (let c = from; c < to; c++) biasAndRelu(y, c * M, M, bias ? bias[c] : 0, relu);
}

/** y[o, o + length) plus `shift`, through a ReLU when `relu` is 1, in place. */
function biasAndRelu(y: Float32Array, o: number, length: number, shift: number, relu: number): void {
  const wasm = simd(y);
  if (wasm) {
    wasm.normalize(at(y, o), at(y, o), length, 1, shift, relu);
    return;
  }
  for (let i = o; i < o + length; i++) {
    const v = Math.fround(y[i] + shift);
    y[i] = relu ? v * Number(v > 0) + 0 : v;
  }
}

/** out = a + b. */
function add([a, b, out]: Float32Array[], _s: number[], from: number, to: number): void {
  const wasm = simd(a, b, out);
  if (wasm) {
    wasm.add(at(a, from), at(b, from), at(out, from), to - from);
    return;
  }
  for (let i = from; i < to; i++) out[i] = a[i] + b[i];
}

/**
 * Blocks of `len` floats, a × b of them, transposed (scalars [a, b, len]): src's block (x, y), at
 * (x·b + y)·len, goes to dst's block (y, x), at (y·a + x)·len, for x in [from, to).
 */
function transposeBlocks([src, dst]: Float32Array[], [a, b, len]: number[], from: number, to: number): void {
  const wasm = simd(src, dst);
  if (wasm) {
    wasm.transposeBlocks(at(src, 0), at(dst, 0), a, b, len, from, to);
    return;
  }
  for (let x = from; x < to; x++) for (let y = 0; y < b; y++) dst.set(src.subarray((x * b + y) * len, (x * b + y + 1) * len), (y * a + x) * len);
}

/**
 * Adam's step over parameters [from, to) (a multiple of 4 long), as adam.wat: arrays [p, g, m, v],
 * scalars [beta1, beta2, stepSize, correction, eps, wd] (models/adam.ts). The twin rounds to
 * float32 after each operation in the kernel's order, so it gives the kernel's bits.
 */
function adam([p, g, m, v]: Float32Array[], scalars: number[], from: number, to: number): void {
  const wasm = simd(p, g, m, v);
  const [beta1, beta2, stepSize, correction, eps, wd] = scalars.map(Math.fround);
  if (wasm) {
    wasm.adam(at(p, from), at(g, from), at(m, from), at(v, from), to - from, beta1, beta2, stepSize, correction, eps, wd);
    return;
  }
  const f = Math.fround,
    a1 = f(1 - beta1),
    a2 = f(1 - beta2);
  for (let i = from; i < to; i++) {
    const grad = f(g[i] + f(wd * p[i]));
    const mean = (m[i] = f(f(beta1 * m[i]) + f(a1 * grad)));
    const variance = (v[i] = f(f(beta2 * v[i]) + f(a2 * f(grad * grad))));
    p[i] = f(p[i] - f(f(stepSize * mean) / f(f(f(Math.sqrt(variance)) * correction) + eps)));
  }
}

// Winograd's transforms over channels, their volume's and tiling's sizes passed as scalars
// (winogradScalars): [c, n, h, w, pad, m, oh, ow, th, tw, tiles]; m picks F(2×2, 3×3) or F(4×4, 3×3).

/** The scalars of a Winograd transform kernel. */
export const winogradScalars = (v: Omit<Volume, "data">, pad: number, tl: Tiling) => [v.c, v.n, v.h, v.w, pad, tl.m, tl.oh, tl.ow, tl.th, tl.tw, tl.tiles];
const fromScalars = ([c, n, h, w, pad, m, oh, ow, th, tw, tiles]: number[], data: Float32Array) => ({
  v: { c, n, h, w, data },
  pad,
  tl: { m: m as TileSize, oh, ow, th, tw, tiles },
});

/** arrays [x, V]: the input transform over the input's channels. */
function winogradInput([x, V]: Float32Array[], scalars: number[], from: number, to: number): void {
  const { v, pad, tl } = fromScalars(scalars, x);
  (tl.m === 4 ? transformInput4 : transformInput)(v, pad, tl, V, from, to);
}

/**
 * arrays [M, y] or [M, y, bias]: the output transform over the output's channels; a 12th scalar 1
 * puts the output through a ReLU in the same pass (F(4×4, 3×3) only).
 */
function winogradOutput([M, y, bias]: Float32Array[], scalars: number[], from: number, to: number): void {
  const { v, tl } = fromScalars(scalars, y);
  const relu = scalars[11] === 1;
  if (tl.m === 4) transformOutput4(M, tl, v, bias, from, to, relu);
  else if (relu) throw new RangeError("winogradOutput: the fused ReLU is F(4×4, 3×3)'s only");
  else transformOutput(M, tl, v, bias, from, to);
}

/**
 * arrays [dy, D], or [dy, D, y] to mask dy by [y > 0] first (a fused ReLU's backward pass, F(4×4,
 * 3×3) only): the output-gradient transform over the output's channels.
 */
function winogradOutputGradient([dy, D, y]: Float32Array[], scalars: number[], from: number, to: number): void {
  const { v, tl } = fromScalars(scalars, dy);
  if (tl.m === 4) transformOutputGradient4(v, tl, D, from, to, y);
  else if (y) throw new RangeError("winogradOutputGradient: the fused ReLU is F(4×4, 3×3)'s only");
  else transformOutputGradient(v, tl, D, from, to);
}

/** arrays [M, p, positions] or [M, p, positions, bias], scalars of the pooled output p: the output through a ReLU and 2×2 max-pooling, over its channels. */
function winogradOutputPooled([M, p, positions, bias]: Float32Array[], scalars: number[], from: number, to: number): void {
  const { v, tl } = fromScalars(scalars, p);
  transformOutputPooled4(M, tl, v, positions, bias, from, to);
}

/** arrays [dp, positions, D], scalars of the pooled output: its gradient's transform, over its channels. */
function winogradOutputGradientPooled([dp, positions, D]: Float32Array[], scalars: number[], from: number, to: number): void {
  const { v, tl } = fromScalars(scalars, dp);
  transformOutputGradientPooled4(v, positions, tl, D, from, to);
}

/**
 * arrays [dV, dx], or [dV, dx, x] to mask dx by [x > 0] after (a ReLU before the conv, F(4×4, 3×3)
 * only): the input-gradient transform over the input's channels.
 */
function winogradInputGradient([dV, dx, x]: Float32Array[], scalars: number[], from: number, to: number): void {
  const { v, pad, tl } = fromScalars(scalars, dx);
  if (tl.m === 4) transformInputGradient4(dV, pad, tl, v, from, to, x);
  else if (x) throw new RangeError("winogradInputGradient: the mask is F(4×4, 3×3)'s only");
  else transformInputGradient(dV, pad, tl, v, from, to);
}

/** The scalars of `tileGemms`: which product, its sizes, and the tiling's tile count and size. */
export const tileGemmScalars = (kind: TileGemm, rows: number, inner: number, tl: Tiling) => [TILE_GEMMS.indexOf(kind), rows, inner, tl.tiles, tl.m];
const TILE_GEMMS = ["products", "transposedProducts", "weightGradients"] as const;
export type TileGemm = (typeof TILE_GEMMS)[number];

/**
 * Winograd's tile GEMMs over tile positions ξ in [from, to) (tileGemmScalars): arrays [U, V, M]
 * for M[ξ] = U[ξ] V[ξ] or U[ξ]ᵀ V[ξ] (tileProducts), or [D, V, dU] for dU[ξ] = D[ξ] V[ξ]ᵀ
 * (tileWeightGradients).
 */
function tileGemms([a, b, out]: Float32Array[], [kind, rows, inner, tiles, m]: number[], from: number, to: number): void {
  const tl = { tiles, m: m as TileSize, oh: 0, ow: 0, th: 0, tw: 0 };
  if (TILE_GEMMS[kind] === "weightGradients") tileWeightGradients(a, b, rows, inner, tl, out, from, to);
  else tileProducts(a, b, rows, inner, tl, out, TILE_GEMMS[kind] === "transposedProducts", from, to);
}

/**
 * A thin product in parts: arrays [A, B, C] and scalars [m, n, K, part, kind]. Kind 0, parts of
 * the columns: C[:, c·part …] = A B[:, c·part …] (A m × K, B K × n, C m × n), then each row of the
 * part plus its bias (a fourth array) and through a ReLU when scalars [… , relu] say so, while the
 * part is still in cache (addBias's bits). Kind 1, parts of the inner dimension, each into a slot
 * of its own: C[c] = A[:, c·part …] B[:, c·part …]ᵀ (A m × K, B n × K, C[c] m × n at c·m·n). For
 * parts c in [from, to).
 */
function thinProducts([a, b, out, bias]: Float32Array[], [m, n, K, part, kind, relu = 0]: number[], from: number, to: number): void {
  for (let c = from; c < to; c++) {
    const at = c * part;
    if (kind === 1) {
      sgemm(false, true, m, n, Math.min(part, K - at), 1, a.subarray(at), K, b.subarray(at), K, 0, out.subarray(c * m * n, (c + 1) * m * n), n);
      continue;
    }
    const length = Math.min(part, n - at);
    sgemm(false, false, m, length, K, 1, a, K, b.subarray(at), n, 0, out.subarray(at), n);
    if (bias || relu) for (let r = 0; r < m; r++) biasAndRelu(out, r * n + at, length, bias ? bias[r] : 0, relu);
  }
}

// im2col and col2im over input channels, with scalars [c, n, h, w, k, stride, pad, oh, ow] (columnScalars).

/** The scalars of the im2col and col2im kernels: the input's (or its gradient's) size, the kernel and the output's size. */
export const columnScalars = (v: Omit<Volume, "data">, k: number, stride: number, pad: number, oh: number, ow: number) => [
  v.c,
  v.n,
  v.h,
  v.w,
  k,
  stride,
  pad,
  oh,
  ow,
];

/** arrays [x, cols]: im2col over the input's channels. */
function columns([x, cols]: Float32Array[], [c, n, h, w, k, stride, pad, oh, ow]: number[], from: number, to: number): void {
  im2col({ c, n, h, w, data: x }, k, stride, pad, oh, ow, cols, from, to);
}

/** arrays [dCols, dx]: col2im over the input gradient's channels. */
function columnsAdjoint([dCols, dx]: Float32Array[], [c, n, h, w, k, stride, pad, oh, ow]: number[], from: number, to: number): void {
  col2im(dCols, k, stride, pad, oh, ow, { c, n, h, w, data: dx }, from, to);
}

// Max-pooling over 2×2 windows at stride 2, over planes (channel × image) [from, to), with scalars
// [h, w] (even); arrays [x, out, argmax] and [dy, argmax, dx], the indices as int32 bits in a float
// buffer (so that they too lie in the arena). pool.wat's loops when rows are a multiple of 8 wide.

/** Each window's maximum and the index in x of the value it came from: ties to the first in row order, −1 when no value beats −∞. */
function maxPool2x2([x, out, indices]: Float32Array[], [h, w]: number[], from: number, to: number): void {
  const wasm = w % 8 === 0 ? simd(x, out, indices) : undefined;
  if (wasm) {
    wasm.maxPool2x2(at(x, 0), from, to, h, w, at(out, 0), at(indices, 0));
    return;
  }
  const argmax = new Int32Array(indices.buffer, indices.byteOffset, indices.length);
  const ow = w / 2;
  let o = (from * h * w) / 4;
  for (let plane = from; plane < to; plane++) {
    for (let oy = 0; oy < h / 2; oy++) {
      const top = plane * h * w + 2 * oy * w;
      for (let ox = 0; ox < ow; ox++, o++) {
        const a = top + 2 * ox,
          b = a + w;
        let best = -Infinity,
          at = -1;
        if (x[a] > best) [best, at] = [x[a], a];
        if (x[a + 1] > best) [best, at] = [x[a + 1], a + 1];
        if (x[b] > best) [best, at] = [x[b], b];
        if (x[b + 1] > best) [best, at] = [x[b + 1], b + 1];
        out[o] = best;
        argmax[o] = at;
      }
    }
  }
}

/** dx: each window's gradient where its maximum was, 0 elsewhere (the windows do not overlap). */
function maxPool2x2Backward([dy, indices, dx]: Float32Array[], [h, w]: number[], from: number, to: number): void {
  const wasm = w % 8 === 0 ? simd(dy, indices, dx) : undefined;
  if (wasm) {
    wasm.maxPool2x2Backward(at(dy, 0), at(indices, 0), from, to, h, w, at(dx, 0));
    return;
  }
  const argmax = new Int32Array(indices.buffer, indices.byteOffset, indices.length);
  dx.fill(0, from * h * w, to * h * w);
  for (let i = (from * h * w) / 4, end = (to * h * w) / 4; i < end; i++) if (argmax[i] >= 0) dx[argmax[i]] += dy[i];
}

export const kernels = {
  batchNormForward,
  batchNormBackward,
  relu,
  passWherePositive,
  addRelu,
  add,
  addBias,
  transposeBlocks,
  winogradInput,
  winogradOutput,
  winogradOutputGradient,
  winogradInputGradient,
  winogradOutputPooled,
  winogradOutputGradientPooled,
  columns,
  columnsAdjoint,
  maxPool2x2,
  maxPool2x2Backward,
  tileGemms,
  thinProducts,
  adam,
} satisfies Record<string, Kernel>;
export type KernelName = keyof typeof kernels;

// Reductions over a channel's row with several running sums: with one, each add waits on the last,
// and these loops ran at a quarter of the speed the adder allows.

/** Σ a[i] and Σ a[i]² over [from, to), in one pass. */
function sumAndSquares(a: Float32Array, from: number, to: number): [sum: number, squares: number] {
  let s0 = 0,
    s1 = 0,
    q0 = 0,
    q1 = 0,
    i = from;
  for (; i + 1 < to; i += 2) {
    const v0 = a[i],
      v1 = a[i + 1];
    s0 += v0;
    s1 += v1;
    q0 += v0 * v0;
    q1 += v1 * v1;
  }
  for (; i < to; i++) {
    s0 += a[i];
    q0 += a[i] * a[i];
  }
  return [s0 + s1, q0 + q1];
}

/** sumAndDot of a masked by out > 0 (ReLU's backward pass: the same values, in the same order, as on a masked copy of a). */
function maskedSumAndDot(a: Float32Array, out: Float32Array, b: Float32Array, from: number, to: number): [sum: number, dot: number] {
  let s0 = 0,
    s1 = 0,
    d0 = 0,
    d1 = 0,
    i = from;
  for (; i + 1 < to; i += 2) {
    const v0 = a[i] * Number(out[i] > 0) + 0,
      v1 = a[i + 1] * Number(out[i + 1] > 0) + 0;
    s0 += v0;
    s1 += v1;
    d0 += v0 * b[i];
    d1 += v1 * b[i + 1];
  }
  for (; i < to; i++) {
    const v = a[i] * Number(out[i] > 0) + 0;
    s0 += v;
    d0 += v * b[i];
  }
  return [s0 + s1, d0 + d1];
}

/** Σ a[i] and Σ a[i]·b[i] over [from, to), in one pass. */
function sumAndDot(a: Float32Array, b: Float32Array, from: number, to: number): [sum: number, dot: number] {
  let s0 = 0,
    s1 = 0,
    d0 = 0,
    d1 = 0,
    i = from;
  for (; i + 1 < to; i += 2) {
    const v0 = a[i],
      v1 = a[i + 1];
    s0 += v0;
    s1 += v1;
    d0 += v0 * b[i];
    d1 += v1 * b[i + 1];
  }
  for (; i < to; i++) {
    s0 += a[i];
    d0 += a[i] * b[i];
  }
  return [s0 + s1, d0 + d1];
}
