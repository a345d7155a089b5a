import { fileURLToPath } from "node:url";
import { VERSION } from "../version.js";
import { checkedConnection } from "./connection.js";
import { QUEUE_NAME, type JobProgress } from "./jobs.js";

export interface WorkerOptions {
  concurrency?: number;
  /** How long a job stays this worker's without renewal; a dead worker's jobs go to another after it (default 30 s). */
  lockMs?: number;
  log?: (line: string) => void;
  /** Resolves when the worker should stop (default: SIGINT or SIGTERM). */
  until?: Promise<void>;
}

/**
 * Take alfamix jobs from the queue until stopped. Each job runs in a worker thread (BullMQ's
 * sandbox), so this thread keeps renewing the job's lock however long its GEMMs take; a worker
 * killed mid-job loses its lock and another worker reruns the job, with the same result.
 */
export async function runWorker(url: string, options: WorkerOptions = {}): Promise<void> {
  const connection = await checkedConnection(url);
  process.env.ALFAMIX_QUEUE_URL = url; // the job threads fetch k-means centres from Redis (kmeans-jobs.ts)
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { Worker } = await import("bullmq"); // not at start-up: see dispatch.ts
  const worker = new Worker(QUEUE_NAME, fileURLToPath(new URL("./processor.js", import.meta.url)), {
    connection,
    concurrency: options.concurrency ?? 1,
    useWorkerThreads: true,
    lockDuration: options.lockMs ?? 30000,
    stalledInterval: Math.max(500, Math.floor((options.lockMs ?? 30000) / 2)),
    maxStalledCount: 5,
  });
  worker.on("active", (job) => log(`worker: ${job.name} ${job.id} started`));
  worker.on("completed", (job) => log(`worker: ${job.name} ${job.id} done in ${((job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now())) / 1000} s`));
  worker.on("progress", (job, progress) => {
    const line = (progress as Partial<JobProgress>)?.line;
    if (typeof line === "string") log(`worker: ${job.name} ${job.id}: ${line}`);
  });
  // A worker that froze past its lock (suspended, asleep, cut off from Redis) has lost the job to
  // another worker, and anything it finishes would be discarded: stop it (a simulation run stops
  // at its next round; short jobs just finish).
  worker.on("lockRenewalFailed", (jobIds) => {
    for (const id of jobIds)
      if (worker.cancelJob(id, "this worker lost the job's lock; another worker reruns it"))
        log(`worker: lost the lock of ${id}; stopping it (another worker reruns it)`);
  });
  worker.on("failed", (job, e) => log(`worker: ${job?.name} ${job?.id} failed: ${e.message.split("\n")[0]}`));
  worker.on("error", (e) => log(`worker: ${e.message.split("\n")[0]}`));
  await worker.waitUntilReady();
  log(`worker: alfamix ${VERSION} taking jobs from ${url} (queue ${QUEUE_NAME}, concurrency ${options.concurrency ?? 1}, pid ${process.pid})`);
  await (options.until ??
    new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    }));
  await worker.close();
}
