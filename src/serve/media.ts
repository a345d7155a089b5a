import { constants, realpathSync, statSync, type Stats } from "node:fs";
import { open } from "node:fs/promises";
import { dirname, isAbsolute, resolve, sep } from "node:path";
import { VIDEO_EXTENSIONS } from "../embed/video/clips.js";

/** Extensions an item's file may have in a media folder, tried in this order (clips are those `embed --video` reads). */
export const MEDIA_EXTENSIONS = [".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".svg", ...VIDEO_EXTENSIONS, ".txt"];

/** Whether a file's name says it holds a clip. */
export const isVideoName = (file: string) => VIDEO_EXTENSIONS.some((e) => file.toLowerCase().endsWith(e));

/** Images and texts above this are not served (no labelling image or text is near it). */
const MAX_MEDIA_BYTES = 64 << 20;
/** Clips are read in ranges, at most this many bytes an answer: browsers ask for the rest as they play. */
export const MAX_RANGE_BYTES = 4 << 20;

export interface MediaFile {
  /** The bytes asked for: the whole file, or the range in `range`. */
  body: Buffer;
  /** The type read from the bytes, never from the name. */
  type: string;
  /** SVG can carry script: it is sent sandboxed, as an attachment. */
  svg: boolean;
  /** UTF-8 text (a .txt item). */
  text: boolean;
  /** The whole file's size in bytes. */
  size: number;
  /** First and last byte of `body` when a range was asked for and could be satisfied. */
  range?: [number, number];
  /** A range was asked for that starts past the end (the answer is 416, with no body). */
  unsatisfiable?: true;
}

/**
 * The byte range a Range header asks for in a file of `size` bytes: [first, last] (an open range
 * stops after `limit` bytes), "unsatisfiable" when it starts past the end, or undefined when the
 * header is absent, malformed or asks for several ranges (then the whole file is the answer, as
 * HTTP allows).
 */
export function byteRange(header: string | undefined, size: number, limit = Number.POSITIVE_INFINITY): [number, number] | "unsatisfiable" | undefined {
  const m = header === undefined ? null : /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  let first: number, last: number;
  if (m[1] === "") {
    // A suffix: the last N bytes.
    const n = Number(m[2]);
    if (n === 0) return "unsatisfiable";
    first = Math.max(0, size - n);
    last = size - 1;
  } else {
    first = Number(m[1]);
    last = m[2] === "" ? size - 1 : Number(m[2]);
    if (m[2] !== "" && last < first) return undefined;
  }
  if (first >= size) return "unsatisfiable";
  return [first, Math.min(last, size - 1, first + limit - 1)];
}

/** Whether `path` is `root` or inside it (both absolute and normalised). */
export const isInside = (root: string, path: string) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/**
 * `given` resolved against `root`, refused (undefined) when it leaves the root, lexically or by
 * a symlink of any existing part of it. A path that does not exist yet is judged by its nearest
 * existing ancestor, so the answer never tells whether a file outside the root exists.
 */
export function containedPath(root: string, given: string): string | undefined {
  const realRoot = realpathSync(root);
  const path = resolve(realRoot, given);
  if (!isInside(realRoot, path)) return undefined;
  let existing = path;
  for (;;) {
    try {
      return isInside(realRoot, realpathSync(existing)) ? path : undefined;
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return undefined;
      existing = parent;
    }
  }
}

/** Whether a media-column path is relative and stays below its root (no absolute path, no ".."). */
export function isSafeRelativePath(path: string): boolean {
  if (path === "" || isAbsolute(path) || /^[A-Za-z]:/.test(path) || path.startsWith("\\")) return false;
  return !path.split(/[\\/]/).includes("..");
}

/**
 * The server's own database files, by device and inode. Opening one of them in the server's
 * process, even to read it and close it, drops SQLite's POSIX locks on it (they belong to the
 * process, not the handle), and a later reader may then delete the live WAL: labels were lost
 * that way. Files are checked against this list by stat, before any open.
 */
export function databaseFiles(dbPath: string): Set<string> {
  const out = new Set<string>();
  for (const path of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`, `${dbPath}-journal`]) {
    const s = statSync(path, { throwIfNoEntry: false });
    if (s) out.add(identity(s));
  }
  return out;
}

const identity = (s: Stats) => `${s.dev}:${s.ino}`;

/** Whether `path` is (by identity, after links) one of `files`; checked by stat, never by opening it. */
export function isDatabaseFile(path: string, files: Set<string>): boolean {
  const s = statSync(path, { throwIfNoEntry: false });
  return s !== undefined && files.has(identity(s));
}

/**
 * The real path of `root/<relativePath>`, when it is a regular file inside the real root (symlinks
 * resolved: a link pointing out is refused), else undefined.
 */
export function findInside(root: string, relativePath: string): string | undefined {
  let realRoot: string, real: string;
  try {
    realRoot = realpathSync(root);
    const path = resolve(realRoot, relativePath);
    if (!isInside(realRoot, path)) return undefined;
    real = realpathSync(path);
  } catch {
    return undefined;
  }
  if (!isInside(realRoot, real) || real === realRoot) return undefined;
  return statSync(real, { throwIfNoEntry: false })?.isFile() ? real : undefined;
}

/** An item's file in a media folder: DIR/<id>.<ext> for the first extension that exists inside DIR. */
export function findMediaFile(dir: string, id: string): string | undefined {
  if (!isSafeRelativePath(id)) return undefined;
  for (const extension of MEDIA_EXTENSIONS) {
    const found = findInside(dir, id + extension);
    if (found) return found;
  }
  return undefined;
}

/**
 * Read a media file found by `findInside`: never one of `forbidden` (checked by stat before the
 * open, and again on the open handle), never through a symlink, and only when its bytes are what
 * its name says: an image, a clip, or UTF-8 text. A Range header (`range`) reads only that part
 * (clips are only ever read so, a few megabytes at a time). Undefined when refused.
 */
export async function readMedia(file: string, forbidden: Set<string>, range?: string): Promise<MediaFile | undefined> {
  const before = statSync(file, { throwIfNoEntry: false });
  const video = isVideoName(file);
  if (!before?.isFile() || forbidden.has(identity(before)) || (!video && before.size > MAX_MEDIA_BYTES)) return undefined;
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const opened = await handle.stat();
    if (identity(opened) !== identity(before) || !opened.isFile()) return undefined;
    const size = opened.size;
    if (video) {
      const head = Buffer.alloc(Math.min(size, 64));
      await handle.read(head, 0, head.length, 0);
      const type = sniffVideo(head);
      if (!type) return undefined;
      // Without a Range header a clip comes whole, up to the size of an image; a larger one must be asked for in ranges (browsers do).
      const asked = byteRange(range, size, MAX_RANGE_BYTES);
      const wanted = asked ?? (size <= MAX_MEDIA_BYTES ? ([0, size - 1] as [number, number]) : "unsatisfiable");
      const media = { type, svg: false, text: false, size };
      if (wanted === "unsatisfiable") return { ...media, body: Buffer.alloc(0), unsatisfiable: true };
      const body = Buffer.alloc(wanted[1] - wanted[0] + 1);
      const { bytesRead } = await handle.read(body, 0, body.length, wanted[0]);
      return { ...media, body: body.subarray(0, bytesRead), range: asked ? wanted : undefined };
    }
    const whole = await handle.readFile();
    const type = sniff(whole);
    if (!type) return undefined;
    // A .txt is shown as text; an image name must hold an image (an SVG is an image here).
    const isText = type === "text/plain; charset=utf-8";
    if (isText !== file.toLowerCase().endsWith(".txt")) return undefined;
    const media = { type, svg: type === "image/svg+xml", text: isText, size };
    const wanted = byteRange(range, size);
    if (wanted === "unsatisfiable") return { ...media, body: Buffer.alloc(0), unsatisfiable: true };
    return wanted ? { ...media, body: whole.subarray(wanted[0], wanted[1] + 1), range: wanted } : { ...media, body: whole };
  } finally {
    await handle.close();
  }
}

const startsWith = (b: Buffer, bytes: number[], at = 0) => bytes.every((v, i) => b[at + i] === v);
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** The media type of a clip's first bytes: MP4 or QuickTime (an ftyp box), WebM or Matroska (EBML), AVI; else undefined. */
export function sniffVideo(head: Buffer): string | undefined {
  if (startsWith(head, ascii("ftyp"), 4)) return startsWith(head, ascii("qt  "), 8) ? "video/quicktime" : "video/mp4";
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) return head.includes("webm") ? "video/webm" : "video/x-matroska";
  if (startsWith(head, ascii("RIFF")) && startsWith(head, ascii("AVI "), 8)) return "video/x-msvideo";
  return undefined;
}

/** The media type of the bytes: a raster image by its magic number, SVG or UTF-8 text by its content; else undefined. */
export function sniff(body: Buffer): string | undefined {
  if (startsWith(body, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(body, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(body, ascii("GIF87a")) || startsWith(body, ascii("GIF89a"))) return "image/gif";
  if (startsWith(body, ascii("RIFF")) && startsWith(body, ascii("WEBP"), 8)) return "image/webp";
  if (startsWith(body, ascii("BM")) && body.length > 26) return "image/bmp";
  if (body.includes(0)) return undefined;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    return undefined;
  }
  if (/^\uFEFF?\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE[^>]*>\s*)?<svg[\s>]/i.test(text)) return "image/svg+xml";
  return "text/plain; charset=utf-8";
}
