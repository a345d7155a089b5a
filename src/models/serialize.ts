import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { inputError } from "../errors.js";
import { ConvClassifier } from "./convnet.js";
import { NeuralClassifier } from "./network.js";

const MAGIC = "ALFAMIX\u0001";
const VERSION = 1;

/** Anything a caller wants kept with the weights (class names, the input standardisation…). */
export type ModelMetadata = Record<string, unknown>;

/** A model this file format stores: a dense network (linear, MLP) or a conv net. */
export type StoredModel = NeuralClassifier | ConvClassifier;

interface Header {
  format: "alfamix-model";
  version: number;
  /** Absent in files written before conv nets: a dense network. */
  kind?: StoredModel["kind"];
  inputDim: number;
  numClasses: number;
  hidden?: number[];
  input?: { c: number; h: number; w: number };
  stem?: "cifar" | "imagenet";
  dropout: number;
  seed: number | string;
  paramCount: number;
  metadata: ModelMetadata;
}

function describe(model: StoredModel, metadata: ModelMetadata): Header {
  const common = {
    format: "alfamix-model",
    version: VERSION,
    kind: model.kind,
    inputDim: model.inputDim,
    numClasses: model.numClasses,
    dropout: model.dropout,
    seed: model.seed,
  } as const;
  const architecture = model instanceof ConvClassifier ? { input: model.options.input, stem: model.options.stem ?? "cifar" } : { hidden: [...model.hidden] };
  return { ...common, ...architecture, paramCount: model.weights().length, metadata };
}

function build(header: Header): StoredModel {
  const { kind = "mlp", numClasses, dropout, seed } = header;
  if (kind === "cnn" || kind === "resnet18") {
    if (!header.input) throw new Error("a conv net needs its input shape");
    return new ConvClassifier({ kind, input: header.input, numClasses, dropout, seed, stem: header.stem });
  }
  return new NeuralClassifier(header.inputDim, numClasses, { hidden: header.hidden ?? [], dropout, seed });
}

/**
 * The model as bytes: an 8-byte magic, a little-endian uint32 header length, a JSON header
 * (architecture, seed, metadata), zero padding to a multiple of 4, then the float32 weights and,
 * for conv nets, batch norm's running statistics after them. The initial weights are not stored:
 * they follow from the seed.
 */
export function encodeModel(model: StoredModel, metadata: ModelMetadata = {}): Buffer {
  const weights = model.weights();
  const json = Buffer.from(JSON.stringify(describe(model, metadata)), "utf8");
  const start = 12 + json.length;
  const padding = (4 - (start % 4)) % 4;
  const out = Buffer.alloc(start + padding + 4 * weights.length);
  out.write(MAGIC, 0, "latin1");
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength).copy(out, start + padding);
  return out;
}

/** Rebuild a model from `encodeModel`'s bytes; anything malformed is a one-line error naming `source`. */
export function decodeModel(bytes: Uint8Array, source: string): { model: StoredModel; metadata: ModelMetadata } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 12 || buffer.toString("latin1", 0, 8) !== MAGIC) {
    throw inputError(source, "byte 0", "expected an alfamix model file (magic ALFAMIX\\x01)");
  }
  const length = buffer.readUInt32LE(8);
  if (12 + length > buffer.length) throw inputError(source, "byte 8", `expected a ${length}-byte header, the file ends after ${buffer.length - 12}`);
  let header: Header;
  try {
    header = JSON.parse(buffer.toString("utf8", 12, 12 + length));
  } catch {
    throw inputError(source, "byte 12", "expected a JSON header, found unreadable text");
  }
  if (header.format !== "alfamix-model" || header.version !== VERSION) {
    throw inputError(source, "byte 12", `expected format alfamix-model version ${VERSION}, found ${header.format} version ${header.version}`);
  }
  let model: StoredModel;
  try {
    model = build(header);
  } catch (e) {
    throw inputError(source, "byte 12", `the header describes an impossible model (${(e as Error).message})`);
  }
  const count = model.weights().length;
  const start = 12 + length + ((4 - ((12 + length) % 4)) % 4);
  const expected = start + 4 * count;
  if (header.paramCount !== count || model.inputDim !== header.inputDim || buffer.length !== expected) {
    throw inputError(source, `byte ${start}`, `expected ${count} float32 weights (${expected} bytes in all), found ${buffer.length} bytes`);
  }
  const weights = new Float32Array(buffer.buffer.slice(buffer.byteOffset + start, buffer.byteOffset + expected));
  const bad = weights.findIndex((w) => !Number.isFinite(w));
  if (bad >= 0) throw inputError(source, `byte ${start + 4 * bad}`, `expected finite weights, found ${weights[bad]}`);
  model.setWeights(weights);
  return { model, metadata: header.metadata ?? {} };
}

/** Save atomically: a temporary file renamed into place, so a crash never leaves half a model. */
export function saveModel(path: string, model: StoredModel, metadata: ModelMetadata = {}): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, encodeModel(model, metadata));
  renameSync(temporary, path);
}

export function loadModel(path: string): { model: StoredModel; metadata: ModelMetadata } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw inputError(path, undefined, "no such file");
  }
  return decodeModel(bytes, path);
}
