import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDir } from "../src/data/cache.js";
import { listClipFolder } from "../src/embed/video/clips.js";
import { embedVideos } from "../src/embed/video/embed-videos.js";
import { UserError } from "../src/errors.js";
import { emit } from "./timing.js";

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("../../bench/torch_embed.py", import.meta.url));

export interface VideoBenchOptions {
  /** A folder of clips (default: 32 clips of ffmpeg's test pattern, 4 s at 25 fps, 320×240, H.264). */
  clips?: string;
  /** An ONNX image model (default: torchvision's ResNet-18, exported by bench/torch_embed.py). */
  model?: string;
  size: number;
  frames: number;
  /** Alternating pairs of runs (alfamix, then Python). */
  pairs: number;
}

/**
 * Clips per second of `embed --video` against the same pipeline in Python, in one run: the same
 * ffmpeg frames (the same filter: bench/torch_embed.py --video), the same ONNX graph run as a
 * PyTorch module, the mean of each clip's frames. Runs alternate, and the ratio is the median over
 * pairs. Neither side uses a frame cache: alfamix's points at a fresh folder each run.
 */
export async function benchVideo(json: boolean, options: VideoBenchOptions, onProgress?: (line: string) => void): Promise<void> {
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ["-c", "import torch, onnx"]).status !== 0)
    throw new UserError(`bench video compares with PyTorch: it needs ${PYTHON} with torch and onnx (apt-get install python3-torch python3-onnx)`);
  const work = cacheDir("bench-video") ?? join(process.cwd(), ".bench-video");
  const clips = options.clips ?? testClips(join(work, "clips"));
  const model = options.model ?? join(work, `resnet18-${options.size}.onnx`);
  if (!existsSync(model)) execFileSync(PYTHON, [SCRIPT, "--export-resnet18", model, "--size", String(options.size)], { stdio: "ignore" });
  const count = listClipFolder(clips).train.files.length;
  const ours: number[] = [],
    theirs: number[] = [];
  for (let pair = 0; pair < options.pairs; pair++) {
    const fresh = join(work, `run-${process.pid}`);
    rmSync(fresh, { recursive: true, force: true });
    const cache = process.env.ALFAMIX_CACHE_DIR;
    // A fresh cache: every clip is decoded, as in Python. The model file is not in it.
    process.env.ALFAMIX_CACHE_DIR = join(fresh, "cache");
    const started = performance.now();
    try {
      await embedVideos({ model, clips: listClipFolder(clips).train, out: join(fresh, "emb.npy"), frames: options.frames });
    } finally {
      if (cache === undefined) delete process.env.ALFAMIX_CACHE_DIR;
      else process.env.ALFAMIX_CACHE_DIR = cache;
      rmSync(fresh, { recursive: true, force: true });
    }
    ours.push(count / ((performance.now() - started) / 1000));
    const python = spawnSync(
      PYTHON,
      [SCRIPT, model, clips, "--video", "--frames", String(options.frames), "--size", String(options.size), "--threads", "2", "--workers", "2"],
      { encoding: "utf8" },
    );
    const m = /(\d+) clips in ([\d.]+) s/.exec(python.stdout);
    if (python.status !== 0 || !m) throw new Error(`bench/torch_embed.py failed: ${python.stderr.trim().split("\n").pop()}`);
    // Python's figure counts from its first batch request (its model is loaded): so does ours, nearly (the model loads in well under a second).
    theirs.push(Number(m[1]) / Number(m[2]));
    onProgress?.(`pair ${pair + 1}/${options.pairs}: alfamix ${ours[pair].toFixed(2)} clips/s, Python ${theirs[pair].toFixed(2)} clips/s`);
  }
  const ratios = ours.map((v, i) => v / theirs[i]).sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)];
  const record = {
    clips: count,
    frames: options.frames,
    size: options.size,
    model,
    alfamixClipsPerSecond: ours,
    pythonClipsPerSecond: theirs,
    ratio: Number(median.toFixed(3)),
  };
  emit(
    json,
    record,
    `embed --video, ${count} clips × ${options.frames} frames at ${options.size} px: alfamix ${ours.map((v) => v.toFixed(2)).join(", ")} clips/s; Python (ffmpeg + PyTorch) ${theirs.map((v) => v.toFixed(2)).join(", ")} clips/s; alfamix / Python ${median.toFixed(2)}× (median of ${options.pairs} alternating pairs)`,
  );
}

/** 32 clips of ffmpeg's test pattern, made once. */
function testClips(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 32; i++) {
    const file = join(dir, `clip-${String(i).padStart(2, "0")}.mp4`);
    if (existsSync(file)) continue;
    const source = i % 2 ? `testsrc2=size=320x240:rate=25` : `mandelbrot=size=320x240:rate=25:start_scale=${1 + i / 10}`;
    execFileSync("ffmpeg", [
      "-v",
      "error",
      "-nostdin",
      "-y",
      "-f",
      "lavfi",
      "-i",
      source,
      "-t",
      "4",
      "-c:v",
      "libx264",
      "-pix_fmt",
      "yuv420p",
      `${file}.part.mp4`,
    ]);
    execFileSync("mv", [`${file}.part.mp4`, file]);
  }
  return dir;
}
