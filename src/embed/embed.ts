import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { statSync } from "node:fs";
import { inputError, UserError } from "../errors.js";
import { ImageDecoderPool, type BadImage } from "../data/images/decoder-pool.js";
import type { ImageList } from "../data/images/folder.js";
import type { ImageShape, ChannelNormalization } from "../data/images/resize.js";
import { checkInputShape, onnxRuntime, openImageModel, type ImageModel } from "./session.js";
import { outputReducer, type OutputReducer, type Pooling } from "./pooling.js";
import { EmbeddingWriter } from "./writer.js";

/** ImageNet's per-channel statistics on the [0, 1] scale: what most exported backbones expect. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406],
  IMAGENET_STD = [0.229, 0.224, 0.225];

export interface EmbedOptions {
  /** An .onnx file, or a bundled model name (mobilenet-v2). */
  model: string;
  images: ImageList;
  /** The .npy to write; X.ids (and X.labels when the images have classes) go beside it. */
  out: string;
  /** Height and width fed to the model (default: its fixed input size). */
  size?: [number, number];
  /** Per-channel mean and std on the [0, 1] scale (default: the bundled model's, else ImageNet's). */
  mean?: number[];
  std?: number[];
  /** The output to embed with (default: the first). */
  output?: string;
  pool?: Pooling;
  /** Images per inference batch (default 32). */
  batch?: number;
  /** Inference threads (default: every core). */
  threads?: number;
  /** Leave out images that cannot be decoded (each reported to onSkip) instead of stopping. */
  skipBad?: boolean;
  onSkip?: (file: string, message: string) => void;
  onProgress?: (progress: EmbedProgress) => void;
}

export interface EmbedProgress {
  /** Images done (embedded or skipped), including those of an earlier interrupted run. */
  done: number;
  total: number;
  imagesPerSecond: number;
  etaMs?: number;
}

export interface EmbedResult {
  rows: number;
  dim: number;
  /** Images taken over from an interrupted run with the same arguments. */
  resumedFrom: number;
  skipped: { file: string; message: string }[];
  shape: ImageShape;
  output: string;
  pooling: string;
  files: { embeddings: string; ids: string; labels?: string };
  ms: number;
}

/** Decoded batches kept ready ahead of the model, so inference never waits on decoding. */
const PREFETCH = 3;

/**
 * Embed images with an ONNX model: decode and resize in worker threads (ahead of the model),
 * normalise, run the model in batches, pool its output to one row per image, and append the rows
 * to OUT.partial, recording progress in OUT.partial.json after every batch. A rerun with the same
 * arguments resumes there; when all images are done the .npy, .ids and .labels files appear at
 * once (renamed into place), so a failed run leaves no output that looks finished.
 */
export async function embedImages(options: EmbedOptions): Promise<EmbedResult> {
  const started = performance.now();
  if (!/\.npy$/i.test(options.out)) throw new UserError(`embed: --out must name a .npy file, got ${JSON.stringify(options.out)}`);
  const { images } = options;
  if (images.files.length === 0) throw inputError(images.source, undefined, "no images to embed");
  const batchSize = options.batch ?? 32;
  const { model, outputName, shape, norm } = await openEmbedModel(options);
  try {
    const valuesPerImage = shape.channels * shape.height * shape.width;

    const writer = new EmbeddingWriter(options.out, runFingerprint(model, outputName, options.pool, images.files, { shape, norm }));
    const resumedFrom = writer.next;
    const skipped: { file: string; message: string }[] = writer.skipped.map((i) => ({ file: images.files[i], message: "skipped in an earlier run" }));

    const decoder = new ImageDecoderPool(1);
    const runtime = onnxRuntime();
    const total = images.files.length;
    let reducer: OutputReducer | undefined,
      pooled = new Float32Array(0);
    // The model's input is copied out of shared memory (onnxruntime refuses SharedArrayBuffer views).
    const inputBuffer = new Float32Array(batchSize * valuesPerImage);
    // A few shared buffers cycle between the decoder and the model: allocating fresh ones per
    // batch costs more in page faults than the decoding itself.
    const free = Array.from({ length: PREFETCH }, () => new SharedArrayBuffer(batchSize * valuesPerImage * 4));
    const decode = (start: number) => {
      const files = images.files.slice(start, start + batchSize);
      const buffer = free.pop()!;
      return decoder.decode(files, shape, { kind: "floats", buffer, offset: 0, norm }).then((bad) => ({ start, count: files.length, buffer, bad }));
    };
    try {
      const ahead: ReturnType<typeof decode>[] = [];
      let queued = writer.next;
      const fill = () => {
        while (free.length && queued < total) {
          ahead.push(decode(queued));
          queued += batchSize;
        }
      };
      fill();
      const runStarted = performance.now();
      while (ahead.length) {
        const batch = await ahead.shift()!;
        const kept = keepGood(batch.bad, batch.count, options.skipBad === true, (b) => images.files[batch.start + b.index]);
        for (const b of batch.bad) {
          const file = images.files[batch.start + b.index];
          skipped.push({ file, message: b.message });
          options.onSkip?.(file, b.message);
        }
        const input = gatherImages(new Float32Array(batch.buffer), kept, valuesPerImage, inputBuffer);
        free.push(batch.buffer);
        fill();
        let rows = 0;
        if (kept.length) {
          const dims =
            model.layout === "nchw" ? [kept.length, shape.channels, shape.height, shape.width] : [kept.length, shape.height, shape.width, shape.channels];
          const result = await model.session.run({ [model.inputName]: new runtime.Tensor("float32", input, dims) }, [outputName]);
          const output = result[outputName];
          reducer ??= outputReducer(output.dims, options.pool, model.layout, outputName);
          if (pooled.length < kept.length * reducer.dim) pooled = new Float32Array(batchSize * reducer.dim);
          reducer.reduce(output.data as Float32Array, kept.length, pooled);
          rows = kept.length;
        }
        writer.append(
          pooled.subarray(0, rows * (reducer?.dim ?? 0)),
          rows,
          reducer?.dim,
          batch.start + batch.count,
          batch.bad.map((b) => batch.start + b.index),
        );
        const progress = writer.progress(total, resumedFrom, runStarted);
        options.onProgress?.({ ...progress, imagesPerSecond: progress.perSecond });
      }
    } finally {
      await decoder.close();
    }
    const files = writer.finishList(images, "images");
    return {
      rows: writer.rows,
      dim: writer.dim!,
      resumedFrom,
      skipped,
      shape,
      output: outputName,
      pooling: reducer?.description ?? "as recorded by the earlier run",
      files,
      ms: performance.now() - started,
    };
  } finally {
    await model.session.release();
  }
}

/** The model opened for `options`, with the output, input shape and normalisation to embed with. */
export async function openEmbedModel(
  options: Pick<EmbedOptions, "model" | "output" | "size" | "mean" | "std" | "threads">,
  acceptVideo = false,
): Promise<{ model: ImageModel; outputName: string; shape: ImageShape; norm: ChannelNormalization }> {
  const model = await openImageModel(options.model, options.threads ?? availableParallelism(), acceptVideo);
  try {
    const outputName = options.output ?? model.outputNames[0];
    if (!model.outputNames.includes(outputName))
      throw new UserError(
        `${model.label}: no output named ${JSON.stringify(outputName)}; the model's outputs are ${model.outputNames.map((n) => JSON.stringify(n)).join(", ")}`,
      );
    const size = options.size ?? model.fixedSize;
    if (!size) throw new UserError(`${model.label}: the model's input size is not fixed; pass --size N or HxW (e.g. --size 224)`);
    const shape: ImageShape = { channels: model.channels, height: size[0], width: size[1] };
    checkInputShape(model, shape, options.size ? options.size.join("x") : undefined);
    const norm: ChannelNormalization = { ...channelStats(options, model.normalization, shape.channels), layout: model.layout };
    return { model, outputName, shape, norm };
  } catch (e) {
    await model.session.release();
    throw e;
  }
}

/** The one line that stops a run on a file that cannot be decoded (images and clips alike). */
export const badFileError = (file: string, message: string) => inputError(file, undefined, `${message} (pass --skip-bad to leave such files out)`);

/** Indices of the batch's images to keep; a bad image stops the run unless skipping. */
function keepGood(bad: BadImage[], count: number, skipBad: boolean, fileOf: (b: BadImage) => string): number[] {
  if (bad.length && !skipBad) throw badFileError(fileOf(bad[0]), bad[0].message);
  const isBad = new Set(bad.map((b) => b.index));
  return Array.from({ length: count }, (_, i) => i).filter((i) => !isBad.has(i));
}

/** The kept images' values, side by side at the start of `out`. */
function gatherImages(values: Float32Array, kept: number[], size: number, out: Float32Array): Float32Array {
  kept.forEach((from, to) => out.set(values.subarray(from * size, (from + 1) * size), to * size));
  return out.subarray(0, kept.length * size);
}

/**
 * What makes a run's rows what they are: the model file, its output and pooling, the input files
 * (by path, size and time) and the run's own `settings`. A rerun with the same fingerprint resumes.
 */
export function runFingerprint(model: ImageModel, output: string, pool: Pooling | undefined, files: string[], settings: object): string {
  const stamp = {
    model: model.path,
    modelStat: fileStamp(model.path),
    output,
    pool: pool ?? "default",
    ...settings,
    files: files.map((f) => [resolve(f), fileStamp(f)]),
  };
  return createHash("sha256").update(JSON.stringify(stamp)).digest("hex");
}

function fileStamp(path: string): [number, number] {
  const s = statSync(path, { throwIfNoEntry: false });
  return s ? [s.size, s.mtimeMs] : [-1, -1];
}

/** Mean and std per channel: given (one value, or one per channel), the model's own, else ImageNet's. */
function channelStats(
  options: Pick<EmbedOptions, "mean" | "std">,
  own: { mean: number[]; std: number[] } | undefined,
  channels: number,
): { mean: number[]; std: number[] } {
  const pick = (given: number[] | undefined, fallback: number[], name: string) => {
    const values = given ?? fallback;
    if (values.length === channels) return values;
    if (values.length === 1) return Array(channels).fill(values[0]);
    if (!given && channels === 1) return [values.reduce((a, b) => a + b, 0) / values.length];
    throw new UserError(`embed: --${name} gives ${values.length} values for a model with ${channels} input channel${channels === 1 ? "" : "s"}`);
  };
  const std = pick(options.std, own?.std ?? IMAGENET_STD, "std");
  if (std.some((s) => !(s > 0))) throw new UserError(`embed: --std values must be positive, got ${std.join(",")}`);
  return { mean: pick(options.mean, own?.mean ?? IMAGENET_MEAN, "mean"), std };
}
