import type { Job, Queue, QueueEvents } from "bullmq";
import { UserError } from "../errors.js";
import type { DispatchProgress } from "../loop/score-job.js";
import type { RedisConnection } from "./connection.js";

export type { DispatchProgress } from "../loop/score-job.js";
import { jobId, QUEUE_NAME, type AlfamixJob, type JobProgress } from "./jobs.js";

/**
 * Send jobs to the workers and wait for every result (in the order given). Jobs get ids from
 * their content, so resending the same work finds the finished job's result instead of running it
 * again, and a job that failed before is retried. A job a worker fails (or refuses) ends the wait
 * with one line. `onResult` hears of each result as it arrives.
 */
export async function dispatch<T>(
  connection: RedisConnection,
  jobs: AlfamixJob[],
  options: { onProgress?: (p: DispatchProgress) => void; onResult?: (index: number, result: T) => void } = {},
): Promise<T[]> {
  // Loaded here, not at start-up: bullmq takes about 0.2 s to load, which every command paid.
  const { Queue, QueueEvents } = await import("bullmq");
  const queue = new Queue(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  // Each job waited on adds a "closing" listener until it finishes: one per job is expected, not a leak.
  for (const emitter of [queue, events]) emitter.setMaxListeners(jobs.length + 10);
  const started = performance.now();
  try {
    await events.waitUntilReady();
    const added = await queue.addBulk(
      jobs.map((data) => ({
        name: data.kind,
        data,
        // Finished jobs are kept for a day so a rerun of the same round can find them; retries are
        // for workers that die (stalled jobs), not for errors, which would repeat.
        opts: { jobId: jobId(data), attempts: 1, removeOnComplete: { age: 86400 }, removeOnFail: { age: 86400 } },
      })),
    );
    for (const job of added) if ((await job.getState()) === "failed") await job.retry();
    let done = 0,
      workers = await workersCount(queue, connection);
    // Each running job's reported share; a late report of a finished job is ignored.
    const shares = new Map<string, number>(),
      running = new Set(added.map((job) => job.id));
    const report = () => {
      const elapsedMs = performance.now() - started;
      let underWay = 0;
      for (const share of shares.values()) underWay += share;
      const progress = done + underWay;
      options.onProgress?.({
        done,
        total: jobs.length,
        underWay,
        workers,
        elapsedMs,
        etaMs: progress > 0 ? (elapsedMs / progress) * (jobs.length - progress) : undefined,
      });
    };
    events.on("progress", ({ jobId, data }) => {
      const fraction = (data as Partial<JobProgress>)?.fraction;
      if (running.has(jobId) && typeof fraction === "number") {
        shares.set(jobId, Math.min(1, Math.max(0, fraction)));
        report();
      }
    });
    const watcher = setInterval(() => {
      workersCount(queue, connection).then(
        (n) => {
          workers = n;
          report();
        },
        () => undefined,
      );
    }, 1000);
    report();
    try {
      return await Promise.all(
        added.map(async (job: Job, index) => {
          const result = (await waitFor(job, events)) as T;
          running.delete(job.id);
          shares.delete(job.id!);
          done++;
          options.onResult?.(index, result);
          report();
          return result;
        }),
      );
    } finally {
      clearInterval(watcher);
    }
  } finally {
    await events.close();
    await queue.close();
  }
}

/**
 * Workers on this queue in this Redis database. BullMQ's own count lists the server's clients by
 * name, which counts the workers of a same-named queue in every other database as well.
 */
async function workersCount(queue: Queue, connection: RedisConnection): Promise<number> {
  const db = String(connection.db ?? 0);
  return (await queue.getWorkers()).filter((w) => w.db === db).length;
}

async function waitFor(job: Job, events: QueueEvents): Promise<unknown> {
  try {
    return await job.waitUntilFinished(events); // also answers at once for a job finished earlier
  } catch (e) {
    throw new UserError(`a worker failed job ${job.id} (${job.name}): ${(e as Error).message.split("\n")[0]}`);
  }
}
