import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { cacheDir } from "../data/cache.js";
import { writeAtomically } from "../data/files.js";
import { UserError } from "../errors.js";
import { decodeWeights, kerasToOnnx, type KerasLayer, type PooledOutput, type WeightSpec } from "./keras-to-onnx.js";
import { encodeOnnxModel, type OnnxGraph } from "./onnx-writer.js";

/** A backbone bundled with nsfwjs@4.4.0 (MIT): its folder there, input size, and the outputs we expose. */
export interface NsfwjsModel {
  name: string;
  /** Its folder under nsfwjs/dist/models. */
  folder: string;
  version: string;
  /** Input height and width of the converted graph. */
  size: number;
  /** The first is the default. */
  outputs: PooledOutput[];
}

/**
 * MobileNetV2 (width 1.0, 224×224). nsfwjs trained its weights (from ImageNet initialisation) to
 * sort photos into five classes (drawing, hentai, neutral, porn, sexy), so its features are
 * general photographic ones, not ImageNet's.
 */
export const MOBILENET_V2: NsfwjsModel = {
  name: "mobilenet-v2",
  folder: "mobilenet_v2",
  version: "nsfwjs-4.4.0",
  size: 224,
  /** The first output (the default): global average of block 13's expanded activations, 576-d. */
  outputs: [
    { name: "block13", layer: "block_13_expand_relu" },
    { name: "final", layer: "out_relu" },
  ],
};

/**
 * InceptionV3 (22.4M parameters), trained by nsfwjs as MobileNetV2 was, and shipped at 299 px. We
 * run it at 224 px and cut the graph after mixed6, which keeps its best taps for a linear probe
 * and costs far less than the whole network. The default output is mixed4–mixed6 averaged and
 * concatenated (2,304-d).
 */
export const INCEPTION_V3: NsfwjsModel = {
  name: "inception-v3",
  folder: "inception_v3",
  version: "nsfwjs-4.4.0",
  size: 224,
  outputs: [
    { name: "mixed4-6", layer: "mixed6", concat: ["mixed4", "mixed5", "mixed6"] },
    { name: "mixed4", layer: "mixed4" },
    { name: "mixed5", layer: "mixed5" },
    { name: "mixed6", layer: "mixed6" },
  ],
};

/** Bump when the conversion changes, so cached models are rebuilt. */
const CONVERTER_VERSION = 2;

interface TfjsArtifacts {
  modelTopology: { model_config: { config: { layers: KerasLayer[] } } };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

/** The folder of one of nsfwjs's models (model.min.js and its weight shards). */
export function nsfwjsModelDir(model: NsfwjsModel = MOBILENET_V2): string {
  let packageDir: string;
  try {
    // The package's exports hide package.json: find its folder from the main entry.
    packageDir = dirname(createRequire(import.meta.url).resolve("nsfwjs"));
  } catch {
    throw new UserError(`${model.name} needs the npm package nsfwjs, which ships its weights: reinstall alfamix with npm`);
  }
  const isRoot = (dir: string) =>
    existsSync(join(dir, "package.json")) && (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string }).name === "nsfwjs";
  while (!isRoot(packageDir) && dirname(packageDir) !== packageDir) packageDir = dirname(packageDir);
  return join(packageDir, "dist", "models", model.folder);
}

/** One of nsfwjs's models: topology and weights, read from the package's files (its JS API is not used). */
export function readNsfwjsModel(model: NsfwjsModel = MOBILENET_V2): { layers: KerasLayer[]; weights: Map<string, Float32Array> } {
  const require = createRequire(import.meta.url);
  const dir = nsfwjsModelDir(model);
  // Each file is a UMD bundle exporting the tfjs artifacts (each weight shard as a base64 string).
  const artifacts = require(join(dir, "model.min.js")) as TfjsArtifacts;
  const manifest = artifacts.weightsManifest[0];
  const shards = manifest.paths.map((p) => Buffer.from(require(join(dir, `${p}.min.js`)) as string, "base64"));
  return { layers: artifacts.modelTopology.model_config.config.layers, weights: decodeWeights(manifest.weights, Buffer.concat(shards)) };
}

/** The converted graph: input "image" (N×3×size×size, RGB in [0, 1], as nsfwjs feeds it), outputs as the model lists them. */
export function nsfwjsGraph(model: NsfwjsModel, size = model.size): OnnxGraph {
  const { layers, weights } = readNsfwjsModel(model);
  return {
    ...kerasToOnnx(layers, weights, { name: model.name, inputName: "image", height: size, width: size, outputs: model.outputs }),
    metadata: { source: `nsfwjs@4.4.0 ${model.name} (MIT), converted by alfamix`, mean: "0,0,0", std: "1,1,1" },
  };
}

/** Path of the ONNX file for a bundled model: converted on first use, then cached. */
export function nsfwjsModelPath(model: NsfwjsModel): string {
  const dir = cacheDir("models") ?? tmpdir();
  const path = join(dir, `${model.name}-${model.version}-c${CONVERTER_VERSION}.onnx`);
  if (!existsSync(path)) writeAtomically(path, encodeOnnxModel(nsfwjsGraph(model)));
  return path;
}

export const mobileNetV2Path = () => nsfwjsModelPath(MOBILENET_V2);
