import { forEachTerm, type Analyzer } from "./analyzer.js";
import { concatColumns, type SparseRows } from "./sparse.js";

/** One vocabulary of a TF-IDF model: the terms of one analyzer, as scikit-learn's TfidfVectorizer fits them. */
export interface TfidfBlockSettings {
  analyzer: Analyzer;
  /** Terms in fewer documents than this are dropped. */
  minDf: number;
  /** At most this many terms: those most frequent over the corpus (ties: the first in code-point order). */
  maxFeatures?: number;
}

export interface TfidfBlock {
  analyzer: Analyzer;
  /** The kept terms in code-point order; a term's column is its position. */
  terms: string[];
  /** ln((1 + n) / (1 + df)) + 1 per term: scikit-learn's smoothed idf. */
  idf: number[];
}

export interface TfidfModel {
  sublinearTf: boolean;
  blocks: TfidfBlock[];
  /** Documents the vocabularies were fitted on. */
  documents: number;
}

/**
 * Fit TF-IDF vocabularies on `texts`, one block per analyzer, each as scikit-learn's
 * TfidfVectorizer(min_df, max_features, smooth_idf=True) would: terms in at least `minDf`
 * documents, then the `maxFeatures` most frequent over the corpus.
 */
export function fitTfidf(texts: readonly string[], blocks: TfidfBlockSettings[], sublinearTf = true): TfidfModel {
  return { sublinearTf, documents: texts.length, blocks: blocks.map((b) => fitBlock(texts, b)) };
}

function fitBlock(texts: readonly string[], settings: TfidfBlockSettings): TfidfBlock {
  const ids = new Map<string, number>();
  let df = new Int32Array(1024),
    tf = new Float64Array(1024),
    lastDoc = new Int32Array(1024).fill(-1);
  texts.forEach((text, doc) =>
    forEachTerm(text, settings.analyzer, (term) => {
      let id = ids.get(term);
      if (id === undefined) {
        id = ids.size;
        ids.set(term, id);
        if (id === df.length) [df, tf, lastDoc] = [grow(df), grow(tf), grow(lastDoc, -1)];
      }
      tf[id]++;
      if (lastDoc[id] !== doc) {
        lastDoc[id] = doc;
        df[id]++;
      }
    }),
  );
  let kept = [...ids].filter(([, id]) => df[id] >= settings.minDf);
  if (settings.maxFeatures !== undefined && kept.length > settings.maxFeatures) {
    kept.sort(([a, i], [b, j]) => tf[j] - tf[i] || byCodePoint(a, b));
    kept = kept.slice(0, settings.maxFeatures);
  }
  kept.sort(([a], [b]) => byCodePoint(a, b));
  const n = texts.length;
  return { analyzer: settings.analyzer, terms: kept.map(([term]) => term), idf: kept.map(([, id]) => Math.log((1 + n) / (1 + df[id])) + 1) };
}

/**
 * The TF-IDF rows of `texts` under a fitted model: per block, each term's count (1 + ln count
 * when sublinear) times its idf, the row scaled to unit L2 norm; blocks side by side, as
 * scikit-learn's FeatureUnion of the vectorizers gives. Terms outside the vocabulary are left out.
 */
export function tfidfRows(model: TfidfModel, texts: readonly string[]): SparseRows {
  return concatColumns(model.blocks.map((b) => blockRows(b, texts, model.sublinearTf)));
}

function blockRows(block: TfidfBlock, texts: readonly string[], sublinearTf: boolean): SparseRows {
  const column = new Map(block.terms.map((t, i) => [t, i]));
  const indptr = new Int32Array(texts.length + 1);
  const indices: number[] = [],
    values: number[] = [];
  const counts = new Map<number, number>();
  texts.forEach((text, i) => {
    counts.clear();
    forEachTerm(text, block.analyzer, (term) => {
      const c = column.get(term);
      if (c !== undefined) counts.set(c, (counts.get(c) ?? 0) + 1);
    });
    const cols = [...counts.keys()].sort((a, b) => a - b);
    const weights = cols.map((c) => (sublinearTf ? 1 + Math.log(counts.get(c)!) : counts.get(c)!) * block.idf[c]);
    const norm = Math.sqrt(weights.reduce((s, w) => s + w * w, 0));
    cols.forEach((c, k) => {
      indices.push(c);
      values.push(norm > 0 ? weights[k] / norm : 0);
    });
    indptr[i + 1] = indices.length;
  });
  return { rows: texts.length, cols: block.terms.length, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

/** Python's string order (by code point), which JavaScript's < (by UTF-16 unit) differs from past U+FFFF. */
export function byCodePoint(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i),
      y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (a code point past U+FFFF) sorts after U+E000…U+FFFF, though its unit is smaller.
    if (x >= 0xd800 && y >= 0xd800 && x < 0xe000 !== y < 0xe000) return x < 0xe000 ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function grow<T extends Int32Array | Float64Array>(a: T, fill = 0): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}
