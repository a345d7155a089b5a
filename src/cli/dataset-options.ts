import { DELIMITER_NAMES } from "../data/csv.js";
import type { LoadOptions } from "../data/registry.js";
import { UserError } from "../errors.js";
import type { OptionReader, OptionSpec } from "./args.js";

/** The flags that say how to read a dataset (shared by inspect and simulate). */
export const datasetOptionSpecs: Record<string, OptionSpec> = {
  "label-column": {
    type: "string",
    placeholder: "NAME|INDEX",
    help: "text tables: the label column (0-based index or header name)",
    default: "label/class/y, else the last",
  },
  delimiter: { type: "string", placeholder: "D", help: "text tables: , tab ; | or space (runs of blanks)", default: "sniffed from the first lines" },
  "no-header": { type: "boolean", help: "text tables: the first row is data, not a header (default: detected)" },
  labels: { type: "string", placeholder: "FILE", help: ".npy datasets: their labels (.npy, or one label per line)", default: "X.labels beside X.npy" },
  "text-column": {
    type: "string",
    placeholder: "NAME",
    help: "texts: the column (or JSON field) holding each item's text; the items are embedded with --text-model",
    default: "text, for .jsonl",
  },
  "text-model": {
    type: "string",
    placeholder: "M",
    help: "texts (imdb, spam, DIR/<class>/*.txt, .jsonl, --text-column): tfidf or glove-100d (fitted on the training part only), a .text-model.json from embed --text, or an exported encoder folder (tokenizer.json, model.onnx); the rows are cached",
    default: "tfidf",
  },
  "image-size": {
    type: "string",
    placeholder: "N|HxW",
    help: "images: resize to this size (bilinear, shorter side, centre crop)",
    default: "the most common size",
  },
};

export function readLoadOptions(
  options: OptionReader,
  command: string,
): Pick<LoadOptions, "labels" | "delimiter" | "header" | "imageSize" | "textColumn" | "textModel"> & { labelColumn?: string } {
  const delimiter = options.string("delimiter");
  if (delimiter !== undefined && !(delimiter in DELIMITER_NAMES)) {
    throw new UserError(`${command}: --delimiter expects one of , tab ; | space, got ${JSON.stringify(delimiter)}`);
  }
  const imageSize = options.string("image-size");
  return {
    labelColumn: options.string("label-column"),
    labels: options.string("labels"),
    delimiter: delimiter === undefined ? undefined : DELIMITER_NAMES[delimiter],
    header: options.flag("no-header") ? false : undefined,
    imageSize: imageSize === undefined ? undefined : parseImageSize(imageSize, `${command}: --image-size`),
    textColumn: options.string("text-column"),
    textModel: options.string("text-model"),
  };
}

/** "224" or "224x160" (height × width; × and X also accepted) as [height, width]. */
export function parseImageSize(text: string, what: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:[xX×]\s*(\d+)\s*)?$/.exec(text);
  const height = m ? Number(m[1]) : NaN,
    width = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(height >= 1 && width >= 1 && height <= 16384 && width <= 16384))
    throw new UserError(`${what} expects N or HxW (e.g. 224 or 224x160), got ${JSON.stringify(text)}`);
  return [height, width];
}
