import { DEFAULT_RANDOM_SHARE, defaultCriteria, estimateGain } from "../eval/stopping.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Delimiter } from "../data/csv.js";
import { UserError } from "../errors.js";
import { accuracy, classBalancedScores } from "../eval/metrics.js";
import { subset } from "../data/dataset.js";
import { longTailRows, noisyAnswers, regimeBudget, type NoiseKind, type Regime } from "./protocol.js";
import { gatherRows } from "../linalg/matrix.js";
import { argmaxRows } from "../linalg/rows.js";
import type { Classifier } from "../models/classifier.js";
import { createClassifier, isConvKind, requireImageShape, type ModelKind } from "../models/factory.js";
import { Rng } from "../random.js";
import { createStrategy, resolveStrategy, upgradeStrategyParams, type StrategyParams, type StrategySpec } from "../strategies/registry.js";
import { kebab } from "../strategies/params.js";
import { parseStrategyEntry } from "../strategies/variants.js";
import { checkNormalization, loadExperimentSource, prepareExperiment, type Experiment, type ExperimentSource, type Normalization } from "./prepare.js";
import { readConfig, ResultsStore, type RoundResult } from "./results-store.js";
import { readMapRecords, writeMapRecord, writeProjection, type MapRecord } from "./maps.js";
import { projectForMap } from "../eval/projection.js";
import { unlabeledRows } from "../strategies/types.js";
import { typicalBatch } from "../strategies/typiclust.js";
import { describeMachine, type MachineRecord } from "./machine.js";

/** Everything that defines a simulation; written to config.json so that it can be rerun. */
export interface SimulationConfig {
  dataset: string;
  test?: string;
  labelColumn?: string;
  labels?: string;
  /** Text tables: the delimiter and whether there is a header (default: sniffed, detected). */
  delimiter?: Delimiter;
  header?: boolean;
  /** Images: the size to resize to (default: the most common size). */
  imageSize?: [number, number];
  /** Texts: the text column of a table or JSONL, and the text model (default tfidf). */
  textColumn?: string;
  textModel?: string;
  model: ModelKind;
  hidden: number[];
  dropout: number;
  /** resnet18: a 3×3 stem for 32×32 inputs (cifar, default) or ImageNet's 7×7 stem. */
  resnetStem?: "cifar" | "imagenet";
  /** Adam (default) or SGD with momentum and a cosine schedule. */
  optimizer?: "adam" | "sgd";
  momentum?: number;
  /** Conv nets: seeded random crops (4-pixel padding) and horizontal flips. */
  augment?: boolean;
  /** Per-channel normalisation values (override `normalize`). */
  mean?: number[];
  std?: number[];
  strategies: string[];
  /** Strategy parameters given for every entry of that strategy (the --alfamix-cap flags and the like); entries' own settings win. */
  strategyOptions: StrategyParams;
  /**
   * Each entry's resolved strategy, by label: written to config.json, so that a results directory
   * says exactly what ran. Results are identified per entry: another entry's parameters never
   * block resuming.
   */
  specs?: Record<string, Omit<StrategySpec, "label">>;
  seeds: number[];
  /** Initial labelled items, drawn at random per seed. */
  init: number;
  /** Items labelled per round. */
  query: number;
  rounds: number;
  epochs: number;
  lr: number;
  batch: number;
  weightDecay: number;
  /** Stop training once an epoch's training accuracy reaches this (the paper: 0.99). */
  targetAccuracy: number;
  normalize: Normalization;
  /** Test share of a stratified split when the dataset has no test set of its own. */
  testFraction: number;
  /** The round whose batches the embedding map shows (0: no map). */
  mapRound?: number;
  /** The budget regime that set `init` and `query` (labels per class; see protocol.ts), for the record. */
  regime?: Regime;
  /** What ran the simulation (CPU, GEMM kernel and threads, Node, onnxruntime), each machine once: written by simulate, never compared. */
  machines?: MachineRecord[];
  /** How the initial labelled set is drawn: at random (default), or by TypiClust, the cold start `query` and `serve` use. */
  initial?: "typiclust";
  /** A seeded long-tail subsample of the pool with this imbalance ratio (the test set stays as it is). */
  imbalance?: number;
  /** The simulated oracle answers wrongly with this probability (the test set stays clean). */
  labelNoise?: number;
  /** How a wrong answer is drawn (default symmetric). */
  noise?: NoiseKind;
}

export const DEFAULT_CONFIG: Omit<SimulationConfig, "dataset"> = {
  model: "mlp",
  hidden: [256],
  dropout: 0,
  strategies: ["random", "entropy", "alfamix"],
  strategyOptions: {},
  seeds: [1, 10, 100, 1000, 10000],
  init: 100,
  query: 100,
  rounds: 10,
  epochs: 1000,
  lr: 0.001,
  batch: 64,
  weightDecay: 0,
  targetAccuracy: 0.99,
  normalize: "auto",
  testFraction: 0.2,
  mapRound: 1,
};

export interface Progress {
  strategy: string;
  seed: number;
  round: number;
  rounds: number;
  labeled: number;
  accuracy: number;
  /** Runs (strategy, seed) finished and in all, counting those resumed from disk. */
  runsDone: number;
  runsTotal: number;
  elapsedMs: number;
  /** Estimated time left, from the pace so far (undefined until one round has run). */
  etaMs?: number;
}

export interface SimulationOptions {
  /** Results directory: config.json and results.jsonl; runs already there are skipped. */
  out: string;
  onProgress?: (progress: Progress) => void;
  /** Called with a one-line note (data loaded, runs skipped). */
  onNote?: (message: string) => void;
}

/** Settings that must match for results to be combined; strategies, seeds and rounds may grow. */
const IDENTITY_KEYS = [
  "dataset",
  "test",
  "labelColumn",
  "labels",
  "delimiter",
  "header",
  "imageSize",
  "textColumn",
  "textModel",
  "model",
  "hidden",
  "dropout",
  "resnetStem",
  "optimizer",
  "momentum",
  "augment",
  "mean",
  "std",
  "init",
  "query",
  "epochs",
  "lr",
  "batch",
  "weightDecay",
  "targetAccuracy",
  "normalize",
  "testFraction",
  "regime",
  "initial",
  "imbalance",
  "labelNoise",
  "noise",
] as const;

/** What makes two seed starts the same (the data, the model, the protocol, the seed). */
export function seedStartKey(config: SimulationConfig, seed: number): string {
  return JSON.stringify([...IDENTITY_KEYS.map((k) => config[k]), config.seeds[0], seed]);
}

/** Each entry's resolved strategy, by label. */
function specsOf(config: Pick<SimulationConfig, "strategies" | "strategyOptions">): Record<string, Omit<StrategySpec, "label">> {
  return Object.fromEntries(
    config.strategies.map((entry) => {
      const { label, name, params } = resolveStrategy(entry, config.strategyOptions);
      return [label, { name, params }];
    }),
  );
}

function checkConfig(config: SimulationConfig): void {
  specsOf(config); // unknown names, keys and values fail here
  if (config.strategies.some((entry) => parseStrategyEntry(entry).name === "bald") && !(config.dropout > 0)) {
    throw new UserError("bald needs a model with dropout: add --dropout 0.2 (say), or run bald in a separate setting with dropout");
  }
  const labels = config.strategies.map(labelOf);
  const twice = labels.find((label, i) => labels.indexOf(label) !== i);
  if (twice !== undefined) throw new UserError(`simulate: the strategy ${JSON.stringify(twice)} is listed twice in ${config.strategies.join(",")}`);
  if (config.seeds.length === 0) throw new UserError("simulate: needs at least one seed");
  if (!(config.init >= 1)) throw new UserError("simulate: --init must be at least 1 (ALFA-Mix and the model need labelled items)");
  if (config.resnetStem && config.model !== "resnet18") throw new UserError(`simulate: --resnet-stem is resnet18's; the model is ${config.model}`);
  if (config.augment && !isConvKind(config.model))
    throw new UserError(`simulate: --augment crops and flips images for conv nets; --model ${config.model} does not read images`);
}

/** The configuration's demands on the data (images for conv nets, one mean per channel), checked before any work. */
export function checkSourceFits(source: ExperimentSource, config: SimulationConfig): void {
  if (isConvKind(config.model)) requireImageShape(config.model, source.train);
  checkNormalization(source.train, { normalize: config.normalize, mean: config.mean, std: config.std });
}

/** A simulation's results directory opened for a run: what is done, and what is left. */
export interface OpenedSimulation {
  store: ResultsStore;
  /** (seed, entry) runs still to do, seed by seed. */
  pending: { seed: number; entry: string }[];
  runsTotal: number;
  /** The configuration to run: the rounds are the directory's, when it has more. */
  config: SimulationConfig;
}

/**
 * Check the configuration, compare it with the one already in `out` (only strategies, seeds and
 * rounds may grow) and write the merged one; returns the runs still to do. More rounds extend the
 * runs listed: each is run again from its start (every round is deterministic, so the rounds
 * already stored come out the same) and its rows replaced.
 */
export function openSimulation(requested: SimulationConfig, out: string): OpenedSimulation {
  checkConfig(requested);
  const previous = readConfig<SimulationConfig>(out);
  // A directory's runs only grow: fewer rounds than it holds run to its rounds.
  const config = { ...requested, rounds: Math.max(requested.rounds, previous?.rounds ?? 0) };
  if (previous) {
    const differing = IDENTITY_KEYS.filter((k) => JSON.stringify(previous[k]) !== JSON.stringify(config[k]));
    if (differing.length) {
      const what = differing.map((k) => `${k}: ${JSON.stringify(previous[k])} there, ${JSON.stringify(config[k])} here`).join("; ");
      throw new UserError(`${out} holds results of a different simulation (${what}); use another --out`);
    }
  }
  const specs = specsOf(config);
  const previousSpecs = previous ? (previous.specs ?? specsOf({ ...previous, strategyOptions: upgradeStrategyParams(previous.strategyOptions) })) : {};
  for (const [label, spec] of Object.entries(specs)) {
    const before = previousSpecs[label];
    const key = before && Object.keys(spec.params).find((k) => JSON.stringify(before.params[k]) !== JSON.stringify(spec.params[k]));
    if (key) {
      throw new UserError(
        `${out} holds results of ${label} with ${kebab(key)}=${before.params[key]}; this run has ${kebab(key)}=${spec.params[key]}. Use another --out, or give this one an alias (e.g. ${label.replace(/\W+/g, "-")}-2=${label})`,
      );
    }
  }
  const store = new ResultsStore(out);
  const merged: SimulationConfig = {
    ...config,
    strategies: [...new Set([...(previous?.strategies ?? []), ...config.strategies])],
    seeds: [...new Set([...(previous?.seeds ?? []), ...config.seeds])],
    specs: { ...previousSpecs, ...specs },
    machines: withMachine(previous?.machines ?? []),
  };
  writeFileSync(join(out, "config.json"), JSON.stringify(merged, null, 2) + "\n");
  const pending = config.seeds
    .flatMap((seed) => config.strategies.map((entry) => ({ seed, entry })))
    .filter(({ seed, entry }) => !store.isComplete(labelOf(entry), seed, config.rounds));
  return { store, pending, runsTotal: config.seeds.length * config.strategies.length, config };
}

/** The machines that ran into a directory, this one added when it is new (a resumed run may go on elsewhere). */
function withMachine(machines: MachineRecord[]): MachineRecord[] {
  const here = describeMachine();
  return machines.some((m) => JSON.stringify(m) === JSON.stringify(here)) ? machines : [...machines, here];
}

/** The data of a simulation, loaded once. */
export function loadSimulationSource(config: SimulationConfig): Promise<ExperimentSource> {
  return loadExperimentSource(config.dataset, config.test, {
    labelColumn: config.labelColumn,
    labels: config.labels,
    delimiter: config.delimiter,
    header: config.header,
    imageSize: config.imageSize,
    textColumn: config.textColumn,
    textModel: config.textModel,
  });
}

/**
 * The seed's pool under the harness's protocol: a long-tailed subsample (--imbalance) and the
 * noisy oracle's answers in place of the truth (--label-noise). Both are drawn from the seed
 * alone, so every strategy of a seed sees the same pool and the same wrong answers.
 */
function applyPoolProtocol(experiment: Experiment, config: SimulationConfig, seed: number): void {
  const classes = experiment.pool.classNames.length;
  if (config.imbalance !== undefined && config.imbalance > 1) {
    const kept = longTailRows(experiment.pool.y, classes, config.imbalance, new Rng(seed).child("imbalance"));
    experiment.pool = subset(experiment.pool, kept, `${experiment.pool.name} (long tail ${config.imbalance})`);
  }
  if (config.labelNoise) {
    const answers = noisyAnswers(experiment.pool.y, classes, config.labelNoise, config.noise ?? "symmetric", new Rng(seed).child("oracle"));
    experiment.pool = { ...experiment.pool, y: answers };
  }
}

/** The initial labels and labels per round of a regime, set on the configuration once the number of classes is known. */
export async function applyRegime(config: SimulationConfig): Promise<SimulationConfig> {
  if (!config.regime) return config;
  const source = await loadSimulationSource(config);
  return { ...config, ...regimeBudget(config.regime, source.train.classNames.length) };
}

/** What every strategy of a seed starts from: the seed's pool and test set, initial labels and round-0 model. */
export interface SeedStart {
  seed: number;
  experiment: Experiment;
  initial: Int32Array;
  model: Classifier;
  round0: ReturnType<typeof trainAndTest>;
  round0Weights: Float32Array;
}

/** A seed's start: split (or the source's own test set), initial labels, the round-0 model trained. */
export function startSeed(source: ExperimentSource, config: SimulationConfig, seed: number): SeedStart {
  const experiment = prepareExperiment(source, source.test ? config.seeds[0] : seed, config.testFraction, {
    normalize: config.normalize,
    mean: config.mean,
    std: config.std,
    images: isConvKind(config.model),
  });
  applyPoolProtocol(experiment, config, seed);
  const { pool } = experiment;
  if (config.init + config.query * config.rounds > pool.x.rows) {
    throw new UserError(`simulate: ${config.init} initial + ${config.rounds} × ${config.query} labels exceed the pool of ${pool.x.rows} items`);
  }
  const initialRng = new Rng(seed).child("initial");
  const initial =
    config.initial === "typiclust"
      ? typicalBatch(
          pool.x,
          new Int32Array(0),
          Int32Array.from({ length: pool.x.rows }, (_, i) => i),
          config.init,
          initialRng,
        ).indices
      : initialRng.sample(pool.x.rows, config.init);
  const model = createClassifier(config, pool, seed);
  const round0 = trainAndTest(model, experiment, initial, config);
  return { seed, experiment, initial, model, round0, round0Weights: model.weights() };
}

/**
 * One strategy's run from a seed's start: each round queries a batch, labels it from the ground
 * truth, retrains from the initial weights and tests. Returns its result rows and, at the map
 * round, what was labelled and picked. Deterministic: the same run gives the same rows anywhere.
 */
export async function runStrategy(
  start: SeedStart,
  config: SimulationConfig,
  entry: string,
  onRound?: (round: number, labeled: number, accuracy: number) => void | Promise<void>,
): Promise<{ rows: RoundResult[]; mapRecord?: MapRecord }> {
  const { seed, experiment, initial, model, round0 } = start;
  const { pool } = experiment;
  const mapRound = config.mapRound ?? DEFAULT_CONFIG.mapRound!;
  const strategy = createStrategy(resolveStrategy(entry, config.strategyOptions)),
    strategyName = strategy.name;
  model.setWeights(start.round0Weights);
  const stopping = stoppingCheck(start);
  const isLabeled = new Uint8Array(pool.x.rows);
  for (const i of initial) isLabeled[i] = 1;
  const audit = auditTrail(start, config.query, strategyName);
  const rows: RoundResult[] = [
    { strategy: strategyName, seed, round: 0, labeled: initial.length, ...round0, queryMs: 0, ...checkStops(stopping, audit, model, isLabeled, 0) },
  ];
  let labeled = initial,
    mapRecord: MapRecord | undefined;
  await onRound?.(0, labeled.length, round0.accuracy);
  for (let round = 1; round <= config.rounds; round++) {
    const unlabeled = unlabeledRows(isLabeled);
    const queryStart = performance.now();
    const result = strategy.query(
      {
        pool: pool.x,
        labeled,
        labels: labeled.map((i) => pool.y[i]),
        unlabeled,
        model,
        rng: new Rng(seed).child(`query/${strategyName}/${round}`),
      },
      config.query,
    );
    const queryMs = performance.now() - queryStart;
    if (round === mapRound) mapRecord = { strategy: strategyName, round, labelled: Array.from(labeled), batch: Array.from(result.indices) };
    for (const i of result.indices) isLabeled[i] = 1;
    labeled = Int32Array.from([...labeled, ...result.indices]);
    const tested = trainAndTest(model, experiment, labeled, config);
    rows.push({
      strategy: strategyName,
      seed,
      round,
      labeled: labeled.length,
      ...tested,
      queryMs,
      ...(result.stats ? { stats: roundStats(result.stats) } : {}),
      ...checkStops(stopping, audit, model, isLabeled, round),
    });
    await onRound?.(round, labeled.length, tested.accuracy);
  }
  return { rows, mapRecord };
}

/** Items a seed's runs check their stopping criteria on: a seeded sample of the pool, the same for every strategy. */
const STOPPING_SET = 1000;

/** A run's stopping criteria (fresh state), checked on the seed's stopping set: the names of those that say stop. */
function stoppingCheck(start: SeedStart): (model: Classifier) => string[] {
  const { pool } = start.experiment;
  const x = gatherRows(pool.x, new Rng(start.seed).child("stopping").sample(pool.x.rows, Math.min(STOPPING_SET, pool.x.rows)));
  const criteria = defaultCriteria(pool.classNames.length);
  return (model) => {
    const probs = model.predictProbs(x);
    const predictions = argmaxRows(probs);
    return criteria.filter((c) => c.check(predictions, probs).stop).map((c) => c.name);
  };
}

/** A round's stopping figures: the criteria that say stop (ours from the audit too), and the audit. */
function checkStops(
  stopping: (model: Classifier) => string[],
  audit: AuditTrail,
  model: Classifier,
  isLabeled: Uint8Array,
  round: number,
): Pick<RoundResult, "stop" | "audit"> {
  const checked = audit(model, isLabeled, round);
  return { stop: [...stopping(model), ...(checked.stop ? ["estimate-gain"] : [])], audit: checked.audit };
}

type AuditTrail = (model: Classifier, isLabeled: Uint8Array, round: number) => { audit: { n: number; correct: number }; stop: boolean };

/**
 * Our estimate-gain criterion as serve runs it, without changing the run: after every round the
 * model guesses the labels of a random share of a batch (serve's 10%, at least one item) drawn from
 * the still-unlabelled items, the oracle answers, and the criterion reads the run of these
 * points. The audit items are not trained on; they are the criterion's own cost.
 */
function auditTrail(start: SeedStart, batch: number, strategyName: string): AuditTrail {
  const { pool } = start.experiment;
  const size = Math.max(1, Math.round(DEFAULT_RANDOM_SHARE * batch));
  const points: { n: number; correct: number }[] = [];
  return (model, isLabeled, round) => {
    const open = unlabeledRows(isLabeled);
    const rows = Array.from(new Rng(start.seed).child(`audit/${strategyName}/${round}`).sample(open.length, Math.min(size, open.length)), (p) => open[p]);
    const guesses = rows.length ? argmaxRows(model.predictProbs(gatherRows(pool.x, rows))) : new Int32Array(0);
    const audit = { n: rows.length, correct: rows.filter((r, i) => guesses[i] === pool.y[r]).length };
    points.push(audit);
    return { audit, stop: estimateGain(points).stop };
  };
}

/**
 * The seed's map: one projection shared by its strategies, of the round-0 model's embeddings (the
 * model every strategy's round-1 query used), over every labelled and picked item on record and a
 * sample. Nothing when the map round is 0 or past the last round.
 */
export function writeSeedMap(out: string, start: SeedStart, config: SimulationConfig): string | undefined {
  const mapRound = config.mapRound ?? DEFAULT_CONFIG.mapRound!;
  if (!(mapRound >= 1 && mapRound <= config.rounds)) return undefined;
  const { pool } = start.experiment;
  start.model.setWeights(start.round0Weights);
  const records = readMapRecords(out, start.seed);
  const must = new Set(records.flatMap((r) => [...r.labelled, ...r.batch]));
  writeProjection(out, start.seed, mapRound, projectForMap(start.model.embed(pool.x), pool.y, must, new Rng(start.seed).child("map")), pool.y, pool.classNames);
  return `map: seed ${start.seed}, round ${mapRound}, ${must.size} labelled and picked items`;
}

/**
 * Paired active-learning runs: for each seed, every strategy starts from the same split, the
 * same initial labelled set and the same initial weights; each round queries a batch, labels it
 * from the ground truth, retrains from the initial weights and tests on the whole test set.
 * Completed (strategy, seed) runs already in `out` are kept and skipped.
 */
export async function simulate(requested: SimulationConfig, options: SimulationOptions): Promise<RoundResult[]> {
  const opened = openSimulation(requested, options.out),
    { store, pending, runsTotal, config } = opened;
  let runsDone = runsTotal - pending.length;
  if (runsDone > 0) options.onNote?.(`resuming: ${runsDone} of ${runsTotal} runs are already in ${options.out}`);
  if (pending.length === 0) return store.all();

  const started = performance.now();
  const source = await loadSimulationSource(config);
  checkSourceFits(source, config);
  options.onNote?.(describeSource(source, config));
  const roundsTotal = pending.length * (config.rounds + 1);
  let roundsDone = 0;
  for (const seed of config.seeds) {
    const entries = pending.filter((t) => t.seed === seed).map((t) => t.entry);
    if (entries.length === 0) continue;
    // Round 0 is the same for every strategy: trained once here, its weights restored for each.
    const start = startSeed(source, config, seed);
    for (const entry of entries) {
      const strategy = labelOf(entry);
      const { rows, mapRecord } = await runStrategy(start, config, entry, (round, labeled, accuracy) => {
        roundsDone++;
        const elapsedMs = performance.now() - started;
        options.onProgress?.({
          strategy,
          seed,
          round,
          rounds: config.rounds,
          labeled,
          accuracy,
          runsDone,
          runsTotal,
          elapsedMs,
          etaMs: (elapsedMs / roundsDone) * (roundsTotal - roundsDone),
        });
      });
      if (mapRecord) writeMapRecord(options.out, seed, mapRecord);
      store.addRun(rows);
      runsDone++;
    }
    const note = writeSeedMap(options.out, start, config);
    if (note) options.onNote?.(note);
  }
  return store.all();
}

/** One line on the data a simulation runs on. */
export function describeSource(source: ExperimentSource, config: SimulationConfig): string {
  return `data: ${source.train.name}, ${source.train.x.rows} rows × ${source.train.x.cols} features, ${source.train.classNames.length} classes${source.test ? `; test set ${source.test.x.rows} rows` : `; test: stratified ${config.testFraction} split per seed`}`;
}

/** What results call an entry: its alias, else the entry as written. */
const labelOf = (entry: string) => parseStrategyEntry(entry).label;

function trainAndTest(
  model: Classifier,
  experiment: Experiment,
  labeled: Int32Array,
  config: SimulationConfig,
): { accuracy: number; balancedAccuracy: number; macroF1: number; trainMs: number } {
  const { pool, test } = experiment;
  const report = model.fit(
    gatherRows(pool.x, labeled),
    labeled.map((i) => pool.y[i]),
    {
      epochs: config.epochs,
      lr: config.lr,
      batchSize: config.batch,
      weightDecay: config.weightDecay,
      targetAccuracy: config.targetAccuracy,
      optimizer: config.optimizer,
      momentum: config.momentum,
      augment: config.augment,
    },
  );
  const predicted = argmaxRows(model.predictProbs(test.x));
  return { accuracy: accuracy(predicted, test.y), ...classBalancedScores(predicted, test.y, test.classNames.length), trainMs: report.ms };
}

/** Strategy stats rounded for the record (times to 0.1 ms). */
function roundStats(stats: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, k.endsWith("Ms") ? Math.round(v * 10) / 10 : v]));
}
