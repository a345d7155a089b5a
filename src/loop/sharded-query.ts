import { encodeLabels } from "../data/dataset.js";
import { forEachLine } from "../data/files.js";
import type { LabeledItems } from "../data/pool.js";
import { describeShards, poolSource, readShardRows, type Shard } from "../data/shards.js";
import { UserError } from "../errors.js";
import { labeledRowsOf, selectedItems, type BatchSelection } from "./batch-items.js";
import { NeuralClassifier } from "../models/network.js";
import type { FitOptions } from "../models/classifier.js";
import { Rng } from "../random.js";
import { createStrategy, type StrategySpec } from "../strategies/registry.js";
import { VERSION } from "../version.js";
import type { IdList } from "../data/ids.js";
import { packArrays, unpackArrays, type DispatchProgress, type ScoreJob, type ScoreResult } from "./score-job.js";
import type { KMeansParallelResult } from "../cluster/kmeans-parallel.js";
import { unlabeledRows } from "../strategies/types.js";

/**
 * Where a sharded query's score jobs run: on workers through a Redis queue (dispatch.ts), or on
 * threads of this process (local-runner.ts). Jobs come back in the order given.
 */
export interface ScoreRunner {
  run(jobs: ScoreJob[], onProgress?: (p: DispatchProgress) => void): Promise<ScoreResult[]>;
  /** Jobs that run at once: each shard is split into ranges so that there are at least twice as many (default: a job per shard). */
  parallel?: number;
  /** k-means over pool rows as jobs where the shards are (a queue's map-reduce), for candidates too big to gather here. */
  cluster?(shards: Shard[], rows: Int32Array, k: number, options: { seed: number; onProgress?: (p: DispatchProgress) => void }): Promise<KMeansParallelResult>;
  /**
   * The pool's ids, when this process holds them (a local run): a repeated id is an error, as in
   * a whole-pool query. Without them the ids files are streamed, a shard at a time.
   */
  ids?: IdList;
}

export interface ShardedQueryOptions {
  runner: ScoreRunner;
  /** The pool's .npy shards, each with its .ids beside it. */
  files: string[];
  /** A single file's ids, when not beside it. */
  idsPath?: string;
  labeled: LabeledItems;
  /** Resolved at the edge (resolveStrategy). */
  strategy: StrategySpec;
  budget: number;
  fit?: FitOptions;
  seed?: number;
  /**
   * ALFA-Mix's k-means: the most candidate rows (in MB as float32) gathered into this process.
   * More than that and k-means runs as map-reduce jobs over the shards (k-means|| and Lloyd).
   */
  gatherMB?: number;
  onProgress?: (p: DispatchProgress) => void;
}

/** Why a strategy (with its settings) cannot be scored shard by shard, or undefined when it can. */
export function whyNotSharded(spec: StrategySpec): string | undefined {
  const strategy = createStrategy(spec);
  return strategy.plan ? undefined : (strategy.whyNoPlan ?? `${spec.label} needs the whole pool at once`);
}

/** Candidates up to 2 GB are gathered: exact, and well within one machine's memory. */
export const DEFAULT_GATHER_MB = 2048;

/**
 * `alfamix query` over .npy shards, split at its natural seams: this process finds the labelled
 * rows, trains the linear head on them, and sends one job per shard (or range of one) carrying the
 * head and the anchors (never pool rows); the runner scores the ranges, reading them a chunk at a
 * time; the results are gathered here, and the batch is chosen exactly as a whole-pool query
 * chooses it (the same candidates, the same k-means with the same seed). Same output as `query`
 * over the same rows held in memory (selectBatch).
 */
export async function shardedQuery(options: ShardedQueryOptions): Promise<BatchSelection> {
  const { budget, seed = 0, labeled } = options;
  if (!(Number.isInteger(budget) && budget >= 1)) throw new UserError(`query: the budget must be a positive integer, got ${budget}`);
  const strategy = createStrategy(options.strategy); // checks the parameters
  const plan = strategy.plan;
  if (!plan) throw new UserError(`query --queue: ${whyNotSharded(options.strategy)}; run it without --queue`);
  const { shards, rows: n, dim } = describeShards(options.files, options.idsPath);

  const { runner } = options;
  const labeledRows = runner.ids ? labeledRowsOf(runner.ids, labeled.ids, poolSource(shards.map((s) => s.file))) : await streamLabeledRows(shards, labeled);
  const { y, classNames } = encodeLabels(labeled.labels);
  if (classNames.length < 2)
    throw new UserError(
      `query: the labelled items cover ${classNames.length === 0 ? "no class" : `only the class ${JSON.stringify(classNames[0])}`}; training a classifier needs labelled items of at least 2 classes`,
    );

  // The head, trained as selectRows trains it.
  const labeledX = readShardRows(shards, labeledRows, dim);
  const model = new NeuralClassifier(dim, classNames.length, { hidden: [], dropout: 0, seed });
  const training = model.fit(labeledX, y, options.fit);
  const started = performance.now();
  const isLabeled = new Uint8Array(n);
  for (const r of labeledRows) isLabeled[r] = 1;
  const unlabeled = unlabeledRows(isLabeled);
  const b0 = Math.min(budget, unlabeled.length);
  const { W, b } = model.head();
  const state = plan.prepare({ W, b, labeledX, labels: y, budget: b0 });
  const packed = packArrays(state);
  const ranges = shards.flatMap((shard) => {
    const size = Math.min(shard.rows, runner.parallel ? Math.ceil(n / (2 * runner.parallel)) : shard.rows),
      count = Math.ceil(shard.rows / size);
    return Array.from({ length: count }, (_, k) => ({ shard, start: k * size, rows: Math.min(size, shard.rows - k * size) }));
  });
  const jobs: ScoreJob[] = ranges.map(({ shard, start, rows }) => {
    const first = shard.offset + start;
    return {
      kind: "score",
      version: VERSION,
      file: shard.file,
      fileRows: shard.rows,
      start,
      rows,
      firstRow: first,
      dim,
      labeledLocal: Array.from(labeledRows)
        .filter((r) => r >= first && r < first + rows)
        .map((r) => r - first)
        .sort((a, c) => a - c),
      strategy: options.strategy,
      state: packed,
    };
  });
  const results = await runner.run(jobs, (p) => options.onProgress?.({ ...p, stage: "scoring the shards" }));
  const parts = results.flatMap((r) => r.parts.map(unpackArrays));
  const chosen = await plan.finish(state, parts, {
    inputs: { W, b, labeledX, labels: y, budget: b0 },
    unlabeled,
    labeled: labeledRows,
    rng: new Rng(seed).child("query"),
    rowsOf: (rows) => readShardRows(shards, rows, dim),
    clusterElsewhere: (rows, k, kmeansSeed) => clusterOverShards(options, shards, rows, k, kmeansSeed),
  });
  const { indices: picked, scores } = chosen,
    stats = chosen.stats ?? {};

  const queryMs = performance.now() - started;
  const probs = model.predictProbs(readShardRows(shards, picked, dim));
  const items = selectedItems(runner.ids ? Array.from(picked, (r) => runner.ids!.get(r)) : await idsOf(shards, picked), scores, probs, classNames);
  const labeledPerClass = Object.fromEntries(classNames.map((c) => [c, 0]));
  for (const l of labeled.labels) labeledPerClass[l]++;
  const warnings = budget > unlabeled.length ? [`the budget of ${budget} exceeds the ${unlabeled.length} unlabelled items: taking all of them`] : [];
  return {
    items,
    strategy: options.strategy.label,
    scoreName: strategy.scoreName,
    poolSize: n,
    unlabeledCount: unlabeled.length,
    labeledPerClass,
    training,
    stats,
    queryMs,
    warnings,
    model,
    x: labeledX,
    classNames,
    labeledRows,
    pickedRows: picked,
  };
}

/**
 * k-means as map-reduce jobs over the shards when the rows are more than `gatherMB` (undefined:
 * gather them and cluster here, as locally). Returns the rows nearest the centres.
 */
async function clusterOverShards(
  options: ShardedQueryOptions,
  shards: Shard[],
  rows: Int32Array,
  k: number,
  seed: number,
): Promise<{ rows: Int32Array; stats: Record<string, number> } | undefined> {
  const dim = shards[0].header.shape[1],
    cluster = options.runner.cluster;
  if (!cluster || rows.length * dim * 4 <= (options.gatherMB ?? DEFAULT_GATHER_MB) * 2 ** 20) return undefined;
  const result = await cluster(shards, rows, k, { seed, onProgress: options.onProgress });
  return {
    rows: Int32Array.from(Array.from(result.nearestRows).filter((r) => r >= 0)),
    stats: { kmeansIterations: result.iterations, kmeansSeeds: result.seeds, kmeansPasses: result.passes, kmeansInertia: result.inertia },
  };
}

/** The pool rows of the labelled ids, from one pass over each shard's ids file (the coordinator of a queue never holds them all). */
async function streamLabeledRows(shards: Shard[], labeled: LabeledItems): Promise<Int32Array> {
  const wanted = new Map(labeled.ids.map((id, i) => [id, i]));
  if (wanted.size !== labeled.ids.length) throw new UserError("query: an id is labelled twice");
  const labeledRows = new Int32Array(labeled.ids.length).fill(-1);
  for (const shard of shards) {
    await forEachLine(shard.idsFile, (text, line) => {
      const i = wanted.get(text);
      if (i !== undefined && line <= shard.rows) labeledRows[i] = shard.offset + line - 1;
    });
  }
  const missing = labeledRows.indexOf(-1);
  if (missing >= 0) throw new UserError(`query: the labelled id ${JSON.stringify(labeled.ids[missing])} is not in the pool`);
  return labeledRows;
}

/** The ids of the given global rows, read from the shards' id files. */
async function idsOf(shards: Shard[], rows: Int32Array): Promise<string[]> {
  const out = new Array<string>(rows.length);
  const wanted = new Map<number, number[]>();
  rows.forEach((r, i) => wanted.set(r, [...(wanted.get(r) ?? []), i]));
  for (const shard of shards) {
    if (![...wanted.keys()].some((r) => r >= shard.offset && r < shard.offset + shard.rows)) continue;
    await forEachLine(shard.idsFile, (text, line) => {
      for (const i of wanted.get(shard.offset + line - 1) ?? []) out[i] = text;
    });
  }
  return out;
}
