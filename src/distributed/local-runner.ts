import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { IdList } from "../data/ids.js";
import { UserError } from "../errors.js";
import { terminateWorker } from "../workers.js";
import type { ScoreJob, ScoreResult } from "./jobs.js";
import type { ScoreRunner } from "./sharded-query.js";

/**
 * Score jobs run by threads of this process, one range at a time each: a local query over .npy
 * pools reads and scores its rows a chunk at a time on every core, and never holds the pool.
 */
export function localRunner(ids: IdList, threads = Math.min(2, availableParallelism())): ScoreRunner {
  return { ids, parallel: threads, run: (jobs) => runOnThreads(jobs, threads) };
}

async function runOnThreads(jobs: ScoreJob[], threads: number): Promise<ScoreResult[]> {
  const results = new Array<ScoreResult>(jobs.length);
  const workers = Array.from({ length: Math.min(threads, jobs.length) }, () => new Worker(new URL("./score-thread.js", import.meta.url)));
  let next = 0;
  try {
    await Promise.all(workers.map((worker) => new Promise<void>((resolve, reject) => {
      const send = () => (next < jobs.length ? worker.postMessage({ index: next, job: jobs[next++] }) : resolve());
      worker.on("message", (m: { index: number; result?: ScoreResult; error?: string; user?: boolean }) => {
        if (m.error !== undefined) return reject(m.user ? new UserError(m.error) : new Error(m.error));
        results[m.index] = m.result!;
        send();
      });
      worker.on("error", reject);
      send();
    })));
  } finally {
    await Promise.all(workers.map(terminateWorker));
  }
  return results;
}
