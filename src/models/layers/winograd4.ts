import { address, arenaKernels, arenaScratch, type LayerKernels } from "./arena.js";
import type { Volume } from "./volume.js";
import { planeStride, type Tiling } from "./winograd.js";

/**
 * Winograd's F(4×4, 3×3) transforms (Lavin and Gray, 2016): each 4×4 block of outputs comes from a
 * 6×6 input tile as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, with 36 multiplies instead of 144, so its 36 tile
 * GEMMs do 1.78× fewer multiplies than F(2×2, 3×3)'s 16, and its tiles hold 2.25× the input where
 * F(2×2)'s hold 4×. The price is accuracy: B and A have entries up to 8 (float32 results within
 * about 1e-4 of the layer's scale, where F(2×2)'s are within 1e-6). winograd.ts has the buffers'
 * layout, the weight transform and the GEMMs, which both tile sizes share.
 *
 * Each transform here is one matrix applied on both sides of a tile, L X Lᵀ. The loops below are
 * the literal form, in float64, for buffers outside the arena and as the tests' reference; inside
 * it, winograd4.wat runs the same four maps four tiles at a time in float32 lanes.
 */

const BT = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1],
];
const AT = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, -1, 8, -8, 1],
];
const transpose = (a: number[][]) => a[0].map((_, j) => a.map((row) => row[j]));
const B = transpose(BT),
  A = transpose(AT);

/** out = L X Lᵀ for X (c × c, row-major) and L (r × c): r × r. */
function sandwich(L: number[][], X: Float64Array, out: Float64Array): void {
  const r = L.length,
    c = L[0].length;
  for (let i = 0; i < r; i++)
    for (let j = 0; j < r; j++) {
      let s = 0;
      for (let k = 0; k < c; k++) for (let l = 0; l < c; l++) s += L[i][k] * X[k * c + l] * L[j][l];
      out[i * r + j] = s;
    }
}

const tile = new Float64Array(36),
  transformed = new Float64Array(36);

/** Calls `each(b, ty, tx, t)` for every tile of images [0, n) of channel c: t is its index in the planes. */
function forTiles(c: number, { n }: { n: number }, tl: Tiling, each: (b: number, ty: number, tx: number, t: number) => void): void {
  for (let b = 0, t = c * tl.tiles; b < n; b++) for (let ty = 0; ty < tl.th; ty++) for (let tx = 0; tx < tl.tw; tx++, t++) each(b, ty, tx, t);
}

/**
 * Whole images of one channel, as many as fit the kernels' scratch at once (their padded copies, or
 * their outputs' 4th × 4tw blocks, after 640 bytes of the kernels' own), or 0 if not one does.
 */
export function imagesAtOnce(tl: Tiling, n: number): number {
  const padded = 4 * (4 * tl.th + 2) * (4 * tl.tw + 4);
  return Math.min(n, Math.floor((arenaScratch().bytes - 640) / padded));
}

/**
 * winograd4.wat's way: `run(kernels, c, b, n, scratch)` for each batch of up to `imagesAtOnce`
 * images b … b + n − 1 of each channel c in [from, to), when every one of `arrays` lies in the arena
 * and an image fits the scratch; false (nothing run) when not, for the literal loops to take over.
 */
function inImageBatches(
  tl: Tiling,
  N: number,
  from: number,
  to: number,
  arrays: Float32Array[],
  run: (wasm: LayerKernels, c: number, b: number, n: number, scratch: number) => void,
): boolean {
  const batch = imagesAtOnce(tl, N);
  const wasm = tl.tiles > 0 && batch > 0 ? arenaKernels(...arrays) : undefined;
  if (!wasm) return false;
  const { at } = arenaScratch();
  for (let c = from; c < to; c++) for (let b = 0; b < N; b += batch) run(wasm, c, b, Math.min(batch, N - b), at);
  return true;
}

/** V[ξ][c][t] = (Bᵀ d B)[ξ] for the 6×6 input tile d of every tile t, with the zero padding `pad`. */
export function transformInput4(x: Volume, pad: number, tl: Tiling, V: Float32Array, from = 0, to = x.c): void {
  const { n: N, h, w, data } = x,
    CT = planeStride(x.c * tl.tiles),
    per = tl.th * tl.tw;
  const fast = inImageBatches(tl, N, from, to, [data, V], (wasm, c, b, n, scratch) =>
    wasm.winograd4Input(address(data, (c * N + b) * h * w), h, w, pad, n, tl.th, tl.tw, address(V, c * tl.tiles + b * per), 4 * CT, scratch),
  );
  if (fast) return;
  for (let c = from; c < to; c++)
    forTiles(c, x, tl, (b, ty, tx, t) => {
      const image = (c * N + b) * h * w;
      for (let i = 0; i < 6; i++)
        for (let j = 0; j < 6; j++) {
          const y = 4 * ty - pad + i,
            col = 4 * tx - pad + j;
          tile[i * 6 + j] = y >= 0 && y < h && col >= 0 && col < w ? data[image + y * w + col] : 0;
        }
      sandwich(BT, tile, transformed);
      for (let xi = 0; xi < 36; xi++) V[t + xi * CT] = transformed[xi];
    });
}

/** y = Aᵀ m A for every tile (its 4×4 outputs inside the image), plus a bias per channel if given, and through a ReLU if `relu`. */
export function transformOutput4(M: Float32Array, tl: Tiling, y: Volume, bias?: Float32Array, from = 0, to = y.c, relu = false): void {
  const { n: N, data } = y,
    { oh, ow } = tl,
    KT = planeStride(y.c * tl.tiles),
    per = tl.th * tl.tw;
  const fast = inImageBatches(tl, N, from, to, [M, data], (wasm, k, b, n, scratch) =>
    wasm.winograd4Output(
      address(M, k * tl.tiles + b * per),
      4 * KT,
      address(data, (k * N + b) * oh * ow),
      oh,
      ow,
      n,
      tl.th,
      tl.tw,
      bias ? bias[k] : 0,
      Number(relu),
      scratch,
    ),
  );
  if (fast) return;
  for (let k = from; k < to; k++)
    forTiles(k, y, tl, (b, ty, tx, t) => {
      for (let xi = 0; xi < 36; xi++) tile[xi] = M[t + xi * KT];
      sandwich(AT, tile, transformed);
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 4; j++) {
          const row = 4 * ty + i,
            col = 4 * tx + j;
          if (row >= oh || col >= ow) continue;
          const v = Math.fround(transformed[i * 4 + j] + (bias ? bias[k] : 0));
          data[((k * N + b) * oh + row) * ow + col] = relu ? v * Number(v > 0) + 0 : v;
        }
    });
}

/**
 * D[ξ][k][t] = (A e Aᵀ)[ξ] for each 4×4 block e of dY (zero past the edge): the gradient reaching the
 * tile products. With `y`, the layer's output after its ReLU, each value of dY is first masked by
 * [y > 0] (ReLU's backward pass, read here instead of written out as a masked copy).
 */
export function transformOutputGradient4(dy: Volume, tl: Tiling, D: Float32Array, from = 0, to = dy.c, y?: Float32Array): void {
  const { n: N, h: oh, w: ow, data } = dy,
    KT = planeStride(dy.c * tl.tiles),
    per = tl.th * tl.tw;
  const fast = inImageBatches(tl, N, from, to, y ? [data, D, y] : [data, D], (wasm, k, b, n, scratch) =>
    wasm.winograd4OutputGradient(
      address(data, (k * N + b) * oh * ow),
      oh,
      ow,
      n,
      tl.th,
      tl.tw,
      address(D, k * tl.tiles + b * per),
      4 * KT,
      y ? address(y, 0) - address(data, 0) : 0,
      scratch,
    ),
  );
  if (fast) return;
  const block = new Float64Array(16);
  for (let k = from; k < to; k++)
    forTiles(k, dy, tl, (b, ty, tx, t) => {
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 4; j++) {
          const row = 4 * ty + i,
            col = 4 * tx + j;
          const at = ((k * N + b) * oh + row) * ow + col;
          block[i * 4 + j] = row < oh && col < ow ? (y ? data[at] * Number(y[at] > 0) + 0 : data[at]) : 0;
        }
      sandwich(A, block, transformed);
      for (let xi = 0; xi < 36; xi++) D[t + xi * KT] = transformed[xi];
    });
}

/**
 * Whether winograd4.wat can take the output through a ReLU and 2×2 max-pooling at once
 * (`transformOutputPooled4`): output sizes that are multiples of 4, every array in the arena.
 * There is no literal loop for it: elsewhere the layers run as a ReLU'd output and a pooling pass.
 */
export function poolsInTiles(tl: Tiling, ...arrays: Float32Array[]): boolean {
  return tl.m === 4 && tl.oh === 4 * tl.th && tl.ow === 4 * tl.tw && tl.tiles > 0 && arenaKernels(...arrays) !== undefined;
}

/**
 * max over each 2×2 window of max(0, Aᵀ m A + bias) for every tile: the pooled output p (oh/2 ×
 * ow/2 per image), and in `positions` (int32 bits, p's layout) each window's position of its
 * maximum, 0–3 in row order, ties to the first, or 4 where the maximum is not above 0 (no
 * gradient). The same values as the output through a ReLU and then MaxPool2d.
 */
export function transformOutputPooled4(M: Float32Array, tl: Tiling, p: Volume, positions: Float32Array, bias?: Float32Array, from = 0, to = p.c): void {
  const wasm = arenaKernels(M, p.data, positions)!,
    { n: N } = p,
    KT = planeStride(p.c * tl.tiles),
    { oh, ow } = tl,
    toPos = address(positions, 0) - address(p.data, 0);
  for (let k = from; k < to; k++)
    wasm.winograd4OutputPooled(
      address(M, k * tl.tiles),
      4 * KT,
      address(p.data, (k * N * oh * ow) / 4),
      oh,
      ow,
      N,
      tl.th,
      tl.tw,
      bias ? bias[k] : 0,
      toPos,
      arenaScratch().at,
    );
}

/** D from the pooled output's gradient dp: each window's gradient where `positions` says its maximum was (transformOutputPooled4's backward pass). */
export function transformOutputGradientPooled4(dp: Volume, positions: Float32Array, tl: Tiling, D: Float32Array, from = 0, to = dp.c): void {
  const wasm = arenaKernels(dp.data, positions, D)!,
    { n: N } = dp,
    KT = planeStride(dp.c * tl.tiles),
    { oh, ow } = tl,
    toPos = address(positions, 0) - address(dp.data, 0);
  for (let k = from; k < to; k++)
    wasm.winograd4OutputGradientPooled(
      address(dp.data, (k * N * oh * ow) / 4),
      oh,
      ow,
      N,
      tl.th,
      tl.tw,
      address(D, k * tl.tiles),
      4 * KT,
      toPos,
      arenaScratch().at,
    );
}

/**
 * ∂x from ∂V, the adjoint of `transformInput4`: each tile's B ∂V Bᵀ added back where the tile came
 * from (∂x is overwritten). With the input `x`, each value is then masked by [x > 0]: the backward
 * pass of a ReLU before the conv, when x is its output.
 */
export function transformInputGradient4(dV: Float32Array, pad: number, tl: Tiling, dx: Volume, from = 0, to = dx.c, x?: Float32Array): void {
  const { n: N, h, w, data } = dx,
    CT = planeStride(dx.c * tl.tiles),
    per = tl.th * tl.tw;
  const fast = inImageBatches(tl, N, from, to, x ? [dV, data, x] : [dV, data], (wasm, c, b, n, scratch) =>
    wasm.winograd4InputGradient(
      address(dV, c * tl.tiles + b * per),
      4 * CT,
      address(data, (c * N + b) * h * w),
      h,
      w,
      pad,
      n,
      tl.th,
      tl.tw,
      x ? address(x, 0) - address(data, 0) : 0,
      scratch,
    ),
  );
  if (fast) return;
  data.fill(0, from * N * h * w, to * N * h * w);
  for (let c = from; c < to; c++)
    forTiles(c, dx, tl, (b, ty, tx, t) => {
      for (let xi = 0; xi < 36; xi++) tile[xi] = dV[t + xi * CT];
      sandwich(B, tile, transformed);
      const image = (c * N + b) * h * w;
      for (let i = 0; i < 6; i++)
        for (let j = 0; j < 6; j++) {
          const y = 4 * ty - pad + i,
            col = 4 * tx - pad + j;
          if (y >= 0 && y < h && col >= 0 && col < w) data[image + y * w + col] += transformed[i * 6 + j];
        }
    });
  if (x) for (let i = from * N * h * w; i < to * N * h * w; i++) data[i] = data[i] * Number(x[i] > 0) + 0;
}
