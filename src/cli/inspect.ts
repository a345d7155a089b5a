import { classCounts, type Dataset } from "../data/dataset.js";
import type { ImageStats } from "../data/images/load.js";
import { loadDataset } from "../embed/load-dataset.js";
import { OptionReader, type CommandSpec, type ParsedArgs } from "./args.js";
import { datasetOptionSpecs, readLoadOptions } from "./dataset-options.js";
import { table } from "./format.js";

export const inspectCommand: CommandSpec = {
  name: "inspect",
  usage: "alfamix inspect <dataset> [--label-column NAME|INDEX] [--delimiter D] [--no-header] [--labels FILE] [--image-size N|HxW]",
  summary: "Print a dataset's rows, features, classes and class counts (for images: sizes and channels).",
  options: datasetOptionSpecs,
  positionals: { min: 1, max: 1 },
};

export async function runInspect(args: ParsedArgs): Promise<void> {
  const options = new OptionReader("inspect", args.values);
  const parts = await loadDataset(args.positionals[0], { ...readLoadOptions(options, "inspect"), requireLabels: false });
  if (parts.images) printImageFiles(parts.images.stats, parts.images.cached);
  printDataset(parts.train, parts.test ? "train" : undefined);
  if (parts.test) {
    console.log();
    printDataset(parts.test, "test");
  }
}

function printImageFiles(stats: ImageStats, cached: boolean): void {
  const sizes = Object.entries(stats.sizes).sort((a, b) => b[1] - a[1]);
  const shown =
    sizes
      .slice(0, 5)
      .map(([size, n]) => `${size} (${n})`)
      .join(", ") + (sizes.length > 5 ? `, and ${sizes.length - 5} more sizes` : "");
  console.log(
    `image files: ${stats.grey + stats.colour}; sizes (height×width): ${shown}; ${stats.colour} colour, ${stats.grey} grey${stats.alpha ? `, ${stats.alpha} with alpha (dropped)` : ""}${cached ? " (decoded images from the cache)" : ""}`,
  );
}

function printDataset(data: Dataset, part: string | undefined): void {
  const { x, classNames } = data;
  const title = part ? `${data.name.replace(/ \((train|test)\)$/, "")} (${part})` : data.name;
  const kind = data.channels === 3 ? "RGB " : data.channels === 1 ? "grey " : "";
  console.log(
    `${title}: ${x.rows} rows, ${x.cols} features${data.imageShape ? ` (${kind}${data.imageShape.join("×")} images)` : ""}, ${classNames.length} classes`,
  );
  let min = Infinity,
    max = -Infinity,
    sum = 0;
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i];
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
