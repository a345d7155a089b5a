import { createHash } from "node:crypto";
import type { MapRecord } from "../loop/maps.js";
import type { RoundResult } from "../loop/results-store.js";
import type { SimulationConfig } from "../loop/simulation.js";

/** The one BullMQ queue alfamix's jobs go through. */
export const QUEUE_NAME = "alfamix";

/** Strategies a sharded query can run: ALFA-Mix and the scores that rank items independently. */
export const SHARDED_STRATEGIES = ["alfamix", "entropy", "margin", "least-confidence"] as const;
export type ShardedStrategy = (typeof SHARDED_STRATEGIES)[number];

/**
 * Score rows `start .. start + rows` of a shard (a .npy file every worker can read, of `fileRows`
 * rows) for a query round. Carries the round's small state, never pool rows.
 */
export interface ScoreJob {
  kind: "score";
  version: string;
  file: string;
  fileRows: number;
  start: number;
  rows: number;
  /** Rows of the range that are labelled (not scored), counted from `start`. */
  labeledLocal: number[];
  strategy: ShardedStrategy;
  /** The linear head: W (K×D) and b, float32 as base64. */
  head: { W: string; b: string; K: number; D: number };
  /** ALFA-Mix: the anchors (K×D, base64), their exact coordinates and the caps. */
  alfamix?: { anchors: string; exact: number[][]; caps: number[] };
  /** Uncertainty strategies: how many top rows to return. */
  budget: number;
}

export interface ScoreResult {
  /** ALFA-Mix: per row of the range, 1 + the first cap that flipped it (0: never, or labelled), uint8 as base64. */
  firstCap?: string;
  /** Uncertainty strategies: the range's best rows (counted from its start) and their scores, best first. */
  top?: { rows: number[]; scores: number[] };
}

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

export const toBase64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
const bufferOf = (s: string) => {
  const bytes = Buffer.from(s, "base64");
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
};
export const floatsFromBase64 = (s: string) => new Float32Array(bufferOf(s));
export const doublesFromBase64 = (s: string) => new Float64Array(bufferOf(s));
export const int32sFromBase64 = (s: string) => new Int32Array(bufferOf(s));
export const bytesFromBase64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
