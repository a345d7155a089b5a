import { runWorker } from "../distributed/worker.js";
import { formatMs } from "../eval/format.js";
import type { DispatchProgress } from "../distributed/dispatch.js";
import { UserError } from "../errors.js";
import { OptionReader, type CommandSpec, type ParsedArgs } from "./args.js";
import { statusLine } from "./progress.js";

export const workerCommand: CommandSpec = {
  name: "worker",
  usage: "alfamix worker --queue redis://HOST:PORT [--concurrency 1] [--lock-seconds 30]",
  summary: "Take query and simulation jobs from a Redis queue until stopped (start any number, anywhere the pool's shards and the data can be read).",
  options: {
    queue: { type: "string", placeholder: "redis://HOST:PORT", help: "the Redis server the jobs come through" },
    concurrency: { type: "string", placeholder: "N", help: "jobs at once in this process (each in its own thread)", default: "1" },
    "lock-seconds": {
      type: "string",
      placeholder: "S",
      help: "how long a job stays this worker's without renewal: a dead worker's jobs go to another after it",
      default: "30",
    },
  },
};

export async function runWorkerCommand(args: ParsedArgs): Promise<void> {
  const options = new OptionReader("worker", args.values);
  const queue = options.string("queue");
  if (!queue) throw new UserError("worker: --queue redis://HOST:PORT is required");
  await runWorker(queue, { concurrency: options.int("concurrency", 1, 1, 64), lockMs: options.number("lock-seconds", 30, 0.5) * 1000 });
}

/** The coordinator's progress line: jobs done, the ETA and the workers connected. */
export function dispatchProgress(
  quiet: boolean,
  what: string,
  runners: "workers" | "threads" = "workers",
): { update(p: DispatchProgress): void; done(): void } {
  const status = statusLine(quiet);
  const who = (n: number) =>
    runners === "threads"
      ? `${n} thread${n === 1 ? "" : "s"}`
      : `${n} worker${n === 1 ? "" : "s"} seen${n === 0 ? " (start some: alfamix worker --queue …)" : ""}`;
  return {
    update: (p) =>
      status.show(
        `${what}${p.stage ? ` (${p.stage})` : ""}: ${p.done}/${p.total} jobs done${p.underWay >= 0.05 ? ` (+${p.underWay.toFixed(1)} under way)` : ""} · ${who(p.workers)} · ${formatMs(p.elapsedMs)} elapsed${p.etaMs !== undefined && p.done < p.total ? `, ~${formatMs(p.etaMs)} left` : ""}`,
        p.done === p.total,
      ),
    done: status.done,
  };
}
