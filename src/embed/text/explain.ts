import type { Matrix } from "../../linalg/matrix.js";
import { WORD } from "./analyzer.js";
import { tfidfRows, type TfidfModel } from "./tfidf.js";

/** A word n-gram of a text that pushed a linear head's guess, and where it occurs. */
export interface TermPush {
  term: string;
  /** Its TF-IDF value times the head's direction through the projection: its share of the logit gap. */
  weight: number;
  /** Each occurrence as [start, end) offsets into the text (UTF-16, as JavaScript strings). */
  spans: [number, number][];
}

/**
 * Why a linear head on TF-IDF + LSA rows made its guess: with rows x = t·C (t the text's TF-IDF
 * row, C the projection), a head direction w (the guessed class's weights minus the runner-up's)
 * scores x·w = Σⱼ tⱼ (Cⱼ·w), so term j contributes tⱼ (Cⱼ·w) exactly. The `top` word n-grams
 * with the largest positive contributions come back with their places in the text. Character
 * n-grams count in the sum but are not shown: they have no single place.
 */
export function termPushes(tfidf: TfidfModel, components: Matrix, direction: ArrayLike<number>, text: string, top = 8): TermPush[] {
  const row = tfidfRows(tfidf, [text]);
  const d = components.cols;
  // The blocks' columns sit side by side: each block starts where the previous one's terms end.
  const starts: number[] = [];
  tfidf.blocks.reduce((start, b) => (starts.push(start), start + b.terms.length), 0);
  const pushes: { term: string; weight: number }[] = [];
  for (let e = row.indptr[0]; e < row.indptr[1]; e++) {
    const column = row.indices[e];
    let b = 0;
    while (b + 1 < starts.length && starts[b + 1] <= column) b++;
    if (tfidf.blocks[b].analyzer.kind !== "word") continue;
    let along = 0;
    for (let c = 0; c < d; c++) along += components.data[column * d + c] * direction[c];
    const weight = row.values[e] * along;
    if (weight > 0) pushes.push({ term: tfidf.blocks[b].terms[column - starts[b]], weight });
  }
  pushes.sort((a, b) => b.weight - a.weight);
  const words = wordSpans(text);
  return pushes.slice(0, top).map(({ term, weight }) => ({ term, weight, spans: words ? occurrences(words, term) : [] }));
}

/** The words of `text` with their offsets, as the word analyzer reads them; undefined when lower-casing changes lengths. */
function wordSpans(text: string): { word: string; start: number; end: number }[] | undefined {
  const lower = text.toLowerCase();
  if (lower.length !== text.length) return undefined;
  return Array.from(lower.matchAll(WORD), (m) => ({ word: m[0], start: m.index!, end: m.index! + m[0].length }));
}

/** Where the n-gram `term` (words joined by one space) occurs among `words`. */
function occurrences(words: { word: string; start: number; end: number }[], term: string): [number, number][] {
  const parts = term.split(" ");
  const spans: [number, number][] = [];
  for (let i = 0; i + parts.length <= words.length; i++) {
    if (parts.every((p, k) => words[i + k].word === p)) spans.push([words[i].start, words[i + parts.length - 1].end]);
  }
  return spans;
}
