import { Queue, QueueEvents, type Job } from "bullmq";
import { UserError } from "../errors.js";
import type { RedisConnection } from "./connection.js";
import { jobId, QUEUE_NAME, type AlfamixJob } from "./jobs.js";

export interface DispatchProgress {
  done: number;
  total: number;
  /** Workers connected to the queue now. */
  workers: number;
  elapsedMs: number;
  etaMs?: number;
  /** What the jobs are for, when a command sends several rounds of them. */
  stage?: string;
}

/**
 * Send jobs to the workers and wait for every result (in the order given). Jobs get ids from
 * their content, so resending the same work finds the finished job's result instead of running it
 * again, and a job that failed before is retried. A job a worker fails (or refuses) ends the wait
 * with one line. `onResult` hears of each result as it arrives.
 */
export async function dispatch<T>(connection: RedisConnection, jobs: AlfamixJob[], options: { onProgress?: (p: DispatchProgress) => void; onResult?: (index: number, result: T) => void } = {}): Promise<T[]> {
  const queue = new Queue(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  // Each job waited on adds a "closing" listener until it finishes: one per job is expected, not a leak.
  for (const emitter of [queue, events]) emitter.setMaxListeners(jobs.length + 10);
  const started = performance.now();
  try {
    await events.waitUntilReady();
    const added = await queue.addBulk(jobs.map((data) => ({
      name: data.kind, data,
      // Finished jobs are kept for a day so a rerun of the same round can find them; retries are
      // for workers that die (stalled jobs), not for errors, which would repeat.
      opts: { jobId: jobId(data), attempts: 1, removeOnComplete: { age: 86400 }, removeOnFail: { age: 86400 } },
    })));
    for (const job of added) if ((await job.getState()) === "failed") await job.retry();
    let done = 0, workers = await queue.getWorkersCount();
    const report = () => {
      const elapsedMs = performance.now() - started;
      options.onProgress?.({ done, total: jobs.length, workers, elapsedMs, etaMs: done > 0 ? (elapsedMs / done) * (jobs.length - done) : undefined });
    };
    const watcher = setInterval(() => {
      queue.getWorkersCount().then((n) => {
        workers = n;
        report();
      }, () => undefined);
    }, 1000);
    report();
    try {
      return await Promise.all(added.map(async (job: Job, index) => {
        const result = (await waitFor(job, events)) as T;
        done++;
        options.onResult?.(index, result);
        report();
        return result;
      }));
    } finally {
      clearInterval(watcher);
    }
  } finally {
    await events.close();
    await queue.close();
  }
}

async function waitFor(job: Job, events: QueueEvents): Promise<unknown> {
  try {
    return await job.waitUntilFinished(events); // also answers at once for a job finished earlier
  } catch (e) {
    throw new UserError(`a worker failed job ${job.id} (${job.name}): ${(e as Error).message.split("\n")[0]}`);
  }
}
