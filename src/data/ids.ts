import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { inputError } from "../errors.js";
import { checkFile } from "./files.js";

/**
 * A pool's ids as UTF-8 bytes plus each id's byte range. A pool of 10⁶ ids is one buffer and two
 * typed arrays; as an array of strings it was 10⁶ allocations, and splitting an .ids file into them
 * took about 0.6 s, the slowest part of reading a 10⁶-row pool. Strings are made only for the ids
 * a caller asks for (the picked batch, an error message).
 */
export class IdList implements Iterable<string> {
  private constructor(
    readonly bytes: Buffer,
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
  ) {}

  get length(): number {
    return this.starts.length;
  }

  /** The id at row `i`. */
  get(i: number): string {
    return this.bytes.toString("utf8", this.starts[i], this.ends[i]);
  }

  /** Rows `start .. end` as strings. */
  toArray(start = 0, end = this.length): string[] {
    const out = new Array<string>(Math.max(0, end - start));
    for (let i = start; i < end; i++) out[i - start] = this.get(i);
    return out;
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  /** A pool's ids as given (a list, or an array of strings from a caller of the library). */
  static of(ids: IdList | readonly string[]): IdList {
    if (ids instanceof IdList) return ids;
    const starts = new Uint32Array(ids.length),
      ends = new Uint32Array(ids.length);
    let offset = 0;
    for (let i = 0; i < ids.length; i++) {
      starts[i] = offset;
      offset += Buffer.byteLength(ids[i]);
      ends[i] = offset;
    }
    return new IdList(Buffer.from(ids.join("")), starts, ends);
  }

  /** "0", "1", … "n−1": the ids of a pool given without any. */
  static rowNumbers(n: number): IdList {
    const starts = new Uint32Array(n),
      ends = new Uint32Array(n);
    const bytes = Buffer.alloc(n * String(Math.max(0, n - 1)).length);
    let offset = 0;
    for (let i = 0; i < n; i++) {
      let digits = 1;
      for (let v = i; v >= 10; v = Math.floor(v / 10)) digits++;
      starts[i] = offset;
      for (let v = i, at = offset + digits - 1; at >= offset; at--, v = Math.floor(v / 10)) bytes[at] = 48 + (v % 10);
      offset += digits;
      ends[i] = offset;
    }
    return new IdList(bytes, starts, ends);
  }

  /** Several lists one after another (the shards of a pool). */
  static concat(lists: IdList[]): IdList {
    const n = lists.reduce((s, l) => s + l.length, 0);
    const starts = new Uint32Array(n),
      ends = new Uint32Array(n);
    let row = 0,
      base = 0;
    for (const list of lists) {
      for (let i = 0; i < list.length; i++, row++) {
        starts[row] = base + list.starts[i];
        ends[row] = base + list.ends[i];
      }
      base += list.bytes.length;
    }
    return new IdList(Buffer.concat(lists.map((l) => l.bytes)), starts, ends);
  }

  /**
   * One id per line of `path` (optionally gzipped; a Windows \r is dropped), as many as `dataPath`
   * has rows; blank lines after the last id are ignored. The file is read by libuv's threads, so
   * this overlaps a pool's rows being read.
   */
  static async read(path: string, expected: number, dataPath: string): Promise<IdList> {
    checkFile(path);
    let bytes = await readFile(path);
    if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        bytes = gunzipSync(bytes);
      } catch (e) {
        throw inputError(path, undefined, `not a valid gzip file (${(e as Error).message})`);
      }
    }
    let end = bytes.length;
    while (end > 0 && (bytes[end - 1] === 10 || bytes[end - 1] === 13)) end--; // trailing blank lines
    let lines = end > 0 ? 1 : 0;
    for (let i = 0; i < end; i++) if (bytes[i] === 10) lines++;
    if (lines !== expected) throw inputError(path, undefined, `expected ${expected} ids, one per line, to match ${dataPath}; found ${lines}`);
    const starts = new Uint32Array(lines),
      ends = new Uint32Array(lines);
    const finish = (row: number, stop: number) => (ends[row] = stop > starts[row] && bytes[stop - 1] === 13 ? stop - 1 : stop);
    let row = 0;
    for (let i = 0; i < end; i++) {
      if (bytes[i] !== 10) continue;
      finish(row++, i);
      starts[row] = i + 1;
    }
    if (lines > 0) finish(row, end);
    return new IdList(bytes, starts, ends);
  }
}

/**
 * Rows by id, for a list of ids that must be unique (a repeated id is a one-line error naming
 * `source` and both rows). An open-addressing table of row numbers keyed by a 32-bit FNV-1a hash
 * of each id's bytes, with bytes compared only where hashes meet: a Map of 10⁶ strings took about
 * 0.7 s to build.
 */
export class IdIndex {
  private readonly ids: IdList;
  /**
   * Two int32 per slot, side by side so a probe reads one cache line: row + 1 (0: empty) and
   * the id's hash (as int32). Apart, the two arrays cost a cache miss each: 0.19 s for 10⁶ ids.
   */
  private readonly table: Int32Array;
  private readonly mask: number;

  constructor(ids: IdList | readonly string[], source: string) {
    this.ids = IdList.of(ids);
    const { bytes, starts, ends, length } = this.ids;
    let size = 16;
    while (size < 2 * length) size *= 2;
    const table = (this.table = new Int32Array(2 * size));
    const mask = (this.mask = size - 1);
    for (let row = 0; row < length; row++) {
      const hash = hashBytes(bytes, starts[row], ends[row]);
      let slot = hash & mask;
      for (; table[2 * slot] !== 0; slot = (slot + 1) & mask) {
        const first = table[2 * slot] - 1;
        if (table[2 * slot + 1] === hash && sameBytes(bytes, starts[first], ends[first], bytes, starts[row], ends[row])) {
          throw inputError(source, `row ${row}`, `duplicate id ${JSON.stringify(this.ids.get(row))} (first at row ${first}); ids must be unique`);
        }
      }
      table[2 * slot] = row + 1;
      table[2 * slot + 1] = hash;
    }
  }

  /** The row of `id`, or undefined when it is not in the list. */
  get(id: string): number | undefined {
    const key = Buffer.from(id),
      hash = hashBytes(key, 0, key.length);
    const { bytes, starts, ends } = this.ids,
      table = this.table;
    for (let slot = hash & this.mask; table[2 * slot] !== 0; slot = (slot + 1) & this.mask) {
      const row = table[2 * slot] - 1;
      if (table[2 * slot + 1] === hash && sameBytes(bytes, starts[row], ends[row], key, 0, key.length)) return row;
    }
    return undefined;
  }
}

function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  // FNV's low bits mix poorly for ids that differ only at the end ("p1", "p2", …); fold the high bits in.
  return hash ^ (hash >>> 15); // int32, as the table keeps it
}

function sameBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = aStart, j = bStart; i < aEnd; i++, j++) if (a[i] !== b[j]) return false;
  return true;
}
