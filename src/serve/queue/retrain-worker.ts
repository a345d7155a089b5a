import { parentPort } from "node:worker_threads";
import { matrix, type Matrix } from "../../linalg/matrix.js";
import { Store } from "../store/store.js";
import { planBatch } from "./plan-batch.js";
import type { WorkerReply, WorkerRequest } from "./retrainer.js";

// The retrain thread of one project: it holds the pool's embeddings (shared with the server
// thread) and turns labels into the next batch, so that the server keeps answering meanwhile.
let pool: Matrix | undefined;

parentPort!.on("message", (request: WorkerRequest) => {
  try {
    if (request.type === "load") {
      const store = new Store(request.dbPath, { readonly: true });
      try {
        const buffer = new SharedArrayBuffer(request.size * request.dim * 4);
        store.readEmbeddings(request.projectId, new Float32Array(buffer));
        pool = matrix(request.size, request.dim, new Float32Array(buffer));
        parentPort!.postMessage({ type: "loaded", buffer } satisfies WorkerReply);
      } finally {
        store.close();
      }
    } else {
      const planned = planBatch(pool!, request.rows, request.y, request.classes, request.config, request.version);
      parentPort!.postMessage({ type: "planned", version: request.version, labels: request.rows.length, ...planned } satisfies WorkerReply);
    }
  } catch (e) {
    parentPort!.postMessage({ type: "error", message: (e as Error).stack ?? String(e) } satisfies WorkerReply);
  }
});
