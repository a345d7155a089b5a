import type { ImageList } from "../data/images/folder.js";
import { UserError } from "../errors.js";
import type { OptionReader } from "./args.js";
import { parseImageSize } from "./dataset-options.js";
import type { statusLine } from "./progress.js";

/** Train and test lists as one list (embed writes every item). */
export function concatenate(lists: ImageList[]): ImageList {
  if (lists.length === 1) return lists[0];
  const labelled = lists.every((l) => l.labels);
  return {
    source: lists[0].source,
    files: lists.flatMap((l) => l.files),
    ids: lists.flatMap((l) => l.ids),
    labels: labelled ? lists.flatMap((l) => l.labels!) : undefined,
  };
}

/** A --mean/--std list: one or three numbers. */
export function numberList(options: OptionReader, name: string): number[] | undefined {
  const text = options.string(name);
  if (text === undefined) return undefined;
  const values = text.split(",").map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v)) || text.trim() === "")
    throw new UserError(`embed: --${name} expects one or three comma-separated numbers on the [0, 1] scale, got ${JSON.stringify(text)}`);
  return values;
}

/** The options images and clips share: the model's input, normalisation, output and pooling, threads, and what to do with a bad file. */
export function pictureOptions(options: OptionReader, status: ReturnType<typeof statusLine>) {
  const sizeText = options.string("size");
  return {
    size: sizeText === undefined ? undefined : parseImageSize(sizeText, "embed: --size"),
    mean: numberList(options, "mean"),
    std: numberList(options, "std"),
    output: options.string("output"),
    pool: options.choice("pool", ["none", "mean", "cls"] as const, undefined),
    threads: options.string("threads") === undefined ? undefined : options.int("threads", 1, 1, 1024),
    skipBad: options.flag("skip-bad"),
    onSkip: (file: string, message: string) => {
      status.done();
      console.error(`alfamix: skipped ${file}: ${message}`);
    },
  };
}
