import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { inputError } from "../../errors.js";
import { cacheDir } from "../cache.js";
import { writeAtomically } from "../files.js";
import { ImageDecodeError, readImageHeader } from "./decode.js";
import { ImageDecoderPool } from "./decoder-pool.js";
import type { ImageList } from "./folder.js";
import type { ImageShape } from "./resize.js";

export interface ImageLoadOptions {
  /** Height and width to bring every image to (default: the most common size). */
  size?: [number, number];
  /** 1 or 3 colour channels (default: 3 if any image has colour, else 1). */
  channels?: 1 | 3;
  /** Called as images are decoded: done so far, and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** What the files were before loading, for `inspect`: "32×32" → count, and colour kinds. */
export interface ImageStats {
  sizes: Record<string, number>;
  grey: number;
  colour: number;
  alpha: number;
}

/** Every split's images in one planar uint8 tensor each (N×C×H×W), and how they looked. */
export interface LoadedImages {
  shape: ImageShape;
  parts: Uint8Array[];
  stats: ImageStats;
  /** Whether they came from the decoded-image cache. */
  cached: boolean;
}

const CACHE_FORMAT = 1;

/**
 * Decode the images of one or more splits to a common shape: mixed sizes are resized (bilinear,
 * shorter side to fit, centre crop; see Resizer), grey and colour brought to one channel count.
 * The result is cached by the file list, sizes and mtimes (and the options), so a second load of
 * an unchanged folder reads one file instead of decoding every image.
 */
export async function loadImages(lists: ImageList[], options: ImageLoadOptions = {}): Promise<LoadedImages> {
  const stats = lists.map((list) =>
    list.files.map((file) => {
      const s = statSync(file, { throwIfNoEntry: false });
      if (!s?.isFile()) throw inputError(file, undefined, s ? "is not a file" : "no such file");
      return [resolve(file), s.size, s.mtimeMs];
    }),
  );
  const key = createHash("sha256")
    .update(JSON.stringify({ format: CACHE_FORMAT, size: options.size ?? "auto", channels: options.channels ?? "auto", stats }))
    .digest("hex")
    .slice(0, 32);
  const dir = cacheDir("images");
  const cacheFile = dir ? `${dir}/${key}.bin` : undefined;
  const hit = cacheFile
    ? readCache(
        cacheFile,
        lists.map((l) => l.files.length),
      )
    : undefined;
  if (hit) return hit;

  const headerStats: ImageStats = { sizes: {}, grey: 0, colour: 0, alpha: 0 };
  const sizeCounts = new Map<string, { height: number; width: number; count: number }>();
  for (const list of lists) {
    for (const file of list.files) {
      let header;
      try {
        header = readImageHeader(file);
      } catch (e) {
        if (e instanceof ImageDecodeError) throw inputError(file, undefined, e.message);
        throw inputError(file, undefined, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      const name = `${header.height}×${header.width}`;
      headerStats.sizes[name] = (headerStats.sizes[name] ?? 0) + 1;
      const entry = sizeCounts.get(name) ?? { height: header.height, width: header.width, count: 0 };
      entry.count++;
      sizeCounts.set(name, entry);
      if (header.colors === 3) headerStats.colour++;
      else headerStats.grey++;
      if (header.alpha) headerStats.alpha++;
    }
  }
  // The most common size; among equals, the larger (so fewer images are enlarged).
  const common = [...sizeCounts.values()].sort((a, b) => b.count - a.count || b.height * b.width - a.height * a.width)[0];
  const [height, width] = options.size ?? [common.height, common.width];
  const shape: ImageShape = { channels: options.channels ?? (headerStats.colour > 0 ? 3 : 1), height, width };
  const size = shape.channels * height * width;

  const total = lists.reduce((n, l) => n + l.files.length, 0);
  const pool = new ImageDecoderPool();
  const parts: Uint8Array[] = [];
  let done = 0;
  try {
    for (const list of lists) {
      const buffer = new SharedArrayBuffer(list.files.length * size);
      const bad = await pool.decode(list.files, shape, { kind: "bytes", buffer, offset: 0 }, (n) => options.onProgress?.((done += n), total));
      if (bad.length) throw inputError(list.files[bad[0].index], undefined, bad[0].message);
      parts.push(new Uint8Array(buffer));
    }
  } finally {
    await pool.close();
  }
  const loaded: LoadedImages = { shape, parts, stats: headerStats, cached: false };
  if (cacheFile) writeCache(cacheFile, loaded);
  return loaded;
}

/**
 * Cache file: 8-byte little-endian length of a JSON header, the header (shape, stats, counts),
 * then each part's bytes, written atomically.
 */
function writeCache(file: string, loaded: LoadedImages): void {
  const header = Buffer.from(JSON.stringify({ shape: loaded.shape, stats: loaded.stats, counts: loaded.parts.map((p) => p.length) }));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  try {
    writeAtomically(file, [length, header, ...loaded.parts]);
  } catch {
    // A full or read-only disk costs the next run a decode, nothing else.
  }
}

function readCache(file: string, counts: number[]): LoadedImages | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const length = Buffer.alloc(8);
    if (readSync(fd, length, 0, 8, 0) !== 8) return undefined;
    const headerLength = Number(length.readBigUInt64LE());
    const header = Buffer.alloc(headerLength);
    readSync(fd, header, 0, headerLength, 8);
    const meta = JSON.parse(header.toString()) as { shape: ImageShape; stats: ImageStats; counts: number[] };
    const size = meta.shape.channels * meta.shape.height * meta.shape.width;
    if (meta.counts.length !== counts.length || meta.counts.some((c, i) => c !== counts[i] * size)) return undefined;
    const all = readFileSync(file);
    if (all.length !== 8 + headerLength + meta.counts.reduce((a, b) => a + b, 0)) return undefined;
    let offset = 8 + headerLength;
    const parts = meta.counts.map((c) => {
      const part = new Uint8Array(all.buffer, all.byteOffset + offset, c);
      offset += c;
      return part;
    });
    return { shape: meta.shape, parts, stats: meta.stats, cached: true };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
