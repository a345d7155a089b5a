import type { DecodedImage } from "./decode.js";

/** The planar (C×H×W) form every image of a dataset or batch is brought to. */
export interface ImageShape {
  channels: 1 | 3;
  height: number;
  width: number;
}

/** For one axis: output i reads `count[i]` inputs from `first[i]` with weights at `i * taps`. */
interface AxisWeights {
  first: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  taps: number;
}

const triangle = (x: number) => Math.max(0, 1 - Math.abs(x));

/**
 * Weights of the bilinear (triangle) filter from `inSize` samples to `outSize`, for the outputs
 * `offset .. offset + length` (a centre crop of the resized axis). As PIL's BILINEAR resize:
 * the filter widens by the shrink factor, so shrinking averages (antialiased) instead of skipping
 * pixels; at equal sizes it is the identity.
 */
function axisWeights(inSize: number, outSize: number, offset: number, length: number): AxisWeights {
  const scale = inSize / outSize,
    filterScale = Math.max(scale, 1),
    support = filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(length),
    count = new Int32Array(length),
    weights = new Float32Array(length * taps);
  for (let i = 0; i < length; i++) {
    const center = (offset + i + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    let total = 0;
    for (let x = lo; x < hi; x++) total += triangle((x - center + 0.5) / filterScale);
    first[i] = lo;
    count[i] = hi - lo;
    for (let x = lo; x < hi; x++) weights[i * taps + x - lo] = total > 0 ? triangle((x - center + 0.5) / filterScale) / total : 0;
  }
  return { first, count, weights, taps };
}

/**
 * The resize that covers `shape` with an image of `height` × `width`: scale so the shorter side
 * (relative to the target) fits exactly, keeping the aspect ratio, then crop the centre (any odd
 * pixel left over goes to the bottom and right). No resize when a side already fits.
 */
export function coverResize(height: number, width: number, shape: Pick<ImageShape, "height" | "width">) {
  const scale = Math.max(shape.height / height, shape.width / width);
  const resizedHeight = Math.max(shape.height, Math.round(height * scale)),
    resizedWidth = Math.max(shape.width, Math.round(width * scale));
  return {
    resizedHeight,
    resizedWidth,
    top: Math.floor((resizedHeight - shape.height) / 2),
    left: Math.floor((resizedWidth - shape.width) / 2),
  };
}

/** The image's colours as planes of floats (0–255): grey is replicated to RGB, colour to grey by luma, alpha dropped. */
function colourPlanes(image: DecodedImage, channels: 1 | 3, out: Float32Array): void {
  const n = image.width * image.height,
    c = image.channels,
    px = image.pixels;
  const colour = c >= 3;
  if (channels === 3) {
    for (let i = 0; i < n; i++) {
      const o = i * c;
      out[i] = px[o];
      out[n + i] = colour ? px[o + 1] : px[o];
      out[2 * n + i] = colour ? px[o + 2] : px[o];
    }
  } else {
    // ITU-R 601 luma, as PIL's convert("L").
    for (let i = 0; i < n; i++) {
      const o = i * c;
      out[i] = colour ? 0.299 * px[o] + 0.587 * px[o + 1] + 0.114 * px[o + 2] : px[o];
    }
  }
}

/** Where `Resizer.resize` writes, and the per-channel affine map (v × scale + shift) it applies on the way. */
export interface PlanarTarget {
  data: Float32Array;
  offset: number;
  scale: ArrayLike<number>;
  shift: ArrayLike<number>;
}

/** Scratch buffers reused between images of one decoder. */
export class Resizer {
  private planes = new Float32Array(0);
  private rows = new Float32Array(0);
  private out = new Float32Array(0);

  /**
   * The image brought to `shape` as planar floats: on the 0–255 scale into a buffer reused by the
   * next call, or, given a target, mapped per channel (e.g. normalised) straight into it.
   */
  resize(image: DecodedImage, shape: ImageShape, target?: PlanarTarget): Float32Array {
    const { width: w, height: h } = image,
      { channels, height: H, width: W } = shape;
    this.planes = grow(this.planes, channels * h * w);
    colourPlanes(image, channels, this.planes);
    const plan = coverResize(h, w, shape);
    if (!target) this.out = grow(this.out, channels * H * W);
    const out = target ? target.data : this.out,
      base = target ? target.offset : 0;
    const planes = this.planes;
    if (plan.resizedHeight === h && plan.resizedWidth === w) {
      for (let c = 0; c < channels; c++) {
        const scale = target ? target.scale[c] : 1,
          shift = target ? target.shift[c] : 0;
        for (let y = 0; y < H; y++) {
          const src = c * h * w + (y + plan.top) * w + plan.left,
            dst = base + (c * H + y) * W;
          for (let x = 0; x < W; x++) out[dst + x] = planes[src + x] * scale + shift;
        }
      }
      return out.subarray(base, base + channels * H * W);
    }
    const across = axisWeights(w, plan.resizedWidth, plan.left, W),
      down = axisWeights(h, plan.resizedHeight, plan.top, H);
    this.rows = grow(this.rows, h * W);
    const rows = this.rows;
    const xFirst = across.first,
      xCount = across.count,
      xWeights = across.weights,
      xTaps = across.taps;
    const yFirst = down.first,
      yCount = down.count,
      yWeights = down.weights,
      yTaps = down.taps;
    for (let c = 0; c < channels; c++) {
      const plane = c * h * w,
        scale = target ? target.scale[c] : 1,
        shift = target ? target.shift[c] : 0;
      // Horizontal pass: every source row to W columns.
      for (let y = 0; y < h; y++) {
        const src = plane + y * w,
          dst = y * W;
        for (let x = 0; x < W; x++) {
          const f = src + xFirst[x],
            k = x * xTaps,
            n = xCount[x];
          let v = 0;
          for (let t = 0; t < n; t++) v += planes[f + t] * xWeights[k + t];
          rows[dst + x] = v;
        }
      }
      // Vertical pass: H rows of the result, each a weighted sum of a few rows, mapped on the way out.
      for (let y = 0; y < H; y++) {
        const f = yFirst[y],
          k = y * yTaps,
          n = yCount[y],
          dst = base + (c * H + y) * W;
        const w0 = yWeights[k] * scale,
          src0 = f * W;
        for (let x = 0; x < W; x++) out[dst + x] = rows[src0 + x] * w0 + shift;
        for (let t = 1; t < n; t++) {
          const wt = yWeights[k + t] * scale,
            src = (f + t) * W;
          for (let x = 0; x < W; x++) out[dst + x] += rows[src + x] * wt;
        }
      }
    }
    return out.subarray(base, base + channels * H * W);
  }
}

function grow(buffer: Float32Array<ArrayBuffer>, size: number): Float32Array<ArrayBuffer> {
  return buffer.length >= size ? buffer : new Float32Array(size);
}

/** Planar 0–255 floats to bytes, rounded and clamped. */
export function writeBytes(planar: Float32Array, out: Uint8Array, offset: number): void {
  for (let i = 0; i < planar.length; i++) {
    const v = Math.round(planar[i]);
    out[offset + i] = v < 0 ? 0 : Math.min(v, 255);
  }
}

/** How a model wants its input: per-channel mean and std on the [0, 1] scale, and the layout. */
export interface ChannelNormalization {
  mean: number[];
  std: number[];
  layout: "nchw" | "nhwc";
}

/** The affine map v × scale + shift per channel that takes 0–255 values to (v / 255 − mean) / std. */
export function normalizingMap(norm: Pick<ChannelNormalization, "mean" | "std">): { scale: number[]; shift: number[] } {
  return { scale: norm.std.map((s) => 1 / (255 * s)), shift: norm.mean.map((m, c) => -m / norm.std[c]) };
}

/** Planar values to interleaved (H×W×C), for channels-last models. */
export function interleave(planar: Float32Array, shape: ImageShape, out: Float32Array, offset: number): void {
  const { channels, height, width } = shape,
    n = height * width;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < n; i++) out[offset + i * channels + c] = planar[c * n + i];
  }
}
