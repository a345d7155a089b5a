import { builtInDatasets } from "../data/registry.js";
import { builtInTexts } from "../data/text/built-in.js";
import type { CommandSpec } from "./args.js";
import { table } from "./format.js";

export const datasetsCommand: CommandSpec = {
  name: "datasets",
  usage: "alfamix datasets",
  summary: "List the built-in datasets. Any directory of IDX files, .csv/.csv.gz file or .npy file (with --labels) works too.",
  options: {},
};

export function runDatasets(): void {
  console.log(
    table(
      ["name", "description"],
      [...builtInDatasets, ...builtInTexts].map((d) => [d.name, d.description]),
    ),
  );
  console.log(`
Also accepted wherever a dataset is expected:
  a folder of images: DIR/<class>/*.jpg|png, or DIR/train/<class>/… with DIR/test/<class>/…
  a manifest of images: a CSV with path and label columns (paths relative to the manifest)
  a text table: .csv, .tsv, .txt, .data, .dat, optionally .gz; the delimiter (comma, tab, semicolon,
    runs of spaces) is sniffed and the header detected (--delimiter, --no-header override); the label
    column is --label-column NAME|INDEX, default label/class/y, else the last
  texts (turned into rows by --text-model tfidf|glove-100d|X.text-model.json, default tfidf):
    DIR/<class>/*.txt (or DIR/train/<class>/… with DIR/test/<class>/…), a .jsonl file, or a
    .csv/.tsv with --text-column NAME (labels from --label-column, default label/class/y)
  a directory of IDX files (MNIST layout)
  a .npy feature file with --labels FILE (default: X.labels beside X.npy)`);
}
