import { fork, type ChildProcess } from "node:child_process";
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

/**
 * Run the module at `url` in a child process of its own (Buffers and Maps pass as they are; its
 * stderr is ours). The module tells it runs as that child with `isChildOf(import.meta.url)`.
 */
export function forkModule(url: string): ChildProcess {
  return fork(new URL(url).pathname, [], {
    serialization: "advanced",
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
}

/** Whether this process is the child forkModule started for the module at `url`. */
export const isChildOf = (url: string) => process.send !== undefined && process.argv[1] === new URL(url).pathname;
