import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UserError } from "../../errors.js";

/** The ffmpeg and ffprobe programs a video run uses. */
export interface FfmpegTools {
  ffmpeg: string;
  ffprobe: string;
}

const INSTALL_HINT = "install it (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg), or pass --ffmpeg PATH or set ALFAMIX_FFMPEG";

/**
 * ffmpeg from `given`, else $ALFAMIX_FFMPEG, else PATH; ffprobe from the same folder (else PATH).
 * Missing programs are one line saying how to install them: nothing is ever downloaded.
 */
export function findFfmpeg(given?: string): FfmpegTools {
  const ffmpeg = given || process.env.ALFAMIX_FFMPEG || "ffmpeg";
  const beside = ffmpeg.includes("/") ? join(dirname(ffmpeg), basename(ffmpeg).replace(/ffmpeg/, "ffprobe")) : undefined;
  const ffprobe = beside && beside !== ffmpeg && existsSync(beside) ? beside : "ffprobe";
  for (const program of [ffmpeg, ffprobe]) {
    const run = spawnSync(program, ["-version"], { stdio: ["ignore", "pipe", "ignore"] });
    if (run.error || run.status !== 0)
      throw new UserError(
        `video needs ${program === ffmpeg ? "ffmpeg" : "ffprobe"} (${program} ${run.error ? "was not found" : "did not run"}); ${INSTALL_HINT}`,
      );
  }
  return { ffmpeg, ffprobe };
}

/** A clip that cannot be used: not a video, empty, corrupt or truncated. */
export class VideoDecodeError extends Error {}

/** Where the clip's video stream starts and how long it lasts, in seconds, from the container. */
export interface ClipTiming {
  start: number;
  duration: number;
}

interface ProbeOutput {
  streams?: { codec_type?: string; start_time?: string; duration?: string }[];
  format?: { start_time?: string; duration?: string };
}

/** The first video stream's start and duration, read by ffprobe. */
export async function probeClip(file: string, tools: FfmpegTools): Promise<ClipTiming> {
  const args = [
    "-v",
    "error",
    "-select_streams",
    "v:0",
    "-show_entries",
    "stream=codec_type,start_time,duration:format=start_time,duration",
    "-of",
    "json",
    file,
  ];
  const { code, stdout, stderr } = await run(tools.ffprobe, args);
  if (code !== 0) throw new VideoDecodeError(`not a readable video (ffprobe: ${withoutPath(lastLine(stderr) ?? `exit ${code}`, file)})`);
  const probe = JSON.parse(stdout.toString("utf8")) as ProbeOutput;
  const stream = probe.streams?.find((s) => s.codec_type === "video");
  if (!stream) throw new VideoDecodeError("has no video stream");
  const number = (text: string | undefined) => (text === undefined || text === "N/A" ? Number.NaN : Number(text));
  const start = [number(stream.start_time), number(probe.format?.start_time), 0].find(Number.isFinite)!;
  let duration = number(stream.duration);
  if (!(duration > 0))
    duration = number(probe.format?.duration) - (Number.isFinite(number(probe.format?.start_time)) ? start - number(probe.format?.start_time) : 0);
  if (!(duration > 0)) throw new VideoDecodeError("the container gives no duration for its video stream");
  return { start, duration };
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
 * The ffmpeg filter that samples and scales: keep the first frame, and the first frame at or
 * after each target time (a frame is kept when it falls in a later part of the clip than the
 * last kept one); then scale (scaleFilter). The kept frames' timestamps are printed by showinfo.
 */
export function samplingFilter(timing: ClipTiming, sampling: FrameSampling): string {
  const perSecond = sampling.count / timing.duration;
  const part = (t: string) => `floor((${t}-${timing.start})*${perSecond}+${SLACK})`;
  return `select='eq(n,0)+gt(${part("t")},${part("prev_selected_t")})',${scaleFilter(sampling)},showinfo`;
}

/** Resize the shorter side to fit (bilinear), then crop the centre: what `embed --images` does. */
export const scaleFilter = ({ height: h, width: w }: Pick<FrameSampling, "height" | "width">) =>
  `scale=${w}:${h}:force_original_aspect_ratio=increase:flags=bilinear,crop=${w}:${h}`;

/**
 * Decode `sampling.count` frames of a clip through ffmpeg: one child process that writes raw
 * frames to a pipe, already scaled. Each slot gets the first frame at or after its target time
 * (the last frame when the clip ends before it), so short clips repeat frames and variable frame
 * rates follow the container's timestamps. Any error ffmpeg reports (a truncated or corrupt
 * stream) makes the clip bad.
 */
export async function decodeClip(file: string, sampling: FrameSampling, tools: FfmpegTools): Promise<ClipFrames> {
  const timing = await probeClip(file, tools);
  const { height, width, channels } = sampling;
  const args = [
    ...["-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+info", "-threads", "1", "-i", file, "-an", "-sn", "-dn"],
    ...["-vf", samplingFilter(timing, sampling), "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", channels === 3 ? "rgb24" : "gray", "pipe:1"],
  ];
  const { code, stdout, stderr } = await run(tools.ffmpeg, args);
  const log = stderr.toString("utf8").split("\n");
  const error = log.find((l) => /^\[(error|fatal|panic)\]|\] \[(error|fatal|panic)\]/.test(l));
  if (code !== 0 || error) throw new VideoDecodeError(`cannot be decoded (ffmpeg: ${clean(error ?? lastLine(stderr) ?? `exit ${code}`)})`);
  // Times from the integer pts and the filter's time base (pts_time is printed to 6 digits).
  const base = log.map((l) => /Parsed_showinfo.*config in time_base: (\d+)\/(\d+)/.exec(l)).find((m) => m);
  const kept = log.flatMap((l) => {
    const m = /Parsed_showinfo.*\bn:\s*\d+\s+pts:\s*(-?\d+)/.exec(l);
    return m && base ? [(Number(m[1]) * Number(base[1])) / Number(base[2])] : [];
  });
  const frameBytes = height * width * channels;
  if (kept.length === 0 || stdout.length !== kept.length * frameBytes) throw new VideoDecodeError("has no decodable frames");
  const targets = targetTimes(timing, sampling.count);
  const pixels = new Uint8Array(sampling.count * frameBytes);
  const times: number[] = [];
  const slack = (SLACK * timing.duration) / sampling.count;
  targets.forEach((target, slot) => {
    let frame = kept.findIndex((t) => t >= target - slack);
    if (frame < 0) frame = kept.length - 1;
    pixels.set(stdout.subarray(frame * frameBytes, (frame + 1) * frameBytes), slot * frameBytes);
    times.push(kept[frame]);
  });
  return { pixels, times, timing };
}

const lastLine = (stderr: Buffer) =>
  stderr
    .toString("utf8")
    .trim()
    .split("\n")
    .filter((l) => l.trim())
    .pop();

/** ffprobe names the file first; the caller names it already. */
const withoutPath = (line: string, file: string) => (line.startsWith(`${file}: `) ? line.slice(file.length + 2) : line);

/** An ffmpeg log line without its level and context prefixes. */
const clean = (line: string) => line.replace(/^(\[[^\]]*\]\s*)+/, "").trim();

function run(program: string, args: string[]): Promise<{ code: number; stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [],
      err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => reject(new UserError(`${program}: ${e.message}; ${INSTALL_HINT}`)));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  });
}
