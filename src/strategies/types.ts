import { UserError } from "../errors.js";
import type { Matrix } from "../linalg/matrix.js";
import { softmaxRows } from "../linalg/rows.js";
import type { Classifier, Predictions } from "../models/classifier.js";
import type { Rng } from "../random.js";

/** Everything a strategy may look at in one round. Indices point into `pool`. */
export interface QueryContext {
  /** Features of every pool item, labelled or not. */
  pool: Matrix;
  labeled: Int32Array;
  /** Class ids of `labeled`, in the same order. */
  labels: Int32Array;
  unlabeled: Int32Array;
  /** Trained on the labelled items this round. */
  model: Classifier;
  rng: Rng;
  /** The model's predictions of the whole pool, computed once per round (see poolPredictions). */
  predictions?: Predictions;
  /** The pool's embeddings alone, when no strategy needed the probabilities (see poolEmbeddings). */
  embeddings?: Matrix;
  /** The pool's class probabilities alone, when no strategy needed the embeddings (see poolProbabilities). */
  probabilities?: Matrix;
}

export interface QueryResult {
  /** Pool indices to label next, most wanted first; distinct and all unlabelled. */
  indices: Int32Array;
  /** One score per index (what it means is the strategy's `scoreName`); NaN where none applies. */
  scores?: Float32Array;
  stats?: Record<string, number>;
}

export interface Strategy {
  readonly name: string;
  /** What `QueryResult.scores` holds, for people reading an export. */
  readonly scoreName: string;
  query(context: QueryContext, budget: number): QueryResult;
  /** How to run over a pool a chunk at a time (streamed or on workers), with the same picks as `query`; absent when the strategy needs the whole pool at once. */
  readonly plan?: ShardPlan;
  /** Why there is no plan, for a person who asked for one (default: the strategy needs the whole pool at once). */
  readonly whyNoPlan?: string;
  /** Why each pick of `result` (from `query` on this context) was chosen, for the labelling page. */
  explain?(context: QueryContext, result: QueryResult): Explanation[];
}

/** What a plan's coordinator steps know of the round: the trained linear head and the labelled rows. */
export interface PlanInputs {
  /** The linear head (K×D) and its bias, over the embeddings that chunks hold. */
  W: Matrix;
  b: Float32Array;
  /** Embeddings of the labelled items and their classes. */
  labeledX: Matrix;
  labels: Int32Array;
  /** Items to pick (min(budget, |unlabelled|)). */
  budget: number;
}

/** A run of pool rows read together: their embeddings, which of them are unlabelled, and the pool row of the first. */
export interface PoolChunk {
  x: Matrix;
  /** Rows of `x` (ascending) that are unlabelled: the only ones a chunk scores. */
  unlabeled: Int32Array;
  /** The pool row of `x`'s first row. */
  firstRow: number;
}

/** What `finish` has on the coordinator, besides the parts. */
export interface FinishContext {
  inputs: PlanInputs;
  /** Every unlabelled pool row, ascending: the parts' rows, in order. */
  unlabeled: Int32Array;
  /** The labelled pool rows (in `inputs.labeledX`'s order). */
  labeled: Int32Array;
  rng: Rng;
  /** Embeddings of the given pool rows (in that order), read from wherever the pool is: a copy, the caller's to change. */
  rowsOf(rows: ArrayLike<number>): Matrix;
  /**
   * k-means over more candidate rows than this process should gather (query --queue runs it as
   * map-reduce jobs): the rows nearest the centres, or undefined to cluster here.
   */
  clusterElsewhere?(rows: Int32Array, k: number, seed: number): Promise<{ rows: Int32Array; stats: Record<string, number> } | undefined>;
}

/**
 * How a strategy runs over a pool too big to hold, in three steps whose result is the same batch
 * as its `query` on the same rows held in memory: `prepare` on the coordinator makes the round's
 * small state (never pool rows); `scoreChunk` runs on a thread or a worker, once per chunk of
 * rows, and returns a part; `finish`, back on the coordinator, turns the parts (in pool order) into
 * the batch. State and parts are plain objects and typed arrays, so they travel as jobs.
 */
export interface ShardPlan<State = unknown, Part = unknown> {
  prepare(inputs: PlanInputs): State;
  scoreChunk(state: State, chunk: PoolChunk): Part;
  finish(state: State, parts: Part[], context: FinishContext): Promise<QueryResult>;
}

/** Why one picked item was chosen, as the labelling page shows it. */
export interface Explanation {
  /** Classes whose labelled centre, mixed in, flips the prediction (ALFA-Mix and its variants). */
  flips?: number[];
}

/** The pool's predictions, computed on first use and shared by everything else this round. */
export function poolPredictions(context: QueryContext): Predictions {
  // Embeddings computed alone earlier need only the head: a second pass through the network cost
  // ALFA-Mix as much again (its anchors read the embeddings before its search reads probabilities).
  const { model, embeddings } = context;
  context.predictions ??= embeddings ? { probs: softmaxRows(model.headLogits(embeddings)), embeddings } : model.predict(context.pool);
  return context.predictions;
}

/**
 * The pool's class probabilities: from the predictions or embeddings when they exist, else one pass
 * that writes no embeddings (for strategies that score probabilities alone: on MNIST's 60,000 × 256
 * embeddings, 147–153 ms against 175–185 ms for the full predictions).
 */
export function poolProbabilities(context: QueryContext): Matrix {
  if (context.predictions || context.embeddings) return poolPredictions(context).probs;
  context.probabilities ??= context.model.predictProbs(context.pool);
  return context.probabilities;
}

/** The pool's embeddings: from the predictions when they exist, else computed once on their own. */
export function poolEmbeddings(context: QueryContext): Matrix {
  if (context.predictions) return context.predictions.embeddings;
  context.embeddings ??= context.model.embed(context.pool);
  return context.embeddings;
}

/**
 * Check the context and budget every strategy relies on; returns the number of items to pick,
 * min(budget, |unlabelled|).
 */
export function checkQuery(strategy: string, context: QueryContext, budget: number): number {
  const { pool, labeled, labels, unlabeled, model } = context;
  if (!(Number.isInteger(budget) && budget >= 0)) throw new UserError(`${strategy}: the budget must be a non-negative integer, got ${budget}`);
  if (labels.length !== labeled.length) throw new UserError(`${strategy}: ${labels.length} labels for ${labeled.length} labelled items`);
  if (pool.cols !== model.inputDim) throw new UserError(`${strategy}: the pool has ${pool.cols} features, the model expects ${model.inputDim}`);
  const seen = new Uint8Array(pool.rows);
  for (const [what, indices] of [
    ["labelled", labeled],
    ["unlabelled", unlabeled],
  ] as const) {
    for (let i = 0; i < indices.length; i++) {
      const j = indices[i];
      if (!(j >= 0 && j < pool.rows)) throw new UserError(`${strategy}: ${what} index ${j} is outside the pool (0..${pool.rows - 1})`);
      if (seen[j]) throw new UserError(`${strategy}: pool index ${j} appears twice among the labelled and unlabelled items`);
      seen[j] = 1;
    }
  }
  for (let i = 0; i < labels.length; i++) {
    if (!(labels[i] >= 0 && labels[i] < model.numClasses))
      throw new UserError(`${strategy}: label ${labels[i]} is outside the model's classes 0..${model.numClasses - 1}`);
  }
  return Math.min(budget, unlabeled.length);
}

/** The rows not marked in `isLabeled` (1 = labelled), in order: the pool a strategy chooses from. */
export function unlabeledRows(isLabeled: Uint8Array): Int32Array {
  let labeled = 0;
  for (let i = 0; i < isLabeled.length; i++) labeled += isLabeled[i];
  const rows = new Int32Array(isLabeled.length - labeled);
  for (let i = 0, u = 0; i < isLabeled.length; i++) if (!isLabeled[i]) rows[u++] = i;
  return rows;
}

/**
 * The positions (into `scores`) of the k largest scores, largest first; ties go to the lower
 * position. O(n log k) with a binary heap, so a million-item pool costs no full sort.
 */
export function topK(scores: ArrayLike<number>, k: number): Int32Array {
  const n = scores.length;
  k = Math.min(k, n);
  if (k <= 0) return new Int32Array(0);
  // Min-heap on (score, -position): the root is the weakest of the best k so far.
  const heap = new Int32Array(k);
  let size = 0;
  const weaker = (a: number, b: number) => scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
  const siftDown = (start: number) => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1,
        r = l + 1;
      let m = i;
      if (l < size && weaker(heap[l], heap[m])) m = l;
      if (r < size && weaker(heap[r], heap[m])) m = r;
      if (m === i) return;
      const t = heap[i];
      heap[i] = heap[m];
      heap[m] = t;
      i = m;
    }
  };
  for (let p = 0; p < n; p++) {
    if (Number.isNaN(scores[p])) continue;
    if (size < k) {
      heap[size] = p;
      let i = size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!weaker(heap[i], heap[parent])) break;
        const t = heap[i];
        heap[i] = heap[parent];
        heap[parent] = t;
        i = parent;
      }
    } else if (weaker(heap[0], p)) {
      heap[0] = p;
      siftDown(0);
    }
  }
  return heap.slice(0, size).sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * `chosen` completed to `total` distinct items with unlabelled items drawn uniformly without
 * replacement from those not yet chosen. Returns the completed list and how many were drawn.
 */
export function fillAtRandom(chosen: Int32Array, unlabeled: Int32Array, total: number, rng: Rng): { indices: Int32Array; filled: number } {
  const missing = total - chosen.length;
  if (missing <= 0) return { indices: chosen.slice(0, total), filled: 0 };
  const taken = new Set(chosen);
  const rest = unlabeled.filter((i) => !taken.has(i));
  const extra = rng.choice(rest, missing);
  const indices = new Int32Array(total);
  indices.set(chosen);
  indices.set(extra, chosen.length);
  return { indices, filled: missing };
}

/** Scores for picked positions into a parallel score array (NaN beyond `scored`). */
export function scoresOf(positions: Int32Array, scores: ArrayLike<number>, length = positions.length): Float32Array {
  const out = new Float32Array(length).fill(NaN);
  for (let i = 0; i < positions.length; i++) out[i] = scores[positions[i]];
  return out;
}
