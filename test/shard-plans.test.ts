import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeNpy } from "../src/data/npy.js";
import { packArrays, unpackArrays } from "../src/loop/score-job.js";
import { selectBatch } from "../src/loop/select-batch.js";
import { whyNotSharded } from "../src/loop/sharded-query.js";
import { gatherRows, matrix } from "../src/linalg/matrix.js";
import { createLinear } from "../src/models/network.js";
import { Rng } from "../src/random.js";
import { flippingAnchors } from "../src/strategies/alfamix-literal.js";
import { buildAnchors } from "../src/strategies/alfamix-anchors.js";
import { createStrategy, resolveStrategy, STRATEGY_NAMES } from "../src/strategies/registry.js";
import { unlabeledRows, type QueryContext, type Strategy } from "../src/strategies/types.js";
import { randomMatrix, tempDir } from "./helpers.js";

/** A pool of 3 blobs with 30 labelled items and a linear head trained on them. */
function scenario(n: number, seed: number): QueryContext {
  const rng = new Rng(seed),
    d = 5,
    classes = 3;
  const x = randomMatrix(n, d, rng);
  for (let i = 0; i < n; i++) x.data[i * d + (i % classes)] += 1.2;
  const labeled = rng.permutation(n).slice(0, 30);
  const labels = labeled.map((i) => i % classes);
  const isLabeled = new Uint8Array(n);
  for (const r of labeled) isLabeled[r] = 1;
  const model = createLinear(d, classes, { seed });
  model.fit(gatherRows(x, labeled), labels, { epochs: 40 });
  return { pool: x, labeled, labels, unlabeled: unlabeledRows(isLabeled), model, rng: new Rng(seed).child("query") };
}

/** The plan run as a worker runs it: chunks of `chunk` rows, state and parts through JSON and back. */
async function runPlan(strategy: Strategy, context: QueryContext, budget: number, chunk: number) {
  const plan = strategy.plan!;
  const { W, b } = context.model.head();
  const inputs = { W, b, labeledX: gatherRows(context.pool, context.labeled), labels: context.labels, budget };
  const state = plan.prepare(inputs);
  const travelled = unpackArrays(JSON.parse(JSON.stringify(packArrays(state))));
  const isLabeled = new Uint8Array(context.pool.rows);
  for (const r of context.labeled) isLabeled[r] = 1;
  const parts = [];
  const D = context.pool.cols;
  for (let start = 0; start < context.pool.rows; start += chunk) {
    const count = Math.min(chunk, context.pool.rows - start);
    const x = matrix(count, D, context.pool.data.slice(start * D, (start + count) * D));
    const part = plan.scoreChunk(travelled, { x, unlabeled: unlabeledRows(isLabeled.subarray(start, start + count)), firstRow: start });
    parts.push(unpackArrays(JSON.parse(JSON.stringify(packArrays(part)))));
  }
  return plan.finish(state, parts, {
    inputs,
    unlabeled: context.unlabeled,
    labeled: context.labeled,
    rng: new Rng(7).child("query"),
    rowsOf: (rows) => gatherRows(context.pool, rows),
  });
}

const PLANNED = [
  "least-confidence",
  "margin",
  "entropy",
  "alfamix",
  "alfamix[select=uniform]",
  "alfamix[select=kcenter]",
  "alfamix[select=kmeans-labeled]",
  "alfamix[select=typical]",
  "alfamix[cap=0.05]",
  "alfamix[ninit=3]",
  "alfamix[kmeans=exact]",
  "cluster-margin",
  "cluster-margin[candidates=3]",
  "cluster-margin[clusters=4]",
];

test("a shard plan, a chunk at a time through JSON, picks what query picks on the pool held whole", async () => {
  for (const entry of PLANNED) {
    for (const chunk of [7, 64, 1000]) {
      const strategy = createStrategy(entry);
      const whole = strategy.query(scenario(400, 7), 12);
      const planned = await runPlan(strategy, scenario(400, 7), 12, chunk);
      assert.deepEqual(Array.from(planned.indices), Array.from(whole.indices), `${entry}, chunks of ${chunk}`);
      assert.deepEqual(Array.from(planned.scores!), Array.from(whole.scores!), `${entry}, chunks of ${chunk}: scores`);
      if (entry.startsWith("alfamix")) assert.equal(planned.stats!.candidates, whole.stats!.candidates);
      if (entry.startsWith("cluster-margin")) assert.deepEqual(planned.stats, whole.stats);
    }
  }
});

test("which strategies have a plan, and why the others have none", () => {
  const planned = STRATEGY_NAMES.filter((name) => createStrategy(name).plan);
  assert.deepEqual(planned, ["least-confidence", "margin", "entropy", "cluster-margin", "alfamix"]);
  assert.match(whyNotSharded(resolveStrategy("dropquery"))!, /dropout masks over the whole unlabelled pool/);
  assert.equal(whyNotSharded(resolveStrategy("coreset")), "coreset needs the whole pool at once");
  assert.match(whyNotSharded(resolveStrategy("alfamix[alpha=learned]"))!, /learned and random α need the whole pool/);
  assert.match(whyNotSharded(resolveStrategy("alfamix[select=norm]"))!, /norm selection needs per-flip values from every chunk/);
  assert.equal(whyNotSharded(resolveStrategy("alfamix[select=kcenter]")), undefined);
});

test("every ALFA-Mix variant explains its picks: the anchors that flip each one at its cap, as the literal mixing finds them", () => {
  for (const entry of ["alfamix", "alfamix[select=norm]", "alfamix[select=symkl]", "alfamix[alpha=learned]", "alfamix[select=kcenter]"]) {
    const context = scenario(300, 3),
      strategy = createStrategy(entry);
    const result = strategy.query(context, 8);
    const explanations = strategy.explain!(context, result);
    assert.equal(explanations.length, result.indices.length);
    const anchors = buildAnchors(gatherRows(context.pool, context.labeled), context.labels, 3).anchors;
    const { W, b } = context.model.head();
    let flipped = 0;
    result.indices.forEach((row, i) => {
      const cap = result.scores![i];
      const expected = Number.isNaN(cap) ? [] : flippingAnchors(gatherRows(context.pool, [row]), anchors, W, b, cap)[0];
      assert.deepEqual(explanations[i].flips, expected, `${entry}, pick ${i}`);
      flipped += expected.length > 0 ? 1 : 0;
    });
    assert.ok(flipped > 0, `${entry}: some pick flips`);
  }
  assert.equal(createStrategy("entropy").explain, undefined);
});

test("selectBatch over files streams by itself when the strategy has a plan, with the batch it picks in memory", async () => {
  const dir = tempDir();
  const context = scenario(500, 11);
  const ids = Array.from({ length: 500 }, (_, i) => `item-${i}`);
  writeFileSync(join(dir, "pool.npy"), encodeNpy(context.pool.data, [500, context.pool.cols]));
  writeFileSync(join(dir, "pool.ids"), ids.join("\n") + "\n");
  const labeled = { ids: Array.from(context.labeled, (r) => ids[r]), labels: Array.from(context.labels, (k) => `class-${k}`) };
  for (const strategy of ["alfamix", "margin", "alfamix[select=kcenter]", "coreset"]) {
    const inMemory = selectBatch({ pool: { ids, x: context.pool }, labeled, strategy, budget: 9, seed: 2 });
    const fromFiles = await selectBatch({ pool: { files: [join(dir, "pool.npy")] }, labeled, strategy, budget: 9, seed: 2 });
    assert.deepEqual(fromFiles.items, inMemory.items, strategy);
    // A streamed run holds only the labelled rows; one read whole holds the pool.
    assert.equal(fromFiles.x.rows, createStrategy(strategy).plan ? 30 : 500, `${strategy}: streamed iff it has a plan`);
  }
});
