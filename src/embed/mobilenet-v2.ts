import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { cacheDir } from "../data/cache.js";
import { writeAtomically } from "../data/files.js";
import { UserError } from "../errors.js";
import { decodeWeights, kerasToOnnx, type KerasLayer, type WeightSpec } from "./keras-to-onnx.js";
import { encodeOnnxModel, type OnnxGraph } from "./onnx-writer.js";

/**
 * The bundled backbone: MobileNetV2 (width 1.0, 224×224) from the npm package nsfwjs@4.4.0 (MIT).
 * Its weights were trained (from ImageNet initialisation) to sort photos into five classes
 * (drawing, hentai, neutral, porn, sexy), so its features are general photographic ones, not
 * ImageNet's. It is the only pretrained vision network that installs from npm or Debian.
 */
export const MOBILENET_V2 = {
  name: "mobilenet-v2",
  version: "nsfwjs-4.4.0",
  size: 224,
  /** The first output (the default): global average of block 13's expanded activations, 576-d. */
  outputs: [
    { name: "block13", layer: "block_13_expand_relu" },
    { name: "final", layer: "out_relu" },
  ],
};

/** Bump when the conversion changes, so cached models are rebuilt. */
const CONVERTER_VERSION = 1;

interface TfjsArtifacts {
  modelTopology: { model_config: { config: { layers: KerasLayer[] } } };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

/** The folder of nsfwjs's MobileNetV2 files (model.min.js and its weight shard). */
export function nsfwjsModelDir(): string {
  let packageDir: string;
  try {
    // The package's exports hide package.json: find its folder from the main entry.
    packageDir = dirname(createRequire(import.meta.url).resolve("nsfwjs"));
  } catch {
    throw new UserError("mobilenet-v2 needs the npm package nsfwjs, which ships its weights: reinstall alfamix with npm");
  }
  const isRoot = (dir: string) =>
    existsSync(join(dir, "package.json")) && (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string }).name === "nsfwjs";
  while (!isRoot(packageDir) && dirname(packageDir) !== packageDir) packageDir = dirname(packageDir);
  return join(packageDir, "dist", "models", "mobilenet_v2");
}

/** nsfwjs's MobileNetV2 topology and weights, read from the package's files (its JS API is not used). */
export function readNsfwjsMobileNetV2(): { layers: KerasLayer[]; weights: Map<string, Float32Array> } {
  const require = createRequire(import.meta.url);
  const dir = nsfwjsModelDir();
  // Each file is a UMD bundle exporting the tfjs artifacts (the shard as a base64 string).
  const model = require(join(dir, "model.min.js")) as TfjsArtifacts;
  const manifest = model.weightsManifest[0];
  const shards = manifest.paths.map((p) => Buffer.from(require(join(dir, `${p}.min.js`)) as string, "base64"));
  return { layers: model.modelTopology.model_config.config.layers, weights: decodeWeights(manifest.weights, Buffer.concat(shards)) };
}

/** The converted graph: input "image" (N×3×224×224, RGB in [0, 1], as nsfwjs feeds it), outputs as MOBILENET_V2. */
export function mobileNetV2Graph(): OnnxGraph {
  const { layers, weights } = readNsfwjsMobileNetV2();
  return {
    ...kerasToOnnx(layers, weights, {
      name: "mobilenet-v2",
      inputName: "image",
      height: MOBILENET_V2.size,
      width: MOBILENET_V2.size,
      outputs: MOBILENET_V2.outputs,
    }),
    metadata: { source: "nsfwjs@4.4.0 MobileNetV2 (MIT), converted by alfamix", mean: "0,0,0", std: "1,1,1" },
  };
}

/** Path of the ONNX file for `mobilenet-v2`: converted on first use, then cached. */
export function mobileNetV2Path(): string {
  const dir = cacheDir("models") ?? tmpdir();
  const path = join(dir, `mobilenet-v2-${MOBILENET_V2.version}-c${CONVERTER_VERSION}.onnx`);
  if (!existsSync(path)) {
    writeAtomically(path, encodeOnnxModel(mobileNetV2Graph()));
  }
  return path;
}
