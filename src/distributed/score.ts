import { readNpyRows } from "../data/npy.js";
import { plannedShardHeader } from "../data/shards.js";
import { checkFinite } from "../data/transform.js";
import { matrix } from "../linalg/matrix.js";
import { linearFromWeights } from "../models/network.js";
import { closedFormSearch } from "../strategies/alfamix-closed-form.js";
import { entropyScores, leastConfidenceScores, marginScores } from "../strategies/uncertainty.js";
import { topK, unlabeledRows } from "../strategies/types.js";
import { floatsFromBase64, toBase64, type ScoreJob, type ScoreResult } from "./jobs.js";

/** Rows read and scored at a time: bounded memory whatever the shard's size. */
const CHUNK_ROWS = 16384;

/** One range of a shard's scores: ALFA-Mix's first flipping cap per row, or an uncertainty strategy's top rows. */
export function score(job: ScoreJob): ScoreResult {
  const header = plannedShardHeader(job.file, job.fileRows, job.head.D);
  const { K, D } = job.head;
  const W = matrix(K, D, floatsFromBase64(job.head.W)), b = floatsFromBase64(job.head.b);
  const labeled = new Uint8Array(job.rows);
  for (const r of job.labeledLocal) labeled[r] = 1;
  const firstCap = new Uint8Array(job.rows);
  const scores = new Float64Array(job.rows).fill(NaN);
  const model = linearFromWeights(W, b);
  const buffer = new Float32Array(Math.min(CHUNK_ROWS, job.rows) * D);
  const a = job.alfamix;
  const anchors = a && { anchors: matrix(K, D, floatsFromBase64(a.anchors)), exact: a.exact.map((e) => Int32Array.from(e)) };
  for (let start = 0; start < job.rows; start += CHUNK_ROWS) {
    const count = Math.min(CHUNK_ROWS, job.rows - start);
    const x = matrix(count, D, readNpyRows(job.file, header, job.start + start, count, buffer));
    checkFinite(x, job.file, 0, x.data.length, job.start + start);
    const unlabeled = unlabeledRows(labeled.subarray(start, start + count));
    if (job.strategy === "alfamix") {
      const search = closedFormSearch({ embeddings: x, unlabeled, W, b, anchors: anchors! }, { caps: a!.caps, keep: "none", budget: job.budget });
      unlabeled.forEach((i, p) => (firstCap[start + i] = search.firstCap[p]));
    } else {
      const probs = model.predictProbs(x);
      const s = job.strategy === "entropy" ? entropyScores(probs) : job.strategy === "margin" ? marginScores(probs) : leastConfidenceScores(probs);
      for (const i of unlabeled) scores[start + i] = s[i];
    }
  }
  if (job.strategy === "alfamix") return { firstCap: toBase64(firstCap) };
  // The strategies' own ranking: margin takes the smallest gaps, the others the largest scores.
  const ranked = job.strategy === "margin" ? scores.map((v) => -v) : scores;
  const top = topK(ranked, job.budget);
  return { top: { rows: Array.from(top), scores: Array.from(top, (r) => scores[r]) } };
}
