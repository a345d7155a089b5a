import { classCounts, type Dataset } from "../data/dataset.js";
import { loadDataset } from "../data/registry.js";
import { OptionReader, type CommandSpec, type ParsedArgs } from "./args.js";
import { table } from "./format.js";

export const inspectCommand: CommandSpec = {
  name: "inspect",
  usage: "alfamix inspect <dataset> [--label-column NAME|INDEX] [--labels FILE]",
  summary: "Print a dataset's rows, features, classes and class counts.",
  options: {
    "label-column": { type: "string", placeholder: "NAME|INDEX", help: "CSV: the label column (0-based index or header name)", default: "label/class/y, else the last" },
    labels: { type: "string", placeholder: "FILE", help: ".npy datasets: their labels (.npy, or one label per line)" },
  },
  positionals: { min: 1, max: 1 },
};

export async function runInspect(args: ParsedArgs): Promise<void> {
  const options = new OptionReader("inspect", args.values);
  const parts = await loadDataset(args.positionals[0], {
    labelColumn: options.string("label-column"),
    labels: options.string("labels"),
    requireLabels: false,
  });
  printDataset(parts.train, parts.test ? "train" : undefined);
  if (parts.test) {
    console.log();
    printDataset(parts.test, "test");
  }
}

function printDataset(data: Dataset, part: string | undefined): void {
  const { x, classNames } = data;
  const title = part ? `${data.name.replace(/ \((train|test)\)$/, "")} (${part})` : data.name;
  console.log(`${title}: ${x.rows} rows, ${x.cols} features${data.imageShape ? ` (${data.imageShape.join("×")} images)` : ""}, ${classNames.length} classes`);
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of x.data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  console.log(`features: min ${fmt(min)}, max ${fmt(max)}, mean ${fmt(sum / Math.max(1, x.data.length))}`);
  const counts = classCounts(data);
  const rows = classNames.map((name, k) => [name, counts[k], `${((100 * counts[k]) / Math.max(1, x.rows)).toFixed(1)}%`]);
  console.log(table(["class", "count", "share"], rows));
}

function fmt(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v);
}
