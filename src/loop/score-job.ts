import type { StrategySpec } from "../strategies/registry.js";

/**
 * Score rows `start .. start + rows` of a shard (a .npy file every worker can read, of `fileRows`
 * rows) for a query round: the strategy's plan (Strategy.plan) runs its `scoreChunk` over them, a
 * chunk at a time. Carries the round's small state, never pool rows.
 */
export interface ScoreJob {
  kind: "score";
  version: string;
  file: string;
  fileRows: number;
  start: number;
  rows: number;
  /** The range's first row in the pool, and the pool's columns. */
  firstRow: number;
  dim: number;
  /** Rows of the range that are labelled (not scored), counted from `start`. */
  labeledLocal: number[];
  /** The strategy, resolved at the edge. */
  strategy: StrategySpec;
  /** What the plan's `prepare` made, packed (packArrays). */
  state: unknown;
}

export interface ScoreResult {
  /** The plan's part for each chunk of the range, in order, packed. */
  parts: unknown[];
}

/** How far a run of jobs (on threads or on queue workers) has come. */
export interface DispatchProgress {
  done: number;
  total: number;
  /** The share of the unfinished jobs already done, in jobs, from what they report (simulation runs: their rounds). */
  underWay: number;
  /** Workers connected to the queue now. */
  workers: number;
  elapsedMs: number;
  etaMs?: number;
  /** What the jobs are for, when a command sends several rounds of them. */
  stage?: string;
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

type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;
const TYPED: Record<string, new (buffer: ArrayBuffer) => TypedArray> = { f32: Float32Array, f64: Float64Array, i32: Int32Array, u8: Uint8Array };
const tagOf = (v: unknown) =>
  v instanceof Float32Array ? "f32" : v instanceof Float64Array ? "f64" : v instanceof Int32Array ? "i32" : v instanceof Uint8Array ? "u8" : undefined;

/** A plan's state or part as JSON: each typed array becomes `{ $: tag, data: base64 }` (a third of the size of its numbers as text, and exact). */
export function packArrays(value: unknown): unknown {
  const tag = tagOf(value);
  if (tag) return { $: tag, data: toBase64(value as TypedArray) };
  if (Array.isArray(value)) return value.map(packArrays);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, packArrays(v)]));
  return value;
}

/** The inverse of packArrays. */
export function unpackArrays(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unpackArrays);
  if (value && typeof value === "object") {
    const { $, data } = value as { $?: string; data?: unknown };
    if ($ !== undefined && typeof data === "string" && TYPED[$]) return new TYPED[$](bufferOf(data));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unpackArrays(v)]));
  }
  return value;
}
