import { IdList } from "../data/ids.js";
import { sidecarFile } from "../data/files.js";
import { describeShards } from "../data/shards.js";
import { createStrategy, type StrategySpec } from "../strategies/registry.js";
import type { BatchSelection } from "./batch-items.js";
import { localRunner } from "./local-runner.js";
import { shardedQuery, type ShardedQueryOptions } from "./sharded-query.js";

/**
 * One round of active learning over .npy pools too big to hold (each with its .ids beside it, or
 * one file with `idsPath`): the strategy's shard plan (Strategy.plan) scores the rows a chunk at a
 * time on `threads` threads of this process, and the batch is the one `selectBatch` gives on the
 * same rows held in memory, with a linear head. A strategy without a plan is a one-line error
 * (see whyNotSharded).
 */
export async function streamBatch(options: Omit<ShardedQueryOptions, "runner"> & { threads?: number }): Promise<BatchSelection> {
  const { shards } = describeShards(options.files, options.idsPath);
  const runner = localRunner(options.threads);
  try {
    const lists = await Promise.all(shards.map((s) => IdList.read(s.idsFile, s.rows, s.file)));
    runner.ids = lists.length === 1 ? lists[0] : IdList.concat(lists);
    return await shardedQuery({ ...options, runner });
  } finally {
    await runner.close();
  }
}

/**
 * Whether a query can stream these files: .npy shards with their ids (beside each, or `idsPath`
 * for a single file), a linear head on the rows as they are, and a strategy with a shard plan.
 */
export function canStream(
  files: string[],
  idsPath: string | undefined,
  strategy: StrategySpec,
  head: { model?: "linear" | "mlp"; standardize?: boolean },
): boolean {
  if ((head.model ?? "linear") !== "linear" || head.standardize) return false;
  const npy = (f: string) => /\.npy$/i.test(f);
  if (idsPath ? files.length !== 1 || !npy(files[0]) : !files.every((f) => npy(f) && sidecarFile(f, ".ids"))) return false;
  return createStrategy(strategy).plan !== undefined;
}
