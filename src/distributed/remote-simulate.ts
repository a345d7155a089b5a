import { Worker } from "node:worker_threads";
import { gemmOnCallingThreads } from "../linalg/gemm.js";
import { runOnThreads } from "../loop/local-runner.js";
import { writeMapRecord } from "../loop/maps.js";
import { terminateWorker } from "../workers.js";
import type { RoundResult } from "../loop/results-store.js";
import { checkSourceFits, describeSource, loadSimulationSource, openSimulation, startSeed, writeSeedMap, type SimulationConfig } from "../loop/simulation.js";
import { VERSION } from "../version.js";
import type { RedisConnection } from "./connection.js";
import { dispatch, type DispatchProgress } from "./dispatch.js";
import type { SimulateJob, SimulateResult } from "./jobs.js";

export interface JobSimulationOptions {
  out: string;
  onProgress?: (p: DispatchProgress) => void;
  onNote?: (message: string) => void;
}

export type QueueSimulationOptions = JobSimulationOptions & { connection: RedisConnection };

/** How a set of simulate jobs is run: on the queue's workers, or on threads of this process. */
type RunJobs = (
  jobs: SimulateJob[],
  callbacks: { onProgress?: (p: DispatchProgress) => void; onResult: (index: number, result: SimulateResult) => void },
) => Promise<unknown>;

/** `alfamix simulate --queue`: each (strategy, seed) run is a job for the workers (see simulateOnJobs). */
export function simulateOnQueue(requested: SimulationConfig, options: QueueSimulationOptions): Promise<RoundResult[]> {
  return simulateOnJobs(requested, options, (jobs, callbacks) => dispatch<SimulateResult>(options.connection, jobs, callbacks));
}

/**
 * `alfamix simulate --threads N`: each (strategy, seed) run on one of N threads of this process,
 * each thread's GEMM on its own core; many seeds of a small model then use every core.
 */
export async function simulateOnThreads(requested: SimulationConfig, options: JobSimulationOptions & { threads: number }): Promise<RoundResult[]> {
  // The threads share OpenBLAS, each on its own thread: the record of what ran says so. The numbers
  // are then those of an in-process run with OPENBLAS_NUM_THREADS=1 (OpenBLAS's thread count moves
  // the last bits of its sums).
  gemmOnCallingThreads();
  const workers = Array.from({ length: options.threads }, () => new Worker(new URL("./job-thread.js", import.meta.url)));
  try {
    return await simulateOnJobs(requested, options, (jobs, callbacks) => runOnThreads<SimulateJob, SimulateResult>(jobs, workers, callbacks));
  } finally {
    await Promise.all(workers.map(terminateWorker));
  }
}

/**
 * `alfamix simulate` with each (strategy, seed) run as a job: the same runs, so results.jsonl gets
 * the same lines as a local run (the same accuracies, bit for bit), written in the local run's
 * order, and a rerun resumes the same way. The seeds' maps are drawn here.
 */
async function simulateOnJobs(requested: SimulationConfig, options: JobSimulationOptions, run: RunJobs): Promise<RoundResult[]> {
  const { store, pending, runsTotal, config } = openSimulation(requested, options.out);
  if (runsTotal > pending.length) options.onNote?.(`resuming: ${runsTotal - pending.length} of ${runsTotal} runs are already in ${options.out}`);
  if (pending.length === 0) return store.all();
  // Loaded here too, so that data the configuration cannot use fails before any job goes out.
  const source = await loadSimulationSource(config);
  checkSourceFits(source, config);
  options.onNote?.(describeSource(source, config));
  const jobs: SimulateJob[] = pending.map(({ seed, entry }) => ({ kind: "simulate", version: VERSION, config, seed, entry }));
  // Results are stored in the order a local run stores them, as soon as every run before them is in.
  const arrived: (SimulateResult | undefined)[] = new Array(jobs.length);
  let stored = 0;
  await run(jobs, {
    onProgress: options.onProgress,
    onResult: (index, result) => {
      arrived[index] = result;
      while (stored < jobs.length && arrived[stored]) {
        const { rows, mapRecord } = arrived[stored]!;
        if (mapRecord) writeMapRecord(options.out, jobs[stored].seed, mapRecord);
        store.addRun(rows);
        stored++;
      }
    },
  });
  const mapRound = config.mapRound ?? 1;
  if (mapRound >= 1 && mapRound <= config.rounds) {
    for (const seed of new Set(pending.map((p) => p.seed))) {
      const note = writeSeedMap(options.out, startSeed(source, config, seed), config);
      if (note) options.onNote?.(note);
    }
  }
  return store.all();
}
