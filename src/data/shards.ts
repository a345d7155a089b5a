import { closeSync, existsSync, openSync, readdirSync, readSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { inputError, UserError } from "../errors.js";
import { matrix, type Matrix } from "../linalg/matrix.js";
import { sidecarFile } from "./files.js";
import { IdList } from "./ids.js";
import { readNpyHeader, readNpyRows, type NpyHeader } from "./npy.js";
import { readPool, type Pool } from "./pool.js";

/**
 * Pool files from what the user wrote: each spec a file, or a glob whose file-name part holds
 * * or ? (`emb/part-*.npy`), expanded in sorted order. A glob that matches nothing is an error.
 */
export function expandPoolFiles(specs: string[]): string[] {
  const files: string[] = [];
  for (const spec of specs) {
    const name = basename(spec);
    if (!/[*?]/.test(name)) {
      files.push(spec);
      continue;
    }
    const dir = dirname(spec);
    if (/[*?]/.test(dir)) throw new UserError(`--pool ${spec}: only the file name may hold * or ?`);
    const pattern = new RegExp(
      `^${name
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".")}$`,
    );
    const matches = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => pattern.test(f))
          .sort()
      : [];
    if (matches.length === 0) throw new UserError(`--pool ${spec}: no file matches`);
    files.push(...matches.map((f) => join(dir, f)));
  }
  if (new Set(files).size !== files.length) throw new UserError("--pool: a file is listed twice");
  return files;
}

/** One .npy shard of a pool: its rows, where they start in the whole pool, and its ids file. */
export interface Shard {
  file: string;
  idsFile: string;
  header: NpyHeader;
  rows: number;
  /** Row of the whole pool where this shard starts. */
  offset: number;
}

/**
 * The shards of a pool of .npy files, each with X.ids beside it (one id per line; a single file
 * may name its ids file instead), in order: the pool is their rows one after another. A shard
 * that cannot be read, has no ids, or has another width than the first is a one-line error naming it.
 */
export function describeShards(files: string[], idsPath?: string): { shards: Shard[]; rows: number; dim: number } {
  if (idsPath && files.length > 1) throw new UserError("--ids is for a single .npy pool; each shard keeps its ids beside it (X.ids)");
  let offset = 0,
    dim = -1;
  const shards = files.map((file): Shard => {
    if (!/\.npy$/i.test(file)) throw inputError(file, undefined, "a sharded pool is made of .npy files (each with its .ids beside it)");
    const header = readNpyHeader(file);
    if (header.shape.length !== 2)
      throw inputError(file, "header", `expected a 2-dimensional (items, features) array, found shape (${header.shape.join(", ")})`);
    if (dim >= 0 && header.shape[1] !== dim) throw inputError(file, "header", `expected ${dim} features like the first shard, found ${header.shape[1]}`);
    dim = header.shape[1];
    const idsFile = idsPath ?? sidecarFile(file, ".ids");
    if (!idsFile) throw inputError(file, undefined, `the shard has no ids: expected ${file.replace(/\.npy$/i, ".ids")} beside it, one id per line`);
    const shard = { file, idsFile, header, rows: header.shape[0], offset };
    offset += header.shape[0];
    return shard;
  });
  return { shards, rows: offset, dim };
}

/** A pool's files for messages: all of them, or the first and how many more. */
export function poolSource(files: string[]): string {
  return files.length > 3 ? `${files[0]} and ${files.length - 1} more shards` : files.join(", ");
}

/**
 * A pool from one file (any format readPool reads) or several (their rows one after another, in
 * order): the same items as one file holding them all, so the same batch comes out.
 */
export async function readPools(files: string[], idsPath?: string, imageSize?: [number, number]): Promise<Pool> {
  if (files.length === 1) return readPool(files[0], idsPath, imageSize);
  if (idsPath) throw new UserError("--ids is for a single .npy pool; each shard keeps its ids beside it (X.ids)");
  const parts: Pool[] = [];
  for (const file of files) {
    if (/\.npy$/i.test(file) && !sidecarFile(file, ".ids"))
      throw inputError(file, undefined, `the shard has no ids: expected ${file.replace(/\.npy$/i, ".ids")} beside it, one id per line`);
    parts.push(await readPool(file, undefined, imageSize));
  }
  const dim = parts[0].x.cols;
  const bad = parts.findIndex((p) => p.x.cols !== dim);
  if (bad >= 0) throw inputError(files[bad], undefined, `expected ${dim} features like ${files[0]}, found ${parts[bad].x.cols}`);
  const x = matrix(
    parts.reduce((n, p) => n + p.x.rows, 0),
    dim,
  );
  let offset = 0;
  for (const p of parts) {
    x.data.set(p.x.data, offset);
    offset += p.x.data.length;
  }
  return { ids: IdList.concat(parts.map((p) => IdList.of(p.ids))), x, source: poolSource(files) };
}

/** The given rows of a sharded pool (global row numbers, any order), read with one file handle per shard. */
export function readShardRows(shards: Shard[], rows: ArrayLike<number>, dim: number): Matrix {
  const out = matrix(rows.length, dim);
  const order = Int32Array.from({ length: rows.length }, (_, i) => i).sort((a, b) => rows[a] - rows[b]);
  const buffer = Buffer.alloc(dim * 4);
  let s = 0,
    fd = -1,
    opened = -1;
  try {
    for (const i of order) {
      const row = rows[i];
      while (row >= shards[s].offset + shards[s].rows) s++;
      const shard = shards[s];
      if (shard.header.dtype !== "<f4") {
        out.data.set(readNpyRows(shard.file, shard.header, row - shard.offset, 1), i * dim);
        continue;
      }
      if (opened !== s) {
        if (fd >= 0) closeSync(fd);
        fd = openSync(shard.file, "r");
        opened = s;
      }
      const position = shard.header.dataOffset + (row - shard.offset) * dim * 4;
      if (readSync(fd, buffer, 0, buffer.length, position) !== buffer.length) throw inputError(shard.file, `byte ${position}`, "the shard ends early");
      out.data.set(new Float32Array(buffer.buffer, buffer.byteOffset, dim), i * dim);
    }
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  return out;
}

/**
 * A shard's header, checked against the shape a job was planned with: a worker reading a shard
 * that changed since then must fail rather than score other rows.
 */
export function plannedShardHeader(file: string, rows: number, dim: number): NpyHeader {
  const header = readNpyHeader(file);
  if (header.shape.length !== 2 || header.shape[0] !== rows || header.shape[1] !== dim) {
    throw new Error(`${file}: expected ${rows} × ${dim}, found shape (${header.shape.join(", ")}); the shard changed since the query was planned`);
  }
  return header;
}
