import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../src/errors.js";
import { readNpy } from "../src/data/npy.js";
import { decodeImage } from "../src/data/images/decode.js";
import { clipFrames, listClipFolder } from "../src/embed/video/clips.js";
import { decodeClip, findFfmpeg, scaleFilter, VideoDecodeError, type ClipFrames, type FrameSampling } from "../src/embed/video/ffmpeg.js";
import { encodeOnnxModel, type OnnxGraph } from "../src/embed/onnx-writer.js";
import { embedVideos, keyFrameSlots, segmentMeans } from "../src/embed/video/embed-videos.js";
import { assertClose, cli, fixture, tempDir, userError } from "./helpers.js";
import { ffmpeg, frameMeanModel, testClip } from "./video-helpers.js";

const dir = tempDir();
process.env.ALFAMIX_CACHE_DIR = join(dir, "cache");
const tools = findFfmpeg();

/** Every frame's timestamp, from ffprobe. */
const frameTimes = (path: string) =>
  execFileSync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time", "-of", "csv=p=0", path], { encoding: "utf8" })
    .split(/[\s,]+/)
    .filter((v) => v !== "")
    .map(Number);
/** The first frame at or after each of `n` evenly spaced times, as the sampler should choose. */
const expectedTimes = (times: number[], duration: number, n: number) =>
  Array.from({ length: n }, (_, i) => times.find((t) => t >= (i * duration) / n - 1e-9) ?? times[times.length - 1]);

const sampling: FrameSampling = { count: 8, height: 48, width: 64, channels: 3 };

const CONTAINERS: [string, string[]][] = [
  ["mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"]],
  ["webm", ["-c:v", "libvpx-vp9", "-b:v", "200k"]],
  ["mov", ["-c:v", "libx264", "-pix_fmt", "yuv420p"]],
  ["mkv", ["-c:v", "libvpx", "-b:v", "200k"]],
  ["avi", ["-c:v", "mpeg4"]],
];

test("decoding takes evenly spaced frames of any container, and the pixels are ffmpeg's own", async () => {
  for (const [extension, codec] of CONTAINERS) {
    const clip = testClip(join(dir, "containers", `clip.${extension}`), { codec });
    const frames = await decodeClip(clip, sampling, tools);
    assert.equal(frames.timing.duration.toFixed(1), "2.0", extension);
    // 10 frames a second over 2 s, 8 parts of 0.25 s: the first frame at or after each start.
    assertClose(frames.times, [0, 0.3, 0.5, 0.8, 1, 1.3, 1.5, 1.8], 1e-9, `${extension} times`);
    assert.equal(frames.pixels.length, 8 * 48 * 64 * 3);
    // Against one frame at a time by number, scaled by the same filter, written by ffmpeg as PNG.
    for (const slot of [0, 3, 7]) {
      const png = join(dir, "containers", `${extension}-${slot}.png`);
      ffmpeg("-i", clip, "-vf", `select=eq(n\\,${Math.round(frames.times[slot] * 10)}),${scaleFilter(sampling)}`, "-frames:v", "1", png);
      const image = decodeImage(readFileSync(png));
      assert.deepEqual([image.height, image.width, image.channels], [48, 64, 3]);
      const frameBytes = 48 * 64 * 3;
      assert.deepEqual(frames.pixels.subarray(slot * frameBytes, (slot + 1) * frameBytes), image.pixels, `${extension} slot ${slot}`);
    }
  }
});

test("variable frame rates follow the container's timestamps, and a short clip repeats frames", async () => {
  // 10 frames 0.05 s apart, then 8 frames 0.2 s apart: 1.9 s, in Matroska (which keeps them).
  const vfr = join(dir, "vfr.mkv");
  ffmpeg(
    ...["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=20", "-frames:v", "18"],
    ...["-vf", "setpts='if(lt(N,10),N*0.05,0.5+(N-10)*0.2)/TB'", "-fps_mode", "vfr", "-c:v", "libx264", "-pix_fmt", "yuv420p", vfr],
  );
  const times = frameTimes(vfr);
  assert.equal(times.length, 18);
  const decoded = await decodeClip(vfr, sampling, tools);
  assertClose(decoded.times, expectedTimes(times, decoded.timing.duration, 8), 1e-6, "vfr times");
  assert.ok(decoded.times[1] < 0.5 && decoded.times[7] > 1.5, `spread over the clip by time, not by frame count: ${decoded.times}`);

  // Three frames, eight slots: no failure, frames in order, each kept frame used.
  const short = testClip(join(dir, "short.mp4"), { seconds: 0.3 });
  const few = await decodeClip(short, sampling, tools);
  assert.deepEqual(
    few.times.map((t) => t.toFixed(1)),
    ["0.0", "0.1", "0.1", "0.2", "0.2", "0.2", "0.2", "0.2"],
  );
});

test("decoded frames are cached: a second run decodes nothing; clips are decoded together, and a bad one is told apart", async () => {
  const clips = [testClip(join(dir, "cached", "a.mp4")), testClip(join(dir, "cached", "b.webm"), { seconds: 1, codec: ["-c:v", "libvpx-vp9"] })];
  const log = join(dir, "ffmpeg.log");
  const wrapper = join(dir, "ffmpeg-wrapper");
  writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> ${log}\nexec ffmpeg "$@"\n`);
  chmodSync(wrapper, 0o755);
  const small: FrameSampling = { count: 4, height: 16, width: 16, channels: 3 };
  const runs = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").length : 0);
  const first = (await clipFrames(clips, small, wrapper)) as ClipFrames[];
  assert.equal(runs(), 2, "one run reads both durations, one decodes both");
  const second = (await clipFrames(clips, small, wrapper)) as ClipFrames[];
  assert.equal(runs(), 2, "the second read came from the cache");
  assert.deepEqual(
    second.map((c) => [c.pixels, c.times]),
    first.map((c) => [c.pixels, c.times]),
  );
  // Decoded together or alone, a clip's frames are the same.
  const alone = await decodeClip(clips[1], small, "ffmpeg");
  assert.deepEqual(alone.pixels, first[1].pixels);
  // Other frames of the same clips are decoded afresh.
  await clipFrames(clips, { ...small, count: 5 }, wrapper);
  assert.equal(runs(), 4);
  // A truncated clip among good ones: the shared run reports an error, and each is decoded alone to tell which.
  const cut = join(dir, "cached", "cut.mp4");
  execFileSync("ffmpeg", ["-v", "error", "-y", "-i", clips[0], "-c", "copy", "-movflags", "+faststart", join(dir, "cached", "fs.mp4")]);
  const bytes = readFileSync(join(dir, "cached", "fs.mp4"));
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const mixed = await clipFrames([clips[0], cut, clips[1]], { ...small, count: 6 }, "ffmpeg");
  assert.ok(!(mixed[0] instanceof VideoDecodeError) && !(mixed[2] instanceof VideoDecodeError));
  assert.ok(mixed[1] instanceof VideoDecodeError && /cannot be decoded/.test(mixed[1].message), String(mixed[1]));
});

test("a missing ffmpeg is one line that says how to install it", () => {
  assert.throws(
    () => findFfmpeg(join(dir, "no-such-ffmpeg")),
    (e: Error) => e instanceof UserError && /apt-get install ffmpeg/.test(e.message),
  );
  testClip(join(dir, "one-clip", "a.mp4"), { seconds: 0.5 });
  const result = cli("embed", "--video", join(dir, "one-clip"), "--model", "mobilenet-v2", "--out", join(dir, "never.npy"), "--ffmpeg", "/nonexistent/ffmpeg");
  userError(result, /video needs ffmpeg .*apt-get install ffmpeg/);
});

// A 3-D convolution (Conv3d 3→4, kernel 2×3×3, ReLU), against PyTorch on the same frames.
const conv3d = JSON.parse(readFileSync(fixture("conv3d-fixture.json"), "utf8")) as {
  frames: number;
  height: number;
  width: number;
  channels: number;
  out: number;
  pixels: number[];
  mean: number[];
  std: number[];
  weight: number[];
  weightShape: number[];
  bias: number[];
  expected: number[];
};

function videoModel(layout: "ncthw" | "ntchw"): string {
  const { frames: t, height: h, width: w, out } = conv3d;
  const path = join(dir, `conv3d-${layout}.onnx`);
  const graph: OnnxGraph = {
    name: "conv3d",
    inputs: [{ name: "clip", shape: layout === "ncthw" ? ["batch", 3, t, h, w] : ["batch", t, 3, h, w] }],
    outputs: [{ name: "maps", shape: ["batch", out, t - 1, h, w] }],
    nodes: [
      ...(layout === "ntchw" ? [{ op: "Transpose", inputs: ["clip"], outputs: ["ncthw"], attributes: { perm: [0, 2, 1, 3, 4] } }] : []),
      {
        op: "Conv",
        inputs: [layout === "ntchw" ? "ncthw" : "clip", "W", "B"],
        outputs: ["conv"],
        attributes: { kernel_shape: [2, 3, 3], pads: [0, 1, 1, 0, 1, 1] },
      },
      { op: "Relu", inputs: ["conv"], outputs: ["maps"] },
    ],
    initializers: [
      { name: "W", dims: conv3d.weightShape, data: Float32Array.from(conv3d.weight) },
      { name: "B", dims: [out], data: Float32Array.from(conv3d.bias) },
    ],
  };
  writeFileSync(path, encodeOnnxModel(graph));
  return path;
}

test("a video model (5-D input, either layout) gets the sampled clip as one tensor, and matches PyTorch's Conv3d", async () => {
  const { frames: t, height: h, width: w } = conv3d;
  // The fixture's frames, losslessly (FFV1, RGB) at 4 frames a second: the sampler takes each once.
  const raw = join(dir, "conv3d.rgb");
  writeFileSync(raw, Uint8Array.from(conv3d.pixels));
  const clips = join(dir, "conv3d-clips");
  mkdirSync(clips, { recursive: true });
  ffmpeg("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", `${w}x${h}`, "-r", "4", "-i", raw, "-c:v", "ffv1", join(clips, "one.mkv"));
  const decoded = await decodeClip(join(clips, "one.mkv"), { count: t, height: h, width: w, channels: 3 }, tools);
  assert.deepEqual([...decoded.pixels], conv3d.pixels, "the lossless clip decodes to the fixture's frames");
  for (const layout of ["ncthw", "ntchw"] as const) {
    const out = join(dir, `conv3d-${layout}`, "emb.npy");
    const result = await embedVideos({ model: videoModel(layout), clips: listClipFolder(clips).train, out, mean: conv3d.mean, std: conv3d.std });
    assert.equal(result.frames, t, "the model's own number of frames");
    const rows = await readNpy(out, "float32");
    assert.deepEqual(rows.shape, [1, 4]);
    assertClose(rows.data as Float32Array, conv3d.expected, 1e-5, `${layout} against PyTorch`);
    assert.equal(existsSync(out.replace(".npy", ".keyframes")), false, "a video model has no frame rows to choose key frames from");
  }
  await assert.rejects(
    embedVideos({ model: videoModel("ncthw"), clips: listClipFolder(clips).train, out: join(dir, "x.npy"), frames: 8 }),
    /takes clips of 4 frames; drop --frames or pass --frames 4/,
  );
});

test("segment pooling keeps the order of events; key frames are the frames nearest the k-means centres, in time order", () => {
  // 4 frames of 2 values, 2 segments: the means of frames 0–1 and of 2–3, side by side.
  const frameRows = Float32Array.from([1, 0, 3, 0, 0, 5, 0, 7]);
  const out = new Float32Array(4);
  segmentMeans(frameRows, 4, 2, 2, out);
  assert.deepEqual([...out], [2, 0, 0, 6]);
  const reversed = Float32Array.from([0, 7, 0, 5, 3, 0, 1, 0]);
  segmentMeans(reversed, 4, 2, 2, out);
  assert.deepEqual([...out], [0, 6, 2, 0], "reversed in time, the segments swap");
  segmentMeans(reversed, 4, 2, 1, out.subarray(0, 2));
  assert.deepEqual([...out.subarray(0, 2)], [1, 3], "one segment: the plain mean, the same both ways");
  // 8 frames in 4 tight pairs, shuffled in time: one frame of each pair, in time order.
  const pairs = [0, 10, 20, 30, 0.1, 20.1, 10.1, 30.1];
  const slots = keyFrameSlots(Float32Array.from(pairs.flatMap((v) => [v, -v])), 8, 2, 4);
  assert.equal(slots.length, 4);
  assert.deepEqual(
    slots,
    [...slots].sort((a, b) => a - b),
  );
  assert.deepEqual(new Set(slots.map((s) => Math.round(pairs[s]))), new Set([0, 10, 20, 30]));
  assert.deepEqual(keyFrameSlots(new Float32Array(6), 3, 2, 4), [0, 1, 2], "fewer frames than key frames: all of them");
});

test("embed --video writes rows, ids, labels and key frames like --images; --segments concatenates", async () => {
  const clips = join(dir, "classes");
  testClip(join(clips, "pattern", "a.mp4"), { seconds: 1.5 });
  testClip(join(clips, "pattern", "b.webm"), { seconds: 1, codec: ["-c:v", "libvpx-vp9"] });
  mkdirSync(join(clips, "fractal"), { recursive: true });
  ffmpeg("-f", "lavfi", "-i", "mandelbrot=size=96x72:rate=8", "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", join(clips, "fractal", "c.mov"));
  const model = frameMeanModel(dir);
  const out = join(dir, "classes-out", "emb.npy");
  const result = cli("embed", "--video", clips, "--model", model, "--out", out, "--frames", "6");
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /embedded 3 clips as 2-d rows \(6 frames of 3×8×8 each/);
  assert.deepEqual((await readNpy(out, "float32")).shape, [3, 2]);
  assert.deepEqual(readFileSync(out.replace(".npy", ".ids"), "utf8").trim().split("\n"), ["fractal/c", "pattern/a", "pattern/b"]);
  assert.deepEqual(readFileSync(out.replace(".npy", ".labels"), "utf8").trim().split("\n"), ["fractal", "pattern", "pattern"]);
  const keyLines = readFileSync(out.replace(".npy", ".keyframes"), "utf8").trim().split("\n");
  assert.equal(keyLines.length, 3);
  for (const line of keyLines) {
    const times = line.split(" ").map(Number);
    assert.ok(times.length >= 1 && times.length <= 4, line);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
  }
  const segmented = join(dir, "classes-seg", "emb.npy");
  const seg = cli("embed", "--video", clips, "--model", model, "--out", segmented, "--frames", "6", "--segments", "3", "--quiet");
  assert.equal(seg.status, 0, seg.stderr);
  const [whole, parts] = [await readNpy(out, "float32"), await readNpy(segmented, "float32")];
  assert.deepEqual(parts.shape, [3, 6]);
  // The mean of the segment means (equal segments) is the whole clip's mean.
  for (let r = 0; r < 3; r++)
    for (let j = 0; j < 2; j++) {
      const p = parts.data as Float32Array;
      assertClose([(p[r * 6 + j] + p[r * 6 + 2 + j] + p[r * 6 + 4 + j]) / 3], [(whole.data as Float32Array)[r * 2 + j]], 1e-5);
    }
  userError(
    cli("embed", "--video", clips, "--model", model, "--out", join(dir, "y.npy"), "--frames", "2", "--segments", "3"),
    /--segments 3 needs at least as many frames/,
  );
});

test("corrupt, empty, truncated and non-video files stop the run with the file's name, or are skipped with --skip-bad", () => {
  const clips = join(dir, "bad-clips");
  const good = testClip(join(clips, "good.mp4"));
  const bytes = readFileSync(good);
  writeFileSync(join(clips, "empty.mp4"), "");
  writeFileSync(join(clips, "notes.mkv"), "not a video at all\n");
  writeFileSync(join(clips, "truncated.mp4"), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const faststart = join(dir, "faststart.mp4");
  ffmpeg("-i", good, "-c", "copy", "-movflags", "+faststart", faststart);
  const fs = readFileSync(faststart);
  writeFileSync(join(clips, "zcut.mp4"), fs.subarray(0, Math.floor(fs.length * 0.6)));
  const model = frameMeanModel(dir);
  const out = join(dir, "bad-out", "emb.npy");
  const stopped = cli("embed", "--video", clips, "--model", model, "--out", out, "--quiet");
  userError(stopped, /empty\.mp4: not a readable video .*--skip-bad/);
  assert.equal(existsSync(out), false, "no output that looks finished");
  const skipped = cli("embed", "--video", clips, "--model", model, "--out", out, "--skip-bad");
  assert.equal(skipped.status, 0, skipped.stderr);
  for (const name of ["empty.mp4", "notes.mkv", "truncated.mp4", "zcut.mp4"])
    assert.match(skipped.stderr, new RegExp(`skipped .*${name.replace(".", "\\.")}: `), name);
  assert.match(skipped.stderr, /embedded 1 clips .*skipped 4/);
  assert.deepEqual(readFileSync(out.replace(".npy", ".ids"), "utf8").trim().split("\n"), ["good"]);
  assert.equal(readFileSync(out.replace(".npy", ".keyframes"), "utf8").trim().split("\n").length, 1);
});

test("an interrupted run resumes where it stopped, with the same rows and key frames as an uninterrupted one", async () => {
  const clips = listClipFolder(join(dir, "classes")).train;
  const model = frameMeanModel(dir);
  const whole = join(dir, "resume-whole", "emb.npy"),
    resumed = join(dir, "resume-cut", "emb.npy");
  await embedVideos({ model, clips, out: whole, frames: 6, batch: 1 });
  await assert.rejects(
    embedVideos({
      model,
      clips,
      out: resumed,
      frames: 6,
      batch: 1,
      onProgress: (p) => {
        if (p.done === 2) throw new Error("interrupted");
      },
    }),
    /interrupted/,
  );
  assert.equal(existsSync(resumed), false, "nothing that looks finished");
  const result = await embedVideos({ model, clips, out: resumed, frames: 6, batch: 1 });
  assert.equal(result.resumedFrom, 2);
  assert.deepEqual((await readNpy(resumed, "float32")).data, (await readNpy(whole, "float32")).data);
  for (const side of [".ids", ".keyframes"])
    assert.equal(readFileSync(resumed.replace(".npy", side), "utf8"), readFileSync(whole.replace(".npy", side), "utf8"));
});
