import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../src/errors.js";
import { readNpy } from "../src/data/npy.js";
import { listImageFolder, type ImageList } from "../src/data/images/folder.js";
import { embedImages, type EmbedOptions } from "../src/embed/embed.js";
import { encodeOnnxModel, int64, type OnnxGraph } from "../src/embed/onnx-writer.js";
import { Rng } from "../src/random.js";
import { assertClose, encodePng, tempDir } from "./helpers.js";

const dir = tempDir();
process.env.ALFAMIX_CACHE_DIR = join(dir, "cache");
const rng = new Rng(7);

// Six 6×6 RGB images in two classes, as PNG (lossless, so the pixels are exactly the ones written).
const pixels: number[][] = [];
const imagesDir = join(dir, "images");
for (let i = 0; i < 6; i++) {
  const values = Array.from({ length: 6 * 6 * 3 }, () => Math.floor(rng.uniform() * 256));
  pixels.push(values);
  const path = join(imagesDir, i < 3 ? "ant" : "bee", `img${i}.png`);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, encodePng(6, 6, 3, values));
}
const images = listImageFolder(imagesDir).train;

const randomWeights = (n: number, scale = 0.5) => Float32Array.from({ length: n }, () => rng.normal(0, scale));
// Conv 3→4 (3×3, pad 1) → ReLU → global average pool → Gemm 4→2.
const convW = randomWeights(4 * 3 * 3 * 3),
  convB = randomWeights(4),
  gemmW = randomWeights(2 * 4),
  gemmB = randomWeights(2);

function modelFile(name: string, graph: OnnxGraph): string {
  const path = join(dir, name);
  writeFileSync(path, encodeOnnxModel(graph));
  return path;
}

const convNodes = (input: string) => [
  { op: "Conv", inputs: [input, "W", "B"], outputs: ["conv"], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
  { op: "Relu", inputs: ["conv"], outputs: ["relu"] },
];
const convInitializers = [
  { name: "W", dims: [4, 3, 3, 3], data: convW },
  { name: "B", dims: [4], data: convB },
];

/** conv → relu → GAP → Gemm, NCHW, fixed 6×6 input; outputs the embedding (rank 2) and the feature map (rank 4). */
const convModel = modelFile("conv.onnx", {
  name: "conv",
  inputs: [{ name: "pixels", shape: ["batch", 3, 6, 6] }],
  outputs: [
    { name: "embedding", shape: ["batch", 2] },
    { name: "maps", shape: ["batch", 4, 6, 6] },
  ],
  nodes: [
    ...convNodes("pixels"),
    { op: "GlobalAveragePool", inputs: ["relu"], outputs: ["pooled"] },
    { op: "Flatten", inputs: ["pooled"], outputs: ["flat"] },
    { op: "Gemm", inputs: ["flat", "GW", "GB"], outputs: ["embedding"], attributes: { transB: 1 } },
    { op: "Identity", inputs: ["relu"], outputs: ["maps"] },
  ],
  initializers: [...convInitializers, { name: "GW", dims: [2, 4], data: gemmW }, { name: "GB", dims: [2], data: gemmB }],
});

/** The same feature map as tokens (N×36×4) from a channels-last input (N×H×W×3) of any size. */
const tokenModel = modelFile("tokens.onnx", {
  name: "tokens",
  inputs: [{ name: "x", shape: ["batch", "height", "width", 3] }],
  outputs: [{ name: "tokens", shape: ["batch", "t", 4] }],
  nodes: [
    { op: "Transpose", inputs: ["x"], outputs: ["nchw"], attributes: { perm: [0, 3, 1, 2] } },
    ...convNodes("nchw"),
    { op: "Reshape", inputs: ["relu", "shape"], outputs: ["flat"] },
    { op: "Transpose", inputs: ["flat"], outputs: ["tokens"], attributes: { perm: [0, 2, 1] } },
  ],
  initializers: [...convInitializers, { name: "shape", dims: [3], data: int64([0, 4, -1]) }],
});

/** The literal computation: normalise, convolve, ReLU; the 4×6×6 map of image i. */
function literalMaps(i: number, mean: number[], std: number[]): Float32Array {
  const x = (c: number, y: number, xx: number) => (y < 0 || y >= 6 || xx < 0 || xx >= 6 ? 0 : (pixels[i][(y * 6 + xx) * 3 + c] / 255 - mean[c]) / std[c]);
  const maps = new Float32Array(4 * 36);
  for (let o = 0; o < 4; o++)
    for (let y = 0; y < 6; y++)
      for (let xx = 0; xx < 6; xx++) {
        let v = convB[o];
        for (let c = 0; c < 3; c++)
          for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) v += convW[((o * 3 + c) * 3 + ky) * 3 + kx] * x(c, y + ky - 1, xx + kx - 1);
        maps[o * 36 + y * 6 + xx] = Math.max(0, v);
      }
  return maps;
}
const mean = (values: Float32Array, o: number) => values.subarray(o * 36, (o + 1) * 36).reduce((a, b) => a + b, 0) / 36;

const embed = (name: string, options: Partial<EmbedOptions>) =>
  embedImages({ model: convModel, images, out: join(dir, `${name}.npy`), batch: 4, threads: 1, ...options });
const rows = (path: string) => readNpy(path, "float32");

test("embeddings from a conv → ReLU → pool → Gemm model equal the literal computation, with ids and labels beside them", async () => {
  const result = await embed("plain", { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] });
  const { shape, data } = await rows(result.files.embeddings);
  assert.deepEqual(shape, [6, 2]);
  const expected = pixels.flatMap((_, i) => {
    const maps = literalMaps(i, [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]);
    const pooled = [0, 1, 2, 3].map((o) => mean(maps, o));
    return [0, 1].map((k) => gemmB[k] + pooled.reduce((s, p, j) => s + p * gemmW[k * 4 + j], 0));
  });
  assertClose(data, expected, 1e-5, "embeddings");
  assert.deepEqual(readFileSync(result.files.ids, "utf8"), "ant/img0\nant/img1\nant/img2\nbee/img3\nbee/img4\nbee/img5\n");
  assert.deepEqual(readFileSync(result.files.labels!, "utf8"), "ant\nant\nant\nbee\nbee\nbee\n");
  assert.ok(!existsSync(`${result.files.embeddings}.partial`) && !existsSync(`${result.files.embeddings}.partial.json`));
});

test("rank-4 and rank-3 outputs: mean pooling, the CLS token, or flattened; channels-last inputs", async () => {
  const imagenet = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  const maps = pixels.map((_, i) => literalMaps(i, imagenet.mean, imagenet.std));
  const pooled = await rows((await embed("maps-mean", { output: "maps" })).files.embeddings);
  assert.deepEqual(pooled.shape, [6, 4]);
  assertClose(
    pooled.data,
    maps.flatMap((m) => [0, 1, 2, 3].map((o) => mean(m, o))),
    1e-5,
    "mean over positions",
  );
  const flat = await rows((await embed("maps-none", { output: "maps", pool: "none" })).files.embeddings);
  assertClose(
    flat.data,
    maps.flatMap((m) => Array.from(m)),
    1e-5,
    "flattened",
  );

  const tokens = { model: tokenModel, size: [6, 6] as [number, number] };
  const tokenMean = await rows((await embed("tokens-mean", tokens)).files.embeddings);
  assertClose(
    tokenMean.data,
    maps.flatMap((m) => [0, 1, 2, 3].map((o) => mean(m, o))),
    1e-5,
    "mean over tokens",
  );
  const cls = await rows((await embed("tokens-cls", { ...tokens, pool: "cls" })).files.embeddings);
  assertClose(
    cls.data,
    maps.flatMap((m) => [0, 1, 2, 3].map((o) => m[o * 36])),
    1e-5,
    "first token",
  );
  await assert.rejects(embed("maps-cls", { output: "maps", pool: "cls" }), /output "maps" of shape \[4, 4, 6, 6\]: --pool cls needs a rank-3 output/);
});

test("an interrupted run resumes with the same arguments and writes the same output; no output appears until it is done", async () => {
  const whole = await rows((await embed("whole", {})).files.embeddings);
  const out = join(dir, "resumed.npy");
  await assert.rejects(
    embed("resumed", {
      batch: 2,
      onProgress: (p) => {
        if (p.done >= 4) throw new Error("interrupted");
      },
    }),
    /interrupted/,
  );
  assert.ok(!existsSync(out) && existsSync(`${out}.partial`), "only the partial file exists");
  assert.equal(JSON.parse(readFileSync(`${out}.partial.json`, "utf8")).next, 4);
  let firstProgress = -1;
  const result = await embed("resumed", {
    batch: 2,
    onProgress: (p) => {
      if (firstProgress < 0) firstProgress = p.done;
    },
  });
  assert.deepEqual([result.resumedFrom, firstProgress], [4, 6]);
  assert.deepEqual(await rows(out), whole);
  // Different arguments start afresh.
  await assert.rejects(
    embed("changed", {
      batch: 2,
      onProgress: () => {
        throw new Error("interrupted");
      },
    }),
    /interrupted/,
  );
  assert.equal((await embed("changed", { batch: 2, mean: [0, 0, 0] })).resumedFrom, 0);
});

test("a corrupt image stops the run naming the file; --skip-bad leaves it out and lists it", async () => {
  const folder = join(dir, "with-bad");
  mkdirSync(join(folder, "ant"), { recursive: true });
  writeFileSync(join(folder, "ant", "good.png"), encodePng(6, 6, 3, pixels[0]));
  writeFileSync(join(folder, "ant", "zbroken.png"), encodePng(6, 6, 3, pixels[1]).subarray(0, 50));
  writeFileSync(join(folder, "ant", "zgood.png"), encodePng(6, 6, 3, pixels[2]));
  const list = listImageFolder(folder).train;
  await assert.rejects(
    embed("bad", { images: list }),
    (e: Error) => e instanceof UserError && /zbroken\.png: not a readable PNG image .*--skip-bad/.test(e.message),
  );
  assert.ok(!existsSync(join(dir, "bad.npy")));
  const skipped: string[] = [];
  const result = await embed("skipped", { images: list, skipBad: true, onSkip: (file) => skipped.push(file) });
  assert.deepEqual([result.rows, skipped.map((f) => f.split("/").pop())], [2, ["zbroken.png"]]);
  assert.equal(readFileSync(result.files.ids, "utf8"), "ant/good\nant/zgood\n");
  assert.deepEqual((await rows(result.files.embeddings)).shape, [2, 2]);
});

test("models that cannot take the images give one clear line", async () => {
  const fail = async (options: Partial<EmbedOptions>, pattern: RegExp) =>
    assert.rejects(embed("error", options), (e: Error) => e instanceof UserError && pattern.test(e.message) && !e.message.includes("\n"));
  await fail({ model: join(dir, "absent.onnx") }, /absent\.onnx: no such file/);
  writeFileSync(join(dir, "not-onnx.onnx"), "this is not a model");
  await fail({ model: join(dir, "not-onnx.onnx") }, /not-onnx\.onnx: not a usable ONNX model \(onnxruntime: /);
  await fail({ size: [8, 8] }, /takes 3×6×6 images, but --size 8x8 gives 3×8×8/);
  const textModel = modelFile("text.onnx", {
    name: "text",
    inputs: [{ name: "tokens", shape: ["batch", 16] }],
    outputs: [{ name: "y", shape: ["batch", 16] }],
    nodes: [{ op: "Relu", inputs: ["tokens"], outputs: ["y"] }],
    initializers: [],
  });
  await fail(
    { model: textModel },
    /the model's first input cannot take images: expected a float32 image batch .* found a float32 input "tokens" of shape \[batch, 16\]/,
  );
  await fail({ model: tokenModel }, /input size is not fixed; pass --size/);
  await fail({ output: "nope" }, /no output named "nope"; the model's outputs are "embedding", "maps"/);
  await fail({ mean: [0.1, 0.2] }, /--mean gives 2 values for a model with 3 input channels/);
  await fail({ out: join(dir, "emb.csv") }, /--out must name a \.npy file/);
});

test("an empty image list is refused", async () => {
  const empty: ImageList = { source: "nothing", files: [], ids: [] };
  await assert.rejects(embed("empty", { images: empty }), /nothing: no images to embed/);
});
