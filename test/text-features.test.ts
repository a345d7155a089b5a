import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { symmetricEigen } from "../src/linalg/eigen.js";
import { Rng } from "../src/random.js";
import type { Analyzer } from "../src/embed/text/analyzer.js";
import { randomizedSvd } from "../src/embed/text/lsa.js";
import { sparseTimesDense, type SparseRows } from "../src/embed/text/sparse.js";
import { byCodePoint, fitTfidf, tfidfRows } from "../src/embed/text/tfidf.js";
import { fixture } from "./helpers.js";

interface VectorizerCase {
  settings: { ngram_range: [number, number]; min_df: number; max_features?: number; sublinear_tf: boolean; analyzer?: "char_wb" };
  texts: string[];
  terms: string[];
  idf: number[];
  rows: number[][];
}
const cases = JSON.parse(readFileSync(fixture("text-fixtures.json"), "utf8"));

function dense(rows: SparseRows): number[][] {
  return Array.from({ length: rows.rows }, (_, i) => {
    const row = new Array(rows.cols).fill(0);
    for (let e = rows.indptr[i]; e < rows.indptr[i + 1]; e++) row[rows.indices[e]] = rows.values[e];
    return row;
  });
}

function closeTo(actual: number[][], expected: number[][], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: rows`);
  actual.forEach((row, i) =>
    row.forEach((v, j) => assert.ok(Math.abs(v - expected[i][j]) <= tolerance, `${what}[${i}][${j}]: ${v} against ${expected[i][j]}`)),
  );
}

for (const name of ["word12", "word1_limit", "charwb"]) {
  test(`TF-IDF equals scikit-learn's TfidfVectorizer (${name}): the same vocabulary, idf and rows within 1e-6`, () => {
    const c: VectorizerCase = cases[name];
    const analyzer: Analyzer = { kind: c.settings.analyzer ?? "word", ngrams: c.settings.ngram_range };
    const model = fitTfidf(c.texts, [{ analyzer, minDf: c.settings.min_df, maxFeatures: c.settings.max_features }], c.settings.sublinear_tf);
    assert.deepEqual(model.blocks[0].terms, c.terms);
    model.blocks[0].idf.forEach((v, i) => assert.ok(Math.abs(v - c.idf[i]) < 1e-12, `idf of ${c.terms[i]}`));
    closeTo(dense(tfidfRows(model, c.texts)), c.rows, 1e-6, name);
  });
}

test("two vocabularies side by side are each normalised, as scikit-learn's FeatureUnion of two vectorizers", () => {
  const w: VectorizerCase = cases.word12,
    ch: VectorizerCase = cases.charwb;
  const model = fitTfidf(w.texts, [
    { analyzer: { kind: "word", ngrams: [1, 2] }, minDf: 2 },
    { analyzer: { kind: "char_wb", ngrams: [2, 4] }, minDf: 2 },
  ]);
  closeTo(
    dense(tfidfRows(model, w.texts)),
    w.rows.map((row, i) => [...row, ...ch.rows[i]]),
    1e-6,
    "union",
  );
  // A text never seen: its known terms only, still unit length; nothing known gives a zero row.
  const unseen = dense(tfidfRows(model, ["the cat and the unknownword", "zzzz qqqq"]));
  assert.ok(Math.abs(Math.hypot(...unseen[0].slice(0, model.blocks[0].terms.length)) - 1) < 1e-6);
  assert.ok(unseen[1].slice(0, model.blocks[0].terms.length).every((v) => v === 0));
});

test("terms sort by code point, as Python's strings do (JavaScript's < does not past U+FFFF)", () => {
  const words = ["🎬", "\uffe0", "a", "ab", "b", "é"];
  assert.deepEqual([...words].sort(byCodePoint), ["a", "ab", "b", "é", "\uffe0", "🎬"]);
  assert.deepEqual([...words].sort(), ["a", "ab", "b", "é", "🎬", "\uffe0"], "the difference this guards against");
});

test("symmetric eigendecomposition: A·v = λ·v, orthonormal vectors, values descending", () => {
  const n = 9,
    rng = new Rng(3);
  const b = Array.from({ length: n * n }, () => rng.normal(0, 1));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += b[i * n + k] * b[j * n + k];
  const { values, vectors } = symmetricEigen(a, n);
  for (let c = 0; c < n; c++) {
    if (c > 0) assert.ok(values[c] <= values[c - 1]);
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let k = 0; k < n; k++) av += a[i * n + k] * vectors[k * n + c];
      assert.ok(Math.abs(av - values[c] * vectors[i * n + c]) < 1e-9);
    }
    for (let d = 0; d < n; d++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += vectors[k * n + c] * vectors[k * n + d];
      assert.ok(Math.abs(dot - (c === d ? 1 : 0)) < 1e-12);
    }
  }
});

for (const name of ["svd_exact", "svd_more"]) {
  test(`randomized SVD (${name}) against scikit-learn's TruncatedSVD: singular values, components up to sign, embeddings`, () => {
    const c = cases[name];
    const model = fitTfidf(c.texts, [{ analyzer: { kind: "word", ngrams: [1, 1] }, minDf: 1 }]);
    const rows = tfidfRows(model, c.texts);
    const lsa = randomizedSvd(rows, { dim: c.dim, rng: new Rng(1) });
    Array.from(lsa.singularValues).forEach((s, i) => {
      assert.ok(Math.abs(s - c.exactSingularValues[i]) < 1e-5, `σ${i}: ${s} against the exact ${c.exactSingularValues[i]}`);
      assert.ok(Math.abs(s - c.singularValues[i]) < 1e-5, `σ${i}: ${s} against scikit-learn's ${c.singularValues[i]}`);
    });
    const components = Array.from({ length: c.dim }, (_, k) => Array.from({ length: lsa.components.rows }, (_, r) => lsa.components.data[r * c.dim + k]));
    closeTo(components, c.components, 1e-5, "components");
    const embedded = sparseTimesDense(rows, lsa.components);
    closeTo(
      Array.from({ length: embedded.rows }, (_, i) => Array.from(embedded.data.subarray(i * c.dim, (i + 1) * c.dim))),
      c.embedded,
      1e-5,
      "embedded",
    );
    // Seeded: the same seed, the same components.
    assert.deepEqual(randomizedSvd(rows, { dim: c.dim, rng: new Rng(1) }).components.data, lsa.components.data);
  });
}
