import { parentPort } from "node:worker_threads";
import { UserError } from "../errors.js";
import { gemmOnCallingThreads } from "../linalg/gemm.js";
import type { SimulateJob } from "./jobs.js";
import processJob from "./processor.js";

// Threads of one process share OpenBLAS: each runs its GEMMs on its own thread, one core each.
gemmOnCallingThreads();

/** A thread of `simulate --threads` (simulateOnThreads): run each (strategy, seed) job it is sent, reporting its rounds. */
parentPort!.on("message", async ({ index, job }: { index: number; job: SimulateJob }) => {
  try {
    const result = await processJob({ data: job, updateProgress: async (p) => parentPort!.postMessage({ index, progress: p.fraction }) });
    parentPort!.postMessage({ index, result });
  } catch (e) {
    parentPort!.postMessage({ index, error: (e as Error).message, user: e instanceof UserError });
  }
});
