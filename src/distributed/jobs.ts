import { createHash } from "node:crypto";
import type { MapRecord } from "../loop/maps.js";
import type { RoundResult } from "../loop/results-store.js";
import type { SimulationConfig } from "../loop/simulation.js";
import type { ScoreJob } from "../loop/score-job.js";

/** The one BullMQ queue alfamix's jobs go through. */
export const QUEUE_NAME = "alfamix";

/** One (strategy, seed) run of a simulation. */
export interface SimulateJob {
  kind: "simulate";
  version: string;
  config: SimulationConfig;
  seed: number;
  entry: string;
}

export interface SimulateResult {
  rows: RoundResult[];
  mapRecord?: MapRecord;
}

/** One k-means pass over one shard's candidate rows (cluster/kmeans-parallel.ts); centres travel as blob keys. */
export interface KMeansJob {
  kind: "kmeans";
  version: string;
  file: string;
  rows: number;
  dim: number;
  /** The shard's first row in the pool: parts name their points by pool row. */
  offset: number;
  /** The shard's candidate rows (local, ascending), int32 as base64. */
  candidates: string;
  pass:
    | { op: "pick"; seed: number }
    | { op: "sample"; centers: BlobRef; cost: number; oversampling: number; seed: number; round: number }
    | { op: "assign"; centers: BlobRef; sums: boolean };
}

/** An array stored once in Redis (blobs.ts) for every job of a pass. */
export interface BlobRef {
  key: string;
  rows: number;
}

export type AlfamixJob = ScoreJob | SimulateJob | KMeansJob;

/** What a long job reports as it goes (a simulation run, after each round): the share done and a line for logs. */
export interface JobProgress {
  fraction: number;
  line: string;
}

/**
 * A job's id: its kind and a hash of everything it computes from. The same work always gets the
 * same id, so a job added twice is one job and a rerun finds its result instead of redoing it.
 */
export function jobId(job: AlfamixJob): string {
  return `${job.kind}-${createHash("sha256").update(JSON.stringify(job)).digest("hex").slice(0, 32)}`;
}

export type { ScoreJob, ScoreResult } from "../loop/score-job.js";
export { toBase64, floatsFromBase64, doublesFromBase64, int32sFromBase64, bytesFromBase64, packArrays, unpackArrays } from "../loop/score-job.js";
