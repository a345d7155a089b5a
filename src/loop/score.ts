import { readNpyRows } from "../data/npy.js";
import { plannedShardHeader } from "../data/shards.js";
import { checkFinite } from "../data/transform.js";
import { matrix } from "../linalg/matrix.js";
import { createStrategy } from "../strategies/registry.js";
import { unlabeledRows } from "../strategies/types.js";
import { packArrays, unpackArrays, type ScoreJob, type ScoreResult } from "./score-job.js";

/** Rows read and scored at a time: bounded memory whatever the shard's size. */
const CHUNK_ROWS = 16384;

/** One range of a shard, scored by the strategy's plan a chunk at a time: one part per chunk. */
export function score(job: ScoreJob): ScoreResult {
  const plan = createStrategy(job.strategy).plan;
  if (!plan) throw new Error(`score job: ${job.strategy.label} has no shard plan`);
  const state = unpackArrays(job.state),
    D = job.dim;
  const header = plannedShardHeader(job.file, job.fileRows, D);
  const labeled = new Uint8Array(job.rows);
  for (const r of job.labeledLocal) labeled[r] = 1;
  const buffer = new Float32Array(Math.min(CHUNK_ROWS, job.rows) * D);
  const parts: unknown[] = [];
  for (let start = 0; start < job.rows; start += CHUNK_ROWS) {
    const count = Math.min(CHUNK_ROWS, job.rows - start);
    const x = matrix(count, D, readNpyRows(job.file, header, job.start + start, count, buffer));
    checkFinite(x, job.file, 0, x.data.length, job.start + start);
    parts.push(packArrays(plan.scoreChunk(state, { x, unlabeled: unlabeledRows(labeled.subarray(start, start + count)), firstRow: job.firstRow + start })));
  }
  return { parts };
}
