/**
 * How a text becomes terms, as scikit-learn's CountVectorizer does it, so that fitted vocabularies
 * match it: lower-cased; words are maximal runs of two or more Unicode letters, digits or
 * underscores (its default token_pattern `(?u)\b\w\w+\b`); word n-grams join n consecutive words
 * with a space; `char_wb` n-grams are taken inside each whitespace-separated word padded with one
 * space on both sides, in code points (Python's characters).
 */
export interface Analyzer {
  kind: "word" | "char_wb";
  /** The smallest and largest n. */
  ngrams: [number, number];
}

/** A word as scikit-learn's default token_pattern finds it. */
export const WORD = /[\p{L}\p{N}_]{2,}/gu;
const WHITESPACE = /\s+/u;

/** Each term of `text`, in order, with repeats, passed to `visit`. */
export function forEachTerm(text: string, analyzer: Analyzer, visit: (term: string) => void): void {
  const lower = text.toLowerCase();
  const [low, high] = analyzer.ngrams;
  if (analyzer.kind === "word") {
    const words = lower.match(WORD) ?? [];
    for (let n = low; n <= high; n++) {
      for (let i = 0; i + n <= words.length; i++) visit(n === 1 ? words[i] : words.slice(i, i + n).join(" "));
    }
    return;
  }
  // char_wb, as scikit-learn's _char_wb_ngrams: words split on any whitespace, counted in code points.
  for (const word of lower.split(WHITESPACE)) {
    if (word === "") continue;
    const padded = Array.from(` ${word} `);
    for (let n = low; n <= high; n++) {
      let offset = 0;
      visit(padded.slice(0, n).join(""));
      while (offset + n < padded.length) {
        offset++;
        visit(padded.slice(offset, offset + n).join(""));
      }
      // A word no longer than n was counted once, whole: larger n would repeat it.
      if (offset === 0) break;
    }
  }
}
