import { createHash } from "node:crypto";
import { redisClient, type RedisConnection } from "./connection.js";

/**
 * Arrays every job of a pass needs (k-means centres: up to megabytes) are stored once in Redis under
 * a key named by their content, and jobs carry the key: a pass over 40 shards stores its centres
 * once, not 40 times. Blobs expire after a day, like finished jobs.
 */
const BLOB_TTL_S = 86400;

export interface BlobClient {
  set(key: string, value: Buffer, mode: "EX", seconds: number): Promise<unknown>;
  getBuffer(key: string): Promise<Buffer | null>;
  disconnect(): void;
}

export function blobClient(connection: RedisConnection): BlobClient {
  return redisClient<BlobClient>({ ...connection, maxRetriesPerRequest: 3 });
}

export async function putBlob(client: BlobClient, data: Float32Array): Promise<string> {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const key = `alfamix:blob:${createHash("sha256").update(bytes).digest("hex").slice(0, 40)}`;
  await client.set(key, bytes, "EX", BLOB_TTL_S);
  return key;
}

export async function getBlob(client: BlobClient, key: string): Promise<Float32Array> {
  const bytes = await client.getBuffer(key);
  if (!bytes) throw new Error(`the array ${key} is gone from Redis (expired or flushed); rerun the query`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
