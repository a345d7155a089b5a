import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { readLabeled } from "../data/pool.js";
import { describeShards, expandPoolFiles, poolSource, readPools } from "../data/shards.js";
import { isTextSource } from "../data/text/corpus.js";
import { readTextPool } from "../embed/text/text-dataset.js";
import { UserError } from "../errors.js";
import { formatMs, percent } from "../eval/format.js";
import { writeAtomically } from "../data/files.js";
import { formatSelection, isColdStart, selectBatch, selectionMap } from "../loop/select-batch.js";
import { checkedConnection } from "../distributed/connection.js";
import { remoteKMeans } from "../distributed/kmeans-jobs.js";
import { canStream, streamBatch } from "../loop/stream-batch.js";
import { DEFAULT_GATHER_MB, shardedQuery, type ShardedQueryOptions } from "../loop/sharded-query.js";
import { dispatch } from "../distributed/dispatch.js";
import { dispatchProgress } from "./worker.js";
import { OptionReader, type CommandSpec, type ParsedArgs } from "./args.js";
import { strategySpec, strategyOptionSpecs } from "./strategy-options.js";
import { STRATEGY_NAMES } from "../strategies/registry.js";
import { parseImageSize } from "./dataset-options.js";

export const queryCommand: CommandSpec = {
  name: "query",
  usage: "alfamix query --pool FILE [FILE…] [--labeled FILE] [--strategy alfamix] [--budget 100] [--out FILE] [--queue redis://HOST:PORT] [options]",
  summary: "Pick the next items to label: train a head on the labelled items, run a strategy over the rest, write id,rank,score,predicted_label,confidence.",
  options: {
    pool: {
      type: "string",
      multiple: true,
      placeholder: "FILE|DIR|GLOB",
      help: "every item: a table (.csv, .txt, …) with an id column, .jsonl {id, embedding}, .npy (N×D), or a folder of images; several files or a glob ('emb/part-*.npy', each shard with its .ids) are one pool, in order",
    },
    ids: { type: "string", placeholder: "FILE", help: ".npy pools: one id per line", default: "X.ids beside X.npy, else the row number" },
    "image-size": { type: "string", placeholder: "N|HxW", help: "image pools: resize to this size", default: "the most common size" },
    "text-column": {
      type: "string",
      placeholder: "NAME",
      help: "a pool of texts: the table column (or JSONL field) holding each item's text, embedded with --text-model",
      default: "text",
    },
    "text-model": {
      type: "string",
      placeholder: "M",
      help: "a pool of texts (a table with --text-column, a .jsonl of texts or a folder of .txt): tfidf or glove-100d fitted on the pool, a .text-model.json from embed --text, or an exported encoder folder (tokenizer.json, model.onnx)",
      default: "tfidf",
    },
    labeled: {
      type: "string",
      placeholder: "FILE",
      help: "labels so far: .csv with id,label columns, or .jsonl {id, label}; none, or one class only, is a cold start (TypiClust, no model)",
    },
    strategy: {
      type: "string",
      placeholder: "NAME[k=v]",
      help: `${STRATEGY_NAMES.slice(0, -1).join(", ")} or ${STRATEGY_NAMES.at(-1)}, with settings (alfamix[select=norm])`,
      default: "alfamix",
    },
    budget: { type: "string", placeholder: "N", help: "items to pick", default: "100" },
    model: { type: "string", placeholder: "linear|mlp", help: "the head trained on the labelled items", default: "linear" },
    hidden: { type: "string", placeholder: "N[,N…]", help: "MLP hidden widths", default: "256" },
    dropout: { type: "string", placeholder: "P", help: "dropout before the head (bald needs > 0)", default: "0" },
    epochs: { type: "string", placeholder: "N", help: "maximum training epochs (stops at 99% training accuracy)", default: "1000" },
    lr: { type: "string", placeholder: "LR", help: "Adam learning rate", default: "0.001" },
    standardize: { type: "boolean", help: "standardise each feature with the pool's mean and std" },
    seed: { type: "string", placeholder: "N", help: "seeds training and the strategy", default: "0" },
    out: { type: "string", placeholder: "FILE", help: "write here (atomically) instead of stdout" },
    format: { type: "string", placeholder: "csv|jsonl", help: "output format", default: "csv, or jsonl for a .jsonl --out" },
    queue: {
      type: "string",
      placeholder: "redis://HOST:PORT",
      help: "score the shards on workers (alfamix worker) through this Redis; the same output as a local run",
    },
    "kmeans-gather-mb": {
      type: "string",
      placeholder: "MB",
      help: "with --queue: ALFA-Mix's candidates up to this size are gathered for k-means here; more run k-means|| and Lloyd as jobs over the shards",
      default: String(DEFAULT_GATHER_MB),
    },
    map: { type: "string", placeholder: "FILE.svg", help: "also draw the embedding map: the pool in 2-D (UMAP), the labelled items and the batch" },
    quiet: { type: "boolean", help: "no summary on stderr" },
    ...strategyOptionSpecs,
  },
  // More pool files, as a shell expands --pool emb/part-*.npy.
  positionals: { min: 0, max: Number.MAX_SAFE_INTEGER },
};

export async function runQuery(args: ParsedArgs): Promise<void> {
  const options = new OptionReader("query", args.values);
  // Shells expand an unquoted glob: the files after the first come as arguments.
  const poolSpecs = [...options.strings("pool"), ...args.positionals];
  const poolPath = poolSpecs[0],
    labeledPath = options.string("labeled");
  if (args.positionals.length && !options.strings("pool").length)
    throw new UserError(`query: unexpected argument ${JSON.stringify(args.positionals[0])} (see alfamix query --help)`);
  if (!poolPath) throw new UserError("query: --pool FILE is required (see alfamix query --help)");
  const out = options.string("out"),
    mapFile = options.string("map");
  for (const file of [out, mapFile]) {
    if (file && !existsSync(dirname(resolve(file)))) throw new UserError(`query: cannot write ${file}: its folder does not exist`);
  }
  const format = options.choice("format", ["csv", "jsonl"] as const, out && /\.jsonl$/i.test(out) ? "jsonl" : "csv");
  // A mistyped value is reported before minutes go into reading a pool.
  options.int("budget", 100, 1);
  strategySpec(options);
  const started = performance.now();
  const imageSize = options.string("image-size");
  const poolFiles = expandPoolFiles(poolSpecs);
  const queue = options.string("queue");
  const labeled = labeledPath ? await readLabeled(labeledPath) : { ids: [], labels: [] };
  // A cold start (fewer than two classes labelled) has no head to stream or shard: TypiClust reads the pool whole.
  const cold = isColdStart(labeled);
  if (queue && cold)
    throw new UserError("query --queue: a cold start (fewer than two classes labelled) runs TypiClust on the pool held whole; run it without --queue");
  const texts = options.string("text-column") !== undefined || options.string("text-model") !== undefined || isTextSource(poolPath);
  if (texts && (poolFiles.length > 1 || queue))
    throw new UserError("query: a pool of texts is one file or folder, embedded here; for sharded or queued pools, run alfamix embed --text first");
  if (queue) return runQueuedQuery(options, queue, poolFiles, labeled, out, mapFile, format);
  if (!cold && !texts && streamable(options, poolFiles)) return runStreamedQuery(options, poolFiles, labeled, out, format);
  const pool = texts
    ? await readTextPool(poolPath, {
        textColumn: options.string("text-column"),
        textModel: options.string("text-model"),
        onPhase: options.flag("quiet") ? undefined : (phase) => process.stderr.write(`query: ${phase}\n`),
      })
    : await readPools(poolFiles, options.string("ids"), imageSize === undefined ? undefined : parseImageSize(imageSize, "query: --image-size"));
  const loadMs = performance.now() - started;
  const selection = selectBatch({
    pool,
    labeled,
    strategy: strategySpec(options),
    budget: options.int("budget", 100, 1),
    model: options.choice("model", ["linear", "mlp"] as const, "linear"),
    hidden: options.intList("hidden", [256], 1),
    dropout: options.number("dropout", 0, 0, 0.99),
    fit: { epochs: options.int("epochs", 1000, 1), lr: options.number("lr", 0.001, 1e-12) },
    standardize: options.flag("standardize"),
    seed: options.int("seed", 0),
  });
  // Everything is computed before anything is written: a failure leaves no file behind.
  const text = formatSelection(selection.items, format);
  const map = mapFile ? selectionMap(selection, options.int("seed", 0)) : undefined;
  if (out) writeAtomically(out, text);
  else process.stdout.write(text);
  if (mapFile) writeAtomically(mapFile, map!);
  if (options.flag("quiet")) return;
  for (const warning of selection.warnings) console.error(`alfamix: warning: ${warning}`);
  const perClass = Object.entries(selection.labeledPerClass).map(([name, n]) => `${name}: ${n}`);
  const t = selection.training,
    stats = selection.stats;
  console.error(`pool: ${selection.poolSize} items × ${pool.x.cols} features (${pool.source ?? poolPath}), read in ${formatMs(loadMs)}`);
  console.error(
    labeled.ids.length
      ? `labelled: ${labeled.ids.length} in ${perClass.length} class${perClass.length === 1 ? "" : "es"} (${perClass.slice(0, 12).join(", ")}${perClass.length > 12 ? ", …" : ""}); unlabelled: ${selection.unlabeledCount}`
      : `labelled: none; unlabelled: ${selection.unlabeledCount}`,
  );
  if (t)
    console.error(`model: ${options.string("model", "linear")} head, ${t.epochs} epochs, training accuracy ${percent(t.trainAccuracy, 1)}, ${formatMs(t.ms)}`);
  if (selection.coldStart) console.error(`cold start: ${selection.coldStart}`);
  const details = Object.entries(stats)
    .filter(([k]) => !k.endsWith("Ms"))
    .map(([k, v]) => `${k} ${Number(v.toPrecision(4))}`)
    .join(", ");
  console.error(
    `${selection.strategy}: picked ${selection.items.length}${details ? ` (${details})` : ""} in ${formatMs(selection.queryMs)}; score = ${selection.scoreName}`,
  );
  if (out) console.error(`wrote ${selection.items.length} rows to ${out}`);
  if (mapFile) console.error(`wrote the embedding map to ${mapFile}`);
}

/**
 * Whether the query can stream its .npy pool instead of holding it: every file with its ids beside
 * it (or one file and --ids), a strategy that scores rows independently (ALFA-Mix's closed form, the uncertainty scores),
 * and a linear head on the rows as they are.
 */
function streamable(options: OptionReader, files: string[]): boolean {
  if (options.string("map")) return false;
  const head = { model: options.choice("model", ["linear", "mlp"] as const, "linear"), standardize: options.flag("standardize") };
  return canStream(files, options.string("ids"), strategySpec(options), head);
}

/** The query options shared by the streamed and the queued run. */
function shardedOptions(options: OptionReader, files: string[], labeled: Awaited<ReturnType<typeof readLabeled>>): Omit<ShardedQueryOptions, "runner"> {
  return {
    files,
    labeled,
    strategy: strategySpec(options),
    budget: options.int("budget", 100, 1),
    fit: { epochs: options.int("epochs", 1000, 1), lr: options.number("lr", 0.001, 1e-12) },
    seed: options.int("seed", 0),
  };
}

/**
 * A local query over .npy pools: the rows are read and scored a chunk at a time on every core
 * (local-runner.ts), never held whole. The same output as reading the pool whole (selectBatch).
 */
async function runStreamedQuery(
  options: OptionReader,
  files: string[],
  labeled: Awaited<ReturnType<typeof readLabeled>>,
  out: string | undefined,
  format: "csv" | "jsonl",
): Promise<void> {
  const started = performance.now();
  const idsPath = options.string("ids");
  const { dim } = describeShards(files, idsPath);
  // Progress only for runs long enough to wonder about (10⁷ rows: about a minute).
  const progress = dispatchProgress(options.flag("quiet"), "query", "threads");
  const selection = await streamBatch({
    ...shardedOptions(options, files, labeled),
    idsPath,
    onProgress: (p) => p.elapsedMs > 3000 && progress.update(p),
  }).finally(() => progress.done());
  const text = formatSelection(selection.items, format);
  if (out) writeAtomically(out, text);
  else process.stdout.write(text);
  if (options.flag("quiet")) return;
  for (const warning of selection.warnings) console.error(`alfamix: warning: ${warning}`);
  const perClass = Object.entries(selection.labeledPerClass).map(([name, n]) => `${name}: ${n}`);
  const t = selection.training,
    stats = selection.stats;
  console.error(`pool: ${selection.poolSize} items × ${dim} features (${poolSource(files)}), read a chunk at a time`);
  console.error(
    `labelled: ${labeled.ids.length} in ${perClass.length} classes (${perClass.slice(0, 12).join(", ")}${perClass.length > 12 ? ", …" : ""}); unlabelled: ${selection.unlabeledCount}`,
  );
  console.error(`model: linear head, ${t!.epochs} epochs, training accuracy ${percent(t!.trainAccuracy, 1)}, ${formatMs(t!.ms)}`);
  const details = Object.entries(stats)
    .map(([k, v]) => `${k} ${Number(v.toPrecision(4))}`)
    .join(", ");
  console.error(
    `${selection.strategy}: picked ${selection.items.length}${details ? ` (${details})` : ""} in ${formatMs(selection.queryMs)}, ${formatMs(performance.now() - started)} in all; score = ${selection.scoreName}`,
  );
  if (out) console.error(`wrote ${selection.items.length} rows to ${out}`);
}

/** query --queue: the shards scored by workers, the batch chosen here, the same output as locally. */
async function runQueuedQuery(
  options: OptionReader,
  queue: string,
  files: string[],
  labeled: Awaited<ReturnType<typeof readLabeled>>,
  out: string | undefined,
  mapFile: string | undefined,
  format: "csv" | "jsonl",
): Promise<void> {
  if (mapFile) throw new UserError("query: --map needs the whole pool in this process; run it without --queue");
  if (options.flag("standardize")) throw new UserError("query: --standardize needs the whole pool in this process; run it without --queue");
  if (options.string("model", "linear") !== "linear")
    throw new UserError("query --queue trains a linear head (on embeddings); run an MLP head without --queue");
  const connection = await checkedConnection(queue);
  const quiet = options.flag("quiet");
  const progress = dispatchProgress(quiet, "query");
  const started = performance.now();
  const selection = await shardedQuery({
    ...shardedOptions(options, files, labeled),
    runner: {
      run: (jobs, onProgress) => dispatch(connection, jobs, { onProgress }),
      cluster: (shards, rows, k, clusterOptions) => remoteKMeans(connection, shards, rows, k, clusterOptions),
    },
    gatherMB: options.number("kmeans-gather-mb", DEFAULT_GATHER_MB, 0),
    onProgress: (p) => progress.update(p),
  }).finally(() => progress.done());
  const text = formatSelection(selection.items, format);
  if (out) writeAtomically(out, text);
  else process.stdout.write(text);
  if (quiet) return;
  for (const warning of selection.warnings) console.error(`alfamix: warning: ${warning}`);
  console.error(
    `pool: ${selection.poolSize} items in ${files.length} shard${files.length === 1 ? "" : "s"}; labelled ${labeled.ids.length}; head trained in ${formatMs(selection.training!.ms)} (${selection.training!.epochs} epochs)`,
  );
  const details = Object.entries(selection.stats)
    .map(([k, v]) => `${k} ${Number(v.toPrecision(4))}`)
    .join(", ");
  console.error(
    `${selection.strategy}: picked ${selection.items.length}${details ? ` (${details})` : ""} in ${formatMs(performance.now() - started)} over the queue; score = ${selection.scoreName}`,
  );
  if (out) console.error(`wrote ${selection.items.length} rows to ${out}`);
}
