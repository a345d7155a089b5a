import { UserError } from "../errors.js";
import { gemmBackend } from "../linalg/gemm.js";
import { benchGemm } from "../../bench/gemm.js";
import { benchCnn } from "../../bench/cnn.js";
import { benchKmeans } from "../../bench/kmeans.js";
import { benchMlp } from "../../bench/mlp.js";
import { benchQuery } from "../../bench/query.js";
import { benchStrategies, PAPER_STRATEGIES } from "../../bench/strategies.js";
import { benchTeam } from "../../bench/team.js";
import { benchUmap } from "../../bench/umap.js";
import { benchVideo } from "../../bench/video.js";
import { readStrategyOptions, strategyOptionSpecs, strategySpec } from "./strategy-options.js";
import { OptionReader, type CommandSpec, type ParsedArgs } from "./args.js";
import { CONV_KINDS } from "../models/layers/architectures.js";
import { splitStrategyList } from "../strategies/variants.js";

export const benchCommand: CommandSpec = {
  name: "bench",
  usage: "alfamix bench gemm|kmeans|mlp|cnn|query|strategies|team|video|umap [--json] [options]",
  summary: "Print speed figures (benchmarks are not tests: nothing is asserted). Compare with PyTorch and scikit-learn as ratios measured in the same run.",
  options: {
    json: { type: "boolean", help: "one JSON object per line" },
    ninit: { type: "string", placeholder: "N", help: "kmeans: restarts", default: "1" },
    epochs: { type: "string", placeholder: "N", help: "mlp, cnn: epochs to time (the first is warm-up)", default: "5 (mlp), 3 (cnn)" },
    model: { type: "string", placeholder: "cnn|resnet18", help: "cnn: the conv net", default: "cnn" },
    "resnet-stem": { type: "string", placeholder: "cifar|imagenet", help: "cnn --model resnet18: the stem", default: "cifar" },
    forward: { type: "string", placeholder: "N", help: "cnn: images to time the forward pass over (scaled to 50,000)", default: "50000" },
    inputs: { type: "string", placeholder: "DIR", help: "query: pool.npy, labeled.npy, labels.npy, W.npy, b.npy" },
    strategy: { type: "string", placeholder: "NAME", help: "query: the strategy", default: "alfamix" },
    budget: { type: "string", placeholder: "N", help: "query: items to pick", default: "1000" },
    seed: { type: "string", placeholder: "N", help: "query, strategies: random seed", default: "0 (query), 1 (strategies)" },
    strategies: { type: "string", placeholder: "a,b,c", help: "strategies: the strategies to time", default: "the paper's eleven" },
    labeled: { type: "string", placeholder: "N", help: "strategies: labelled items (random) the model is trained on", default: "500" },
    repeats: { type: "string", placeholder: "N", help: "strategies: queries per strategy (the median is reported)", default: "3" },
    ...strategyOptionSpecs,
    "save-data": { type: "string", placeholder: "DIR", help: "kmeans: also write the points as .npy (for bench/sklearn_kmeans.py and bench/faiss_kmeans.py)" },
    from: { type: "string", placeholder: "FILE.npy", help: "kmeans: time on these points instead (an N×D float32 .npy)" },
    k: { type: "string", placeholder: "K", help: "kmeans --from: the number of centres", default: "100" },
    "pool-size": { type: "string", placeholder: "N", help: "team: items in a synthetic pool", default: "100000" },
    dim: { type: "string", placeholder: "D", help: "team: features of the synthetic pool", default: "256" },
    classes: { type: "string", placeholder: "K", help: "team: classes of the synthetic pool", default: "10" },
    dataset: { type: "string", placeholder: "NAME", help: "team: a built-in dataset as the pool instead (its test set scores the labels against simulate)" },
    annotators: { type: "string", placeholder: "N", help: "team: annotators labelling at once", default: "8" },
    labels: { type: "string", placeholder: "N", help: "team: labels to make", default: "1000" },
    batch: { type: "string", placeholder: "N", help: "team: the project's batch", default: "100" },
    think: { type: "string", placeholder: "MS", help: "team: pause per item (0: full speed)", default: "0" },
    clips: { type: "string", placeholder: "DIR", help: "video: a folder of clips", default: "32 clips of ffmpeg's test pattern, 4 s at 25 fps" },
    onnx: { type: "string", placeholder: "FILE.onnx", help: "video: an image model", default: "torchvision's ResNet-18 (random weights), exported at --size" },
    size: { type: "string", placeholder: "N", help: "video: frame size fed to the model", default: "112" },
    frames: { type: "string", placeholder: "N", help: "video: frames per clip", default: "8" },
    pairs: { type: "string", placeholder: "N", help: "video, umap: alternating pairs of runs", default: "3" },
    points: { type: "string", placeholder: "N", help: "umap: MNIST images to project", default: "3000" },
    "label-noise": { type: "string", placeholder: "P", help: "team: annotators answer wrongly with probability P (as simulate --label-noise)", default: "0" },
  },
  positionals: { min: 1, max: 1 },
};

export async function runBench(args: ParsedArgs): Promise<void> {
  const options = new OptionReader("bench", args.values);
  const json = options.flag("json");
  const which = args.positionals[0];
  if (!json) console.error(`GEMM backend: ${gemmBackend().name}`);
  switch (which) {
    case "gemm":
      return benchGemm(json);
    case "kmeans":
      return benchKmeans(
        json,
        options.int("ninit", 1, 1),
        options.string("save-data"),
        options.string("from") ? { file: options.string("from")!, k: options.int("k", 100, 1) } : undefined,
      );
    case "query": {
      const inputs = options.string("inputs");
      if (!inputs) throw new UserError("bench query: --inputs DIR is required (a folder written by reference/pytorch/gen_query_inputs.py)");
      return benchQuery(json, inputs, strategySpec(options), options.int("budget", 1000, 0), options.int("seed", 0));
    }
    case "strategies":
      return benchStrategies(
        json,
        {
          strategies: splitStrategyList(options.string("strategies") ?? PAPER_STRATEGIES.join(",")),
          strategyOptions: readStrategyOptions(options),
          labeled: options.int("labeled", 500, 1),
          repeats: options.int("repeats", 3, 1, 50),
          seed: options.int("seed", 1),
        },
        json ? undefined : (line) => console.error(line),
      );
    case "mlp":
      return benchMlp(json, options.int("epochs", 5, 2));
    case "cnn":
      return benchCnn(
        json,
        options.choice("model", CONV_KINDS, "cnn"),
        options.int("epochs", 3, 2),
        options.choice("resnet-stem", ["cifar", "imagenet"] as const, "cifar"),
        options.int("forward", 50000, 256),
        json ? undefined : (line) => console.error(line),
      );
    case "team":
      return benchTeam(json, {
        poolSize: options.int("pool-size", 100000, 100),
        dim: options.int("dim", 256, 1),
        classes: options.int("classes", 10, 2),
        dataset: options.string("dataset"),
        annotators: options.int("annotators", 8, 1),
        labels: options.int("labels", 1000, 1),
        batch: options.int("batch", 100, 1),
        strategy: options.string("strategy", "alfamix"),
        thinkMs: options.int("think", 0, 0),
        seed: options.int("seed", 0),
        labelNoise: options.number("label-noise", 0, 0, 0.999),
      });
    case "video":
      return benchVideo(
        json,
        {
          clips: options.string("clips"),
          model: options.string("onnx"),
          size: options.int("size", 112, 16, 1024),
          frames: options.int("frames", 8, 1, 256),
          pairs: options.int("pairs", 3, 1, 20),
        },
        json ? undefined : (line) => console.error(line),
      );
    case "umap":
      return benchUmap(json, options.int("points", 3000, 20, 60000), options.int("pairs", 3, 1, 20), json ? undefined : (line) => console.error(line));
    default:
      throw new UserError(`bench: unknown benchmark ${JSON.stringify(which)}; expected gemm, kmeans, mlp, cnn, query, strategies, team, video or umap`);
  }
}
