import { IdList } from "../data/ids.js";
import { describeShards } from "../data/shards.js";
import type { BatchSelection } from "../loop/select-batch.js";
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
