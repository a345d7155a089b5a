import { IdIndex, type IdList } from "../data/ids.js";
import { UserError } from "../errors.js";
import type { Matrix } from "../linalg/matrix.js";
import type { FitReport } from "../models/classifier.js";
import type { NeuralClassifier } from "../models/network.js";

/** One item to label next. */
export interface SelectedItem {
  id: string;
  /** 1 = wanted first. */
  rank: number;
  /** The strategy's score for the item (see `scoreName`), or null where it has none. */
  score: number | null;
  /** The model's guess; null in a cold start, where no model exists yet. */
  predictedLabel: string | null;
  /** The model's probability of `predictedLabel` (null with it). */
  confidence: number | null;
}

export interface BatchSelection {
  items: SelectedItem[];
  strategy: string;
  scoreName: string;
  poolSize: number;
  unlabeledCount: number;
  labeledPerClass: Record<string, number>;
  /** How the head trained; absent in a cold start. */
  training?: FitReport;
  /** Why no model was trained and TypiClust chose the batch (fewer than two classes labelled). */
  coldStart?: string;
  /** The strategy's own figures (ALFA-Mix: candidates, cap, …). */
  stats: Record<string, number>;
  queryMs: number;
  warnings: string[];
  /** The trained head (absent in a cold start), the rows it saw (standardised when asked), the class names and the rows labelled and picked. */
  model?: NeuralClassifier;
  x: Matrix;
  classNames: string[];
  labeledRows: Int32Array;
  pickedRows: Int32Array;
}

/**
 * The pool rows of the labelled ids: a labelled id missing from the pool, or an id repeated in
 * the pool (named after `source`), is a one-line error.
 */
export function labeledRowsOf(ids: IdList, labeledIds: string[], source: string): Int32Array {
  const index = new IdIndex(ids, source);
  return Int32Array.from(labeledIds, (id) => {
    const row = index.get(id);
    if (row === undefined) throw new UserError(`query: the labelled id ${JSON.stringify(id)} is not in the pool`);
    return row;
  });
}

/** The items of a batch, best first: ids, the strategy's scores, and the model's guess for each (probs: one row per item). */
export function selectedItems(ids: string[], scores: Float32Array | undefined, probs: Matrix, classNames: string[]): SelectedItem[] {
  const K = classNames.length;
  return ids.map((id, i): SelectedItem => {
    let best = 0;
    for (let k = 1; k < K; k++) if (probs.data[i * K + k] > probs.data[i * K + best]) best = k;
    const score = scores?.[i];
    // Scores and probabilities are float32: seven significant digits are all they hold.
    return {
      id,
      rank: i + 1,
      score: score === undefined || Number.isNaN(score) ? null : Number(score.toPrecision(7)),
      predictedLabel: classNames[best],
      confidence: Number(probs.data[i * K + best].toPrecision(7)),
    };
  });
}
