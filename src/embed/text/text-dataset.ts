import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../errors.js";
import { fitTextModel, textModelChoice } from "./text-model.js";
import type { Matrix } from "../../linalg/matrix.js";
import { cacheDir } from "../../data/cache.js";
import { alignClasses, encodeLabels, type Dataset, type DatasetParts } from "../../data/dataset.js";
import { writeAtomically } from "../../data/files.js";
import { encodeNpy, readNpy } from "../../data/npy.js";
import { isTextSource, joinSplits, readTexts, type TextList, type TextReadOptions } from "../../data/text/corpus.js";
import { IdList } from "../../data/ids.js";
import type { Pool } from "../../data/pool.js";

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
  const [trainRows, testRows] = await textRows(splits.test ? [splits.train.texts, splits.test.texts] : [splits.train.texts], modelName, options.onPhase);
  const train = dataset(splits.train, trainRows, modelName);
  return { train, test: splits.test && alignClasses(train, dataset(splits.test, testRows, modelName)) };
}

/**
 * A pool of texts (`query --pool`, `project create --pool` with --text-model): a table or JSONL
 * with a text column, or a folder of .txt files, embedded by a model fitted on the pool itself
 * (unlabelled texts are what a text model learns from) or a saved one. Each item keeps its text.
 */
export async function readTextPool(path: string, options: TextDatasetOptions = {}): Promise<Pool> {
  const list = await readPoolTexts(path, options);
  const [x] = await textRows([list.texts], options.textModel ?? "tfidf", options.onPhase);
  return { ids: IdList.of(list.ids), x, texts: list.texts, source: path };
}

/** The texts of a pool, unlabelled: a source with train and test parts gives both, in that order. */
export async function readPoolTexts(path: string, options: TextReadOptions = {}): Promise<TextList> {
  return joinSplits(await readTexts(path, { ...options, labelColumn: undefined }));
}

/**
 * The rows of each part under the text model, fitted on the first part (a held-out part stays
 * unseen). They are cached by the texts and the model, so later runs on the same corpus skip
 * the fitting.
 */
async function textRows(parts: readonly (readonly string[])[], modelName: string, onPhase?: (phase: string) => void): Promise<Matrix[]> {
  const choice = textModelChoice(modelName);
  // "standardised": rows of the models that standardise their output (cached rows from before are not reused).
  const key = createHash("sha256").update("standardised").update(JSON.stringify(choice));
  if (choice.kind === "fitted") key.update(readFileSync(choice.path));
  // An encoder folder: its files as they are now (the model by size and time, as the image cache keys files).
  if (choice.kind === "encoder") {
    for (const name of readdirSync(choice.dir).sort()) {
      const stat = statSync(join(choice.dir, name));
      if (stat.isFile()) key.update(`${name}:${stat.size}:${stat.mtimeMs}`);
    }
  }
  for (const texts of parts) key.update(texts.join("\u0000")).update("\u0001");
  const dir = cacheDir("text-features");
  const base = key.digest("hex").slice(0, 32);
  const files = parts.map((_, i) => dir && join(dir, `${base}.${i}.npy`));
  if (files.every((file) => file && existsSync(file))) return Promise.all(files.map((file) => readMatrix(file!)));
  const model = await fitTextModel(choice, parts[0], onPhase);
  onPhase?.(`embedding the texts (${model.description})`);
  const rows: Matrix[] = [];
  for (const texts of parts) rows.push((await model.embed(texts)).rows);
  // Each file is written whole; an entry counts only when all of its parts are there.
  rows.forEach((x, i) => files[i] && writeAtomically(files[i]!, encodeNpy(x.data, [x.rows, x.cols])));
  return rows;
}

function dataset(list: TextList, x: Matrix, modelName: string): Dataset {
  const { y, classNames } = encodeLabels(list.labels!);
  return { name: `${list.source} (${modelName})`, x, y, classNames, ids: list.ids };
}

async function readMatrix(path: string): Promise<Matrix> {
  const { shape, data } = await readNpy(path, "float32");
  return { rows: shape[0], cols: shape[1], data };
}

/** Whether `spec` (with these options) names texts: a built-in text set, a folder of .txt files, a .jsonl, or a table with a text column. */
export function isTextDataset(spec: string, options: { textColumn?: string }): boolean {
  return options.textColumn !== undefined || /\.jsonl(\.gz)?$/i.test(spec) || isTextSource(spec);
}
