import { builtInDatasets } from "../data/registry.js";
import type { CommandSpec } from "./args.js";
import { table } from "./format.js";

export const datasetsCommand: CommandSpec = {
  name: "datasets",
  usage: "alfamix datasets",
  summary: "List the built-in datasets. Any directory of IDX files, .csv/.csv.gz file or .npy file (with --labels) works too.",
  options: {},
};

export function runDatasets(): void {
  console.log(table(["name", "description"], builtInDatasets.map((d) => [d.name, d.description])));
  console.log("\nAlso accepted wherever a dataset is expected: a directory of IDX files (MNIST layout), a .csv or\n.csv.gz file (label column: --label-column NAME|INDEX, default label/class/y, else the last), or a\n.npy feature file with --labels FILE.");
}
