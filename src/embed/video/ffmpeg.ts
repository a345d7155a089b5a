import { spawn, spawnSync } from "node:child_process";
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { UserError } from "../../errors.js";

const INSTALL_HINT = "install it (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg), or pass --ffmpeg PATH or set ALFAMIX_FFMPEG";

/**
 * The ffmpeg program: `given`, else $ALFAMIX_FFMPEG, else ffmpeg on PATH. A missing program is one
 * line saying how to install it: nothing is ever downloaded.
 */
export function findFfmpeg(given?: string): string {
  const ffmpeg = given || process.env.ALFAMIX_FFMPEG || "ffmpeg";
  const check = spawnSync(ffmpeg, ["-hide_banner", "-version"], { stdio: ["ignore", "pipe", "ignore"] });
  if (check.error || check.status !== 0)
    throw new UserError(`video needs ffmpeg (${ffmpeg} ${check.error ? "was not found" : "did not run"}); ${INSTALL_HINT}`);
  return ffmpeg;
}

/** A clip that cannot be used: not a video, empty, corrupt or truncated. */
export class VideoDecodeError extends Error {}

/** Where the clip starts and how long it lasts, in seconds, from the container. */
export interface ClipTiming {
  start: number;
  duration: number;
}

/** Sampled frames of a clip: `count` frames of height×width×channels bytes, interleaved (RGB or gray). */
export interface ClipFrames {
  /** count × height × width × channels bytes. */
  pixels: Uint8Array;
  /** The timestamp (seconds, the container's) of the frame in each slot. */
  times: number[];
  timing: ClipTiming;
}

export interface FrameSampling {
  /** Frames per clip, spread evenly over its duration. */
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
}

/**
 * The times the frames are taken at: the starts of `count` equal parts of the clip, so a clip of
 * exactly `count` frames gives each of its frames once (as uniform sampling by index would).
 */
export const targetTimes = (timing: ClipTiming, count: number) => Array.from({ length: count }, (_, i) => timing.start + (i * timing.duration) / count);

/** Slack for timestamps that land on a target: a millionth of a part. */
const SLACK = 1e-6;

/**
 * The filter that samples and scales a clip: keep the first frame, and the first frame at or after
 * each target time (a frame is kept when it falls in a later part of the clip than the last kept
 * one); then scale (scaleFilter); showinfo prints the kept frames' timestamps.
 */
export function samplingFilter(timing: ClipTiming, sampling: FrameSampling, name = "clip"): string {
  const perSecond = sampling.count / timing.duration;
  const part = (t: string) => `floor((${t}-${timing.start})*${perSecond}+${SLACK})`;
  return `select='eq(n,0)+gt(${part("t")},${part("prev_selected_t")})',${scaleFilter(sampling)},showinfo@${name}`;
}

/** Resize the shorter side to fit (bilinear), then crop the centre: what `embed --images` does. */
export const scaleFilter = ({ height: h, width: w }: Pick<FrameSampling, "height" | "width">) =>
  `scale=${w}:${h}:force_original_aspect_ratio=increase:flags=bilinear,crop=${w}:${h}`;

/**
 * Decode `sampling.count` frames of each clip. Starting ffmpeg costs about 0.2 s of CPU here (it
 * loads 216 libraries), more than decoding a short clip, so clips go to ffmpeg together: one run
 * reads every clip's duration, and one run decodes them all, each clip through its own filter to
 * its own pipe, frames already scaled. Each slot gets the first frame at or after its target
 * time (the last frame when the clip ends before it), so short clips repeat frames and variable
 * frame rates follow the container's timestamps. A clip that cannot be read, or whose decoding
 * reports any error (a truncated or corrupt stream), comes back as a VideoDecodeError; when the
 * shared run reports one, each clip is decoded again alone, to tell which.
 */
export async function decodeClips(files: string[], sampling: FrameSampling, ffmpeg: string): Promise<(ClipFrames | VideoDecodeError)[]> {
  const timings = await probeClips(files, ffmpeg);
  const results: (ClipFrames | VideoDecodeError | undefined)[] = timings.map((t) => (t instanceof VideoDecodeError ? t : undefined));
  const decodeTogether = (indices: number[]) =>
    decodeProbed(
      indices.map((i) => files[i]),
      indices.map((i) => timings[i] as ClipTiming),
      sampling,
      ffmpeg,
    ).then((decoded) => indices.forEach((i, k) => (results[i] = decoded[k])));
  const readable = files.map((_, i) => i).filter((i) => results[i] === undefined);
  try {
    if (readable.length) await decodeTogether(readable);
  } catch (e) {
    if (!(e instanceof VideoDecodeError)) throw e;
    if (readable.length === 1) results[readable[0]] = e;
    else
      for (const i of readable)
        await decodeTogether([i]).catch((alone: unknown) => {
          if (!(alone instanceof VideoDecodeError)) throw alone;
          results[i] = alone;
        });
  }
  return results as (ClipFrames | VideoDecodeError)[];
}

/** One clip's frames (see decodeClips); a bad clip throws its VideoDecodeError. */
export async function decodeClip(file: string, sampling: FrameSampling, ffmpeg: string): Promise<ClipFrames> {
  const [result] = await decodeClips([file], sampling, ffmpeg);
  if (result instanceof VideoDecodeError) throw result;
  return result;
}

/** An input for ffmpeg: only the file itself may be read (no protocols, no playlists that point elsewhere). */
const input = (file: string) => ["-protocol_whitelist", "file", "-threads", "1", "-i", `file:${resolve(file)}`];

/**
 * Each clip's start and duration, from the container, with one ffmpeg run for all of them (ffmpeg
 * describes its inputs and stops, as no output is given). A clip ffmpeg cannot open stops that
 * run: it is marked bad, and the clips after it are read by another.
 */
async function probeClips(files: string[], ffmpeg: string): Promise<(ClipTiming | VideoDecodeError)[]> {
  const out: (ClipTiming | VideoDecodeError)[] = [];
  while (out.length < files.length) {
    const rest = files.slice(out.length);
    const { stderr } = await run(ffmpeg, ["-nostdin", "-hide_banner", ...rest.flatMap(input)]);
    const log = stderr.toString("utf8").split("\n");
    const described = splitInputs(log);
    described.slice(0, rest.length).forEach((lines) => out.push(timingOf(lines)));
    if (described.length < rest.length) {
      // ffmpeg names the file it could not open: "file:/path: Invalid data found when processing input".
      const name = `file:${resolve(rest[described.length])}: `;
      const line = log.find((l) => l.startsWith(name)) ?? log.filter((l) => l.trim()).pop() ?? "ffmpeg stopped";
      out.push(new VideoDecodeError(`not a readable video (ffmpeg: ${line.startsWith(name) ? line.slice(name.length) : clean(line)})`));
    }
  }
  return out;
}

/** The indented lines describing each input, in order (each description starts "Input #k, …"). */
function splitInputs(log: string[]): string[][] {
  const inputs: string[][] = [];
  let current: string[] | undefined;
  for (const line of log) {
    if (/^Input #\d+,/.test(line)) inputs.push((current = []));
    else if (current && /^\s/.test(line)) current.push(line);
    else current = undefined;
  }
  return inputs;
}

/** A described input's start and duration, or why it cannot be used. */
function timingOf(lines: string[]): ClipTiming | VideoDecodeError {
  if (!lines.some((l) => /^\s+Stream #\d+:\d+.*: Video: /.test(l) && !/\(attached pic\)/.test(l))) return new VideoDecodeError("has no video stream");
  const m = lines.map((l) => /^\s+Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?), start: (-?\d+(?:\.\d+)?)/.exec(l)).find((x) => x);
  if (!m) return new VideoDecodeError("the container gives no duration for its video");
  const duration = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  if (!(duration > 0)) return new VideoDecodeError("the container gives a duration of 0");
  return { start: Number(m[4]), duration };
}

/** Decode clips whose timing is known, in one ffmpeg run: clip k through its filter to pipe k + 3. */
async function decodeProbed(files: string[], timings: ClipTiming[], sampling: FrameSampling, ffmpeg: string): Promise<ClipFrames[]> {
  const { height, width, channels } = sampling;
  const graph = timings.map((timing, k) => `[${k}:v:0]${samplingFilter(timing, sampling, `c${k}`)}[o${k}]`).join(";");
  const outputs = files.flatMap((_, k) => [
    "-map",
    `[o${k}]`,
    "-fps_mode",
    "passthrough",
    "-f",
    "rawvideo",
    "-pix_fmt",
    channels === 3 ? "rgb24" : "gray",
    `pipe:${k + 3}`,
  ]);
  const args = ["-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+info", ...files.flatMap(input), "-filter_complex", graph, ...outputs];
  const { code, stderr, pipes } = await run(ffmpeg, args, files.length);
  const log = stderr.toString("utf8").split("\n");
  const error = log.find((l) => /^\[(error|fatal|panic)\]|\] \[(error|fatal|panic)\]/.test(l));
  if (code !== 0 || error) throw new VideoDecodeError(`cannot be decoded (ffmpeg: ${clean(error ?? log.filter((l) => l.trim()).pop() ?? `exit ${code}`)})`);
  const frameBytes = height * width * channels;
  return files.map((_, k) => {
    // Times from the integer pts and the filter's time base (pts_time is printed to 6 digits).
    const mine = log.filter((l) => l.startsWith(`[showinfo@c${k} @`));
    const base = mine.map((l) => /config in time_base: (\d+)\/(\d+)/.exec(l)).find((m) => m);
    const kept = mine.flatMap((l) => {
      const m = /\] \[info\] n:\s*\d+\s+pts:\s*(-?\d+)/.exec(l);
      return m && base ? [(Number(m[1]) * Number(base[1])) / Number(base[2])] : [];
    });
    const bytes = pipes[k];
    if (kept.length === 0 || bytes.length !== kept.length * frameBytes) throw new VideoDecodeError("has no decodable frames");
    const timing = timings[k];
    const slack = (SLACK * timing.duration) / sampling.count;
    const pixels = new Uint8Array(sampling.count * frameBytes);
    const times = targetTimes(timing, sampling.count).map((target, slot) => {
      let frame = kept.findIndex((t) => t >= target - slack);
      if (frame < 0) frame = kept.length - 1;
      pixels.set(bytes.subarray(frame * frameBytes, (frame + 1) * frameBytes), slot * frameBytes);
      return kept[frame];
    });
    return { pixels, times, timing };
  });
}

/** An ffmpeg log line without its context and level prefixes. */
const clean = (line: string) => line.replace(/^(\[[^\]]*\]\s*)+/, "").trim();

/** Run a program; collect stderr and, when asked, what it writes to `pipes` extra pipes (fd 3, 4, …). */
function run(program: string, args: string[], pipes = 0): Promise<{ code: number; stderr: Buffer; pipes: Buffer[] }> {
  return new Promise((done, fail) => {
    const child = spawn(program, args, { stdio: ["ignore", "ignore", "pipe", ...Array<"pipe">(pipes).fill("pipe")] });
    const collect = (stream: Readable) => {
      const chunks: Buffer[] = [];
      stream.on("data", (b: Buffer) => chunks.push(b));
      return chunks;
    };
    const err = collect(child.stderr!);
    const outs = Array.from({ length: pipes }, (_, k) => collect(child.stdio[k + 3] as Readable));
    child.on("error", (e) => fail(new UserError(`${program}: ${e.message}; ${INSTALL_HINT}`)));
    child.on("close", (code) => done({ code: code ?? 1, stderr: Buffer.concat(err), pipes: outs.map((o) => Buffer.concat(o)) }));
  });
}
