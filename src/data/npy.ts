import { closeSync, openSync, readSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { adviseHugePages } from "../linalg/native-memory.js";
import { inputError } from "../errors.js";
import { checkFile } from "./files.js";

const DTYPES = {
  "<f4": { bytes: 4, kind: "float32" },
  "<f8": { bytes: 8, kind: "float64" },
  "|u1": { bytes: 1, kind: "uint8" },
  "<u1": { bytes: 1, kind: "uint8" },
  "<i8": { bytes: 8, kind: "int64" },
  "<i4": { bytes: 4, kind: "int32" },
} as const;
type Dtype = keyof typeof DTYPES;

export interface NpyHeader {
  dtype: Dtype;
  shape: number[];
  /** Byte offset of the first value. */
  dataOffset: number;
}

/** Parse and check the header of a .npy file (format versions 1–3, C order). */
export function readNpyHeader(path: string): NpyHeader {
  checkFile(path);
  const fd = openSync(path, "r");
  try {
    const pre = Buffer.alloc(12);
    const got = readSync(fd, pre, 0, 12, 0);
    if (got < 10 || pre.toString("latin1", 0, 6) !== "\x93NUMPY") {
      throw inputError(path, "byte 0", `expected the .npy magic "\\x93NUMPY", found ${JSON.stringify(pre.toString("latin1", 0, Math.min(6, got)))}`);
    }
    const major = pre[6];
    const headerLength = major === 1 ? pre.readUInt16LE(8) : pre.readUInt32LE(8);
    const start = major === 1 ? 10 : 12;
    const text = Buffer.alloc(headerLength);
    readSync(fd, text, 0, headerLength, start);
    const header = text.toString(major === 3 ? "utf8" : "latin1");
    const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
    const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
    const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
    if (descr === undefined || fortran === undefined || shapeText === undefined) {
      throw inputError(path, `byte ${start}`, `expected a header with 'descr', 'fortran_order' and 'shape', found ${JSON.stringify(header.trim())}`);
    }
    if (!(descr in DTYPES)) throw inputError(path, `byte ${start}`, `expected dtype float32, float64, uint8, int32 or int64 (little-endian), found '${descr}'`);
    if (fortran === "True") throw inputError(path, `byte ${start}`, "expected C (row-major) order, found fortran_order True; save with np.ascontiguousarray");
    const shape = shapeText
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")
      .map(Number);
    return { dtype: descr as Dtype, shape, dataOffset: start + headerLength };
  } finally {
    closeSync(fd);
  }
}

const CHUNK_BYTES = 1 << 24;

/**
 * A .npy array as float32 (features) or int32 (integer labels), read in 16 MB chunks straight
 * into the result, so the peak memory is the result plus a chunk or two. Chunks already in the
 * right type are read two at a time by libuv's threads: filling fresh memory is mostly page
 * faults, and two threads fault in parallel while this one checks what has arrived
 * (`onChunk(data, from, to)`, element indices, in any order) or reads something else. A 1 GB pool
 * read and checked in 0.6 s this way against 0.9–1.8 s with one synchronous read (scratch
 * measurements, alternating).
 */
export async function readNpy(
  path: string,
  as: "float32",
  onChunk?: (data: Float32Array, from: number, to: number) => void,
): Promise<{ shape: number[]; data: Float32Array }>;
export async function readNpy(path: string, as: "int32"): Promise<{ shape: number[]; data: Int32Array }>;
export async function readNpy(
  path: string,
  as: "float32" | "int32",
  onChunk?: (data: Float32Array, from: number, to: number) => void,
): Promise<{ shape: number[]; data: Float32Array | Int32Array }> {
  const { dtype, shape, dataOffset } = readNpyHeader(path);
  const count = shape.reduce((a, b) => a * b, 1);
  const { bytes, kind } = DTYPES[dtype];
  const out = as === "float32" ? new Float32Array(count) : new Int32Array(count);
  adviseHugePages(out);
  const direct = (kind === "float32" && as === "float32") || (kind === "int32" && as === "int32");
  const perChunk = Math.floor(CHUNK_BYTES / bytes);
  const file = await open(path, "r");
  try {
    let next = 0;
    const reader = async () => {
      const chunk = direct ? undefined : Buffer.alloc(Math.min(CHUNK_BYTES, count * bytes));
      for (let start = next; start < count; start = next) {
        next += perChunk;
        const n = Math.min(perChunk, count - start);
        const target = direct ? new Uint8Array(out.buffer, start * bytes, n * bytes) : chunk!.subarray(0, n * bytes);
        const got = await readFully(file, target, dataOffset + start * bytes);
        if (got < n * bytes) {
          throw inputError(
            path,
            `byte ${dataOffset + start * bytes + got}`,
            `expected ${count * bytes} bytes of ${kind} data for shape (${shape.join(", ")}), the file ends early`,
          );
        }
        if (!direct) convert(chunk!, kind, bytes, n, out, start, path, dataOffset + start * bytes);
        if (out instanceof Float32Array) onChunk?.(out, start, start + n);
      }
    };
    // Both readers finish before the file closes, even when one fails.
    const failed = (await Promise.allSettled(direct ? [reader(), reader()] : [reader()])).find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } finally {
    await file.close();
  }
  return { shape, data: out };
}

/**
 * Rows `start .. start + count` of a 2-D .npy file as float32, for reading a big file in pieces
 * (`header` from readNpyHeader). Non-float32 data is converted. With `into`, the rows land at its
 * start: a reader of many pieces reuses one buffer, as filling fresh memory costs more than the copy.
 */
export function readNpyRows(path: string, header: NpyHeader, start: number, count: number, into?: Float32Array): Float32Array {
  const { dtype, shape, dataOffset } = header;
  const cols = shape[1] ?? 1,
    { bytes, kind } = DTYPES[dtype];
  const out = into ? into.subarray(0, count * cols) : adviseHugePages(new Float32Array(count * cols));
  const raw = kind === "float32" ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : Buffer.alloc(count * cols * bytes);
  const position = dataOffset + start * cols * bytes;
  const fd = openSync(path, "r");
  try {
    const got = readFullySync(fd, raw, position);
    if (got < raw.length)
      throw inputError(
        path,
        `byte ${position + got}`,
        `expected ${shape.reduce((a, b) => a * b, 1) * bytes} bytes of ${kind} data for shape (${shape.join(", ")}), the file ends early`,
      );
  } finally {
    closeSync(fd);
  }
  if (kind !== "float32") convert(raw as Buffer, kind, bytes, count * cols, out, 0, path, position);
  return out;
}

async function readFully(file: FileHandle, target: Uint8Array, position: number): Promise<number> {
  let got = 0;
  while (got < target.length) {
    const { bytesRead } = await file.read(target, got, target.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

function readFullySync(fd: number, target: Uint8Array, position: number): number {
  let got = 0;
  while (got < target.length) {
    const n = readSync(fd, target, got, target.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

function convert(chunk: Buffer, kind: string, bytes: number, n: number, out: Float32Array | Int32Array, start: number, path: string, byteOffset: number): void {
  const integerOut = out instanceof Int32Array;
  for (let i = 0; i < n; i++) {
    let v: number;
    switch (kind) {
      case "float64":
        v = chunk.readDoubleLE(i * 8);
        break;
      case "float32":
        v = chunk.readFloatLE(i * 4);
        break;
      case "uint8":
        v = chunk[i];
        break;
      case "int32":
        v = chunk.readInt32LE(i * 4);
        break;
      default:
        v = Number(chunk.readBigInt64LE(i * 8));
    }
    if (integerOut && !(Number.isInteger(v) && Math.abs(v) < 2 ** 31)) {
      throw inputError(path, `byte ${byteOffset + i * bytes}`, `expected an integer label, found ${v}`);
    }
    out[start + i] = v;
  }
}

/**
 * The header of a version-1 .npy file for float32 (or int32) data of `shape`, padded to `bytes`
 * (a multiple of 64, default the smallest that fits): a fixed size lets a writer that streams rows
 * rewrite the header in place once it knows the final row count.
 */
export function npyHeader(shape: number[], kind: "float32" | "int32" = "float32", bytes?: number): Buffer {
  const text = `{'descr': '${kind === "float32" ? "<f4" : "<i4"}', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const total = bytes ?? Math.ceil((10 + text.length + 1) / 64) * 64;
  if (10 + text.length + 1 > total) throw new RangeError(`npyHeader: shape (${shape.join(", ")}) needs more than ${total} bytes`);
  const header = Buffer.alloc(total, 0x20);
  header.write("\x93NUMPY", 0, "latin1");
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(total - 10, 8);
  header.write(text, 10, "latin1");
  header[total - 1] = 0x0a;
  return header;
}

/** Write a float32 2-D array (or int32 1-D) as .npy, version 1. */
export function encodeNpy(data: Float32Array | Int32Array, shape: number[]): Buffer {
  const header = npyHeader(shape, data instanceof Float32Array ? "float32" : "int32");
  return Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
