import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { cacheDir } from "../cache.js";
import { writeAtomically } from "../files.js";
import { listImageFolder, type FileKind, type ImageSplits } from "../images/folder.js";
import { decodeClip, type ClipFrames, type FfmpegTools, type FrameSampling } from "./ffmpeg.js";

/** Containers alfamix looks for in a folder of clips (anything ffmpeg decodes inside them works). */
export const VIDEO_EXTENSIONS = [".mp4", ".m4v", ".webm", ".mov", ".mkv", ".avi"];
const CLIPS: FileKind = { extensions: VIDEO_EXTENSIONS, noun: "clips" };

/** A folder of clips in the layouts of an image folder: DIR/<class>/…, DIR/train|test/<class>/…, or clips directly in DIR. */
export function listClipFolder(dir: string): ImageSplits {
  return listImageFolder(dir, CLIPS);
}

/**
 * A clip's sampled frames, from the decoded-frame cache when an earlier run took the same frames
 * of the same file (same size and time), else decoded with ffmpeg and cached. A second `embed`
 * with another model or pooling, or `bench video`, then costs no decoding.
 */
export async function clipFrames(file: string, sampling: FrameSampling, tools: FfmpegTools): Promise<ClipFrames> {
  const stat = statSync(file);
  const key = createHash("sha256")
    .update(JSON.stringify({ file: resolve(file), size: stat.size, mtime: stat.mtimeMs, sampling, version: 1 }))
    .digest("hex");
  const dir = cacheDir("frames");
  const cached = dir ? `${dir}/${key}` : undefined;
  const frameBytes = sampling.count * sampling.height * sampling.width * sampling.channels;
  if (cached) {
    try {
      const meta = JSON.parse(readFileSync(`${cached}.json`, "utf8")) as Omit<ClipFrames, "pixels">;
      const pixels = readFileSync(`${cached}.bin`);
      if (pixels.length === frameBytes) return { ...meta, pixels: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length) };
    } catch {
      // Not cached yet (or a damaged entry): decode.
    }
  }
  const frames = await decodeClip(file, sampling, tools);
  if (cached) {
    try {
      // The pixels first: an entry counts only once its .json exists.
      writeAtomically(`${cached}.bin`, frames.pixels);
      writeAtomically(`${cached}.json`, JSON.stringify({ times: frames.times, timing: frames.timing }));
    } catch {
      // A full or read-only cache costs speed, not correctness.
    }
  }
  return frames;
}
