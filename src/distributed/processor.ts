import { loadSimulationSource, runStrategy, seedStartKey, startSeed, type SeedStart } from "../loop/simulation.js";
import type { ExperimentSource } from "../loop/prepare.js";
import { VERSION } from "../version.js";
import { kmeansJob, type EncodedResult } from "./kmeans-jobs.js";
import type { AlfamixJob, JobProgress, ScoreResult, SimulateJob, SimulateResult } from "./jobs.js";
import { score } from "../loop/score.js";
import { withGemmThreads } from "../linalg/gemm.js";

/**
 * What a worker runs for a job, in its own thread (BullMQ's sandbox), so that the worker's event
 * loop keeps renewing the job's lock however long the GEMMs take. A job from another version of
 * alfamix is refused: the numbers must be the coordinator's.
 */
export default async function processJob(
  job: { data: AlfamixJob; updateProgress?(progress: JobProgress): Promise<void> },
  _token?: string,
  signal?: AbortSignal,
): Promise<ScoreResult | SimulateResult | EncodedResult> {
  const data = job.data;
  if (data.version !== VERSION)
    throw new Error(`refused: this worker runs alfamix ${VERSION}, the job was made by alfamix ${data.version}; run workers of the same version`);
  // A score job runs OpenBLAS on one thread, as a local streamed query's threads do
  // (local-runner.ts), so a shard's scores are the same bits on a worker as locally.
  if (data.kind === "score") return withGemmThreads(1, () => score(data));
  if (data.kind === "kmeans") return kmeansJob(data);
  return simulateRun(data, async (progress) => {
    void job.updateProgress?.(progress).catch(() => undefined);
    // Between rounds, let this thread hear a cancellation: the worker cancels a job whose lock it
    // lost (another worker has it by now), and a run can take hours.
    await new Promise((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw new Error(`stopped: ${String(signal.reason)}`);
  });
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
  return runStrategy(start, config, job.entry, (round, labeled, accuracy) =>
    report({
      fraction: (round + 1) / (rounds + 1),
      line: `${job.entry} seed ${seed} round ${round}/${rounds}: ${labeled} labels, accuracy ${(100 * accuracy).toFixed(2)}%`,
    }),
  );
}
