import { UserError } from "../errors.js";
import { VERSION } from "../version.js";
import { gemmBackend } from "../linalg/gemm.js";
import { keepFreedMemory } from "../linalg/native-memory.js";
import { helpText, parseCommand, type CommandSpec, type ParsedArgs } from "./args.js";
import { benchCommand, runBench } from "./bench.js";
import { datasetsCommand, runDatasets } from "./datasets.js";
import { demoCommand, runDemo } from "./demo.js";
import { embedCommand, runEmbed } from "./embed.js";
import { inspectCommand, runInspect } from "./inspect.js";
import { queryCommand, runQuery } from "./query.js";
import { reportCommand, runReport } from "./report.js";
import { runSimulate, simulateCommand } from "./simulate.js";
import { projectCommand, runProject, runServe, runToken, serveCommand, tokenCommand } from "./serve.js";
import { runWorkerCommand, workerCommand } from "./worker.js";

interface Command {
  spec: CommandSpec;
  run(args: ParsedArgs): void | Promise<void>;
  /** Does matrix work: choose the GEMM backend first, so a missing OpenBLAS is reported up front. */
  computes?: boolean;
}

const commands: Command[] = [
  { spec: demoCommand, run: runDemo, computes: true },
  { spec: datasetsCommand, run: runDatasets },
  { spec: inspectCommand, run: runInspect },
  { spec: embedCommand, run: runEmbed },
  { spec: queryCommand, run: runQuery, computes: true },
  { spec: simulateCommand, run: runSimulate, computes: true },
  { spec: reportCommand, run: runReport },
  { spec: serveCommand, run: runServe, computes: true },
  { spec: projectCommand, run: runProject },
  { spec: tokenCommand, run: runToken },
  { spec: workerCommand, run: runWorkerCommand, computes: true },
  { spec: benchCommand, run: runBench, computes: true },
];

/** Every command's spec, in the order `alfamix --help` lists them (for the generated CLI reference). */
export const commandSpecs: readonly CommandSpec[] = commands.map((c) => c.spec);

const overview = `alfamix: active learning by feature mixing (ALFA-Mix, CVPR 2022) and the standard baselines

usage: alfamix <command> [options]     (alfamix <command> --help for its options)

commands:
${commands.map((c) => `  ${c.spec.name.padEnd(10)}${c.spec.summary.split(". ")[0].replace(/\.$/, "")}`).join("\n")}`;

/** Run the command line; returns the exit status (0 ok, 2 a user error, 1 a bug). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const helpFor = name === "help" && rest.length === 1 ? commands.find((c) => c.spec.name === rest[0]) : undefined;
  if (helpFor) {
    console.log(helpText(helpFor.spec));
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h" || (name === "help" && rest.length === 0)) {
    console.log(overview);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version") {
    console.log(`alfamix ${VERSION}`);
    return 0;
  }
  const command = commands.find((c) => c.spec.name === name);
  try {
    if (!command)
      throw new UserError(`unknown command ${JSON.stringify(name)}; expected one of ${commands.map((c) => c.spec.name).join(", ")} (see alfamix --help)`);
    const args = parseCommand(command.spec, rest);
    if (args.help) {
      console.log(helpText(command.spec));
      return 0;
    }
    keepFreedMemory();
    if (command.computes) gemmBackend();
    await command.run(args);
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      console.error(`alfamix: ${e.message}`);
      return e.exitCode;
    }
    throw e;
  }
}
