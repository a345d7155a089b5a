import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, writeSync } from "node:fs";
import { createGunzip, gunzipSync } from "node:zlib";
import { inputError } from "../errors.js";

/** Fail with a one-line UserError unless `path` is a readable regular file. */
export function checkFile(path: string): void {
  if (!existsSync(path)) throw inputError(path, undefined, "no such file");
  const stat = statSync(path);
  if (stat.isDirectory()) throw inputError(path, undefined, "is a directory, expected a file");
  if (stat.size === 0) throw inputError(path, undefined, "the file is empty");
}

const isGzip = (bytes: Uint8Array) => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/** The whole file's bytes, gunzipped when it is gzip. */
export function readBytes(path: string): Uint8Array {
  checkFile(path);
  const raw = readFileSync(path);
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw);
  } catch (e) {
    throw inputError(path, undefined, `not a valid gzip file (${(e as Error).message})`);
  }
}

/** The file as a stream of text chunks, gunzipped when it is gzip (checked by magic bytes). */
export async function* readTextChunks(path: string): AsyncGenerator<string> {
  checkFile(path);
  const head = Buffer.alloc(2);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, 2, 0);
  } finally {
    closeSync(fd);
  }
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const source = isGzip(head) ? stream.pipe(createGunzip()) : stream;
  const decoder = new TextDecoder("utf-8");
  try {
    for await (const chunk of source) yield decoder.decode(chunk as Buffer, { stream: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code?.startsWith("Z_")) throw inputError(path, undefined, `not a valid gzip file (${(e as Error).message})`);
    throw e;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** Each line of a text file (optionally gzipped), without its line end, with its 1-based number. */
export async function forEachLine(path: string, onLine: (text: string, line: number) => void): Promise<void> {
  let pending = "",
    line = 0;
  for await (const chunk of readTextChunks(path)) {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const text of lines) onLine(withoutCarriageReturn(text), ++line);
  }
  if (pending !== "") onLine(withoutCarriageReturn(pending), ++line);
}

/** A line without its Windows \r (a character test: a regex per line was most of reading 10⁶ ids). */
const withoutCarriageReturn = (text: string) => (text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text);

/** The start of a text file (one chunk, up to 1 MB, gunzipped when gzip). */
export async function firstTextChunk(path: string): Promise<string> {
  for await (const chunk of readTextChunks(path)) return chunk;
  return "";
}

/** `X.npy`'s companion `X<extension>` (e.g. X.ids, X.labels) when it exists. */
export function sidecarFile(path: string, extension: string): string | undefined {
  const candidate = path.replace(/\.npy$/i, extension);
  return candidate !== path && existsSync(candidate) ? candidate : undefined;
}

/** One label per line, as many as `dataPath` has rows; trailing blank lines are ignored (ids: IdList.read). */
export async function readLabelList(path: string, expected: number, dataPath: string): Promise<string[]> {
  const values: string[] = [];
  await forEachLine(path, (text) => values.push(text.trim()));
  while (values.length > expected && values[values.length - 1] === "") values.pop();
  if (values.length !== expected) throw inputError(path, undefined, `expected ${expected} labels, one per line, to match ${dataPath}; found ${values.length}`);
  const blank = values.indexOf("");
  if (blank >= 0) throw inputError(path, `line ${blank + 1}`, "expected a label, found an empty line");
  return values;
}

/**
 * Write a whole file (given whole, or in pieces written one after another) under a temporary name,
 * then rename it into place: readers never see half of it.
 */
export function writeAtomically(path: string, content: string | Uint8Array | Uint8Array[]): void {
  const temporary = `${path}.tmp-${process.pid}`;
  if (Array.isArray(content)) {
    const fd = openSync(temporary, "w");
    try {
      for (const piece of content) writeSync(fd, piece);
    } finally {
      closeSync(fd);
    }
  } else writeFileSync(temporary, content);
  renameSync(temporary, path);
}
