import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { UserError } from "../errors.js";
import { withGemmThreads } from "../linalg/gemm.js";
import { terminateWorker } from "../workers.js";
import type { DispatchProgress, ScoreJob, ScoreResult } from "./score-job.js";
import type { ScoreRunner } from "./sharded-query.js";

/**
 * Score jobs run by threads of this process, one range at a time each: a local query over .npy
 * pools reads and scores its rows a chunk at a time on every core, and never holds the pool. The
 * threads start at once, so they load their code while this thread reads the ids; `close` ends
 * them (after the run, or when the query fails before it).
 */
export function localRunner(threads = Math.min(2, availableParallelism())): ScoreRunner & { close(): Promise<void> } {
  const workers = Array.from({ length: threads }, () => new Worker(new URL("./score-thread.js", import.meta.url)));
  return {
    parallel: threads,
    // Each thread's GEMMs run on one OpenBLAS thread: two callers each waking OpenBLAS's own two
    // threads made the 10⁶-row query 3.2–3.7 s instead of 2.7 s, with the same picks.
    run: (jobs, onProgress) => withGemmThreads(1, () => runOnThreads<ScoreJob, ScoreResult>(jobs, workers, { onProgress })),
    close: async () => void (await Promise.all(workers.map(terminateWorker))),
  };
}

/**
 * Jobs run by `workers`, one at a time each, in order of index; results come back by index, each
 * also to `onResult` as it arrives. A thread may post `{index, progress}` (the share of its job
 * done) between results, which the progress counts as work under way.
 */
export async function runOnThreads<J, R>(
  jobs: J[],
  workers: Worker[],
  options: { onProgress?: (p: DispatchProgress) => void; onResult?: (index: number, result: R) => void } = {},
): Promise<R[]> {
  const results = new Array<R>(jobs.length);
  const underWay = new Map<number, number>();
  const started = performance.now();
  let next = 0,
    done = 0;
  const report = () => {
    const elapsedMs = performance.now() - started;
    const partial = [...underWay.values()].reduce((s, v) => s + v, 0);
    const progress = done + partial;
    options.onProgress?.({
      done,
      total: jobs.length,
      underWay: partial,
      workers: workers.length,
      elapsedMs,
      etaMs: progress > 0 ? (elapsedMs / progress) * (jobs.length - progress) : undefined,
    });
  };
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve, reject) => {
          const send = () => (next < jobs.length ? worker.postMessage({ index: next, job: jobs[next++] }) : resolve());
          worker.on("message", (m: { index: number; result?: R; progress?: number; error?: string; user?: boolean }) => {
            if (m.error !== undefined) return reject(m.user ? new UserError(m.error) : new Error(m.error));
            if (m.progress !== undefined) {
              underWay.set(m.index, m.progress);
              return report();
            }
            underWay.delete(m.index);
            results[m.index] = m.result!;
            done++;
            options.onResult?.(m.index, m.result!);
            report();
            send();
          });
          worker.on("error", reject);
          send();
        }),
    ),
  );
  return results;
}
