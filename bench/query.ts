import { join } from "node:path";
import { readNpy } from "../src/data/npy.js";
import { readNpyMatrix } from "../src/data/pool.js";
import { matrix, type Matrix } from "../src/linalg/matrix.js";
import { linearFromWeights } from "../src/models/network.js";
import { Rng } from "../src/random.js";
import { createStrategy, type StrategySpec } from "../src/strategies/registry.js";
import { emit } from "./timing.js";

async function readMatrix(path: string): Promise<Matrix> {
  return (await readNpyMatrix(path, undefined)).x;
}

/**
 * One query over the arrays `reference/pytorch/gen_query_inputs.py` writes: pool.npy (N×D),
 * labeled.npy (L×D), labels.npy (L), W.npy (K×D), b.npy (K). The labelled rows join the pool as
 * labelled items; the linear head is used as given (no training).
 */
export async function benchQuery(json: boolean, inputs: string, spec: StrategySpec, budget: number, seed = 0): Promise<void> {
  const pool = await readMatrix(join(inputs, "pool.npy"));
  const labeledX = await readMatrix(join(inputs, "labeled.npy"));
  const labels = (await readNpy(join(inputs, "labels.npy"), "int32")).data;
  const W = await readMatrix(join(inputs, "W.npy"));
  const b = (await readNpy(join(inputs, "b.npy"), "float32")).data;
  const n = pool.rows,
    l = labeledX.rows;
  const all = matrix(n + l, pool.cols);
  all.data.set(pool.data);
  all.data.set(labeledX.data, pool.data.length);
  const strategy = createStrategy(spec);
  const start = performance.now();
  const result = strategy.query(
    {
      pool: all,
      labeled: Int32Array.from({ length: l }, (_, i) => n + i),
      labels,
      unlabeled: Int32Array.from({ length: n }, (_, i) => i),
      model: linearFromWeights(W, b),
      rng: new Rng(seed),
    },
    budget,
  );
  const totalMs = performance.now() - start;
  const stats = result.stats ?? {};
  const record = {
    strategy: spec.label,
    n,
    dim: pool.cols,
    classes: W.rows,
    candidates: stats.candidates,
    cap: stats.cap,
    selected: result.indices.length,
    nInit: stats.nInit,
    candidateMs: round(stats.candidateMs),
    selectMs: round(stats.selectMs),
    totalMs: round(totalMs),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  emit(
    json,
    record,
    Object.entries(record)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`)
      .join(" "),
  );
}

const round = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10) / 10);
