import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { loadDataset } from "../src/embed/load-dataset.js";
import { accuracy } from "../src/eval/metrics.js";
import { gatherRows, matrix, type Matrix } from "../src/linalg/matrix.js";
import { argmaxRows } from "../src/linalg/rows.js";
import { noisyAnswers } from "../src/loop/protocol.js";
import { simulate } from "../src/loop/simulation.js";
import { NeuralClassifier } from "../src/models/network.js";
import { Rng } from "../src/random.js";
import { createProject } from "../src/serve/projects.js";
import { Store } from "../src/serve/store/store.js";
import { emit } from "./timing.js";

export interface TeamOptions {
  /** Synthetic pool size (ignored with a dataset). */
  poolSize: number;
  dim: number;
  classes: number;
  /** A built-in dataset (e.g. mnist): its training set is the pool, its test set scores the labels. */
  dataset?: string;
  annotators: number;
  labels: number;
  batch: number;
  strategy: string;
  /** Pause per item, as a person would take (0: full speed). */
  thinkMs: number;
  seed: number;
  /** The annotators answer wrongly with this probability (symmetric flips, the same answers as simulate --label-noise gives). */
  labelNoise?: number;
}

interface Timed {
  endpoint: "next" | "labels";
  start: number;
  ms: number;
}

/**
 * A simulated team: `annotators` label from the ground truth through the HTTP API of a server in
 * its own process, as fast as they can (or with a think time). Reports p50/p99 latency of
 * /next and /labels, overall and while a retrain runs, retrain times, the server's peak RSS, and
 * (with a dataset) the test accuracy of the labels the team produced next to `alfamix simulate`
 * with the same strategy and batch.
 */
export async function benchTeam(json: boolean, o: TeamOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "alfamix-team-"));
  const db = join(dir, "team.db");
  const rng = new Rng(o.seed);
  let server: { child: ChildProcess; url: string } | undefined;
  try {
    // The pool: a dataset's training set, or Gaussian blobs.
    let x: Matrix,
      truth: string[],
      classNames: string[],
      test: { x: Matrix; y: Int32Array } | undefined,
      normalization: { mean: number; std: number } | undefined;
    if (o.dataset) {
      const parts = await loadDataset(o.dataset);
      x = parts.train.x;
      classNames = parts.train.classNames;
      truth = Array.from(parts.train.y, (k) => classNames[k]);
      test = parts.test ? { x: parts.test.x, y: parts.test.y } : undefined;
      normalization = parts.train.normalization;
    } else {
      x = matrix(o.poolSize, o.dim);
      classNames = Array.from({ length: o.classes }, (_, k) => `class-${k}`);
      const centres = Float32Array.from({ length: o.classes * o.dim }, () => rng.normal(0, 1));
      truth = [];
      for (let i = 0; i < o.poolSize; i++) {
        const k = rng.int(o.classes);
        truth.push(classNames[k]);
        for (let j = 0; j < o.dim; j++) x.data[i * o.dim + j] = centres[k * o.dim + j] + 2 * (rng.uniform() - 0.5) * 1.7;
      }
    }
    const ids = Array.from({ length: x.rows }, (_, i) => `item-${i}`);
    // What the team answers: the truth, or with --label-noise the noisy oracle simulate uses (drawn from the same seed, so the same answers).
    const answers = o.labelNoise
      ? Array.from(
          noisyAnswers(
            Int32Array.from(truth, (c) => classNames.indexOf(c)),
            classNames.length,
            o.labelNoise,
            "symmetric",
            new Rng(o.seed).child("oracle"),
          ),
          (k) => classNames[k],
        )
      : truth;
    // 100 labelled items to start from, drawn at random, as `simulate --init 100` does.
    const initial = rng.child("initial").sample(x.rows, 100);
    const labeledFile = join(dir, "initial.csv");
    writeFileSync(labeledFile, "id,label\n" + Array.from(initial, (i) => `${ids[i]},${answers[i]}`).join("\n") + "\n");
    const store = new Store(db);
    const importStart = performance.now();
    await createProject(store, {
      name: "team",
      pool: { ids, x, source: "bench" },
      labeled: labeledFile,
      classes: classNames,
      batch: o.batch,
      strategy: o.strategy,
      model: "linear",
      randomShare: 0.1,
      seed: o.seed,
    });
    const importSec = (performance.now() - importStart) / 1000;
    const token = store.tokens.create("bench", "admin", null).secret;
    // One token per annotator, as a team has (an annotator holds at most --max-leases items).
    const annotatorTokens = Array.from({ length: o.annotators }, (_, i) => store.tokens.create(`annotator-${i}`, "annotator", null).secret);
    store.close();

    server = await startServer(db);
    const url = server.url,
      headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const get = (path: string) => fetch(url + path, { headers }).then((r) => r.json() as Promise<Record<string, unknown>>);
    // The first batch (the retrain thread loads the pool, then plans) before the clock starts.
    const firstStart = performance.now();
    while (!(((await get("/api/projects/team/status")).queued as number) > 0)) await sleep(50);
    const firstBatchSec = (performance.now() - firstStart) / 1000;

    // Retrain windows, from polling the status.
    const retrains: [number, number][] = [];
    let polling = true;
    const poller = (async () => {
      let since: number | undefined;
      while (polling) {
        const t = performance.now();
        const retraining = (await get("/api/projects/team/status")).retraining === true;
        if (retraining && since === undefined) since = t;
        if (!retraining && since !== undefined) {
          retrains.push([since, performance.now()]);
          since = undefined;
        }
        await sleep(50);
      }
      if (since !== undefined) retrains.push([since, performance.now()]);
    })();

    const timings: Timed[] = [];
    let remaining = o.labels;
    const started = performance.now();
    await Promise.all(
      annotatorTokens.map(async (secret) => {
        const own = { authorization: `Bearer ${secret}`, "content-type": "application/json" };
        while (remaining > 0) {
          remaining--;
          let t = performance.now();
          const served = (await fetch(`${url}/api/projects/team/next`, { headers: own }).then((r) => r.json())) as {
            item: { id: string } | null;
            lease: string;
          };
          timings.push({ endpoint: "next", start: t, ms: performance.now() - t });
          if (!served.item) {
            remaining++;
            await sleep(50);
            continue;
          }
          if (o.thinkMs) await sleep(o.thinkMs);
          t = performance.now();
          const reply = await fetch(`${url}/api/projects/team/labels`, {
            method: "POST",
            headers: own,
            body: JSON.stringify({ item: served.item.id, label: answers[Number(served.item.id.slice(5))], lease: served.lease }),
          });
          await reply.text();
          timings.push({ endpoint: "labels", start: t, ms: performance.now() - t });
        }
      }),
    );
    const wallSec = (performance.now() - started) / 1000;
    polling = false;
    await poller;
    const peakRssMB = peakRss(server.child.pid!);
    const exported = await fetch(`${url}/api/projects/team/export?format=csv`, { headers }).then((r) => r.text());
    const estimate = await fetch(`${url}/api/projects/team/accuracy`, { headers }).then(
      (r) => r.json() as Promise<{ labels: number; n: number; accuracy: number; low: number; high: number }[]>,
    );
    server.child.kill("SIGTERM");
    await new Promise((resolve) => server!.child.once("exit", resolve));
    server = undefined;

    const during = (t: Timed) => retrains.some(([a, b]) => t.start < b && t.start + t.ms > a);
    const stats = (endpoint: Timed["endpoint"], filter: (t: Timed) => boolean = () => true) =>
      percentiles(timings.filter((t) => t.endpoint === endpoint && filter(t)).map((t) => t.ms));
    const models = new Store(db, { readonly: true });
    const retrainMs = models
      .models(models.project("team")!.id)
      .filter((m) => m.kind === "model")
      .map((m) => m.ms);
    models.close();
    const record: Record<string, unknown> = {
      pool: x.rows,
      dim: x.cols,
      annotators: o.annotators,
      labelsMade: o.labels,
      batch: o.batch,
      strategy: o.strategy,
      thinkMs: o.thinkMs,
      importSec: round(importSec),
      firstBatchSec: round(firstBatchSec),
      wallSec: round(wallSec),
      labelsPerSec: round(o.labels / wallSec),
      next: stats("next"),
      labels: stats("labels"),
      nextDuringRetrain: stats("next", during),
      labelsDuringRetrain: stats("labels", during),
      retrains: retrainMs.length,
      retrainMs: percentiles(retrainMs),
      peakRssMB,
      liveEstimate: estimate.map((e) => ({ labels: e.labels, n: e.n, accuracy: round(e.accuracy), low: round(e.low), high: round(e.high) })),
    };
    if (test) record.accuracy = await compareWithSimulate(exported, x, answers, classNames, test, normalization, o);
    const fmt = (p: { p50: number; p99: number; n: number }) => `p50 ${p.p50} ms, p99 ${p.p99} ms (n ${p.n})`;
    emit(
      json,
      record,
      [
        `team of ${o.annotators}${o.labelNoise ? ` answering wrongly ${100 * o.labelNoise}% of the time` : ""} on ${x.rows} × ${x.cols} (${o.strategy}, batch ${o.batch}): ${o.labels} labels in ${wallSec.toFixed(1)} s (${(o.labels / wallSec).toFixed(1)}/s); import ${importSec.toFixed(1)} s, first batch ${firstBatchSec.toFixed(1)} s`,
        `  /next   ${fmt(stats("next"))}; during retrains ${fmt(stats("next", during))}`,
        `  /labels ${fmt(stats("labels"))}; during retrains ${fmt(stats("labels", during))}`,
        `  retrain + re-score: ${retrainMs.length} runs, ${fmt(percentiles(retrainMs))}; server peak RSS ${peakRssMB} MB`,
        `  live accuracy estimate (random-share items): ${estimate.map((e) => `${(100 * e.accuracy).toFixed(1)}% [${(100 * e.low).toFixed(1)}, ${(100 * e.high).toFixed(1)}] by ${e.labels} labels (n ${e.n})`).join("; ") || "none yet"}`,
        ...(record.accuracy
          ? [
              `  test accuracy by labels (service vs simulate): ${(record.accuracy as { labels: number; service: number; simulate: number }[]).map((a) => `${a.labels}: ${(100 * a.service).toFixed(2)}% vs ${(100 * a.simulate).toFixed(2)}%`).join("; ")}`,
            ]
          : []),
      ].join("\n"),
    );
  } finally {
    server?.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Test accuracy of a linear head trained (as the service trains it) on the first n labels the team
 * produced, at each multiple of the batch, next to `alfamix simulate` with the same strategy,
 * batch, 100 initial labels and seed.
 */
async function compareWithSimulate(
  exported: string,
  x: Matrix,
  answers: string[],
  classNames: string[],
  test: { x: Matrix; y: Int32Array },
  normalization: { mean: number; std: number } | undefined,
  o: TeamOptions,
) {
  const rows = exported
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => Number(line.split(",")[0].slice(5)));
  const checkpoints = Array.from({ length: Math.floor((rows.length - 100) / o.batch) + 1 }, (_, r) => 100 + r * o.batch);
  const trainAndTest = (n: number) => {
    const labelled = Int32Array.from(rows.slice(0, n));
    const model = new NeuralClassifier(x.cols, classNames.length, { hidden: [], seed: o.seed });
    const norm = (m: Matrix) =>
      normalization
        ? matrix(
            m.rows,
            m.cols,
            m.data.map((v) => (v - normalization.mean) / normalization.std),
          )
        : m;
    model.fit(
      norm(gatherRows(x, labelled)),
      Int32Array.from(labelled, (r) => classNames.indexOf(answers[r])),
    );
    return accuracy(argmaxRows(model.predictProbs(norm(test.x))), test.y);
  };
  const out = join(mkdtempSync(join(tmpdir(), "alfamix-team-sim-")), "runs");
  const results = await simulate(
    {
      dataset: o.dataset!,
      model: "linear",
      hidden: [],
      dropout: 0,
      strategies: [o.strategy],
      strategyOptions: {},
      seeds: [o.seed],
      init: 100,
      query: o.batch,
      rounds: checkpoints.length - 1,
      epochs: 1000,
      lr: 0.001,
      batch: 64,
      weightDecay: 0,
      targetAccuracy: 0.99,
      // As the service trains: on the pool as given, or with the dataset's own mean and std (MNIST).
      normalize: normalization ? "auto" : "none",
      testFraction: 0.2,
      ...(o.labelNoise ? { labelNoise: o.labelNoise, noise: "symmetric" as const } : {}),
    },
    { out },
  );
  return checkpoints.map((n, r) => ({ labels: n, service: round(trainAndTest(n)), simulate: round(results.find((x) => x.round === r)!.accuracy) }));
}

function startServer(db: string): Promise<{ child: ChildProcess; url: string }> {
  const bin = new URL("../../bin/alfamix.js", import.meta.url).pathname;
  const child = spawn(process.execPath, [bin, "serve", "--db", db, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /^url: (\S+)/.exec(line);
      if (m) resolve({ child, url: m[1] });
    });
    child.once("exit", (code) => reject(new Error(`the server exited (${code})`)));
  });
}

/** The process's peak resident set (VmHWM), in MB. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

function percentiles(values: number[]): { p50: number; p99: number; n: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]) : NaN);
  return { p50: at(0.5), p99: at(0.99), n: sorted.length };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (v: number) => Number(v.toFixed(v < 10 ? 3 : 1));
