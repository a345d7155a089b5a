import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeOnnxModel } from "../src/embed/onnx-writer.js";

/** Run ffmpeg quietly with these arguments (Debian's ffmpeg: .ci/run installs it). */
export const ffmpeg = (...args: string[]) => execFileSync("ffmpeg", ["-v", "error", "-nostdin", "-y", ...args]);

/** A clip of ffmpeg's test pattern (a frame counter and moving parts: every frame differs). */
export function testClip(path: string, options: { size?: string; rate?: number; seconds?: number; codec?: string[]; source?: string } = {}): string {
  mkdirSync(join(path, ".."), { recursive: true });
  const { size = "160x120", rate = 10, seconds = 2, codec = ["-c:v", "libx264", "-pix_fmt", "yuv420p"], source = "testsrc2" } = options;
  ffmpeg("-f", "lavfi", "-i", `${source}=size=${size}:rate=${rate}`, "-t", String(seconds), ...codec, path);
  return path;
}

/** An image model over 8×8 frames: two linear mixes of the channel means (enough to tell frames apart). */
export function frameMeanModel(dir: string): string {
  const path = join(dir, "frame-model.onnx");
  if (existsSync(path)) return path;
  writeFileSync(
    path,
    encodeOnnxModel({
      name: "frame-mean",
      inputs: [{ name: "pixels", shape: ["batch", 3, 8, 8] }],
      outputs: [{ name: "embedding", shape: ["batch", 2] }],
      nodes: [
        { op: "GlobalAveragePool", inputs: ["pixels"], outputs: ["pooled"] },
        { op: "Flatten", inputs: ["pooled"], outputs: ["flat"], attributes: { axis: 1 } },
        { op: "Gemm", inputs: ["flat", "W"], outputs: ["embedding"], attributes: { transB: 1 } },
      ],
      initializers: [{ name: "W", dims: [2, 3], data: Float32Array.from([1, 0, 0, 0, 1, -1]) }],
    }),
  );
  return path;
}
