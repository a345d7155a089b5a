import { matmul } from "../../linalg/gemm.js";
import { symmetricEigen } from "../../linalg/eigen.js";
import { matrix, type Matrix } from "../../linalg/matrix.js";
import type { WordVectors } from "./word-vectors.js";

/**
 * Arora, Liang and Ma's SIF sentence embedding (ICLR 2017), fitted on a corpus: word
 * probabilities p(w) from the corpus, and the first principal component of its weighted means.
 */
export interface SifModel {
  /** The weight parameter: a word weighs a / (a + p(w)) (the paper's 1e-3). */
  a: number;
  /** p(w) on the fitting corpus, for the words that have a vector; a word seen only later weighs 1. */
  probabilities: Record<string, number>;
  /** The fitted rows' first (uncentred) principal direction, removed from every row. */
  component: number[];
}

export interface SifRows {
  rows: Matrix;
  /** Word tokens read, and those without a vector (out of vocabulary). */
  tokens: number;
  outOfVocabulary: number;
  /** Texts with no word that has a vector: their row is zero. */
  emptyRows: number;
}

/** Lower-cased runs of letters: the vectors have no digits and split on punctuation and hyphens. */
const WORD = /\p{L}+/gu;

export const SIF_WEIGHT = 1e-3;

/** Fit SIF on `texts`: the word probabilities, then the component of the weighted means. */
export function fitSif(texts: readonly string[], vectors: WordVectors, a = SIF_WEIGHT): { model: SifModel; result: SifRows } {
  const counts = new Map<string, number>();
  let total = 0;
  for (const text of texts) {
    for (const word of text.toLowerCase().match(WORD) ?? []) {
      total++;
      if (vectors.index.has(word)) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  const probabilities: Record<string, number> = {};
  for (const [word, count] of counts) probabilities[word] = count / Math.max(total, 1);
  const model: SifModel = { a, probabilities, component: [] };
  const result = weightedMeans(model, vectors, texts);
  model.component = firstPrincipalDirection(result.rows);
  removeDirection(result.rows, model.component);
  return { model, result };
}

/** The SIF rows of `texts` under a fitted model. */
export function sifRows(model: SifModel, vectors: WordVectors, texts: readonly string[]): SifRows {
  const result = weightedMeans(model, vectors, texts);
  removeDirection(result.rows, model.component);
  return result;
}

/** Per text, the mean over its words that have a vector of a / (a + p(w)) · v(w). */
function weightedMeans(model: SifModel, vectors: WordVectors, texts: readonly string[]): SifRows {
  const d = vectors.dim;
  const rows = matrix(texts.length, d);
  let tokens = 0,
    outOfVocabulary = 0,
    emptyRows = 0;
  texts.forEach((text, i) => {
    let found = 0;
    const row = i * d;
    for (const word of text.toLowerCase().match(WORD) ?? []) {
      tokens++;
      const at = vectors.index.get(word);
      if (at === undefined) {
        outOfVocabulary++;
        continue;
      }
      found++;
      const weight = model.a / (model.a + (model.probabilities[word] ?? 0));
      for (let c = 0; c < d; c++) rows.data[row + c] += weight * vectors.vectors[at * d + c];
    }
    if (found === 0) emptyRows++;
    else for (let c = 0; c < d; c++) rows.data[row + c] /= found;
  });
  return { rows, tokens, outOfVocabulary, emptyRows };
}

/** The top eigenvector of XᵀX (X's first right singular vector), its largest entry made positive. */
function firstPrincipalDirection(x: Matrix): number[] {
  const d = x.cols;
  const { vectors } = symmetricEigen(Float64Array.from(matmul(x, x, { transA: true }).data), d);
  const u = Array.from({ length: d }, (_, r) => vectors[r * d]);
  const largest = u.reduce((best, v) => (Math.abs(v) > Math.abs(best) ? v : best), 0);
  return largest < 0 ? u.map((v) => -v) : u;
}

/** Each row minus its projection on the unit vector u. */
function removeDirection(x: Matrix, u: readonly number[]): void {
  const d = x.cols;
  for (let i = 0; i < x.rows; i++) {
    let dot = 0;
    for (let c = 0; c < d; c++) dot += x.data[i * d + c] * u[c];
    for (let c = 0; c < d; c++) x.data[i * d + c] -= dot * u[c];
  }
}
