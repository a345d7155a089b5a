import { UserError } from "../errors.js";
import { gemmBackend } from "../linalg/gemm.js";
import { benchGemm } from "../../bench/gemm.js";
import { benchKmeans } from "../../bench/kmeans.js";
import { benchMlp } from "../../bench/mlp.js";
import { OptionReader, type CommandSpec, type ParsedArgs } from "./args.js";

export const benchCommand: CommandSpec = {
  name: "bench",
  usage: "alfamix bench gemm|kmeans|mlp [--json] [options]",
  summary: "Print speed figures (benchmarks are not tests: nothing is asserted). Compare with PyTorch and scikit-learn as ratios measured in the same run.",
  options: {
    json: { type: "boolean", help: "one JSON object per line" },
    ninit: { type: "string", placeholder: "N", help: "kmeans: restarts", default: "1" },
    epochs: { type: "string", placeholder: "N", help: "mlp: epochs to time (the first is warm-up)", default: "5" },
    "save-data": { type: "string", placeholder: "DIR", help: "kmeans: also write the points as .npy (for bench/sklearn_kmeans.py)" },
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
      return benchKmeans(json, options.int("ninit", 1, 1), options.string("save-data"));
    case "mlp":
      return benchMlp(json, options.int("epochs", 5, 2));
    default:
      throw new UserError(`bench: unknown benchmark ${JSON.stringify(which)}; expected gemm, kmeans or mlp`);
  }
}
