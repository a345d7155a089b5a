import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { decodeWeights } from "../src/embed/keras-to-onnx.js";
import { INCEPTION_V3, MOBILENET_V2, mobileNetV2Path, nsfwjsGraph, nsfwjsModelDir, readNsfwjsModel, type NsfwjsModel } from "../src/embed/nsfwjs-models.js";
import { encodeOnnxModel } from "../src/embed/onnx-writer.js";
import { onnxRuntime } from "../src/embed/session.js";
import { assertClose, tempDir } from "./helpers.js";

const dir = tempDir();
process.env.ALFAMIX_CACHE_DIR = join(dir, "cache");

/** nsfwjs's own tfjs layers model, from the package's files, on tfjs's CPU backend: the reference. */
async function tfjsReference(bundled: NsfwjsModel): Promise<tf.LayersModel> {
  const require = createRequire(import.meta.url),
    modelDir = nsfwjsModelDir(bundled);
  const artifacts = require(join(modelDir, "model.min.js")) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const shards = Buffer.concat(artifacts.weightsManifest[0].paths.map((p) => Buffer.from(require(join(modelDir, `${p}.min.js`)) as string, "base64")));
  await tf.setBackend("cpu");
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: artifacts.modelTopology,
      weightSpecs: artifacts.weightsManifest[0].weights,
      weightData: shards.buffer.slice(shards.byteOffset, shards.byteOffset + shards.length),
    }),
  );
}

test("tfjs weights are dequantised as min + scale × q", () => {
  const weights = decodeWeights(
    [
      { name: "a", shape: [3], dtype: "float32", quantization: { min: -1, scale: 0.5, dtype: "uint8" } },
      { name: "b", shape: [1], dtype: "float32" },
    ],
    Uint8Array.from([0, 2, 255, ...new Uint8Array(Float32Array.of(1.25).buffer)]),
  );
  assert.deepEqual(Array.from(weights.get("a")!), [-1, 0, 126.5]);
  assert.deepEqual(Array.from(weights.get("b")!), [1.25]);
});

test("mobilenet-v2 converted to ONNX computes what tfjs computes on the same image (1e-4)", async () => {
  const path = mobileNetV2Path();
  assert.ok(existsSync(path) && path.startsWith(join(dir, "cache")), "converted into the cache");
  const H = MOBILENET_V2.size;
  // A deterministic image with structure at every scale, RGB in [0, 1] (nsfwjs's input range).
  const nhwc = new Float32Array(H * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < H; x++)
      for (let c = 0; c < 3; c++) {
        nhwc[(y * H + x) * 3 + c] = 0.5 + 0.5 * Math.sin(0.05 * (c + 1) * x + 0.031 * y * (3 - c)) * Math.cos(0.002 * x * y);
      }
  const nchw = new Float32Array(nhwc.length);
  for (let y = 0; y < H; y++) for (let x = 0; x < H; x++) for (let c = 0; c < 3; c++) nchw[(c * H + y) * H + x] = nhwc[(y * H + x) * 3 + c];

  const ort = onnxRuntime();
  const session = await ort.InferenceSession.create(readFileSync(path), {});
  const outputs = await session.run({ image: new ort.Tensor("float32", nchw, [1, 3, H, H]) });

  const { layers } = readNsfwjsModel();
  const model = await tfjsReference(MOBILENET_V2);
  assert.equal(model.layers.length, layers.length);
  const features = tf.model({ inputs: model.inputs, outputs: MOBILENET_V2.outputs.map((o) => model.getLayer(o.layer).output as tf.SymbolicTensor) });
  const reference = features.predict(tf.tensor4d(nhwc, [1, H, H, 3])) as tf.Tensor[];
  for (const [i, o] of MOBILENET_V2.outputs.entries()) {
    const expected = await reference[i].mean([1, 2]).data();
    const actual = outputs[o.name].data as Float32Array;
    assert.equal(actual.length, expected.length);
    assertClose(actual, expected, 1e-4, o.name);
  }
  assert.deepEqual(outputs.block13.dims, [1, 576]);
  assert.deepEqual(outputs.final.dims, [1, 1280]);
});

test("inception-v3 converted to ONNX computes what tfjs computes on the same image, at tfjs's 299 px (1e-4)", async () => {
  const H = 299;
  const nhwc = new Float32Array(H * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < H; x++)
      for (let c = 0; c < 3; c++) nhwc[(y * H + x) * 3 + c] = 0.5 + 0.5 * Math.sin(0.04 * (c + 1) * x - 0.027 * y * (3 - c)) * Math.cos(0.003 * x * y);
  const nchw = new Float32Array(nhwc.length);
  for (let y = 0; y < H; y++) for (let x = 0; x < H; x++) for (let c = 0; c < 3; c++) nchw[(c * H + y) * H + x] = nhwc[(y * H + x) * 3 + c];
  const ort = onnxRuntime();
  const session = await ort.InferenceSession.create(encodeOnnxModel(nsfwjsGraph(INCEPTION_V3, H)), {});
  const outputs = await session.run({ image: new ort.Tensor("float32", nchw, [1, 3, H, H]) });

  const model = await tfjsReference(INCEPTION_V3);
  const taps = ["mixed4", "mixed5", "mixed6"];
  const features = tf.model({ inputs: model.inputs, outputs: taps.map((t) => model.getLayer(t).output as tf.SymbolicTensor) });
  const reference = features.predict(tf.tensor4d(nhwc, [1, H, H, 3])) as tf.Tensor[];
  const expected = await Promise.all(reference.map((r) => r.mean([1, 2]).data()));
  taps.forEach((t, i) => assertClose(outputs[t].data as Float32Array, expected[i], 1e-4, t));
  assertClose(
    outputs["mixed4-6"].data as Float32Array,
    expected.flatMap((e) => Array.from(e)),
    1e-4,
    "mixed4-6",
  );
  assert.deepEqual(outputs["mixed4-6"].dims, [1, 2304]);
});
