import { copyFloats } from "../../linalg/gemm.js";
import { address, arenaKernels } from "./arena.js";
import type { Volume } from "./volume.js";

/**
 * im2col and its adjoint over a range [from, to) of input channels, which own disjoint rows of
 * the columns and disjoint planes of the input gradient: split.ts runs two ranges at once.
 */

/**
 * Columns of a convolution: row (ci·k + ky)·k + kx holds, for every output position (n, oy, ox),
 * the input at (ci, n, oy·s − p + ky, ox·s − p + kx), or 0 in the padding.
 */
export function im2col(x: Volume, k: number, s: number, p: number, oh: number, ow: number, out: Float32Array, from = 0, to = x.c): void {
  const { n, h, w, data } = x;
  const M = n * oh * ow;
  // columns.wat at stride 2 (ResNet's downsampling convolutions and shortcuts), a channel a call.
  const wasm = s === 2 && M > 0 ? arenaKernels(data, out) : undefined;
  if (wasm) {
    for (let ci = from; ci < to; ci++) wasm.columnsStride2(address(data, ci * n * h * w), n, h, w, k, p, oh, ow, address(out, ci * k * k * M));
    return;
  }
  const sameSize = s === 1 && ow === w && oh === h;
  const padding = sameSize ? paddingOffsets(k, p, h, w) : [];
  for (let ci = from; ci < to; ci++) {
    for (let ky = 0; ky < k; ky++) {
      for (let kx = 0; kx < k; kx++) {
        const row = ((ci * k + ky) * k + kx) * M;
        if (sameSize) {
          sameSizeRow(data, out, ci * M, row, n, h * w, (ky - p) * w + (kx - p), padding[ky * k + kx]);
          continue;
        }
        // Output columns ox whose input column ix = ox·s − p + kx lies inside the image.
        const lo = Math.max(0, Math.ceil((p - kx) / s)),
          hi = Math.min(ow, Math.floor((w - 1 + p - kx) / s) + 1);
        for (let b = 0; b < n; b++) {
          const plane = (ci * n + b) * h * w;
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * s - p + ky,
              dst = row + (b * oh + oy) * ow;
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

/** paddingOffsets by "k,p,h,w", so that im2col allocates nothing per batch (and the helper's half reuses its own). */
const paddingCache = new Map<string, Int32Array[]>();

/** For each kernel tap (ky·k + kx) of a stride-1 "same" conv, the output positions within an image whose input lies in the padding. */
function paddingOffsets(k: number, p: number, h: number, w: number): Int32Array[] {
  const key = `${k},${p},${h},${w}`;
  const cached = paddingCache.get(key);
  if (cached) return cached;
  const taps: Int32Array[] = [];
  for (let ky = 0; ky < k; ky++) {
    for (let kx = 0; kx < k; kx++) {
      const offsets: number[] = [];
      for (let oy = 0; oy < h; oy++) {
        const iy = oy + ky - p;
        for (let ox = 0; ox < w; ox++) {
          const ix = ox + kx - p;
          if (iy < 0 || iy >= h || ix < 0 || ix >= w) offsets.push(oy * w + ox);
        }
      }
      taps.push(Int32Array.from(offsets));
    }
  }
  paddingCache.set(key, taps);
  return taps;
}

/**
 * One im2col row of a stride-1 "same" convolution (output the input's size). The channel's
 * planes for the whole batch are one contiguous run, and the row is that run shifted by `shift`
 * = (ky − p)·w + kx − p: one native copy, after which each image's padding positions (the rows
 * and the columns the shift wrapped around) are zeroed from a precomputed list. One copy per row
 * instead of one per image, and no small fills, is 2–4× faster on ResNet's 8×8 and 4×4 stages,
 * where the per-image pieces were a few dozen floats each.
 */
function sameSizeRow(data: Float32Array, out: Float32Array, channel: number, row: number, n: number, hw: number, shift: number, padding: Int32Array): void {
  // Source positions outside the data array land only on padding positions, zeroed below.
  let from = channel + shift,
    to = row,
    length = n * hw;
  if (from < 0) {
    to -= from;
    length += from;
    from = 0;
  }
  length = Math.min(length, data.length - from);
  if (length > 0) copyFloats(data.subarray(from, from + length), out.subarray(to, to + length));
  const zeros = padding.length;
  if (zeros === 0) return;
  for (let image = row, end = row + n * hw; image < end; image += hw) {
    for (let z = 0; z < zeros; z++) out[image + padding[z]] = 0;
  }
}

/** The adjoint of im2col: every column value added back at the input position it came from (dx's channels [from, to) are overwritten). */
export function col2im(cols: Float32Array, k: number, s: number, p: number, oh: number, ow: number, dx: Volume, from = 0, to = dx.c): void {
  const { n, h, w, data } = dx;
  const M = n * oh * ow;
  const wasm = s === 2 && M > 0 ? arenaKernels(cols, data) : undefined;
  if (wasm) {
    for (let ci = from; ci < to; ci++) wasm.columnsStride2Adjoint(address(cols, ci * k * k * M), n, h, w, k, p, oh, ow, address(data, ci * n * h * w));
    return;
  }
  data.fill(0, from * n * h * w, to * n * h * w);
  for (let ci = from; ci < to; ci++) {
    for (let ky = 0; ky < k; ky++) {
      for (let kx = 0; kx < k; kx++) {
        const row = ((ci * k + ky) * k + kx) * M;
        const lo = Math.max(0, Math.ceil((p - kx) / s)),
          hi = Math.min(ow, Math.floor((w - 1 + p - kx) / s) + 1);
        for (let b = 0; b < n; b++) {
          const plane = (ci * n + b) * h * w;
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * s - p + ky;
            if (iy < 0 || iy >= h) continue;
            const src = row + (b * oh + oy) * ow,
              dst = plane + iy * w - p + kx;
            if (s === 1) for (let ox = lo; ox < hi; ox++) data[dst + ox] += cols[src + ox];
            else for (let ox = lo; ox < hi; ox++) data[dst + ox * s] += cols[src + ox];
          }
        }
      }
    }
  }
}
