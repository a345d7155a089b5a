import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { inputError } from "../errors.js";
import { NeuralClassifier } from "./network.js";

const MAGIC = "ALFAMIX\u0001";
const VERSION = 1;

/** Anything a caller wants kept with the weights (class names, the input standardisation…). */
export type ModelMetadata = Record<string, unknown>;

interface Header {
  format: "alfamix-model";
  version: number;
  inputDim: number;
  numClasses: number;
  hidden: number[];
  dropout: number;
  seed: number | string;
  paramCount: number;
  metadata: ModelMetadata;
}

/**
 * The model as bytes: an 8-byte magic, a little-endian uint32 header length, a JSON header
 * (architecture, seed, metadata), zero padding to a multiple of 4, then the float32 weights.
 * The initial weights are not stored: they follow from the seed.
 */
export function encodeModel(model: NeuralClassifier, metadata: ModelMetadata = {}): Buffer {
  const header: Header = {
    format: "alfamix-model", version: VERSION, inputDim: model.inputDim, numClasses: model.numClasses,
    hidden: [...model.hidden], dropout: model.dropout, seed: model.seed, paramCount: model.params.length, metadata,
  };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const start = 12 + json.length;
  const padding = (4 - (start % 4)) % 4;
  const out = Buffer.alloc(start + padding + 4 * model.params.length);
  out.write(MAGIC, 0, "latin1");
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  Buffer.from(model.params.buffer, model.params.byteOffset, model.params.byteLength).copy(out, start + padding);
  return out;
}

/** Rebuild a model from `encodeModel`'s bytes; anything malformed is a one-line error naming `source`. */
export function decodeModel(bytes: Uint8Array, source: string): { model: NeuralClassifier; metadata: ModelMetadata } {
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
  let model: NeuralClassifier;
  try {
    model = new NeuralClassifier(header.inputDim, header.numClasses, { hidden: header.hidden, dropout: header.dropout, seed: header.seed });
  } catch (e) {
    throw inputError(source, "byte 12", `the header describes an impossible model (${(e as Error).message})`);
  }
  const start = 12 + length + ((4 - ((12 + length) % 4)) % 4);
  const expected = start + 4 * model.params.length;
  if (header.paramCount !== model.params.length || buffer.length !== expected) {
    throw inputError(source, `byte ${start}`, `expected ${model.params.length} float32 weights (${expected} bytes in all), found ${buffer.length} bytes`);
  }
  const weights = new Float32Array(buffer.buffer.slice(buffer.byteOffset + start, buffer.byteOffset + expected));
  const bad = weights.findIndex((w) => !Number.isFinite(w));
  if (bad >= 0) throw inputError(source, `byte ${start + 4 * bad}`, `expected finite weights, found ${weights[bad]}`);
  model.params.set(weights);
  return { model, metadata: header.metadata ?? {} };
}

/** Save atomically: a temporary file renamed into place, so a crash never leaves half a model. */
export function saveModel(path: string, model: NeuralClassifier, metadata: ModelMetadata = {}): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, encodeModel(model, metadata));
  renameSync(temporary, path);
}

export function loadModel(path: string): { model: NeuralClassifier; metadata: ModelMetadata } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw inputError(path, undefined, "no such file");
  }
  return decodeModel(bytes, path);
}
