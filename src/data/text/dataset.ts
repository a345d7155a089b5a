import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../errors.js";
import { fitTextModel, textModelChoice } from "../../embed/text/text-model.js";
import type { Matrix } from "../../linalg/matrix.js";
import { cacheDir } from "../cache.js";
import { alignClasses, encodeLabels, type Dataset, type DatasetParts } from "../dataset.js";
import { writeAtomically } from "../files.js";
import { encodeNpy, readNpy } from "../npy.js";
import { readTexts, type TextList, type TextReadOptions } from "./corpus.js";

export interface TextDatasetOptions extends TextReadOptions {
  /** tfidf (the default settings), glove-100d, or a .text-model.json saved by embed --text. */
  textModel?: string;
  onPhase?: (phase: string) => void;
}

/**
 * A labelled text corpus as a dataset of dense rows: the text model is fitted on the training
 * texts only (the test part, when the source has one, stays unseen) and applied to both. The rows
 * are cached by the texts and the model, so later runs on the same corpus skip the fitting.
 */
export async function loadTextDataset(spec: string, options: TextDatasetOptions = {}): Promise<DatasetParts> {
  const splits = await readTexts(spec, options);
  for (const part of [splits.train, splits.test]) {
    if (part && !part.labels)
      throw new UserError(`${part.source}: a text dataset needs labels: a label column (--label-column) or class folders (DIR/<class>/*.txt)`);
  }
  const modelName = options.textModel ?? "tfidf";
  const choice = textModelChoice(modelName);
  const key = createHash("sha256").update(JSON.stringify(choice));
  if (choice.kind === "fitted") key.update(readFileSync(choice.path));
  for (const part of [splits.train, splits.test]) key.update(part ? part.texts.join("\u0000") : "").update("\u0001");
  const dir = cacheDir("text-features");
  const base = dir && join(dir, key.digest("hex").slice(0, 32));
  let rows: { train: Matrix; test?: Matrix };
  if (base && existsSync(`${base}.train.npy`) && (!splits.test || existsSync(`${base}.test.npy`))) {
    rows = { train: await readMatrix(`${base}.train.npy`), test: splits.test && (await readMatrix(`${base}.test.npy`)) };
  } else {
    const model = await fitTextModel(choice, splits.train.texts, options.onPhase);
    options.onPhase?.(`embedding the texts (${model.description})`);
    rows = { train: model.embed(splits.train.texts).rows, test: splits.test && model.embed(splits.test.texts).rows };
    if (base) {
      // The training rows last: their presence marks a finished entry.
      if (rows.test) writeAtomically(`${base}.test.npy`, encodeNpy(rows.test.data, [rows.test.rows, rows.test.cols]));
      writeAtomically(`${base}.train.npy`, encodeNpy(rows.train.data, [rows.train.rows, rows.train.cols]));
    }
  }
  const train = dataset(splits.train, rows.train, modelName);
  return { train, test: splits.test && alignClasses(train, dataset(splits.test, rows.test!, modelName)) };
}

function dataset(list: TextList, x: Matrix, modelName: string): Dataset {
  const { y, classNames } = encodeLabels(list.labels!);
  return { name: `${list.source} (${modelName})`, x, y, classNames, ids: list.ids };
}

async function readMatrix(path: string): Promise<Matrix> {
  const { shape, data } = await readNpy(path, "float32");
  return { rows: shape[0], cols: shape[1], data };
}
