import { availableParallelism } from "node:os";
import { nearestToCentres } from "../../cluster/kmeans-scale.js";
import type { ImageList } from "../../data/images/folder.js";
import { normalizingMap, type ChannelNormalization, type ImageShape } from "../../data/images/resize.js";
import { ClipDecoderThread } from "./decoder-thread.js";
import { findFfmpeg, VideoDecodeError, type ClipFrames, type FrameSampling } from "./ffmpeg.js";
import { inputError, UserError } from "../../errors.js";
import { matrix } from "../../linalg/matrix.js";
import { Rng } from "../../random.js";
import { badFileError, openEmbedModel, runFingerprint, type EmbedOptions } from "../embed.js";
import { outputReducer, type OutputReducer, type Pooling } from "../pooling.js";
import { onnxRuntime, type ImageModel } from "../session.js";
import { EmbeddingWriter } from "../writer.js";

export interface VideoEmbedOptions extends Pick<EmbedOptions, "model" | "out" | "size" | "mean" | "std" | "output" | "threads" | "skipBad" | "onSkip"> {
  clips: ImageList;
  /** Frames sampled per clip, spread evenly over its duration (default 8, or the video model's own). */
  frames?: number;
  /** Concatenate the frame means of this many equal, consecutive segments (default 1: one mean). */
  segments?: number;
  /** Key frames chosen per clip for the labelling page (default 4). */
  keyFrames?: number;
  /** Clips per inference batch (default: 32 frames' worth for an image model, 1 for a video model). */
  batch?: number;
  /** How a rank-3/4/5 output becomes a row per frame (or clip): see outputReducer. */
  pool?: Pooling;
  /** The ffmpeg program (default $ALFAMIX_FFMPEG, else ffmpeg on PATH). */
  ffmpeg?: string;
  onProgress?: (progress: { done: number; total: number; clipsPerSecond: number; etaMs?: number }) => void;
}

export interface VideoEmbedResult {
  rows: number;
  dim: number;
  resumedFrom: number;
  skipped: { file: string; message: string }[];
  shape: ImageShape;
  frames: number;
  segments: number;
  output: string;
  /** What was done to the model's output and over time, for the summary. */
  pooling: string;
  files: { embeddings: string; ids: string; labels?: string; side?: string };
  ms: number;
}

/** The key-frame times file written beside the embeddings: one line of seconds per row. */
export const KEY_FRAMES_EXTENSION = "keyframes";

/**
 * Embed clips: ffmpeg decodes `frames` evenly spaced frames of each clip (several clips at once,
 * ahead of the model); an image model embeds every frame, and a clip's row is the mean of its
 * frames' rows (or the means of `segments` consecutive parts, side by side, so the order of
 * events survives); a video model (5-D input) takes the clip whole. The output files are those of
 * `embed --images`, plus OUT.keyframes: per clip, the times of the frames nearest the k-means
 * centres of its frames' rows, which the labelling page shows as a strip. Resumes like images.
 */
export async function embedVideos(options: VideoEmbedOptions): Promise<VideoEmbedResult> {
  const started = performance.now();
  if (!/\.npy$/i.test(options.out)) throw new UserError(`embed: --out must name a .npy file, got ${JSON.stringify(options.out)}`);
  const { clips } = options;
  if (clips.files.length === 0) throw inputError(clips.source, undefined, "no clips to embed");
  const ffmpeg = findFfmpeg(options.ffmpeg);
  const { model, outputName, shape, norm } = await openEmbedModel(options, true);
  try {
    const { frames, segments, keyFrames } = timeSettings(options, model);
    const clipsPerBatch = options.batch ?? (model.video ? 1 : Math.max(1, Math.floor(32 / frames)));
    const sampling: FrameSampling = { count: frames, height: shape.height, width: shape.width, channels: shape.channels };
    const writer = new EmbeddingWriter(options.out, runFingerprint(model, outputName, options.pool, clips.files, { sampling, segments, keyFrames, norm }));
    const resumedFrom = writer.next;
    const skipped = writer.skipped.map((i) => ({ file: clips.files[i], message: "skipped in an earlier run" }));
    const total = clips.files.length;

    const decoder = new ClipDecoder(clips.files, writer.next, sampling, ffmpeg, availableParallelism());
    const embedder = new ClipEmbedder(model, outputName, shape, norm, sampling, segments, keyFrames, options.pool);
    const runStarted = performance.now();
    try {
      while (writer.next < total) {
        const start = writer.next,
          count = Math.min(clipsPerBatch, total - start);
        const good: ClipFrames[] = [],
          bad: number[] = [];
        for (let i = start; i < start + count; i++) {
          const decoded = await decoder.get(i);
          if (decoded instanceof VideoDecodeError) {
            if (!options.skipBad) throw badFileError(clips.files[i], decoded.message);
            skipped.push({ file: clips.files[i], message: decoded.message });
            options.onSkip?.(clips.files[i], decoded.message);
            bad.push(i);
          } else good.push(decoded);
        }
        const { rows, lines } = good.length ? await embedder.embed(good) : { rows: new Float32Array(0), lines: [] };
        writer.append(rows, good.length, embedder.dim, start + count, bad, lines);
        const progress = writer.progress(total, resumedFrom, runStarted);
        options.onProgress?.({ ...progress, clipsPerSecond: progress.perSecond });
      }
    } finally {
      await decoder.close();
    }
    const files = writer.finishList(clips, "clips", model.video ? undefined : KEY_FRAMES_EXTENSION);
    return {
      rows: writer.rows,
      dim: writer.dim!,
      resumedFrom,
      skipped,
      shape,
      frames,
      segments,
      output: outputName,
      pooling: embedder.description ?? "as recorded by the earlier run",
      files,
      ms: performance.now() - started,
    };
  } finally {
    await model.session.release();
  }
}

/** Clips decoded together per ffmpeg run (see decodeClips): starting ffmpeg costs more than decoding a short clip. */
const DECODE_GROUP = 16;

/**
 * Clips in order, decoded in groups ahead of the model: `lookahead` groups (one ffmpeg run each)
 * at a time, so decoding uses every core while the model runs.
 */
class ClipDecoder {
  private readonly groups = new Map<number, Promise<(ClipFrames | VideoDecodeError)[]>>();
  private queued = 0;

  constructor(
    private readonly files: string[],
    private readonly from: number,
    private readonly sampling: FrameSampling,
    private readonly ffmpeg: string,
    private readonly lookahead: number,
    private readonly thread = new ClipDecoderThread(),
  ) {}

  close(): Promise<void> {
    return this.thread.close();
  }

  async get(index: number): Promise<ClipFrames | VideoDecodeError> {
    const group = Math.floor((index - this.from) / DECODE_GROUP),
      offset = (index - this.from) % DECODE_GROUP;
    this.fill(group);
    const decoded = await this.groups.get(group)!;
    if (offset === decoded.length - 1) {
      this.groups.delete(group);
      this.fill(group + 1);
    }
    return decoded[offset];
  }

  private fill(current: number): void {
    while (this.queued < current + this.lookahead && this.from + this.queued * DECODE_GROUP < this.files.length) {
      const start = this.from + this.queued * DECODE_GROUP;
      const decoding = this.thread.decode(this.files.slice(start, start + DECODE_GROUP), this.sampling, this.ffmpeg);
      // Failures surface when the group is asked for, not as unhandled rejections before.
      decoding.catch(() => {});
      this.groups.set(this.queued++, decoding);
    }
  }
}

/** Frames, segments and key frames, checked against each other and the model. */
function timeSettings(options: VideoEmbedOptions, model: ImageModel): { frames: number; segments: number; keyFrames: number } {
  const fixed = model.video?.frames;
  const frames = options.frames ?? fixed ?? 8;
  if (fixed !== undefined && frames !== fixed)
    throw new UserError(`${model.label}: the model takes clips of ${fixed} frames; drop --frames or pass --frames ${fixed}`);
  const segments = options.segments ?? 1;
  if (model.video && segments !== 1) throw new UserError(`${model.label}: --segments pools an image model's frames; a video model pools over time itself`);
  if (segments > frames) throw new UserError(`embed: --segments ${segments} needs at least as many frames per clip, got --frames ${frames}`);
  return { frames, segments, keyFrames: options.keyFrames ?? 4 };
}

/** Runs the model on decoded clips and turns its output into one row (and one key-frame line) per clip. */
class ClipEmbedder {
  private reducer?: OutputReducer;
  private readonly map: { scale: number[]; shift: number[] };

  constructor(
    private readonly model: ImageModel,
    private readonly outputName: string,
    private readonly shape: ImageShape,
    private readonly norm: ChannelNormalization,
    private readonly sampling: FrameSampling,
    private readonly segments: number,
    private readonly keyFrames: number,
    private readonly pool: Pooling | undefined,
  ) {
    this.map = normalizingMap(norm);
  }

  /** Values per clip row, once the first batch has run. */
  get dim(): number | undefined {
    return this.reducer && (this.model.video ? this.reducer.dim : this.reducer.dim * this.segments);
  }

  get description(): string | undefined {
    if (!this.reducer) return undefined;
    if (this.model.video) return `${this.reducer.description} of the clip`;
    const n = this.sampling.count;
    const time = n === 1 ? "one frame" : this.segments === 1 ? `mean of ${n} frames` : `means of ${this.segments} segments of the ${n} frames, concatenated`;
    return `${this.reducer.description}, ${time}`;
  }

  async embed(clips: ClipFrames[]): Promise<{ rows: Float32Array; lines?: string[] }> {
    const { channels: c, height: h, width: w } = this.shape;
    const t = this.sampling.count;
    const video = this.model.video;
    const input = new Float32Array(clips.length * t * c * h * w);
    clips.forEach((clip, i) => this.toInput(clip.pixels, input, i * t * c * h * w));
    const dims = video
      ? video.layout === "ncthw"
        ? [clips.length, c, t, h, w]
        : [clips.length, t, c, h, w]
      : this.model.layout === "nchw"
        ? [clips.length * t, c, h, w]
        : [clips.length * t, h, w, c];
    const runtime = onnxRuntime();
    const result = await this.model.session.run({ [this.model.inputName]: new runtime.Tensor("float32", input, dims) }, [this.outputName]);
    const output = result[this.outputName];
    this.reducer ??= outputReducer(output.dims, this.pool, this.model.layout, this.outputName);
    const d = this.reducer.dim;
    const reduced = new Float32Array(dims[0] * d);
    this.reducer.reduce(output.data as Float32Array, dims[0], reduced);
    if (video) return { rows: reduced };
    const rows = new Float32Array(clips.length * this.segments * d);
    const lines: string[] = [];
    clips.forEach((clip, i) => {
      const frameRows = reduced.subarray(i * t * d, (i + 1) * t * d);
      segmentMeans(frameRows, t, d, this.segments, rows.subarray(i * this.segments * d, (i + 1) * this.segments * d));
      lines.push(
        keyFrameSlots(frameRows, t, d, this.keyFrames)
          .map((slot) => clip.times[slot].toFixed(3))
          .filter((time, k, all) => all.indexOf(time) === k)
          .join(" "),
      );
    });
    return { rows, lines };
  }

  /** A clip's interleaved bytes (T×H×W×C) to normalised floats in the model's layout, at `offset`. */
  private toInput(pixels: Uint8Array, out: Float32Array, offset: number): void {
    const { channels: c, height: h, width: w } = this.shape;
    const t = this.sampling.count,
      hw = h * w;
    const { scale, shift } = this.map;
    const channelsLast = !this.model.video && this.norm.layout === "nhwc";
    // Strides of (frame, channel, pixel) in the output.
    const [frameStride, channelStride, pixelStride] = channelsLast ? [hw * c, 1, c] : this.model.video?.layout === "ncthw" ? [hw, t * hw, 1] : [c * hw, hw, 1];
    for (let f = 0; f < t; f++) {
      const from = f * hw * c;
      for (let ch = 0; ch < c; ch++) {
        const base = offset + f * frameStride + ch * channelStride,
          s = scale[ch],
          b = shift[ch];
        for (let p = 0; p < hw; p++) out[base + p * pixelStride] = pixels[from + p * c + ch] * s + b;
      }
    }
  }
}

/** The means of `segments` equal, consecutive runs of the `frames` rows (frame f in segment ⌊f·K/T⌋), side by side. */
export function segmentMeans(frameRows: Float32Array, frames: number, dim: number, segments: number, out: Float32Array): void {
  out.fill(0);
  const counts = new Float64Array(segments);
  for (let f = 0; f < frames; f++) {
    const s = Math.floor((f * segments) / frames);
    counts[s]++;
    for (let j = 0; j < dim; j++) out[s * dim + j] += frameRows[f * dim + j];
  }
  for (let s = 0; s < segments; s++) for (let j = 0; j < dim; j++) out[s * dim + j] /= counts[s];
}

/**
 * The frames that show a clip at a glance: k-means (k-means++ seeded, fixed seed) over the
 * frames' rows, the frame nearest each centre, in time order. Repeated frames count once.
 */
export function keyFrameSlots(frameRows: Float32Array, frames: number, dim: number, k: number): number[] {
  if (frames <= k) return Array.from({ length: frames }, (_, i) => i);
  const { rows } = nearestToCentres("exact", matrix(frames, dim, Float32Array.from(frameRows)), k, { rng: new Rng("key-frames") });
  return [...new Set(rows)].sort((a, b) => a - b);
}
