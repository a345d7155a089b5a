import { applyRegime, DEFAULT_CONFIG, simulate, type SimulationConfig } from "../loop/simulation.js";
import { NOISE_KINDS, REGIME_NAMES, REGIMES } from "../loop/protocol.js";
import { MODEL_KINDS } from "../models/factory.js";
import { OptionReader, type CommandSpec, type OptionSpec, type ParsedArgs } from "./args.js";
import { progressPrinter } from "./progress.js";
import { readStrategyOptions, strategyOptionSpecs } from "./strategy-options.js";
import { UserError } from "../errors.js";
import { checkedConnection } from "../distributed/connection.js";
import { simulateOnQueue, simulateOnThreads } from "../distributed/remote-simulate.js";
import type { DispatchProgress } from "../distributed/dispatch.js";
import { dispatchProgress } from "./worker.js";
import { datasetOptionSpecs, readLoadOptions } from "./dataset-options.js";
import { ALFAMIX_ABLATION, splitStrategyList } from "../strategies/variants.js";

const d = DEFAULT_CONFIG;

/** The flags that define a simulation (shared with `demo`). */
export const simulationOptionSpecs: Record<string, OptionSpec> = {
  dataset: {
    type: "string",
    placeholder: "D",
    help: "a built-in name (see alfamix datasets), a directory of IDX files or images, a text table (.csv, .txt, .data, …) or a .npy file",
  },
  test: { type: "string", placeholder: "D2", help: "a separate test set; default the dataset's own, else a stratified split per seed" },
  ...datasetOptionSpecs,
  model: { type: "string", placeholder: "mlp|linear|cnn|resnet18", help: "the classifier; cnn and resnet18 train on images from pixels", default: d.model },
  hidden: { type: "string", placeholder: "N[,N…]", help: "MLP hidden layer widths", default: d.hidden.join(",") },
  dropout: { type: "string", placeholder: "P", help: "dropout before the head (BALD needs > 0)", default: String(d.dropout) },
  "resnet-stem": {
    type: "string",
    placeholder: "cifar|imagenet",
    help: "resnet18: a 3×3 stem for 32×32 images, or ImageNet's 7×7 stem with max-pool (as the public code)",
    default: "cifar",
  },
  optimizer: { type: "string", placeholder: "adam|sgd", help: "sgd: momentum, --weight-decay and a cosine schedule over --epochs", default: "adam" },
  momentum: { type: "string", placeholder: "M", help: "SGD momentum", default: "0.9" },
  augment: { type: "boolean", help: "conv nets: seeded random crops (4-pixel padding) and horizontal flips" },
  mean: {
    type: "string",
    placeholder: "M[,M,M]",
    help: "images: per-channel mean to subtract (with --std)",
    default: "the dataset's own, else fitted on the pool",
  },
  std: { type: "string", placeholder: "S[,S,S]", help: "images: per-channel std to divide by (with --mean)" },
  strategies: {
    type: "string",
    placeholder: "a,b[k=v],x=c[k=v]",
    help: "strategies to compare; settings per entry (alfamix[select=norm]) and aliases (alfamix-norm=alfamix[select=norm])",
    default: d.strategies.join(","),
  },
  ablation: {
    type: "string",
    placeholder: "alfamix",
    help: "add the paper's ablation of ALFA-Mix: closed-form, learned and random α; k-means, norm, sym-KL and uniform selection",
  },
  seeds: { type: "string", placeholder: "1,10,…", help: "paired seeds", default: d.seeds.join(",") },
  init: { type: "string", placeholder: "N", help: "initial labelled items, drawn at random", default: String(d.init) },
  query: { type: "string", placeholder: "N", help: "items labelled per round", default: String(d.query) },
  rounds: { type: "string", placeholder: "N", help: "query rounds after the initial one", default: String(d.rounds) },
  regime: {
    type: "string",
    placeholder: REGIME_NAMES.join("|"),
    help: `a budget preset in labels per class, initially and per round (${REGIME_NAMES.map((r) => `${r} ${REGIMES[r]}`).join(", ")}); instead of --init and --query`,
  },
  initial: {
    type: "string",
    placeholder: "random|typiclust",
    help: "how the initial labelled items are drawn: at random, or by TypiClust (the cold start query and serve use)",
    default: "random",
  },
  imbalance: {
    type: "string",
    placeholder: "R",
    help: "a seeded long-tail subsample of the pool, the rarest class R times rarer than the first (Ji et al. use 10 and 100)",
  },
  "label-noise": { type: "string", placeholder: "P", help: "the simulated annotator answers wrongly with probability P (the test set stays clean)" },
  noise: { type: "string", placeholder: NOISE_KINDS.join("|"), help: "wrong answers drawn uniformly from the other classes, or c → c+1", default: "symmetric" },
  epochs: { type: "string", placeholder: "N", help: "maximum epochs per training", default: String(d.epochs) },
  lr: { type: "string", placeholder: "LR", help: "Adam learning rate", default: String(d.lr) },
  batch: { type: "string", placeholder: "N", help: "mini-batch size", default: String(d.batch) },
  "weight-decay": { type: "string", placeholder: "L2", help: "Adam weight decay", default: String(d.weightDecay) },
  "target-accuracy": { type: "string", placeholder: "A", help: "stop training at this training accuracy", default: String(d.targetAccuracy) },
  normalize: {
    type: "string",
    placeholder: "auto|feature|channel|none",
    help: "auto: the dataset's own mean/std (MNIST), else per channel for conv nets and per feature otherwise",
    default: d.normalize,
  },
  "test-fraction": { type: "string", placeholder: "F", help: "test share when splitting", default: String(d.testFraction) },
  "map-round": { type: "string", placeholder: "R", help: "save the embedding map of round R's batches for the report (0: none)", default: "1" },
  quiet: { type: "boolean", help: "no progress line" },
  ...strategyOptionSpecs,
};

export const simulateCommand: CommandSpec = {
  name: "simulate",
  usage: "alfamix simulate --dataset D [--test D2] [--strategies a,b,c] [--seeds 1,10,100] [--out DIR] [options]",
  summary:
    "Run paired active-learning experiments (same seed ⇒ same split, initial labels and initial weights for every strategy) and write DIR/config.json and DIR/results.jsonl. Rerunning with the same --out resumes.",
  options: {
    ...simulationOptionSpecs,
    out: { type: "string", placeholder: "DIR", help: "results directory", default: "alfamix-results" },
    queue: {
      type: "string",
      placeholder: "redis://HOST:PORT",
      help: "run each (strategy, seed) on workers (alfamix worker) through this Redis; the same results as locally",
    },
    threads: {
      type: "string",
      placeholder: "N",
      help: "run the (strategy, seed) runs on N threads of this process, one core each; the same results as in one (many seeds of a small model: use every core)",
      default: "1",
    },
  },
};

export function readSimulationConfig(options: OptionReader, defaults: Partial<SimulationConfig> = {}): SimulationConfig {
  const base = { ...DEFAULT_CONFIG, ...defaults };
  const dataset = options.string("dataset") ?? defaults.dataset;
  if (!dataset) throw new UserError("simulate: --dataset is required (mnist, a directory of IDX files or images, a text table or a .npy file)");
  return {
    dataset,
    test: options.string("test") ?? base.test,
    ...readLoadOptions(options, "simulate"),
    model: options.choice("model", MODEL_KINDS, base.model),
    hidden: options.intList("hidden", base.hidden, 1),
    dropout: options.number("dropout", base.dropout, 0, 0.99),
    ...readConvSettings(options, base),
    strategies: readStrategyList(options, base.strategies),
    strategyOptions: readStrategyOptions(options),
    seeds: options.intList("seeds", base.seeds, 0),
    init: options.int("init", base.init, 1),
    query: options.int("query", base.query, 1),
    rounds: options.int("rounds", base.rounds, 0),
    epochs: options.int("epochs", base.epochs, 1),
    lr: options.number("lr", base.lr, 1e-12),
    batch: options.int("batch", base.batch, 1),
    weightDecay: options.number("weight-decay", base.weightDecay, 0),
    targetAccuracy: options.number("target-accuracy", base.targetAccuracy, 0),
    normalize: options.choice("normalize", ["auto", "feature", "channel", "none"] as const, base.normalize),
    testFraction: options.number("test-fraction", base.testFraction, 0, 1),
    mapRound: options.int("map-round", base.mapRound ?? 1, 0),
    ...readProtocol(options),
  };
}

/** --regime, --initial, --imbalance, --label-noise and --noise, kept out of the configuration when unset (older results directories still resume). */
function readProtocol(options: OptionReader): Partial<SimulationConfig> {
  const regime = options.string("regime") === undefined ? undefined : options.choice("regime", REGIME_NAMES, "low");
  if (regime && (options.string("init") !== undefined || options.string("query") !== undefined)) {
    throw new UserError("simulate: --regime sets --init and --query (labels per class); give one or the others");
  }
  const imbalance = options.string("imbalance") === undefined ? undefined : options.number("imbalance", 1, 1);
  const labelNoise = options.string("label-noise") === undefined ? undefined : options.number("label-noise", 0, 0, 0.999);
  const noise = options.choice("noise", NOISE_KINDS, "symmetric");
  if (options.string("noise") !== undefined && !labelNoise) throw new UserError("simulate: --noise says how --label-noise flips labels; add --label-noise P");
  const initial = options.choice("initial", ["random", "typiclust"] as const, "random");
  return {
    ...(regime ? { regime } : {}),
    ...(initial === "typiclust" ? { initial } : {}),
    ...(imbalance !== undefined && imbalance > 1 ? { imbalance } : {}),
    ...(labelNoise ? { labelNoise, noise } : {}),
  };
}

/**
 * The settings only conv nets and SGD use, kept out of the configuration when at their defaults
 * so that results directories written before them still resume.
 */
function readConvSettings(options: OptionReader, base: Partial<SimulationConfig>): Partial<SimulationConfig> {
  const stem = options.choice("resnet-stem", ["cifar", "imagenet"] as const, base.resnetStem ?? "cifar");
  const optimizer = options.choice("optimizer", ["adam", "sgd"] as const, base.optimizer ?? "adam");
  const momentum = options.number("momentum", base.momentum ?? 0.9, 0, 0.999);
  if (options.string("momentum") !== undefined && optimizer !== "sgd") throw new UserError("simulate: --momentum is SGD's; add --optimizer sgd");
  return {
    ...(stem !== "cifar" ? { resnetStem: stem } : {}),
    ...(optimizer === "sgd" ? { optimizer, momentum } : {}),
    ...(options.flag("augment") || base.augment ? { augment: true } : {}),
    ...(options.numberList("mean") ? { mean: options.numberList("mean") } : base.mean ? { mean: base.mean } : {}),
    ...(options.numberList("std") ? { std: options.numberList("std") } : base.std ? { std: base.std } : {}),
  };
}

/** --strategies (split at the commas between entries) plus, with --ablation alfamix, the ablation's variants. */
function readStrategyList(options: OptionReader, fallback: string[]): string[] {
  const text = options.string("strategies");
  const ablation = options.string("ablation");
  if (ablation !== undefined && ablation !== "alfamix") throw new UserError(`simulate: --ablation expects alfamix, got ${JSON.stringify(ablation)}`);
  const listed = text === undefined ? (ablation ? [] : fallback) : splitStrategyList(text);
  if (text !== undefined && listed.length === 0) throw new UserError(`simulate: --strategies expects a comma-separated list, got ${JSON.stringify(text)}`);
  const extra = ablation ? ALFAMIX_ABLATION.filter((entry) => !listed.includes(entry)) : [];
  return [...listed, ...extra];
}

/** Run a simulation with a progress line. */
export async function runSimulationCommand(config: SimulationConfig, out: string, quiet: boolean): Promise<void> {
  const progress = progressPrinter(quiet);
  const started = performance.now();
  try {
    await simulate(config, {
      out,
      onProgress: (p) => progress.update(p),
      onNote: (message) => {
        progress.done();
        if (!quiet) console.error(message);
      },
    });
  } finally {
    progress.done();
  }
  if (!quiet)
    console.error(`simulate: done in ${((performance.now() - started) / 1000).toFixed(1)} s; results in ${out}/results.jsonl (next: alfamix report ${out})`);
}

export async function runSimulate(args: ParsedArgs): Promise<void> {
  const options = new OptionReader("simulate", args.values);
  const config = await applyRegime(readSimulationConfig(options)),
    out = options.string("out", "alfamix-results"),
    quiet = options.flag("quiet");
  const queue = options.string("queue");
  const threads = options.int("threads", 1, 1, 64);
  if (queue && threads > 1) throw new UserError("simulate: --queue and --threads are two ways to spread the runs; choose one");
  if (!queue && threads === 1) return runSimulationCommand(config, out, quiet);
  const connection = queue ? await checkedConnection(queue) : undefined;
  const progress = dispatchProgress(quiet, "simulate", connection ? "workers" : "threads");
  const started = performance.now();
  const runOptions = {
    out,
    onProgress: (p: DispatchProgress) => progress.update(p),
    onNote: (message: string) => {
      progress.done();
      if (!quiet) console.error(message);
    },
  };
  await (connection ? simulateOnQueue(config, { ...runOptions, connection }) : simulateOnThreads(config, { ...runOptions, threads })).finally(() =>
    progress.done(),
  );
  if (!quiet)
    console.error(
      `simulate: done in ${((performance.now() - started) / 1000).toFixed(1)} s ${connection ? "over the queue" : `on ${threads} threads`}; results in ${out}/results.jsonl (next: alfamix report ${out})`,
    );
}
