import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { inputError, UserError } from "../errors.js";
import { matrix } from "../linalg/matrix.js";
import type { Dataset, DatasetParts } from "./dataset.js";
import { readBytes } from "./files.js";

const IDX_TYPES: Record<number, { name: string; bytes: number }> = {
  8: { name: "unsigned byte", bytes: 1 },
  9: { name: "signed byte", bytes: 1 },
  11: { name: "short", bytes: 2 },
  12: { name: "int", bytes: 4 },
  13: { name: "float", bytes: 4 },
  14: { name: "double", bytes: 8 },
};

/** An IDX file (LeCun's MNIST format), raw or gzipped, as its dimensions and float32 values. */
export function readIdx(path: string): { dims: number[]; data: Float32Array } {
  const bytes = readBytes(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || view.getUint16(0) !== 0) {
    throw inputError(path, "byte 0", `expected an IDX magic number (0x0000 then type and rank), found 0x${hex(bytes.subarray(0, 4))}`);
  }
  const type = IDX_TYPES[bytes[2]];
  if (!type) throw inputError(path, "byte 2", `expected an IDX data type (0x08, 0x09, 0x0B-0x0E), found 0x${hex(bytes.subarray(2, 3))}`);
  const rank = bytes[3];
  if (rank === 0 || bytes.length < 4 + 4 * rank)
    throw inputError(path, "byte 3", `expected ${rank || "a positive number of"} dimension sizes after the magic number, found ${bytes.length - 4} bytes`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = 4 + 4 * rank;
  const expected = offset + count * type.bytes;
  if (bytes.length !== expected) {
    throw inputError(
      path,
      `byte ${offset}`,
      `expected ${count * type.bytes} bytes of ${type.name} data for dimensions ${dims.join("×")}, found ${bytes.length - offset}`,
    );
  }
  const data = new Float32Array(count);
  if (type.bytes === 1 && bytes[2] === 0x08) {
    for (let i = 0; i < count; i++) data[i] = bytes[offset + i];
  } else {
    const read = {
      9: (o: number) => view.getInt8(o),
      11: (o: number) => view.getInt16(o),
      12: (o: number) => view.getInt32(o),
      13: (o: number) => view.getFloat32(o),
      14: (o: number) => view.getFloat64(o),
    }[bytes[2]]!;
    for (let i = 0; i < count; i++) data[i] = read(offset + i * type.bytes);
  }
  return { dims, data };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Images scaled to [0, 1] and their labels, from an images file and a labels file. */
export function readIdxPair(imagesPath: string, labelsPath: string, name: string): Dataset {
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  if (labels.dims.length !== 1) throw inputError(labelsPath, "byte 3", `expected a 1-dimensional label file, found dimensions ${labels.dims.join("×")}`);
  const n = images.dims[0];
  if (labels.dims[0] !== n) throw inputError(labelsPath, "byte 4", `expected ${n} labels to match ${imagesPath}, found ${labels.dims[0]}`);
  const features = images.dims.slice(1).reduce((a, b) => a * b, 1);
  const x = matrix(n, features, images.data);
  for (let i = 0; i < x.data.length; i++) x.data[i] /= 255;
  const y = new Int32Array(n);
  let maxLabel = 0;
  for (let i = 0; i < n; i++) {
    const v = labels.data[i];
    if (!(Number.isInteger(v) && v >= 0)) throw inputError(labelsPath, `byte ${8 + i}`, `expected a non-negative integer label, found ${v}`);
    y[i] = v;
    if (v > maxLabel) maxLabel = v;
  }
  const classNames = Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  const imageShape = images.dims.length === 3 ? ([images.dims[1], images.dims[2]] as [number, number]) : undefined;
  return { name, x, y, classNames, imageShape };
}

/** A directory in the MNIST layout: train-images-idx3-ubyte[.gz], train-labels-…, t10k-… (test optional). */
export function readIdxDirectory(dir: string): DatasetParts {
  const files = readdirSync(dir);
  const find = (prefix: string, kind: string) => files.find((f) => new RegExp(`^${prefix}[-.]${kind}[-.]idx\\d-ubyte(\\.gz)?$`).test(f));
  const part = (prefix: string, label: string): Dataset | undefined => {
    const images = find(prefix, "images"),
      labels = find(prefix, "labels");
    if (!images && !labels) return undefined;
    if (!images || !labels)
      throw new UserError(
        `${dir}: found ${images ?? labels} but not its ${images ? "labels" : "images"} file (expected ${prefix}-images-idx3-ubyte and ${prefix}-labels-idx1-ubyte, optionally .gz)`,
      );
    return readIdxPair(join(dir, images), join(dir, labels), `${dir} (${label})`);
  };
  const train = part("train", "train");
  if (!train) throw new UserError(`${dir}: no IDX files found (expected train-images-idx3-ubyte and train-labels-idx1-ubyte, optionally .gz)`);
  const test = part("t10k", "test") ?? part("test", "test");
  return { train, test };
}

/** Whether a directory holds IDX files (…-idx3-ubyte, optionally .gz). */
export function hasIdxFiles(dir: string): boolean {
  return readdirSync(dir).some((f) => /idx\d-ubyte(\.gz)?$/.test(f));
}

export function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
