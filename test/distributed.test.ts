import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Queue } from "bullmq";
import { encodeNpy } from "../src/data/npy.js";
import { dispatch, type DispatchProgress } from "../src/distributed/dispatch.js";
import { DEFAULT_CONFIG, type SimulationConfig } from "../src/loop/simulation.js";
import { VERSION } from "../src/version.js";
import { parseQueueUrl } from "../src/distributed/connection.js";
import { QUEUE_NAME } from "../src/distributed/jobs.js";
import { kmeans } from "../src/cluster/kmeans.js";
import { kmeansSampled } from "../src/cluster/kmeans-scale.js";
import { matrix } from "../src/linalg/matrix.js";
import { Rng } from "../src/random.js";
import { pickedIds, tempDir } from "./helpers.js";

const bin = new URL("../../bin/alfamix.js", import.meta.url).pathname;
const dir = tempDir();

/** Redis for these tests: $ALFAMIX_TEST_REDIS (.ci/run starts one), else a redis-server of our own on a free port. */
async function startRedis(): Promise<string> {
  if (process.env.ALFAMIX_TEST_REDIS) {
    const url = `${process.env.ALFAMIX_TEST_REDIS.replace(/\/\d*$/, "")}/7`;
    const { host, port } = parseQueueUrl(url);
    spawnSync("redis-cli", ["-h", host, "-p", String(port), "-n", "7", "FLUSHDB"]);
    return url;
  }
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
  });
  const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const failed = new Promise<never>((_, reject) =>
    redis.once("error", () => reject(new Error("these tests need redis-server (apt-get install redis-server), or ALFAMIX_TEST_REDIS=redis://HOST:PORT"))),
  );
  after(() => redis.kill("SIGKILL"));
  for (let i = 0; i < 100; i++) {
    const ping = spawnSync("redis-cli", ["-p", String(port), "PING"], { encoding: "utf8" });
    if (ping.stdout?.trim() === "PONG") return `redis://127.0.0.1:${port}`;
    await Promise.race([failed, new Promise((resolve) => setTimeout(resolve, 50))]);
  }
  throw new Error("redis-server did not start");
}
const url = await startRedis();

const workers: ChildProcess[] = [];
after(() => workers.forEach((w) => w.kill("SIGKILL")));
/** A worker process; resolves once it takes jobs. Its log lines go to `lines`. */
function startWorker(lockSeconds = 30, lines: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, "worker", "--queue", url, "--lock-seconds", String(lockSeconds)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
  workers.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stderr! }).on("line", (line) => {
      lines.push(line);
      if (/taking jobs/.test(line)) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`the worker exited (${code}): ${lines.join(" | ")}`)));
  });
}
const stop = (child: ChildProcess) =>
  new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });

function cli(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, NODE_NO_WARNINGS: "1" } });
}

// A pool of 4 × 30,000 items with 50 classes (so scoring a shard takes a while), as one file and as 4 shards.
const rng = new Rng(12),
  n = 120000,
  d = 24,
  K = 50;
const centres = Float32Array.from({ length: K * d }, () => rng.normal(0, 1.2));
const x = new Float32Array(n * d);
for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = centres[(i % K) * d + j] + rng.normal(0, 1);
const ids = Array.from({ length: n }, (_, i) => `item-${i}`);
writeFileSync(join(dir, "all.npy"), encodeNpy(x, [n, d]));
writeFileSync(join(dir, "all.ids"), ids.join("\n") + "\n");
mkdirSync(join(dir, "shards"));
for (let s = 0; s < 4; s++) {
  const a = s * 30000;
  writeFileSync(join(dir, "shards", `part-${s}.npy`), encodeNpy(x.slice(a * d, (a + 30000) * d), [30000, d]));
  writeFileSync(join(dir, "shards", `part-${s}.ids`), ids.slice(a, a + 30000).join("\n") + "\n");
}
writeFileSync(join(dir, "labeled.csv"), "id,label\n" + Array.from({ length: 2 * K }, (_, i) => `item-${i},c${i % K}`).join("\n") + "\n");
const query = (...extra: string[]) => cli("query", "--labeled", join(dir, "labeled.csv"), "--budget", "40", "--quiet", ...extra);

test("the same batch from one file, from 4 shards, and from 4 shards on 3 worker processes", async () => {
  const one = query("--pool", join(dir, "all.npy"));
  assert.equal(one.status, 0, one.stderr);
  assert.equal(one.stdout.trim().split("\n").length, 41);
  const sharded = query("--pool", join(dir, "shards", "part-*.npy"));
  assert.equal(sharded.stdout, one.stdout);
  await Promise.all([startWorker(), startWorker(), startWorker()]);
  const queued = query("--pool", join(dir, "shards", "part-*.npy"), "--queue", url);
  assert.equal(queued.status, 0, queued.stderr);
  assert.equal(queued.stdout, one.stdout);
  for (const strategy of [
    "entropy",
    "margin",
    "least-confidence",
    "alfamix[cap=0.05]",
    "alfamix[ninit=3,select=kcenter]",
    "alfamix[kmeans=exact]",
    "cluster-margin",
  ]) {
    assert.equal(
      query("--pool", join(dir, "shards", "part-*.npy"), "--queue", url, "--strategy", strategy).stdout,
      query("--pool", join(dir, "all.npy"), "--strategy", strategy).stdout,
      strategy,
    );
  }
  // Candidates past --kmeans-gather-mb: k-means|| and Lloyd run as jobs over the shards. A full
  // batch of distinct unlabelled items, the same each time.
  const mapReduce = cli(
    "query",
    "--labeled",
    join(dir, "labeled.csv"),
    "--budget",
    "40",
    "--pool",
    join(dir, "shards", "part-*.npy"),
    "--queue",
    url,
    "--kmeans-gather-mb",
    "0",
  );
  assert.equal(mapReduce.status, 0, mapReduce.stderr);
  assert.match(mapReduce.stderr, /k-means over the shards: Lloyd pass \d+/);
  assert.match(mapReduce.stderr, /kmeansSeeds \d+, kmeansPasses \d+/);
  const picked = pickedIds(mapReduce.stdout);
  assert.equal(new Set(picked).size, 40);
  assert.ok(
    picked.every((id) => Number(id.slice(5)) >= 2 * K),
    "labelled items are never picked",
  );
  assert.equal(query("--pool", join(dir, "shards", "part-*.npy"), "--queue", url, "--kmeans-gather-mb", "0").stdout, mapReduce.stdout);
  await Promise.all(workers.splice(0).map(stop));
});

test("a worker killed mid-shard: another reruns the job, the output is unchanged; a job longer than the lock runs once", async () => {
  const local = query("--pool", join(dir, "all.npy"), "--seed", "3").stdout;
  // Short locks, so the dead worker's job goes to another quickly; and three workers.
  const logs: string[][] = [[], [], []];
  const started = await Promise.all(logs.map((l) => startWorker(1, l)));
  const victim = started[0];
  const running = spawn(
    process.execPath,
    [
      bin,
      "query",
      "--pool",
      join(dir, "shards", "part-*.npy"),
      "--labeled",
      join(dir, "labeled.csv"),
      "--budget",
      "40",
      "--seed",
      "3",
      "--quiet",
      "--queue",
      url,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  running.stdout!.on("data", (c) => (out += c));
  // Kill the first worker a moment after it starts a shard.
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (logs[0].some((l) => /score .* started/.test(l))) {
        clearInterval(check);
        setTimeout(() => {
          victim.kill("SIGKILL");
          resolve();
        }, 150);
      }
    }, 5);
  });
  const code = await new Promise((resolve) => running.once("exit", resolve));
  assert.equal(code, 0);
  assert.equal(out, local, "the same batch as the local run");
  const rows = pickedIds(out);
  assert.equal(new Set(rows).size, rows.length, "no duplicates");
  // The killed worker's shard ran twice: once there, once elsewhere.
  const killedJob = /score (\S+) started/.exec(logs[0].find((l) => /score .* started/.test(l))!)![1];
  const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(url) });
  try {
    const job = (await queue.getJob(killedJob))!;
    assert.equal(await job.getState(), "completed");
    assert.ok(job.attemptsStarted >= 2, `the killed job was started ${job.attemptsStarted} times`);
    assert.ok(
      logs.slice(1).some((l) => l.some((line) => line.includes(`${killedJob} done`))),
      "another worker finished it",
    );
    // Every other job of the round ran once, though each took longer than the 1 s lock.
    const all = await queue.getJobs(["completed"]);
    const others = all.filter((j) => j.name === "score" && j.id !== killedJob && (j.data as { labeledLocal?: number[] }).labeledLocal !== undefined);
    assert.ok(others.length >= 3);
    for (const j of others.filter((j) => logs.flat().some((l) => l.includes(`${j.id} done`)))) {
      assert.equal(j.attemptsStarted, 1, `job ${j.id} ran once`);
      assert.ok(j.finishedOn! - j.processedOn! > 0);
    }
  } finally {
    await queue.close();
    await Promise.all(workers.splice(0).map((w) => (w.exitCode === null && w.signalCode === null ? stop(w) : Promise.resolve())));
  }
});

test("simulate over the queue writes the same results.jsonl lines as locally", async () => {
  const logs: string[] = [];
  await Promise.all([startWorker(30, logs), startWorker(30, logs)]);
  const args = [
    "--dataset",
    "vowel",
    "--hidden",
    "32",
    "--strategies",
    "random,entropy,alfamix",
    "--seeds",
    "1,2",
    "--init",
    "22",
    "--query",
    "11",
    "--rounds",
    "2",
    "--epochs",
    "40",
    "--quiet",
  ];
  assert.equal(cli("simulate", ...args, "--out", join(dir, "local")).status, 0);
  const queued = cli("simulate", ...args, "--out", join(dir, "queued"), "--queue", url);
  assert.equal(queued.status, 0, queued.stderr);
  const lines = (d: string) =>
    readFileSync(join(dir, d, "results.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => {
        const r = JSON.parse(l);
        return [r.strategy, r.seed, r.round, r.labeled, r.accuracy].join(",");
      });
  assert.deepEqual(lines("queued"), lines("local"));
  assert.ok(existsSync(join(dir, "queued", "maps", "seed-1", "projection.json")));
  // The workers log each run's rounds as they end (read from their pipes once this test's event loop runs again).
  for (const strategy of ["random", "entropy", "alfamix"]) {
    const pattern = new RegExp(`^worker: simulate simulate-\\w+: ${strategy} seed 2 round 2/2: 44 labels, accuracy \\d+\\.\\d\\d%$`);
    for (let i = 0; i < 100 && !logs.some((l) => pattern.test(l)); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(
      logs.some((l) => pattern.test(l)),
      logs.join(" | "),
    );
  }
  // Resuming: nothing left to run, nothing changes.
  const again = cli("simulate", ...args, "--out", join(dir, "queued"), "--queue", url);
  assert.equal(again.status, 0);
  assert.deepEqual(lines("queued"), lines("local"));
  await Promise.all(workers.splice(0).map(stop));
});

test("a running simulation job reports its rounds: the coordinator counts the part done and the ETA from it", async () => {
  await startWorker();
  const config: SimulationConfig = {
    ...DEFAULT_CONFIG,
    dataset: "vowel",
    hidden: [16],
    strategies: ["entropy"],
    seeds: [3],
    init: 22,
    query: 11,
    rounds: 3,
    epochs: 30,
  };
  const seen: DispatchProgress[] = [];
  await dispatch(parseQueueUrl(url), [{ kind: "simulate", version: VERSION, config, seed: 3, entry: "entropy" }], { onProgress: (p) => seen.push(p) });
  const shares = seen.filter((p) => p.done === 0).map((p) => p.underWay);
  // Rounds 0..3 report 1/4 .. 4/4 of the run; the reports of at least the first rounds arrive before the end.
  assert.ok(
    shares.some((u) => u >= 0.25 && u < 1),
    JSON.stringify(shares),
  );
  assert.deepEqual(
    shares,
    [...shares].sort((a, b) => a - b),
    "the share only grows",
  );
  for (const p of seen.filter((q) => q.done === 0 && q.underWay > 0))
    assert.ok(p.etaMs !== undefined && Math.abs(p.etaMs - (p.elapsedMs / p.underWay) * (1 - p.underWay)) < 1e-6);
  const last = seen.at(-1)!;
  assert.equal(last.done, 1);
  assert.equal(last.underWay, 0);
  assert.equal(last.workers, 1, "workers of this database only");
  await Promise.all(workers.splice(0).map(stop));
});

test("a worker frozen past its lock loses its simulation run to another worker and stops it at the next round; the results are unchanged", async () => {
  const args = [
    "--dataset",
    "vowel",
    "--hidden",
    "64",
    "--strategies",
    "entropy",
    "--seeds",
    "7",
    "--init",
    "22",
    "--query",
    "11",
    "--rounds",
    "30",
    "--epochs",
    "300",
    "--quiet",
  ];
  assert.equal(cli("simulate", ...args, "--out", join(dir, "frozen-local")).status, 0);
  const frozenLog: string[] = [],
    otherLog: string[] = [];
  const frozen = await startWorker(1, frozenLog);
  const running = spawn(process.execPath, [bin, "simulate", ...args, "--out", join(dir, "frozen-queued"), "--queue", url], { stdio: "ignore" });
  // Freeze the worker a moment after its run starts, for longer than its 1 s lock; a second worker takes the job meanwhile.
  for (let i = 0; i < 400 && !frozenLog.some((l) => / round 2\/30:/.test(l)); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  frozen.kill("SIGSTOP");
  await startWorker(1, otherLog);
  for (let i = 0; i < 400 && !otherLog.some((l) => /simulate \S+ started/.test(l)); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  frozen.kill("SIGCONT");
  assert.equal(await new Promise((resolve) => running.once("exit", resolve)), 0);
  const lines = (d: string) =>
    readFileSync(join(dir, d, "results.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => {
        const r = JSON.parse(l);
        return [r.strategy, r.seed, r.round, r.labeled, r.accuracy].join(",");
      });
  assert.deepEqual(lines("frozen-queued"), lines("frozen-local"));
  for (let i = 0; i < 200 && !frozenLog.some((l) => /lost the lock/.test(l)); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  assert.ok(
    frozenLog.some((l) => /^worker: lost the lock of simulate-\w+; stopping it \(another worker reruns it\)$/.test(l)),
    frozenLog.join(" | "),
  );
  assert.ok(!frozenLog.some((l) => / round 30\/30:/.test(l)), "the frozen worker stopped its run before the end");
  assert.ok(
    otherLog.some((l) => / round 30\/30:/.test(l)),
    "the other worker ran it to the end",
  );
  await Promise.all(workers.splice(0).map(stop));
});

test("failures: Redis unreachable, a shard without ids, a job from another version", async () => {
  const oneLine = (r: ReturnType<typeof cli>, pattern: RegExp) => {
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  };
  oneLine(
    query("--pool", join(dir, "all.npy"), "--queue", "redis://127.0.0.1:1"),
    /^alfamix: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\); start it/,
  );
  oneLine(cli("worker", "--queue", "redis://127.0.0.1:1"), /cannot reach Redis/);
  oneLine(cli("simulate", "--dataset", "vowel", "--queue", "http://nope"), /--queue expects redis:\/\/HOST:PORT/);
  const broken = join(dir, "broken");
  mkdirSync(broken);
  writeFileSync(join(broken, "part-0.npy"), encodeNpy(x.slice(0, 100 * d), [100, d]));
  writeFileSync(join(broken, "part-0.ids"), ids.slice(0, 100).join("\n") + "\n");
  writeFileSync(join(broken, "part-1.npy"), encodeNpy(x.slice(100 * d, 200 * d), [100, d]));
  const out = join(dir, "never.csv");
  oneLine(query("--pool", join(broken, "part-*.npy"), "--queue", url, "--out", out), /part-1\.npy: the shard has no ids: expected .*part-1\.ids beside it/);
  oneLine(query("--pool", join(broken, "part-*.npy"), "--out", out), /part-1\.npy: the shard has no ids/);
  writeFileSync(join(broken, "part-1.ids"), ids.slice(100, 200).join("\n") + "\n");
  writeFileSync(join(broken, "part-2.npy"), "not a numpy file");
  writeFileSync(join(broken, "part-2.ids"), "x\n");
  oneLine(query("--pool", join(broken, "part-*.npy"), "--queue", url, "--out", out), /part-2\.npy \(byte 0\): expected the \.npy magic/);
  assert.ok(!existsSync(out), "no output file");
  rmSync(join(broken, "part-2.npy"));
  rmSync(join(broken, "part-2.ids"));

  // A worker of this version refuses a job made by another.
  await startWorker();
  const job = {
    kind: "score" as const,
    version: "0.0.1",
    file: join(broken, "part-0.npy"),
    fileRows: 100,
    start: 0,
    rows: 100,
    firstRow: 0,
    dim: d,
    labeledLocal: [],
    strategy: { label: "entropy", name: "entropy", params: {} },
    state: {},
  };
  await assert.rejects(
    dispatch(parseQueueUrl(url), [job]),
    /a worker failed job score-\w+ \(score\): refused: this worker runs alfamix \S+, the job was made by alfamix 0\.0\.1; run workers of the same version/,
  );
  await Promise.all(workers.splice(0).map(stop));
});

test("sampled k-means (as FAISS trains) against Lloyd on blobs: inertia within 2%, and deterministic", () => {
  const r = new Rng(5),
    points = 30000,
    dim = 16,
    k = 40;
  const c = Float32Array.from({ length: 12 * dim }, () => r.normal(0, 3));
  const data = matrix(points, dim);
  for (let i = 0; i < points; i++) for (let j = 0; j < dim; j++) data.data[i * dim + j] = c[(i % 12) * dim + j] + r.normal(0, 1);
  const exact = kmeans(data, k, { rng: new Rng(1) });
  const sampled = kmeansSampled(data, k, { rng: new Rng(1), maxPerCenter: 64 });
  assert.ok(sampled.inertia <= exact.inertia * 1.02, `sampled ${sampled.inertia} vs exact ${exact.inertia}`);
  assert.deepEqual(Array.from(kmeansSampled(data, k, { rng: new Rng(1), maxPerCenter: 64 }).labels), Array.from(sampled.labels));
  // With no more than 256 points per centre it is Lloyd itself.
  assert.deepEqual(Array.from(kmeansSampled(data, k, { rng: new Rng(1), maxPerCenter: 1000 }).labels), Array.from(exact.labels));
});
