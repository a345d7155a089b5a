import { ConflictError, UserError } from "../errors.js";
import { forkModule, isChildOf } from "../workers.js";
import { createProject, type CreateProjectOptions } from "./projects.js";
import { Store } from "./store/store.js";

type Options = Omit<CreateProjectOptions, "onProgress" | "onNote" | "pool"> & { pool: string };
type Reply = { type: "done" } | { type: "error"; message: string; kind: "conflict" | "user" | "bug" };

/** Words the readers quote in their own messages (the columns they look for), not from a file. */
const READER_WORDS = ["id", "label", "class", "y", "path", "split", "embedding", "train", "test"];

/** File errors that are a request's mistake (a path that is not a readable file), not a bug. */
const FILE_ERRORS = new Set(["ENOENT", "EACCES", "EPERM", "EISDIR", "ENOTDIR", "ELOOP", "EINVAL", "ENXIO"]);

/**
 * Create a project in a process of its own, with its own connection. Two reasons:
 * - importing a large pool (10⁶ × 256 takes about 20 s) never blocks the server's event loop;
 * - files named by the request are opened in that process, never in the server's: were one of
 *   them (by a symlink or hard link swapped in at the right moment) the server's database,
 *   closing it would drop the server's SQLite locks, which are the process's.
 * Resolves once the project is ready. A mistake in the request rejects with a UserError whose
 * quoted values are kept only when the request itself holds them: file contents are never echoed.
 */
export function createProjectInChild(dbPath: string, options: Options): Promise<void> {
  const child = forkModule(import.meta.url);
  const own = new Set([
    ...READER_WORDS,
    ...Object.values(options)
      .flat()
      .filter((v): v is string => typeof v === "string"),
  ]);
  return new Promise((resolve, reject) => {
    child.once("message", (reply: Reply) => {
      if (reply.type === "done") return resolve();
      const message = redact(reply.message, own);
      reject(reply.kind === "conflict" ? new ConflictError(message) : reply.kind === "user" ? new UserError(message) : new Error(reply.message));
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the project-creation process exited (${code})`)));
    child.send({ dbPath, options });
  });
}

/** Replace every quoted value that the request did not itself give by "…". */
export function redact(message: string, own: Set<string>): string {
  return message.replace(/"(?:[^"\\]|\\.)*"/g, (quoted) => {
    let value: unknown;
    try {
      value = JSON.parse(quoted);
    } catch {
      return '"…"';
    }
    return typeof value === "string" && own.has(value) ? quoted : '"…"';
  });
}

if (isChildOf(import.meta.url)) {
  process.once("message", ({ dbPath, options }: { dbPath: string; options: Options }) => {
    const reply = (r: Reply) => process.send!(r, () => process.exit(0));
    let store: Store | undefined;
    (async () => {
      store = new Store(dbPath);
      await createProject(store, options);
    })()
      .then(() => reply({ type: "done" }))
      .catch((e: Error & { code?: string }) => {
        if (e instanceof UserError) return reply({ type: "error", message: e.message, kind: e instanceof ConflictError ? "conflict" : "user" });
        if (e.code && FILE_ERRORS.has(e.code)) return reply({ type: "error", message: `a file of the request cannot be read (${e.code})`, kind: "user" });
        reply({ type: "error", message: e.stack ?? String(e), kind: "bug" });
      })
      .finally(() => store?.close());
  });
}
