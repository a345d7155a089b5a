import { readNpyRows } from "../data/npy.js";
import { plannedShardHeader } from "../data/shards.js";
import { matrix } from "../linalg/matrix.js";
import { linearFromWeights } from "../models/network.js";
import { loadSimulationSource, runStrategy, seedStartKey, startSeed, type SeedStart } from "../loop/simulation.js";
import type { ExperimentSource } from "../loop/prepare.js";
import { closedFormSearch } from "../strategies/alfamix-closed-form.js";
import { entropyScores, leastConfidenceScores, marginScores } from "../strategies/uncertainty.js";
import { topK, unlabeledRows } from "../strategies/types.js";
import { VERSION } from "../version.js";
import { kmeansJob, type EncodedResult } from "./kmeans-jobs.js";
import { floatsFromBase64, toBase64, type AlfamixJob, type JobProgress, type ScoreJob, type ScoreResult, type SimulateJob, type SimulateResult } from "./jobs.js";

/**
 * What a worker runs for a job, in its own thread (BullMQ's sandbox), so that the worker's event
 * loop keeps renewing the job's lock however long the GEMMs take. A job from another version of
 * alfamix is refused: the numbers must be the coordinator's.
 */
export default async function processJob(job: { data: AlfamixJob; updateProgress?(progress: JobProgress): Promise<void> }, _token?: string, signal?: AbortSignal): Promise<ScoreResult | SimulateResult | EncodedResult> {
  const data = job.data;
  if (data.version !== VERSION) throw new Error(`refused: this worker runs alfamix ${VERSION}, the job was made by alfamix ${data.version}; run workers of the same version`);
  if (data.kind === "score") return score(data);
  if (data.kind === "kmeans") return kmeansJob(data);
  return simulateRun(data, async (progress) => {
    void job.updateProgress?.(progress).catch(() => undefined);
    // Between rounds, let this thread hear a cancellation: the worker cancels a job whose lock it
    // lost (another worker has it by now), and a run can take hours.
    await new Promise((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw new Error(`stopped: ${String(signal.reason)}`);
  });
}

/** Rows read and scored at a time: bounded memory whatever the shard's size. */
const CHUNK_ROWS = 65536;

/** One shard's scores: ALFA-Mix's first flipping cap per row, or an uncertainty strategy's top rows. */
export function score(job: ScoreJob): ScoreResult {
  const header = plannedShardHeader(job.file, job.rows, job.head.D);
  const { K, D } = job.head;
  const W = matrix(K, D, floatsFromBase64(job.head.W)), b = floatsFromBase64(job.head.b);
  const labeled = new Uint8Array(job.rows);
  for (const r of job.labeledLocal) labeled[r] = 1;
  const firstCap = new Uint8Array(job.rows);
  const scores = new Float64Array(job.rows).fill(NaN);
  const model = linearFromWeights(W, b);
  for (let start = 0; start < job.rows; start += CHUNK_ROWS) {
    const count = Math.min(CHUNK_ROWS, job.rows - start);
    const x = matrix(count, D, readNpyRows(job.file, header, start, count));
    const unlabeled = unlabeledRows(labeled.subarray(start, start + count));
    if (job.strategy === "alfamix") {
      const a = job.alfamix!;
      const search = closedFormSearch({
        embeddings: x, unlabeled, W, b,
        anchors: { anchors: matrix(K, D, floatsFromBase64(a.anchors)), exact: a.exact.map((e) => Int32Array.from(e)) },
      }, { caps: a.caps, keep: "none", budget: job.budget });
      unlabeled.forEach((i, p) => (firstCap[start + i] = search.firstCap[p]));
    } else {
      const probs = model.predictProbs(x);
      const s = job.strategy === "entropy" ? entropyScores(probs) : job.strategy === "margin" ? marginScores(probs) : leastConfidenceScores(probs);
      for (const i of unlabeled) scores[start + i] = s[i];
    }
  }
  if (job.strategy === "alfamix") return { firstCap: toBase64(firstCap) };
  // The strategies' own ranking: margin takes the smallest gaps, the others the largest scores.
  const ranked = job.strategy === "margin" ? scores.map((v) => -v) : scores;
  const top = topK(ranked, job.budget);
  return { top: { rows: Array.from(top), scores: Array.from(top, (r) => scores[r]) } };
}

// A worker thread serves many jobs: the data and each seed's start are loaded once.
const sources = new Map<string, Promise<ExperimentSource>>();
const starts = new Map<string, SeedStart>();

/** One (strategy, seed) run, exactly as `simulate` runs it locally, reporting each round as it ends. */
async function simulateRun(job: SimulateJob, report: (progress: JobProgress) => Promise<void>): Promise<SimulateResult> {
  const { config, seed } = job;
  const dataKey = JSON.stringify([config.dataset, config.test, config.labelColumn, config.labels, config.delimiter, config.header, config.imageSize]);
  if (!sources.has(dataKey)) sources.set(dataKey, loadSimulationSource(config));
  const source = await sources.get(dataKey)!;
  const startKey = seedStartKey(config, seed);
  let start = starts.get(startKey);
  if (!start) {
    if (starts.size > 4) starts.clear();
    start = startSeed(source, config, seed);
    starts.set(startKey, start);
  }
  const { rounds } = config;
  return runStrategy(start, config, job.entry, (round, labeled, accuracy) => report({
    fraction: (round + 1) / (rounds + 1),
    line: `${job.entry} seed ${seed} round ${round}/${rounds}: ${labeled} labels, accuracy ${(100 * accuracy).toFixed(2)}%`,
  }));
}
