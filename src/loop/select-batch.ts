import { encodeLabels } from "../data/dataset.js";
import { IdList } from "../data/ids.js";
import { labeledRowsOf, selectedItems, type BatchSelection, type SelectedItem } from "./batch-items.js";

export { labeledRowsOf, selectedItems, type BatchSelection, type SelectedItem } from "./batch-items.js";
import type { LabeledItems, Pool } from "../data/pool.js";
import { fitStandardizer, standardizeInPlace } from "../data/transform.js";
import { UserError } from "../errors.js";
import { gatherRows, matrix, type Matrix } from "../linalg/matrix.js";
import type { FitOptions, FitReport } from "../models/classifier.js";
import { NeuralClassifier } from "../models/network.js";
import { Rng } from "../random.js";
import { createStrategy, resolveStrategy, type StrategySpec } from "../strategies/registry.js";
import { readPools } from "../data/shards.js";
import { canStream, streamBatch } from "./stream-batch.js";
import { unlabeledRows, type Explanation, type QueryContext, type Strategy } from "../strategies/types.js";
import { argmaxRows } from "../linalg/rows.js";
import { typicalBatch } from "../strategies/typiclust.js";
import { projectForMap } from "../eval/projection.js";
import { renderMaps } from "../eval/map-svg.js";

export interface SelectBatchOptions {
  /** Every item: ids and one feature or embedding row each (labelled items included). */
  pool: Pool;
  /** The labels known so far, by id. */
  labeled: LabeledItems;
  /** A strategy entry (default "alfamix"), its resolved spec, or a strategy object. */
  strategy?: string | StrategySpec | Strategy;
  /** Items to pick (default 100); more than the unlabelled items takes them all, with a warning. */
  budget?: number;
  /** The head trained on the labelled items: softmax regression (default) or an MLP. */
  model?: "linear" | "mlp";
  hidden?: number[];
  dropout?: number;
  fit?: FitOptions;
  /** Standardise each feature with the pool's mean and std first (the pool is not modified). */
  standardize?: boolean;
  /** Seeds the model's initial weights and the strategy's draws (default 0). */
  seed?: number;
}

/** One round on pool rows: what `selectRows` needs besides the strategy options. */
export interface SelectRowsOptions {
  x: Matrix;
  /** Rows with labels, and their class ids (0 ≤ y < numClasses). */
  labeledRows: Int32Array;
  y: Int32Array;
  numClasses: number;
  strategy: Strategy;
  /** Items to pick; at most the unlabelled rows. */
  budget: number;
  model?: "linear" | "mlp";
  hidden?: number[];
  dropout?: number;
  fit?: FitOptions;
  seed?: number;
  /** Ask the strategy why it chose each row (Strategy.explain), for the labelling page. */
  explain?: boolean;
}

/** The rows chosen, their scores and the model's probabilities for them, and the trained model. */
export interface RowSelection {
  rows: Int32Array;
  scores?: Float32Array;
  /** budget × K probabilities of the chosen rows. */
  probs: Matrix;
  model: NeuralClassifier;
  training: FitReport;
  unlabeledCount: number;
  stats: Record<string, number>;
  queryMs: number;
  /** Why each row was chosen, when asked and the strategy can say. */
  explanations?: Explanation[];
}

/**
 * One round of active learning over rows: train the head on the labelled rows (seeded), run the
 * strategy over the unlabelled rest and predict the chosen rows. `selectBatch` and the labelling
 * service's retrain worker both go through here.
 */
export function selectRows(options: SelectRowsOptions): RowSelection {
  const { x, labeledRows, y, numClasses, strategy, budget, model: kind = "linear", seed = 0 } = options;
  const isLabeled = new Uint8Array(x.rows);
  for (const r of labeledRows) isLabeled[r] = 1;
  const unlabeled = unlabeledRows(isLabeled);
  const model = new NeuralClassifier(x.cols, numClasses, { hidden: kind === "linear" ? [] : (options.hidden ?? [256]), dropout: options.dropout ?? 0, seed });
  const training = model.fit(gatherRows(x, labeledRows), y, options.fit);
  const started = performance.now();
  const context: QueryContext = { pool: x, labeled: labeledRows, labels: y, unlabeled, model, rng: new Rng(seed).child("query") };
  const result = strategy.query(context, Math.min(budget, unlabeled.length));
  const queryMs = performance.now() - started;
  return {
    rows: result.indices,
    scores: result.scores,
    probs: model.predictProbs(gatherRows(x, result.indices)),
    model,
    training,
    unlabeledCount: unlabeled.length,
    stats: result.stats ?? {},
    queryMs,
    explanations: options.explain && result.indices.length > 0 ? strategy.explain?.(context, result) : undefined,
  };
}

/**
 * One round of active learning on real data: train the head on the labelled items (seeded), run
 * the strategy over the unlabelled rest and return the items to label next with their scores and
 * the model's current guess. Never returns a labelled id or the same id twice.
 */
export function selectBatch(options: SelectBatchOptions): BatchSelection;
/**
 * The same round over a pool still in files: with a strategy that has a shard plan, a linear head
 * and `.npy` shards with their ids, it streams them (streamBatch: never held whole, the same
 * batch); otherwise it reads them whole first.
 */
export function selectBatch(options: FilePoolOptions): Promise<BatchSelection>;
export function selectBatch(options: SelectBatchOptions | FilePoolOptions): BatchSelection | Promise<BatchSelection> {
  if ("files" in options.pool) return selectFromFiles(options as FilePoolOptions);
  return selectInMemory(options as SelectBatchOptions);
}

/** A pool in files: .npy shards (each with its .ids beside it, or one file and `idsPath`), or any file readPool reads. */
export interface PoolFiles {
  files: string[];
  idsPath?: string;
}

export type FilePoolOptions = Omit<SelectBatchOptions, "pool"> & { pool: PoolFiles };

async function selectFromFiles(options: FilePoolOptions): Promise<BatchSelection> {
  const { files, idsPath } = options.pool;
  const given = options.strategy ?? "alfamix";
  // A strategy object cannot travel to the scoring threads; its name and parameters can.
  const spec = typeof given === "string" ? resolveStrategy(given) : "query" in given ? undefined : given;
  if (spec && canStream(files, idsPath, spec, options) && !isColdStart(options.labeled)) {
    return streamBatch({ files, idsPath, labeled: options.labeled, strategy: spec, budget: options.budget ?? 100, fit: options.fit, seed: options.seed });
  }
  return selectInMemory({ ...options, pool: await readPools(files, idsPath) });
}

/** Whether the labels are too few to train a head (fewer than two classes): the query is then a cold start, over the pool held whole. */
export function isColdStart(labeled: LabeledItems): boolean {
  return new Set(labeled.labels).size < 2;
}

function selectInMemory(options: SelectBatchOptions): BatchSelection {
  const { pool, labeled, budget = 100, seed = 0 } = options;
  if (!(Number.isInteger(budget) && budget >= 1)) throw new UserError(`query: the budget must be a positive integer, got ${budget}`);
  if (pool.ids.length !== pool.x.rows) throw new UserError(`query: ${pool.ids.length} ids for ${pool.x.rows} pool rows`);
  if (pool.x.rows === 0) throw new UserError("query: the pool is empty");
  const strategy = typeof options.strategy === "object" && "query" in options.strategy ? options.strategy : createStrategy(options.strategy ?? "alfamix");
  const ids = IdList.of(pool.ids);
  const labeledRows = labeledRowsOf(ids, labeled.ids, pool.source ?? "pool");
  const { y, classNames } = encodeLabels(labeled.labels);
  const unlabeledCount = pool.x.rows - new Set(labeledRows).size;
  const warnings: string[] = [];
  if (budget > unlabeledCount) warnings.push(`the budget of ${budget} exceeds the ${unlabeledCount} unlabelled items: taking all of them`);

  let x: Matrix = pool.x;
  if (options.standardize) {
    x = matrix(pool.x.rows, pool.x.cols, pool.x.data.slice());
    standardizeInPlace(x, fitStandardizer(x));
  }
  const labeledPerClass = Object.fromEntries(classNames.map((name) => [name, 0]));
  for (const label of labeled.labels) labeledPerClass[label]++;
  if (isColdStart(labeled)) return coldStart({ x, ids, labeledRows, budget, seed, classNames, labeledPerClass, warnings });
  const selection = selectRows({
    x,
    labeledRows,
    y,
    numClasses: classNames.length,
    strategy,
    budget,
    model: options.model,
    hidden: options.hidden,
    dropout: options.dropout,
    fit: options.fit,
    seed,
  });
  const items = selectedItems(
    Array.from(selection.rows, (r) => ids.get(r)),
    selection.scores,
    selection.probs,
    classNames,
  );
  return {
    items,
    strategy: strategy.name,
    scoreName: strategy.scoreName,
    poolSize: pool.x.rows,
    unlabeledCount: selection.unlabeledCount,
    labeledPerClass,
    training: selection.training,
    stats: selection.stats,
    queryMs: selection.queryMs,
    warnings,
    model: selection.model,
    x,
    classNames,
    labeledRows,
    pickedRows: selection.rows,
  };
}

/** The cold start: with fewer than two classes labelled no head can be trained, so TypiClust picks the batch from the rows alone. */
function coldStart(inputs: {
  x: Matrix;
  ids: IdList;
  labeledRows: Int32Array;
  budget: number;
  seed: number;
  classNames: string[];
  labeledPerClass: Record<string, number>;
  warnings: string[];
}): BatchSelection {
  const { x, ids, labeledRows, classNames } = inputs;
  const isLabeled = new Uint8Array(x.rows);
  for (const r of labeledRows) isLabeled[r] = 1;
  const unlabeled = unlabeledRows(isLabeled);
  const started = performance.now();
  const picks = typicalBatch(x, labeledRows, unlabeled, Math.min(inputs.budget, unlabeled.length), new Rng(inputs.seed).child("query"));
  const covered = classNames.length === 0 ? "no class" : `only the class ${JSON.stringify(classNames[0])}`;
  return {
    items: Array.from(picks.indices, (row, i) => ({
      id: ids.get(row),
      rank: i + 1,
      score: Number.isNaN(picks.scores[i]) ? null : Number(picks.scores[i].toPrecision(7)),
      predictedLabel: null,
      confidence: null,
    })),
    strategy: "typiclust",
    scoreName: "typicality: 1 / mean distance to the nearest neighbours in its cluster (higher: more typical)",
    poolSize: x.rows,
    unlabeledCount: unlabeled.length,
    labeledPerClass: inputs.labeledPerClass,
    coldStart: `the labelled items cover ${covered}, too few to train a classifier: TypiClust picked the batch from the rows alone (label items of two classes or more to use the strategy)`,
    stats: picks.stats,
    queryMs: performance.now() - started,
    warnings: inputs.warnings,
    x,
    classNames,
    labeledRows,
    pickedRows: picks.indices,
  };
}

const significant = (v: number) => Number(v.toPrecision(6));

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The selection as CSV (id,rank,score,predicted_label,confidence; no score → empty) or JSONL. */
export function formatSelection(items: SelectedItem[], format: "csv" | "jsonl"): string {
  if (format === "jsonl") {
    return items
      .map(
        (it) =>
          JSON.stringify({
            id: it.id,
            rank: it.rank,
            score: it.score === null ? null : significant(it.score),
            predicted_label: it.predictedLabel,
            confidence: it.confidence === null ? null : significant(it.confidence),
          }) + "\n",
      )
      .join("");
  }
  const lines = ["id,rank,score,predicted_label,confidence"];
  for (const it of items) {
    lines.push(
      [
        csvField(it.id),
        it.rank,
        it.score === null ? "" : significant(it.score),
        csvField(it.predictedLabel ?? ""),
        it.confidence === null ? "" : significant(it.confidence),
      ].join(","),
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * The embedding map of a selection (`alfamix query --map`): the pool projected to 2-D from the
 * head's embeddings, coloured by the model's predicted class, the labelled items outlined and the
 * batch marked. Pools past a few thousand items show a class-stratified sample plus every labelled
 * and picked item, and say so.
 */
export function selectionMap(selection: BatchSelection, seed = 0): string {
  const { model, x, classNames, labeledRows, pickedRows } = selection;
  if (!model) throw new UserError("query: --map draws the model's embeddings, and a cold start has no model yet (label items of two classes or more)");
  const predicted = argmaxRows(model.predictProbs(x));
  const projection = projectForMap(model.embed(x), predicted, [...labeledRows, ...pickedRows], new Rng(seed).child("map"));
  const position = new Map(Array.from(projection.indices, (i, p) => [i, p]));
  const positions = (rows: Int32Array) => new Set(Array.from(rows, (r) => position.get(r)!));
  const shown =
    projection.indices.length < x.rows
      ? `${projection.indices.length.toLocaleString("en")} of ${x.rows.toLocaleString("en")} items shown (every labelled and picked one, a class-stratified sample of the rest)`
      : `all ${x.rows.toLocaleString("en")} items`;
  return renderMaps(
    [
      {
        title: `${selection.strategy}: ${pickedRows.length} picked, ${labeledRows.length} labelled`,
        xy: projection.xy,
        classes: Array.from(projection.indices, (i) => predicted[i]),
        labelled: positions(labeledRows),
        batch: positions(pickedRows),
      },
    ],
    classNames,
    `UMAP of the model's embeddings, coloured by predicted class; ${shown}`,
    { size: 520 },
  );
}
