import { parentPort } from "node:worker_threads";
import { matrix, type Matrix } from "../../linalg/matrix.js";
import { Store } from "../store/store.js";
import { planBatch } from "./plan-batch.js";
import type { WorkerReply, WorkerRequest } from "./retrainer.js";

// The retrain thread of one project: it holds the pool's embeddings (shared with the server
// thread), reads the labels itself and turns them into the next batch, so that the server keeps
// answering meanwhile. (A second connection in the same process is safe: SQLite shares its
// locks between the connections of one process.)
let pool: Matrix | undefined;

/** A read-only look at the store, closed after. */
function withStore<T>(dbPath: string, fn: (store: Store) => T): T {
  const store = new Store(dbPath, { readonly: true });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

parentPort!.on("message", (request: WorkerRequest) => {
  try {
    if (request.type === "load") {
      withStore(request.dbPath, (store) => {
        const buffer = new SharedArrayBuffer(request.size * request.dim * 4);
        store.readEmbeddings(request.projectId, new Float32Array(buffer));
        pool = matrix(request.size, request.dim, new Float32Array(buffer));
        const { rows, labels } = store.trainingLabels(request.projectId);
        parentPort!.postMessage({ type: "loaded", buffer, rows, labels } satisfies WorkerReply);
      });
    } else {
      const { rows, labels } = withStore(request.dbPath, (store) => store.trainingLabels(request.projectId));
      const y = Int32Array.from(labels, (l) => request.classes.indexOf(l));
      const planned = planBatch(pool!, rows, y, request.classes, request.config, request.version);
      parentPort!.postMessage({ type: "planned", version: request.version, labels: rows.length, ...planned } satisfies WorkerReply);
    }
  } catch (e) {
    parentPort!.postMessage({ type: "error", message: (e as Error).stack ?? String(e) } satisfies WorkerReply);
  }
});
