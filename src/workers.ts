import type { Worker } from "node:worker_threads";

/**
 * Terminate a worker thread and wait for its exit. A worker that was unreferenced while idle does
 * not keep the event loop alive until its exit is reported, even when referenced again (Node 20),
 * so a timer does.
 */
export async function terminateWorker(worker: Worker): Promise<void> {
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await worker.terminate();
  } finally {
    clearInterval(keepAlive);
  }
}
