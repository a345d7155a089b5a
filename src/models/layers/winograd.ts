import { matmul, sgemm } from "../../linalg/gemm.js";
import { matrix } from "../../linalg/matrix.js";
import { address, arenaKernels, arenaScratch, type LayerKernels } from "./arena.js";
import type { Volume } from "./volume.js";

/**
 * Winograd's F(2×2, 3×3) for stride-1 3×3 convolutions, and what F(4×4, 3×3) (winograd4.ts) shares
 * with it: the buffers' layout, the weight transform and the tile GEMMs, over (m + 2)² planes.
 * In F(2×2, 3×3), each 2×2 block of outputs comes from a 4×4 tile of the input as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, with 16 multiplies instead of 36. Over a batch,
 * the 16 elementwise products become 16 GEMMs, one per tile position ξ:
 *   M[ξ] (Cout × T) = U[ξ] (Cout × Cin) · V[ξ] (Cin × T),   T = N · ⌈OH/2⌉ · ⌈OW/2⌉ tiles,
 * so the convolution's multiplies drop 2.25×, and the transforms (a few adds per value) replace
 * im2col's nine copies of the input. The backward pass is the chain rule through the same linear
 * map, with D = A dY Aᵀ per tile: ∂U[ξ] = D[ξ] · V[ξ]ᵀ and ∂g = Gᵀ ∂U G for the weights, and
 * ∂V[ξ] = U[ξ]ᵀ · D[ξ], then each tile's B ∂V Bᵀ added back in place, for the input.
 *
 * Buffers: U is [16][Cout][Cin], V [16][Cin][T] and M [16][Cout][T] (36 planes for F(4×4));
 * tile t = (n·TH + ty)·TW + tx. The planes of each sit `planeStride` apart, not back to back: the
 * transforms read or write all of them at once, and at a power-of-two distance those 16 streams share one L1 cache set and evict
 * each other (the output-gradient transform took 41 ms instead of 9.7 at 64 channels, 32×32).
 */

/** Distance between the planes of a buffer whose planes hold `size` floats each: 64 bytes more than `size`. */
export const planeStride = (size: number) => size + 16;

/** Winograd's output tile: F(2×2, 3×3) or F(4×4, 3×3) (winograd4.ts), with (m + 2)² tile positions. */
export type TileSize = 2 | 4;

/** Tile positions ξ of F(m×m, 3×3): (m + 2)². */
export const tilePlanes = (m: TileSize) => (m + 2) * (m + 2);

/** Floats in a buffer of F(m×m, 3×3)'s planes, of `size` floats each. */
export const tileBufferSize = (size: number, m: TileSize) => tilePlanes(m) * planeStride(size);

export interface Tiling {
  /** The output tile's size. */
  m: TileSize;
  /** Output size, and tiles down and across (⌈out/m⌉). */
  oh: number;
  ow: number;
  th: number;
  tw: number;
  /** Tiles over the batch. */
  tiles: number;
}

/** The tiles of F(m×m, 3×3) for a stride-1 3×3 convolution with zero padding `pad`, over a batch of x's size. */
export function tiling(x: Pick<Volume, "n" | "h" | "w">, pad: number, m: TileSize = 2): Tiling {
  const oh = x.h + 2 * pad - 2,
    ow = x.w + 2 * pad - 2;
  const th = Math.ceil(oh / m),
    tw = Math.ceil(ow / m);
  return { m, oh, ow, th, tw, tiles: x.n * th * tw };
}

/** G of F(m×m, 3×3): (m + 2) × 3. F(4×4, 3×3)'s is Lavin and Gray's (2016). */
const G: Record<TileSize, number[][]> = {
  2: [
    [1, 0, 0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0, 0, 1],
  ],
  4: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
};

/** (G g Gᵀ)[ξ] = Σₑ kernelTransform[ξ][e] g[e] over the 9 taps e = 3a + b: the weight transform as a (m + 2)² × 9 matrix. */
const kernelTransform = (m: TileSize) => {
  const a = m + 2;
  return Float32Array.from({ length: a * a * 9 }, (_, at) => {
    const xi = Math.floor(at / 9),
      e = at % 9;
    return G[m][Math.floor(xi / a)][Math.floor(e / 3)] * G[m][xi % a][e % 3];
  });
};
const kernelTransforms: Record<TileSize, Float32Array> = { 2: kernelTransform(2), 4: kernelTransform(4) };

/** U[ξ][o][i] = (G g Gᵀ)[ξ] for each 3×3 kernel g = W[o][i][·]: one GEMM, (m + 2)² × 9 times 9 × (Cout·Cin). */
export function transformWeights(W: Float32Array, outC: number, inC: number, U: Float32Array, m: TileSize): void {
  const P = outC * inC;
  sgemm(false, true, tilePlanes(m), P, 9, 1, kernelTransforms[m], 9, W, 9, 0, U, planeStride(P));
}

/** ∂W[o][i][e] += Σ_ξ kernelTransform[ξ][e] ∂U[ξ][o][i], the transpose of `transformWeights`: one GEMM. */
export function accumulateWeightGradient(dU: Float32Array, outC: number, inC: number, gW: Float32Array, m: TileSize): void {
  const P = outC * inC;
  sgemm(true, false, P, 9, tilePlanes(m), 1, dU, planeStride(P), kernelTransforms[m], 9, 1, gW, 9);
}

/**
 * Row buffers the transforms reuse from call to call (grown, never shrunk), so that a training
 * batch allocates nothing: the input transform's edge rows, and the input gradient's carried rows.
 * The four transforms below work over channels [from, to), which are independent, so split.ts runs
 * two ranges at once; each thread has its own copy of this module, and so of these rows.
 */
let edgeRows = new Float32Array(0);
let carriedRows = [0, 1, 2, 3].map(() => new Float64Array(0));

/** V[ξ][c][t] = (Bᵀ d B)[ξ] for the 4×4 input tile d of every tile t, with the zero padding `pad` (at most 2). */
export function transformInput(x: Volume, pad: number, tl: Tiling, V: Float32Array, from = 0, to = x.c): void {
  const { c: C, n: N, h, w, data } = x,
    { th, tw, tiles: T } = tl,
    CT = planeStride(C * T);
  // layers.wat's four tiles at a time, when both buffers are in the arena and four padded rows fit its scratch.
  const scratch = arenaScratch();
  // (Its loops run at least once: not for a convolution with no output.)
  const wasm = T > 0 && 16 * (w + 2 * pad + 12) <= scratch.bytes ? arenaKernels(data, V) : undefined;
  if (wasm) {
    for (let c = from; c < to; c++)
      for (let b = 0; b < N; b++)
        wasm.winogradInput(address(data, (c * N + b) * h * w), h, w, pad, th, tw, address(V, c * T + b * th * tw), 4 * CT, scratch.at);
    return;
  }
  // Tile rows that reach into the padding read a copy of their four rows with zeros for the rows
  // outside the image; the others read the image in place (a padded copy of every plane cost as
  // much as the transform).
  if (edgeRows.length < 4 * w) edgeRows = new Float32Array(4 * w);
  const edge = edgeRows;
  for (let c = from; c < to; c++) {
    for (let b = 0; b < N; b++) {
      const image = (c * N + b) * h * w;
      for (let ty = 0, t = c * T + b * th * tw; ty < th; ty++, t += tw) {
        const top = 2 * ty - pad;
        if (top >= 0 && top + 3 < h) {
          tileRow(data, image + top * w, w, tw, pad, V, t, CT);
          continue;
        }
        for (let i = 0; i < 4; i++) {
          const y = top + i,
            from = image + y * w,
            to = i * w;
          // A loop, not set(subarray()): on 4×4 images every tile row is an edge, and a subarray per row cost 3×.
          if (y >= 0 && y < h) for (let x = 0; x < w; x++) edge[to + x] = data[from + x];
          else edge.fill(0, to, to + w);
        }
        tileRow(edge, 0, w, tw, pad, V, t, CT);
      }
    }
  }
}

/**
 * One row of tiles: the four image rows from `r0` (`w` apart), tiles starting at column −pad.
 * Bᵀ d combines the tile's rows: d0 − d2, d1 + d2, d2 − d1, d1 − d3 (a, b, c, d below); then
 * (Bᵀ d) B combines each of those rows' four values the same way. Neighbouring tiles share two
 * columns, so each step computes the row combinations of two new columns and carries the other
 * two; all in locals (a scratch array ran at a third of the speed). Columns outside the image are 0.
 */
function tileRow(src: Float32Array, r0: number, w: number, tw: number, pad: number, V: Float32Array, t: number, CT: number): void {
  const r1 = r0 + w,
    r2 = r1 + w,
    r3 = r2 + w;
  let a0 = 0,
    b0 = 0,
    c0 = 0,
    d0 = 0,
    a1 = 0,
    b1 = 0,
    c1 = 0,
    d1 = 0;
  // The first tile's two left columns, −pad and 1 − pad; those left of the image stay 0.
  if (pad === 0) {
    (a0 = src[r0] - src[r2]), (b0 = src[r1] + src[r2]), (c0 = src[r2] - src[r1]), (d0 = src[r1] - src[r3]);
  }
  const x1 = 1 - pad;
  if (x1 >= 0 && x1 < w) {
    (a1 = src[r0 + x1] - src[r2 + x1]), (b1 = src[r1 + x1] + src[r2 + x1]), (c1 = src[r2 + x1] - src[r1 + x1]), (d1 = src[r1 + x1] - src[r3 + x1]);
  }
  for (let tx = 0, x = 2 - pad; tx < tw; tx++, t++, x += 2) {
    let a2 = 0,
      b2 = 0,
      c2 = 0,
      d2 = 0,
      a3 = 0,
      b3 = 0,
      c3 = 0,
      d3 = 0;
    if (x < w) {
      (a2 = src[r0 + x] - src[r2 + x]), (b2 = src[r1 + x] + src[r2 + x]), (c2 = src[r2 + x] - src[r1 + x]), (d2 = src[r1 + x] - src[r3 + x]);
    }
    const y = x + 1;
    if (y < w) {
      (a3 = src[r0 + y] - src[r2 + y]), (b3 = src[r1 + y] + src[r2 + y]), (c3 = src[r2 + y] - src[r1 + y]), (d3 = src[r1 + y] - src[r3 + y]);
    }
    transformedRow(V, t, CT, a0, a1, a2, a3);
    transformedRow(V, t + 4 * CT, CT, b0, b1, b2, b3);
    transformedRow(V, t + 8 * CT, CT, c0, c1, c2, c3);
    transformedRow(V, t + 12 * CT, CT, d0, d1, d2, d3);
    a0 = a2;
    b0 = b2;
    c0 = c2;
    d0 = d2;
    a1 = a3;
    b1 = b3;
    c1 = c3;
    d1 = d3;
  }
}

/** One row (u0 … u3) of Bᵀ d, times B: (u0 − u2, u1 + u2, u2 − u1, u1 − u3) at stride `step`. */
function transformedRow(V: Float32Array, at: number, step: number, u0: number, u1: number, u2: number, u3: number): void {
  V[at] = u0 - u2;
  V[at + step] = u1 + u2;
  V[at + 2 * step] = u2 - u1;
  V[at + 3 * step] = u1 - u3;
}

/** y = Aᵀ m A for every tile (the 2×2 outputs inside the image), plus a bias per channel if given. */
export function transformOutput(M: Float32Array, tl: Tiling, y: Volume, bias?: Float32Array, from = 0, to = y.c): void {
  const { c: K, n: N, data } = y,
    { oh, ow, th, tw, tiles: T } = tl,
    KT = planeStride(K * T);
  const wasm = fourTilesAtATime(tl, M, data);
  if (wasm) {
    for (let k = from; k < to; k++)
      for (let b = 0; b < N; b++)
        wasm.winogradOutput(address(M, k * T + b * th * tw), 4 * KT, address(data, (k * N + b) * oh * ow), th, tw, bias ? bias[k] : 0);
    return;
  }
  const evenRows = 2 * th === oh,
    evenCols = 2 * tw === ow;
  for (let k = from; k < to; k++) {
    const b0 = bias ? bias[k] : 0;
    for (let b = 0; b < N; b++) {
      let t = k * T + b * th * tw;
      const image = (k * N + b) * oh * ow;
      for (let ty = 0; ty < th; ty++) {
        for (let tx = 0; tx < tw; tx++, t++) {
          // Aᵀ m: rows m0 + m1 + m2 and m1 − m2 − m3 (each of four values), then the same
          // combination of each row's values.
          const a0 = M[t] + M[t + 4 * KT] + M[t + 8 * KT],
            d0 = M[t + 4 * KT] - M[t + 8 * KT] - M[t + 12 * KT];
          const a1 = M[t + KT] + M[t + 5 * KT] + M[t + 9 * KT],
            d1 = M[t + 5 * KT] - M[t + 9 * KT] - M[t + 13 * KT];
          const a2 = M[t + 2 * KT] + M[t + 6 * KT] + M[t + 10 * KT],
            d2 = M[t + 6 * KT] - M[t + 10 * KT] - M[t + 14 * KT];
          const a3 = M[t + 3 * KT] + M[t + 7 * KT] + M[t + 11 * KT],
            d3 = M[t + 7 * KT] - M[t + 11 * KT] - M[t + 15 * KT];
          const s00 = a0 + a1 + a2,
            s01 = a1 - a2 - a3,
            s10 = d0 + d1 + d2,
            s11 = d1 - d2 - d3;
          const at = image + 2 * ty * ow + 2 * tx;
          data[at] = s00 + b0;
          const right = evenCols || 2 * tx + 1 < ow,
            down = evenRows || 2 * ty + 1 < oh;
          if (right) data[at + 1] = s01 + b0;
          if (down) {
            data[at + ow] = s10 + b0;
            if (right) data[at + ow + 1] = s11 + b0;
          }
        }
      }
    }
  }
}

/**
 * layers.wat's output transforms, four tiles of a row at a time, when both buffers are in the
 * arena and every tile's 2×2 outputs lie inside the image, in rows of a multiple of 4 tiles:
 * ResNet's 32×32, 16×16 and 8×8 stages. Float32 lanes, where the loops here sum in float64.
 */
function fourTilesAtATime(tl: Tiling, tiles: Float32Array, image: Float32Array): LayerKernels | undefined {
  const fits = tl.tw > 0 && tl.th > 0 && tl.tw % 4 === 0 && 2 * tl.tw === tl.ow && 2 * tl.th === tl.oh;
  return fits ? arenaKernels(tiles, image) : undefined;
}

/** D[ξ][k][t] = (A e Aᵀ)[ξ] for each 2×2 block e of dY (zero past the edge): the gradient reaching the tile products. */
export function transformOutputGradient(dy: Volume, tl: Tiling, D: Float32Array, from = 0, to = dy.c): void {
  const { c: K, n: N, h: oh, w: ow, data } = dy,
    { th, tw, tiles: T } = tl,
    KT = planeStride(K * T);
  const wasm = fourTilesAtATime(tl, D, data);
  if (wasm) {
    for (let k = from; k < to; k++)
      for (let b = 0; b < N; b++) wasm.winogradOutputGradient(address(data, (k * N + b) * oh * ow), address(D, k * T + b * th * tw), 4 * KT, th, tw);
    return;
  }
  for (let k = from; k < to; k++) {
    for (let b = 0; b < N; b++) {
      let t = k * T + b * th * tw;
      const image = (k * N + b) * oh * ow;
      for (let ty = 0; ty < th; ty++) {
        const down = 2 * ty + 1 < oh;
        for (let tx = 0; tx < tw; tx++, t++) {
          const at = image + 2 * ty * ow + 2 * tx,
            right = 2 * tx + 1 < ow;
          const e00 = data[at],
            e01 = right ? data[at + 1] : 0;
          const e10 = down ? data[at + ow] : 0,
            e11 = down && right ? data[at + ow + 1] : 0;
          // A e: rows e0, e0 + e1, e0 − e1, −e1 (A = [1 0; 1 1; 1 −1; 0 −1]); then the same along each row.
          gradientRow(D, t, KT, e00, e01);
          gradientRow(D, t + 4 * KT, KT, e00 + e10, e01 + e11);
          gradientRow(D, t + 8 * KT, KT, e00 - e10, e01 - e11);
          gradientRow(D, t + 12 * KT, KT, -e10, -e11);
        }
      }
    }
  }
}

/**
 * ∂x from ∂V, the adjoint of `transformInput`: each tile's B ∂V Bᵀ added back where the tile came
 * from (x is overwritten). B v = (v0, v1 − v2 + v3, v1 + v2 − v0, −v3), along the columns of ∂V
 * and then its rows. Tiles overlap their neighbours by two columns and two rows, so a tile's right
 * two columns are carried in locals into the next tile, and a tile row's bottom two rows in two
 * row buffers into the next tile row: every value of ∂x is written once, without a zeroing pass.
 */
export function transformInputGradient(dV: Float32Array, pad: number, tl: Tiling, dx: Volume, from = 0, to = dx.c): void {
  const { c: C, n: N, h, w, data } = dx,
    { th, tw, tiles: T } = tl,
    CT = planeStride(C * T);
  // layers.wat's four tiles at a time, when both buffers are in the arena and its four rows fit its scratch.
  const scratch = arenaScratch();
  const wasm = T > 0 && 4 * 32 * (Math.ceil(tw / 4) + 1) <= scratch.bytes ? arenaKernels(dV, data) : undefined;
  if (wasm) {
    for (let c = from; c < to; c++)
      for (let b = 0; b < N; b++)
        wasm.winogradInputGradient(address(dV, c * T + b * th * tw), 4 * CT, address(data, (c * N + b) * h * w), h, w, pad, th, tw, scratch.at);
    return;
  }
  // Row buffers over the tile columns' span, −pad … 2·TW + 1 − pad: the carried rows, and the next ones.
  const span = 2 * tw + 2;
  if (carriedRows[0].length < span) carriedRows = [0, 1, 2, 3].map(() => new Float64Array(span));
  let above = carriedRows[0],
    below = carriedRows[1],
    nextAbove = carriedRows[2],
    nextBelow = carriedRows[3];
  for (let c = from; c < to; c++) {
    for (let b = 0; b < N; b++) {
      const image = (c * N + b) * h * w;
      above.fill(0);
      below.fill(0);
      for (let ty = 0, t = c * T + b * th * tw; ty < th; ty++) {
        const top = 2 * ty - pad;
        // The two columns carried from the tile to the left, for each of the tile row's four rows.
        let p0 = 0,
          p1 = 0,
          q0 = 0,
          q1 = 0,
          r0 = 0,
          r1 = 0,
          s0 = 0,
          s1 = 0;
        for (let tx = 0, at = 0; tx < tw; tx++, t++, at += 2) {
          // B ∂V, by columns (v0 … v3 of column j are planes j, 4 + j, 8 + j, 12 + j).
          const v00 = dV[t],
            v01 = dV[t + CT],
            v02 = dV[t + 2 * CT],
            v03 = dV[t + 3 * CT];
          const v10 = dV[t + 4 * CT],
            v11 = dV[t + 5 * CT],
            v12 = dV[t + 6 * CT],
            v13 = dV[t + 7 * CT];
          const v20 = dV[t + 8 * CT],
            v21 = dV[t + 9 * CT],
            v22 = dV[t + 10 * CT],
            v23 = dV[t + 11 * CT];
          const v30 = dV[t + 12 * CT],
            v31 = dV[t + 13 * CT],
            v32 = dV[t + 14 * CT],
            v33 = dV[t + 15 * CT];
          const o10 = v10 - v20 + v30,
            o11 = v11 - v21 + v31,
            o12 = v12 - v22 + v32,
            o13 = v13 - v23 + v33;
          const o20 = v10 + v20 - v00,
            o21 = v11 + v21 - v01,
            o22 = v12 + v22 - v02,
            o23 = v13 + v23 - v03;
          // (B ∂V) Bᵀ along each row (u0, u1 − u2 + u3, u1 + u2 − u0, −u3); rows 0 and 3 are v0 and −v3.
          // Columns 0 and 1 are complete with the column carry, and rows 0 and 1 with the row carry.
          const x = at - pad;
          setPair(data, image, top, x, h, w, v00 + p0 + above[at], v01 - v02 + v03 + p1 + above[at + 1]);
          setPair(data, image, top + 1, x, h, w, o10 + q0 + below[at], o11 - o12 + o13 + q1 + below[at + 1]);
          nextAbove[at] = o20 + r0;
          nextAbove[at + 1] = o21 - o22 + o23 + r1;
          nextBelow[at] = s0 - v30;
          nextBelow[at + 1] = s1 - v31 + v32 - v33;
          (p0 = v01 + v02 - v00), (p1 = -v03);
          (q0 = o11 + o12 - o10), (q1 = -o13);
          (r0 = o21 + o22 - o20), (r1 = -o23);
          (s0 = v30 - v31 - v32), (s1 = v33);
        }
        const at = 2 * tw,
          x = at - pad;
        setPair(data, image, top, x, h, w, p0 + above[at], p1 + above[at + 1]);
        setPair(data, image, top + 1, x, h, w, q0 + below[at], q1 + below[at + 1]);
        nextAbove[at] = r0;
        nextAbove[at + 1] = r1;
        nextBelow[at] = s0;
        nextBelow[at + 1] = s1;
        const carried = above,
          carriedBelow = below;
        above = nextAbove;
        below = nextBelow;
        nextAbove = carried;
        nextBelow = carriedBelow;
      }
      // The last tile row's bottom two rows.
      const top = 2 * th - pad;
      for (let at = 0; at < span; at += 2) {
        setPair(data, image, top, at - pad, h, w, above[at], above[at + 1]);
        setPair(data, image, top + 1, at - pad, h, w, below[at], below[at + 1]);
      }
    }
  }
}

/** x[y][col] = a and x[y][col + 1] = b, where inside the image. */
function setPair(data: Float32Array, image: number, y: number, col: number, h: number, w: number, a: number, b: number): void {
  if (y < 0 || y >= h) return;
  const at = image + y * w + col;
  if (col >= 0 && col < w) data[at] = a;
  if (col + 1 >= 0 && col + 1 < w) data[at + 1] = b;
}

/** One row (p, q) of A e, times Aᵀ: (p, p + q, p − q, −q) at stride `step`. */
function gradientRow(D: Float32Array, at: number, step: number, p: number, q: number): void {
  D[at] = p;
  D[at + step] = p + q;
  D[at + 2 * step] = p - q;
  D[at + 3 * step] = -q;
}

/** Plane ξ of a buffer of 16 planes of `size` floats. */
function plane(buffer: Float32Array, xi: number, size: number): Float32Array {
  const at = xi * planeStride(size);
  return buffer.subarray(at, at + size);
}

/** M[ξ] = U[ξ] · V[ξ] for the tile positions, rows × inner times inner × T; `transposed` U planes are inner × rows. */
export function tileProducts(
  U: Float32Array,
  V: Float32Array,
  rows: number,
  inner: number,
  { tiles: T, m }: Tiling,
  M: Float32Array,
  transposed = false,
  from = 0,
  to = tilePlanes(m),
): void {
  for (let xi = from; xi < to; xi++) {
    const u = transposed ? matrix(inner, rows, plane(U, xi, rows * inner)) : matrix(rows, inner, plane(U, xi, rows * inner));
    matmul(u, matrix(inner, T, plane(V, xi, inner * T)), { transA: transposed, out: matrix(rows, T, plane(M, xi, rows * T)) });
  }
}

/** ∂U[ξ] = D[ξ] · V[ξ]ᵀ: Cout × T times T × Cin, for the tile positions. */
export function tileWeightGradients(
  D: Float32Array,
  V: Float32Array,
  outC: number,
  inC: number,
  { tiles: T, m }: Tiling,
  dU: Float32Array,
  from = 0,
  to = tilePlanes(m),
): void {
  for (let xi = from; xi < to; xi++) {
    matmul(matrix(outC, T, plane(D, xi, outC * T)), matrix(inC, T, plane(V, xi, inC * T)), { transB: true, out: matrix(outC, inC, plane(dU, xi, outC * inC)) });
  }
}
