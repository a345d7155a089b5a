import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gemmBackend } from "../linalg/gemm.js";
import { OptionReader, type CommandSpec, type ParsedArgs } from "./args.js";
import { runReportFor } from "./report.js";
import { readSimulationConfig, runSimulationCommand } from "./simulate.js";

export const demoCommand: CommandSpec = {
  name: "demo",
  usage: "alfamix demo [--out DIR] [--rounds N] [--quiet]",
  summary: "Compare random, entropy and ALFA-Mix on MNIST (MLP 784-256-10, 100 initial labels + 100 per round, 3 seeds) and write the report. Needs no flags.",
  options: {
    out: { type: "string", placeholder: "DIR", help: "where results and report go", default: "a new temporary directory" },
    rounds: { type: "string", placeholder: "N", help: "query rounds", default: "5" },
    quiet: { type: "boolean", help: "no progress line" },
  },
};

export async function runDemo(args: ParsedArgs): Promise<void> {
  const options = new OptionReader("demo", args.values);
  const out = options.string("out") ?? mkdtempSync(join(tmpdir(), "alfamix-demo-"));
  const config = readSimulationConfig(options, {
    dataset: "mnist",
    strategies: ["random", "entropy", "alfamix"],
    seeds: [1, 10, 100],
    rounds: options.int("rounds", 5, 1),
  });
  const quiet = options.flag("quiet");
  if (!quiet) {
    console.error(
      `alfamix demo: ${config.strategies.join(", ")} on MNIST, ${config.init} initial labels + ${config.rounds} rounds × ${config.query}, seeds ${config.seeds.join(", ")}; GEMM backend ${gemmBackend().name}`,
    );
  }
  await runSimulationCommand(config, out, quiet);
  console.log();
  const report = runReportFor([out], out, 1);
  console.log(
    `\nOpen ${report} in a browser. Next: alfamix simulate --dataset your.csv --strategies random,entropy,alfamix, or pick items to label with alfamix query.`,
  );
}
