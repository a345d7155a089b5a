import { parentPort, Worker, workerData } from "node:worker_threads";
import { ConflictError, UserError } from "../errors.js";
import { createProject, type CreateProjectOptions } from "./projects.js";
import { Store } from "./store/store.js";

type Options = Omit<CreateProjectOptions, "onProgress" | "onNote" | "pool"> & { pool: string };
type Reply = { type: "done" } | { type: "error"; message: string; kind: "conflict" | "user" | "bug" };

/**
 * Create a project in a thread of its own with its own connection, so that importing a large
 * pool (10⁶ × 256 takes about 20 s) never blocks the server's event loop. Resolves once the
 * project is ready; a mistake in the request rejects with the same UserError the CLI would print.
 */
export function createProjectOffThread(dbPath: string, options: Options): Promise<void> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { dbPath, options } });
  return new Promise((resolve, reject) => {
    worker.once("message", (reply: Reply) => {
      if (reply.type === "done") resolve();
      else reject(reply.kind === "conflict" ? new ConflictError(reply.message) : reply.kind === "user" ? new UserError(reply.message) : new Error(reply.message));
    });
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the project-creation thread exited (${code})`)));
  });
}

if (parentPort && workerData?.dbPath) {
  const { dbPath, options } = workerData as { dbPath: string; options: Options };
  const store = new Store(dbPath);
  createProject(store, options)
    .then(() => parentPort!.postMessage({ type: "done" } satisfies Reply))
    .catch((e: Error) => parentPort!.postMessage({ type: "error", message: e instanceof UserError ? e.message : e.stack ?? String(e), kind: e instanceof ConflictError ? "conflict" : e instanceof UserError ? "user" : "bug" } satisfies Reply))
    .finally(() => store.close());
}
