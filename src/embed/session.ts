import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { inputError, UserError } from "../errors.js";
import type { ImageShape } from "../data/images/resize.js";
import { INCEPTION_V3, MOBILENET_V2, nsfwjsModelPath } from "./nsfwjs-models.js";

/** The parts of onnxruntime-node that alfamix uses. */
export interface OrtTensor {
  dims: readonly number[];
  data: unknown;
}
export interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata: readonly { name: string; isTensor: boolean; type?: string; shape?: readonly (number | string)[] }[];
  run(feeds: Record<string, OrtTensor>, fetches?: string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface Ort {
  InferenceSession: { create(model: Uint8Array, options: object): Promise<OrtSession> };
  Tensor: new (type: "float32" | "int64", data: Float32Array | BigInt64Array, dims: number[]) => OrtTensor;
}

let ort: Ort | undefined;

/** onnxruntime-node, loaded on first use (it is large, and only `embed` needs it). */
export function onnxRuntime(): Ort {
  if (!ort) {
    try {
      ort = createRequire(import.meta.url)("onnxruntime-node") as Ort;
    } catch (e) {
      throw new UserError(
        `onnxruntime-node could not be loaded (${(e as Error).message.split("\n")[0]}); reinstall alfamix with npm (its CPU binary ships in the package)`,
      );
    }
  }
  return ort;
}

/** An ONNX image model ready to embed: where its input goes and how it is laid out. */
export interface ImageModel {
  /** The file (for `mobilenet-v2`, the converted copy in the cache). */
  path: string;
  /** What the user called it (a path, or a bundled name). */
  label: string;
  session: OrtSession;
  inputName: string;
  layout: "nchw" | "nhwc";
  /** Channels the input takes (1 or 3). */
  channels: 1 | 3;
  /** Height and width when the input shape fixes them. */
  fixedSize?: [number, number];
  outputNames: readonly string[];
  /** Mean and std (per channel, [0, 1] scale) the model documents, if any. */
  normalization?: { mean: number[]; std: number[] };
  /**
   * A video model takes a whole clip as a 5-D tensor: N×C×T×H×W (channels, then time) or
   * N×T×C×H×W; `frames` is T when the model fixes it. Image models have none.
   */
  video?: { layout: "ncthw" | "ntchw"; frames?: number };
}

/** Bundled backbones by name. */
export const BUNDLED_MODELS: Record<string, { path: () => string; mean: number[]; std: number[] }> = {
  [MOBILENET_V2.name]: { path: () => nsfwjsModelPath(MOBILENET_V2), mean: [0, 0, 0], std: [1, 1, 1] },
  [INCEPTION_V3.name]: { path: () => nsfwjsModelPath(INCEPTION_V3), mean: [0, 0, 0], std: [1, 1, 1] },
};

/**
 * Open an ONNX model (a file, or a bundled name such as mobilenet-v2) for image embedding. Its
 * first input must be a float batch of images, N×C×H×W or N×H×W×C with C = 1 or 3, or (when
 * `acceptVideo`) of clips, N×C×T×H×W or N×T×C×H×W; anything else (a file that is not ONNX, a
 * text model) is a one-line error.
 */
export async function openImageModel(spec: string, threads: number, acceptVideo = false): Promise<ImageModel> {
  const bundled = BUNDLED_MODELS[spec];
  const path = bundled ? bundled.path() : spec;
  if (!bundled) {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) throw inputError(path, undefined, `no such file (expected an .onnx model, or a bundled model: ${Object.keys(BUNDLED_MODELS).join(", ")})`);
    if (!stat.isFile()) throw inputError(path, undefined, "is not a file, expected an .onnx model");
  }
  const session = await openSession(path, threads);
  const input = session.inputMetadata[0];
  const shape = input?.shape ?? [];
  const found = `${input?.type ?? "?"} input ${JSON.stringify(input?.name)} of shape [${shape.join(", ")}]`;
  const expected = `expected a float32 image batch N×C×H×W or N×H×W×C${acceptVideo ? ", or a clip batch N×C×T×H×W or N×T×C×H×W," : ""} with 1 or 3 channels`;
  if (input?.isTensor && input.type === "float32" && shape.length === 5) {
    if (!acceptVideo) throw inputError(path, undefined, `takes clips (a 5-D input of shape [${shape.join(", ")}]): embed them with --video DIR`);
    return openVideoModel(spec, path, session, input.name, shape, () =>
      inputError(path, undefined, `the model's first input cannot take clips: ${expected}, found a ${found}`),
    );
  }
  if (!input?.isTensor || input.type !== "float32" || shape.length !== 4)
    throw inputError(path, undefined, `the model's first input cannot take images: ${expected}, found a ${found}`);
  // Channels first when dimension 1 says 1 or 3, channels last when dimension 3 does; when
  // neither is fixed, channels first (the ONNX convention) with 3 channels.
  const isChannels = (d: number | string) => d === 1 || d === 3;
  let layout: "nchw" | "nhwc" | undefined;
  if (isChannels(shape[1])) layout = "nchw";
  else if (isChannels(shape[3])) layout = "nhwc";
  else if (typeof shape[1] === "string" && typeof shape[3] === "string") layout = "nchw";
  if (!layout) throw inputError(path, undefined, `the model's first input cannot take images: ${expected}, found a ${found}`);
  const channelDim = layout === "nhwc" ? shape[3] : shape[1];
  const [h, w] = layout === "nchw" ? [shape[2], shape[3]] : [shape[1], shape[2]];
  return {
    path,
    label: spec,
    session,
    inputName: input.name,
    layout,
    channels: channelDim === 1 ? 1 : 3,
    fixedSize: typeof h === "number" && typeof w === "number" ? [h, w] : undefined,
    outputNames: session.outputNames,
    normalization: bundled ? { mean: bundled.mean, std: bundled.std } : undefined,
  };
}

/** A model whose input is N×C×T×H×W (channels before time) or N×T×C×H×W. */
function openVideoModel(
  spec: string,
  path: string,
  session: OrtSession,
  inputName: string,
  shape: readonly (number | string)[],
  fail: () => Error,
): ImageModel {
  const isChannels = (d: number | string) => d === 1 || d === 3;
  const layout = isChannels(shape[1]) ? "ncthw" : isChannels(shape[2]) ? "ntchw" : undefined;
  if (!layout) throw fail();
  const [c, t] = layout === "ncthw" ? [shape[1], shape[2]] : [shape[2], shape[1]];
  const [h, w] = [shape[3], shape[4]];
  return {
    path,
    label: spec,
    session,
    inputName,
    layout: "nchw",
    channels: c === 1 ? 1 : 3,
    fixedSize: typeof h === "number" && typeof w === "number" ? [h, w] : undefined,
    outputNames: session.outputNames,
    video: { layout, frames: typeof t === "number" ? t : undefined },
  };
}

/** An ONNX Runtime session on the model at `path`, on `threads` threads; a file it cannot read is a one-line error. */
export async function openSession(path: string, threads: number): Promise<OrtSession> {
  try {
    return await onnxRuntime().InferenceSession.create(readFileSync(path), {
      intraOpNumThreads: threads,
      // Idle threads sleep instead of spinning: decoding runs beside inference (ffmpeg for clips,
      // worker threads for images), and spinning threads take cores it needs (about 2% on clips
      // here; no change on images).
      extra: { session: { intra_op: { allow_spinning: "0" } } },
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw inputError(path, undefined, `not a usable ONNX model (onnxruntime: ${(e as Error).message.split("\n")[0].replace(/\.$/, "")})`);
  }
}

/** Check that images of `shape` fit the model's input; say what it expects otherwise. */
export function checkInputShape(model: ImageModel, shape: ImageShape, sizeOption: string | undefined): void {
  if (model.fixedSize && (model.fixedSize[0] !== shape.height || model.fixedSize[1] !== shape.width)) {
    throw new UserError(
      `${model.label}: the model's input ${JSON.stringify(model.inputName)} takes ${model.channels}×${model.fixedSize.join("×")} images, but ${sizeOption ? `--size ${sizeOption}` : "the images"} give${sizeOption ? "s" : ""} ${shape.channels}×${shape.height}×${shape.width}; drop --size or pass --size ${model.fixedSize.join("x")}`,
    );
  }
}
