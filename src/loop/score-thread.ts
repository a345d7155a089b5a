import { parentPort } from "node:worker_threads";
import { UserError } from "../errors.js";
import type { ScoreJob } from "./score-job.js";
import { score } from "./score.js";

/** A thread of a local query (local-runner.ts): score each range it is sent. */
parentPort!.on("message", ({ index, job }: { index: number; job: ScoreJob }) => {
  try {
    parentPort!.postMessage({ index, result: score(job) });
  } catch (e) {
    parentPort!.postMessage({ index, error: (e as Error).message, user: e instanceof UserError });
  }
});
