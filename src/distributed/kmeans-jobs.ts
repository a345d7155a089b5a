import {
  kmeansParallel,
  runKMeansPass,
  type AssignResult,
  type KMeansPart,
  type KMeansPass,
  type KMeansPassResult,
  type KMeansParallelResult,
  type PickResult,
  type SampleResult,
} from "../cluster/kmeans-parallel.js";
import { plannedShardHeader, readShardRows, type Shard } from "../data/shards.js";
import { matrix, type Matrix } from "../linalg/matrix.js";
import { normalizeRows } from "../linalg/rows.js";
import { VERSION } from "../version.js";
import { blobClient, getBlob, putBlob, type BlobClient } from "./blobs.js";
import { parseQueueUrl, type RedisConnection } from "./connection.js";
import { dispatch, type DispatchProgress } from "./dispatch.js";
import { doublesFromBase64, floatsFromBase64, int32sFromBase64, toBase64, type KMeansJob } from "./jobs.js";

/** What a k-means job returns: a pass result with its arrays as base64. */
export type EncodedResult = Record<string, string | number | undefined>;

/**
 * ALFA-Mix's k-means over candidates too many to gather on one machine: k-means|| and Lloyd as
 * passes, each one job per shard holding candidates. Each job reads its shard's candidate rows
 * (L2-normalised, as the local choice normalises them); centres go through Redis once per pass.
 */
export async function remoteKMeans(
  connection: RedisConnection,
  shards: Shard[],
  candidateRows: Int32Array,
  k: number,
  options: { seed: number; onProgress?: (p: DispatchProgress) => void },
): Promise<KMeansParallelResult> {
  const dim = shards[0].header.shape[1];
  const sorted = Int32Array.from(candidateRows).sort();
  const perShard = shards
    .map((shard) => {
      const local = sorted.filter((r) => r >= shard.offset && r < shard.offset + shard.rows).map((r) => r - shard.offset);
      return { shard, candidates: toBase64(local), count: local.length };
    })
    .filter((s) => s.count > 0);
  const client = blobClient(connection);
  let stage = "";
  try {
    return await kmeansParallel(
      async (pass) => {
        const encoded = await encodePass(client, pass);
        const jobs: KMeansJob[] = perShard.map(({ shard, candidates }) => ({
          kind: "kmeans",
          version: VERSION,
          file: shard.file,
          rows: shard.rows,
          dim,
          offset: shard.offset,
          candidates,
          pass: encoded,
        }));
        const results = await dispatch<EncodedResult>(connection, jobs, { onProgress: (p) => options.onProgress?.({ ...p, stage }) });
        return results.map((r) => decodeResult(pass, r));
      },
      k,
      { seed: options.seed, onPass: (what) => (stage = `k-means over the shards: ${what}`) },
    );
  } finally {
    client.disconnect();
  }
}

async function encodePass(client: BlobClient, pass: KMeansPass): Promise<KMeansJob["pass"]> {
  if (pass.op === "pick") return pass;
  // The same pass with its centres swapped for a reference to them.
  return { ...pass, centers: { key: await putBlob(client, pass.centers.data), rows: pass.centers.rows } } as KMeansJob["pass"];
}

function decodeResult(pass: KMeansPass, r: EncodedResult): KMeansPassResult {
  const s = (key: string) => r[key] as string;
  if (pass.op === "pick")
    return { count: r.count as number, row: r.row as number, draw: r.draw as number, point: floatsFromBase64(s("point")) } satisfies PickResult;
  if (pass.op === "sample") return { rows: int32sFromBase64(s("rows")), points: floatsFromBase64(s("points")) } satisfies SampleResult;
  return {
    counts: doublesFromBase64(s("counts")),
    inertia: r.inertia as number,
    sums: r.sums === undefined ? undefined : doublesFromBase64(s("sums")),
    nearestRow: int32sFromBase64(s("nearestRow")),
    nearestDistance: doublesFromBase64(s("nearestDistance")),
  } satisfies AssignResult;
}

// The worker's side. A worker keeps the parts it read (the same shard's candidates come back
// every pass) within a memory budget, and the centres of the pass it is on.
const PART_CACHE_BYTES = 1 << 30;
const parts = new Map<string, KMeansPart>();
let cachedBytes = 0;
let client: BlobClient | undefined;
const centersCache = new Map<string, Float32Array>();

/** One k-means pass over one shard's candidates, in a worker. */
export async function kmeansJob(job: KMeansJob): Promise<EncodedResult> {
  const part = candidatePart(job);
  const pass = job.pass;
  if (pass.op === "pick") return encodeResult(runKMeansPass(part, pass));
  const centers = matrix(pass.centers.rows, job.dim, await centersOf(pass.centers.key));
  return encodeResult(runKMeansPass(part, { ...pass, centers } as KMeansPass));
}

function candidatePart(job: KMeansJob): KMeansPart {
  const key = `${job.file}\n${job.candidates}`;
  let part = parts.get(key);
  if (part) return part;
  const shard: Shard = { file: job.file, idsFile: "", header: plannedShardHeader(job.file, job.rows, job.dim), rows: job.rows, offset: job.offset };
  const rows = int32sFromBase64(job.candidates).map((r) => r + job.offset);
  const points: Matrix = normalizeRows(readShardRows([shard], rows, job.dim));
  part = { points, rows };
  if (cachedBytes + points.data.byteLength > PART_CACHE_BYTES) {
    parts.clear();
    cachedBytes = 0;
  }
  parts.set(key, part);
  cachedBytes += points.data.byteLength;
  return part;
}

async function centersOf(key: string): Promise<Float32Array> {
  let centers = centersCache.get(key);
  if (centers) return centers;
  const url = process.env.ALFAMIX_QUEUE_URL;
  if (!url) throw new Error("k-means jobs run in `alfamix worker`, which says where Redis is");
  client ??= blobClient(parseQueueUrl(url));
  centers = await getBlob(client, key);
  centersCache.clear(); // a worker is on one pass at a time
  centersCache.set(key, centers);
  return centers;
}

function encodeResult(result: KMeansPassResult): EncodedResult {
  if ("draw" in result) return { count: result.count, row: result.row, draw: result.draw, point: toBase64(result.point) };
  if ("points" in result) return { rows: toBase64(result.rows), points: toBase64(result.points) };
  return {
    counts: toBase64(result.counts),
    inertia: result.inertia,
    sums: result.sums && toBase64(result.sums),
    nearestRow: toBase64(result.nearestRow),
    nearestDistance: toBase64(result.nearestDistance),
  };
}
