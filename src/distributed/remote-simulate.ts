import { writeMapRecord } from "../loop/maps.js";
import type { RoundResult } from "../loop/results-store.js";
import { checkSourceFits, describeSource, loadSimulationSource, openSimulation, startSeed, writeSeedMap, type SimulationConfig } from "../loop/simulation.js";
import { VERSION } from "../version.js";
import type { RedisConnection } from "./connection.js";
import { dispatch, type DispatchProgress } from "./dispatch.js";
import type { SimulateJob, SimulateResult } from "./jobs.js";

export interface QueueSimulationOptions {
  out: string;
  connection: RedisConnection;
  onProgress?: (p: DispatchProgress) => void;
  onNote?: (message: string) => void;
}

/**
 * `alfamix simulate` with each (strategy, seed) run as a job for the workers: the same runs, so
 * results.jsonl gets the same lines as a local run (the same accuracies, bit for bit), written in
 * the local run's order, and a rerun resumes the same way. The seeds' maps are drawn here.
 */
export async function simulateOnQueue(requested: SimulationConfig, options: QueueSimulationOptions): Promise<RoundResult[]> {
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
  await dispatch<SimulateResult>(options.connection, jobs, {
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
