import { createHash } from "node:crypto";
import { readFileSync, realpathSync, statSync } from "node:fs";
import { cacheDir } from "../../data/cache.js";
import { writeAtomically } from "../../data/files.js";
import { listImageFolder, type FileKind, type ImageSplits } from "../../data/images/folder.js";
import { decodeClips, VideoDecodeError, type ClipFrames, type FrameSampling } from "./ffmpeg.js";

/** Containers alfamix looks for in a folder of clips (anything ffmpeg decodes inside them works). */
export const VIDEO_EXTENSIONS = [".mp4", ".m4v", ".webm", ".mov", ".mkv", ".avi"];
const CLIPS: FileKind = { extensions: VIDEO_EXTENSIONS, noun: "clips" };

/** A folder of clips in the layouts of an image folder: DIR/<class>/…, DIR/train|test/<class>/…, or clips directly in DIR. */
export function listClipFolder(dir: string): ImageSplits {
  return listImageFolder(dir, CLIPS);
}

/**
 * Clips' sampled frames, each from the decoded-frame cache when an earlier run took the same frames
 * of the same file (same size and time), the rest decoded together (see decodeClips) and cached.
 * A second `embed` with another model or pooling, or `bench video`, then costs no decoding.
 */
export async function clipFrames(files: string[], sampling: FrameSampling, ffmpeg: string): Promise<(ClipFrames | VideoDecodeError)[]> {
  const dir = cacheDir("frames");
  const frameBytes = sampling.count * sampling.height * sampling.width * sampling.channels;
  const entries = files.map((file) => {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!dir || !stat) return undefined;
    // By real path: a folder of links to clips (one labelling of them among several) shares their frames.
    const key = createHash("sha256")
      .update(JSON.stringify({ file: realpathSync(file), size: stat.size, mtime: stat.mtimeMs, sampling, version: 2 }))
      .digest("hex");
    return `${dir}/${key}`;
  });
  const results: (ClipFrames | VideoDecodeError | undefined)[] = entries.map((entry) => (entry ? readCached(entry, frameBytes) : undefined));
  const missing = files.map((_, i) => i).filter((i) => results[i] === undefined);
  if (missing.length) {
    const decoded = await decodeClips(
      missing.map((i) => files[i]),
      sampling,
      ffmpeg,
    );
    missing.forEach((i, k) => {
      const frames = decoded[k];
      results[i] = frames;
      if (entries[i] && !(frames instanceof VideoDecodeError)) writeCached(entries[i]!, frames);
    });
  }
  return results as (ClipFrames | VideoDecodeError)[];
}

function readCached(entry: string, frameBytes: number): ClipFrames | undefined {
  try {
    const meta = JSON.parse(readFileSync(`${entry}.json`, "utf8")) as Omit<ClipFrames, "pixels">;
    const pixels = readFileSync(`${entry}.bin`);
    return pixels.length === frameBytes ? { ...meta, pixels: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length) } : undefined;
  } catch {
    return undefined; // not cached yet, or a damaged entry: decode
  }
}

function writeCached(entry: string, frames: ClipFrames): void {
  try {
    // The pixels first: an entry counts only once its .json exists.
    writeAtomically(`${entry}.bin`, frames.pixels);
    writeAtomically(`${entry}.json`, JSON.stringify({ times: frames.times, timing: frames.timing }));
  } catch {
    // A full or read-only cache costs speed, not correctness.
  }
}
