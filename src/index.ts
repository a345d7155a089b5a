/**
 * alfamix's public API: the names below are kept stable on purpose. Everything else (the numeric
 * core, each strategy's parts, the data readers) is importable from "alfamix/internals", which
 * may change between releases (docs/architecture.md).
 */

// One round on your data: the next batch to label.
export { readPool, readLabeled, type Pool, type LabeledItems } from "./data/pool.js";
export {
  selectBatch,
  formatSelection,
  selectionMap,
  type SelectBatchOptions,
  type PoolFiles,
  type BatchSelection,
  type SelectedItem,
} from "./loop/select-batch.js";
export { streamBatch } from "./loop/stream-batch.js";

// Strategies: by name and settings, or as objects.
export { createStrategy, resolveStrategy, strategyInfo, STRATEGY_NAMES, type StrategySpec } from "./strategies/registry.js";
export { alfaMixStrategy, type AlfaMixParams } from "./strategies/alfamix.js";
export type { Strategy, QueryContext, QueryResult, ShardPlan, PoolChunk, PlanInputs, FinishContext, Explanation } from "./strategies/types.js";

// Models.
export { createLinear, createMLP, NeuralClassifier } from "./models/network.js";
export type { Classifier, FitOptions, FitReport } from "./models/classifier.js";
export { saveModel, loadModel } from "./models/serialize.js";

// Simulations and their report.
export { builtInDatasets } from "./data/registry.js";
export { loadDataset } from "./embed/load-dataset.js";
export type { Dataset } from "./data/dataset.js";
export { simulate, DEFAULT_CONFIG, type SimulationConfig } from "./loop/simulation.js";
export { readResults } from "./loop/results-store.js";
export type { RoundResult } from "./eval/round-result.js";
export { buildReport, writeReport } from "./report/report.js";

// Images and ONNX backbones.
export { embedImages, type EmbedOptions, type EmbedResult } from "./embed/embed.js";

// The basics every one of those takes.
export { matrix, type Matrix } from "./linalg/matrix.js";
export { gemmBackend } from "./linalg/gemm.js";
export { Rng } from "./random.js";
export { UserError, ParamError } from "./errors.js";
