import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { writeAtomically } from "../../data/files.js";
import { fitStandardizer, standardizeInPlace, type Standardizer } from "../../data/transform.js";
import { encodeNpy, readNpy } from "../../data/npy.js";
import { inputError, UserError } from "../../errors.js";
import type { Matrix } from "../../linalg/matrix.js";
import { Rng } from "../../random.js";
import type { Analyzer } from "./analyzer.js";
import { randomizedSvd } from "./lsa.js";
import { fitSif, sifRows, type SifModel } from "./sif.js";
import { sparseTimesDense } from "./sparse.js";
import { fitTfidf, tfidfRows, type TfidfBlockSettings, type TfidfModel } from "./tfidf.js";
import { loadGlove100d, type WordVectors } from "./word-vectors.js";
import { isEncoderFolder, openTextEncoder } from "./onnx-encoder.js";
import { termPushes, type TermPush } from "./explain.js";

/** How `--model tfidf` is fitted. */
export interface TfidfSettings {
  /** LSA dimensions (the rows' width; fewer when the vocabulary is smaller). */
  dim: number;
  /** Terms in fewer texts than this are dropped. */
  minDf: number;
  /** Per analyzer, at most this many terms (the most frequent). */
  maxFeatures?: number;
  /** Word n-grams, smallest and largest n. */
  ngrams: [number, number];
  /** Character n-grams within words (scikit-learn's char_wb), when wanted. */
  charNgrams?: [number, number];
  /** Seeds the randomized SVD. */
  seed: number;
}

export const DEFAULT_TFIDF: TfidfSettings = { dim: 256, minDf: 2, maxFeatures: 100_000, ngrams: [1, 2], seed: 0 };

/** What a text model is asked to be: fitted anew (tfidf, glove-100d), or read from an earlier fit. */
export type TextModelChoice =
  | { kind: "tfidf"; settings: TfidfSettings }
  | { kind: "glove-100d" }
  | { kind: "fitted"; path: string }
  | { kind: "encoder"; dir: string; maxLength?: number };

/**
 * The model a name asks for: tfidf (with these settings), glove-100d, a saved .json, or a folder
 * with an exported Hugging Face encoder (tokenizer.json and model.onnx).
 */
export function textModelChoice(name: string, tfidf: TfidfSettings = DEFAULT_TFIDF, maxLength?: number): TextModelChoice {
  if (name === "tfidf") return { kind: "tfidf", settings: tfidf };
  if (name === "glove-100d") return { kind: "glove-100d" };
  if (/\.json$/i.test(name)) return { kind: "fitted", path: name };
  if (isEncoderFolder(name)) return { kind: "encoder", dir: name, maxLength };
  throw new UserError(
    `text model ${JSON.stringify(name)}: expected tfidf, glove-100d, a .text-model.json saved by embed --text, or a folder with an exported encoder (tokenizer.json and model.onnx)`,
  );
}

/** Per-call counts a text model reports (word vectors: tokens without a vector). */
export interface TextRowsNotes {
  tokens?: number;
  outOfVocabulary?: number;
  emptyRows: number;
  /** Encoders: texts cut to the model's length. */
  truncated?: number;
}

/** A fitted text model: it turns texts into dense rows the same way every time. */
export interface FittedTextModel {
  kind: "tfidf" | "glove-100d" | "encoder";
  dim: number;
  /** One line: what the rows are. */
  description: string;
  embed(texts: readonly string[]): Promise<{ rows: Matrix; notes: TextRowsNotes }>;
  /** TF-IDF only: the word n-grams of `text` that push a linear head's `direction` (over these rows) most. */
  termPushes?(text: string, direction: ArrayLike<number>, top?: number): TermPush[];
  /** Write the model to PATH (a .json; TF-IDF's projection goes beside it as .npy); returns the files. An encoder is its folder: nothing to write. */
  save?(path: string, fingerprint: string): string[];
}

export type TextFitProgress = (phase: string) => void;

/** The saved form: one JSON file, and for TF-IDF the projection in an .npy beside it. */
interface SavedTextModel {
  format: "alfamix-text-model";
  version: 1;
  kind: "tfidf" | "glove-100d";
  /** Of the run that wrote it, so a resumed run can tell its own model. */
  fingerprint: string;
  tfidf?: { model: TfidfModel; settings: TfidfSettings; components: string; singularValues: number[] };
  sif?: SifModel;
  /** The rows' standardisation, fitted with the model. */
  scale: SavedScale;
}

/** Fit a text model on `texts` (or read a saved one). */
export async function fitTextModel(choice: TextModelChoice, texts: readonly string[], progress: TextFitProgress = () => {}): Promise<FittedTextModel> {
  if (choice.kind === "fitted") return loadTextModel(choice.path);
  if (choice.kind === "encoder") {
    progress(`opening the encoder in ${choice.dir}`);
    const encoder = await openTextEncoder(choice.dir, { maxLength: choice.maxLength });
    return {
      kind: "encoder",
      dim: encoder.dim,
      description: encoder.description,
      embed: async (texts) => {
        const { rows, truncated } = await encoder.embed(texts);
        return { rows, notes: { emptyRows: 0, truncated } };
      },
    };
  }
  if (choice.kind === "glove-100d") {
    const vectors = loadGlove100d(() => progress("converting the wink word vectors into the cache (once)"));
    progress("fitting SIF weights");
    const { model, result } = fitSif(texts, vectors);
    return sifModel(model, vectors, savedScale(fitStandardizer(result.rows)));
  }
  const { settings } = choice;
  progress("fitting the TF-IDF vocabulary");
  const tfidf = fitTfidf(texts, analyzers(settings));
  const terms = tfidf.blocks.reduce((s, b) => s + b.terms.length, 0);
  if (terms === 0) throw new UserError(`--model tfidf: no term occurs in ${settings.minDf} or more texts; lower --min-df`);
  progress(`LSA: a randomized SVD of ${texts.length} × ${terms} TF-IDF rows`);
  const sparse = tfidfRows(tfidf, texts);
  const lsa = randomizedSvd(sparse, { dim: settings.dim, rng: new Rng(settings.seed).child("lsa") });
  const scale = savedScale(fitStandardizer(sparseTimesDense(sparse, lsa.components)));
  return tfidfModel(tfidf, settings, lsa.components, Array.from(lsa.singularValues), scale);
}

function analyzers(settings: TfidfSettings): TfidfBlockSettings[] {
  const block = (analyzer: Analyzer): TfidfBlockSettings => ({ analyzer, minDf: settings.minDf, maxFeatures: settings.maxFeatures });
  const blocks = [block({ kind: "word", ngrams: settings.ngrams })];
  if (settings.charNgrams) blocks.push(block({ kind: "char_wb", ngrams: settings.charNgrams }));
  return blocks;
}

const range = ([low, high]: [number, number]) => (low === high ? `${low}` : `${low}–${high}`);

/**
 * Each dimension's mean and std over the fitting texts. Rows come out standardised with them, as
 * `simulate` standardises features: LSA and SIF rows are small (a row's norm is at most about 1,
 * spread over hundreds of dimensions), and a head trained until 99% training accuracy on rows
 * that small stops with tiny margins, guessing near 50% on everything else (`query` and `serve`
 * train on the rows as they are).
 */
interface SavedScale {
  mean: number[];
  std: number[];
}
const savedScale = (s: Standardizer): SavedScale => ({ mean: Array.from(s.mean), std: Array.from(s.std) });
const standardizer = (s: SavedScale): Standardizer => ({ mean: Float32Array.from(s.mean), std: Float32Array.from(s.std) });

function tfidfModel(tfidf: TfidfModel, settings: TfidfSettings, components: Matrix, singularValues: number[], scale: SavedScale): FittedTextModel {
  const terms = tfidf.blocks.map(
    (b) => `${b.terms.length.toLocaleString("en")} ${b.analyzer.kind === "word" ? "word" : "char"} ${range(b.analyzer.ngrams)}-grams`,
  );
  return {
    kind: "tfidf",
    dim: components.cols,
    description: `TF-IDF (${terms.join(" + ")}, sublinear tf, min-df ${settings.minDf}) → LSA ${components.cols}-d`,
    async embed(texts) {
      const sparse = tfidfRows(tfidf, texts);
      let emptyRows = 0;
      for (let i = 0; i < sparse.rows; i++) if (sparse.indptr[i + 1] === sparse.indptr[i]) emptyRows++;
      return { rows: standardizeInPlace(sparseTimesDense(sparse, components), standardizer(scale)), notes: { emptyRows } };
    },
    // A head over standardised rows weighs the raw LSA dimension d by w_d / std_d.
    termPushes: (text, direction, top) =>
      termPushes(
        tfidf,
        components,
        Array.from(scale.std, (s, d) => direction[d] / s),
        text,
        top,
      ),
    save(path, fingerprint) {
      const npy = path.replace(/\.json$/i, "") + ".npy";
      writeAtomically(npy, encodeNpy(components.data, [components.rows, components.cols]));
      const saved: SavedTextModel = {
        format: "alfamix-text-model",
        version: 1,
        kind: "tfidf",
        fingerprint,
        tfidf: { model: tfidf, settings, components: basename(npy), singularValues },
        scale,
      };
      writeAtomically(path, JSON.stringify(saved));
      return [path, npy];
    },
  };
}

function sifModel(sif: SifModel, vectors: WordVectors, scale: SavedScale): FittedTextModel {
  return {
    kind: "glove-100d",
    dim: vectors.dim,
    description: `glove-100d: SIF-weighted means of wink's ${vectors.index.size.toLocaleString("en")} word vectors (a = ${sif.a}), first component removed`,
    async embed(texts) {
      const { rows, tokens, outOfVocabulary, emptyRows } = sifRows(sif, vectors, texts);
      return { rows: standardizeInPlace(rows, standardizer(scale)), notes: { tokens, outOfVocabulary, emptyRows } };
    },
    save(path, fingerprint) {
      const saved: SavedTextModel = { format: "alfamix-text-model", version: 1, kind: "glove-100d", fingerprint, sif, scale };
      writeAtomically(path, JSON.stringify(saved));
      return [path];
    },
  };
}

/** The fingerprint a saved model was written with, or undefined when PATH is not one. */
export function savedFingerprint(path: string): string | undefined {
  try {
    const saved = JSON.parse(readFileSync(path, "utf8")) as Partial<SavedTextModel>;
    return saved.format === "alfamix-text-model" ? saved.fingerprint : undefined;
  } catch {
    return undefined;
  }
}

/** A model saved by `embed --text` (its .json). */
export async function loadTextModel(path: string): Promise<FittedTextModel> {
  let saved: SavedTextModel;
  try {
    saved = JSON.parse(readFileSync(path, "utf8")) as SavedTextModel;
  } catch (error) {
    throw inputError(
      path,
      undefined,
      `not a saved text model (${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "not JSON"}); --model takes tfidf, glove-100d or the .text-model.json that embed --text wrote`,
    );
  }
  if (saved.format !== "alfamix-text-model" || saved.version !== 1)
    throw inputError(path, undefined, "not a saved text model (its format field is not alfamix-text-model, version 1)");
  if (saved.kind === "glove-100d") return sifModel(saved.sif!, loadGlove100d(), saved.scale);
  const { model, settings, components, singularValues } = saved.tfidf!;
  return tfidfModel(model, settings, await readComponents(join(dirname(path), components)), singularValues, saved.scale);
}

async function readComponents(path: string): Promise<Matrix> {
  const { shape, data } = await readNpy(path, "float32");
  if (shape.length !== 2) throw inputError(path, "header", `expected a 2-d projection, found shape (${shape.join(", ")})`);
  return { rows: shape[0], cols: shape[1], data };
}
