import { Worker } from "node:worker_threads";
import { gemmOnCallingThreads } from "../../linalg/gemm.js";
import { terminateWorker } from "../../workers.js";
import type { ProjectConfig } from "../store/store.js";
import type { PlannedBatch } from "./plan-batch.js";

export type WorkerRequest =
  | { type: "load"; dbPath: string; projectId: number; size: number; dim: number }
  | { type: "plan"; dbPath: string; projectId: number; version: number; classes: string[]; config: ProjectConfig };

export type WorkerReply =
  | { type: "loaded"; buffer: SharedArrayBuffer; rows: Int32Array; labels: string[] }
  | ({ type: "planned"; version: number; labels: number } & PlannedBatch)
  | { type: "error"; message: string };

/**
 * The server thread's side of a project's retrain thread: one request at a time (load the
 * embeddings once, then plan batches), each answered by a promise.
 */
export class Retrainer {
  private readonly worker: Worker;
  private pending?: { resolve: (reply: WorkerReply) => void; reject: (e: Error) => void };

  constructor() {
    // Each project plans in a thread of its own, and two may call the GEMM at once.
    gemmOnCallingThreads();
    this.worker = new Worker(new URL("./retrain-worker.js", import.meta.url));
    this.worker.unref();
    this.worker.on("message", (reply: WorkerReply) => {
      const p = this.pending;
      this.pending = undefined;
      this.worker.unref();
      if (reply.type === "error") p?.reject(new Error(`retrain thread: ${reply.message}`));
      else p?.resolve(reply);
    });
    this.worker.on("error", (e) => {
      this.pending?.reject(e);
      this.pending = undefined;
    });
  }

  /** Load the project's embeddings in the thread; resolves with them (shared) and the labels so far. */
  async load(dbPath: string, projectId: number, size: number, dim: number): Promise<{ data: Float32Array; rows: Int32Array; labels: string[] }> {
    const reply = (await this.request({ type: "load", dbPath, projectId, size, dim })) as Extract<WorkerReply, { type: "loaded" }>;
    return { data: new Float32Array(reply.buffer), rows: reply.rows, labels: reply.labels };
  }

  async plan(request: Omit<Extract<WorkerRequest, { type: "plan" }>, "type">): Promise<Extract<WorkerReply, { type: "planned" }>> {
    return (await this.request({ type: "plan", ...request })) as Extract<WorkerReply, { type: "planned" }>;
  }

  async close(): Promise<void> {
    await terminateWorker(this.worker);
  }

  private request(request: WorkerRequest): Promise<WorkerReply> {
    if (this.pending) throw new Error("Retrainer: one request at a time");
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.ref(); // keep the process alive while the thread works
      this.worker.postMessage(request);
    });
  }
}
