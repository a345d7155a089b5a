import { test } from "node:test";
import assert from "node:assert/strict";
import { ParamError, UserError } from "../src/errors.js";
import { Rng } from "../src/random.js";
import { fromRows, matrix, type Matrix } from "../src/linalg/matrix.js";
import { createMLP, linearFromWeights, createLinear } from "../src/models/network.js";
import type { Classifier } from "../src/models/classifier.js";
import { buildAnchors } from "../src/strategies/alfamix-anchors.js";
import { closedFormSearch } from "../src/strategies/alfamix-closed-form.js";
import { closedFormAlpha, closedFormCandidatesLiteral } from "../src/strategies/alfamix-literal.js";
import { alfaMixStrategy, capSchedule } from "../src/strategies/alfamix.js";
import { createStrategy, resolveStrategy, STRATEGY_NAMES } from "../src/strategies/registry.js";
import { poolPredictions, poolProbabilities, topK, type QueryContext } from "../src/strategies/types.js";
import { entropyScores, leastConfidenceScores, marginScores, mutualInformation } from "../src/strategies/uncertainty.js";
import { assertClose, randomMatrix } from "./helpers.js";

test("uncertainty scores on hand-computed rows", () => {
  const probs = fromRows([
    [0.7, 0.2, 0.1],
    [0.4, 0.35, 0.25],
    [1, 0, 0],
  ]);
  assertClose(leastConfidenceScores(probs), [0.3, 0.6, 0], 1e-6);
  assertClose(marginScores(probs), [0.5, 0.05, 1], 1e-6);
  const h = -(0.4 * Math.log(0.4) + 0.35 * Math.log(0.35) + 0.25 * Math.log(0.25));
  assertClose(entropyScores(probs), [-(0.7 * Math.log(0.7) + 0.2 * Math.log(0.2) + 0.1 * Math.log(0.1)), h, 0], 1e-6);
});

test("BALD's mutual information: ln 2 for opposite certain passes, 0 for agreeing ones", () => {
  const mi = mutualInformation([
    fromRows([
      [1, 0],
      [0.5, 0.5],
      [0.9, 0.1],
    ]),
    fromRows([
      [0, 1],
      [0.5, 0.5],
      [0.9, 0.1],
    ]),
  ]);
  assertClose(mi, [Math.log(2), 0, 0], 1e-6);
  // Two passes (0.8, 0.2) and (0.4, 0.6): H(0.6, 0.4) − (H(0.8, 0.2) + H(0.4, 0.6)) / 2.
  const H = (p: number) => -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
  assertClose(mutualInformation([fromRows([[0.8, 0.2]]), fromRows([[0.4, 0.6]])]), [H(0.6) - (H(0.8) + H(0.4)) / 2], 1e-6);
});

test("top-k takes the largest scores, ties to the lower position, and skips NaN", () => {
  assert.deepEqual(Array.from(topK([0.1, 0.9, 0.5, 0.9, NaN, 0.7], 3)), [1, 3, 5]);
  assert.deepEqual(Array.from(topK([1, 2], 5)), [1, 0]);
  assert.deepEqual(Array.from(topK([3, 1, 2], 0)), []);
});

test("the closed-form α by hand: W = I, z = (1, 0.5), anchor (0, 2)", () => {
  // p = softmax(1, 0.5) → g = (p0 − 1, p1) = 0.37754·(−1, 1); d = (−1, 1.5); α_j = ε‖d‖/‖g‖ · g_j/d_j.
  const p0 = 1 / (1 + Math.exp(-0.5));
  const g = [p0 - 1, 1 - p0],
    d = [-1, 1.5];
  assertClose(closedFormAlpha(g, d, 0.2), [0.18027757, 0.12018504], 1e-7);
  assertClose(closedFormAlpha(g, d, 0.4), [0.36055513, 0.24037008], 1e-7);
  // z̃ = z + α⊙d = (1 − 0.1803, 0.5 + 0.1803) keeps class 0 at cap 0.2 and flips at 0.4.
  const W = fromRows([
      [1, 0],
      [0, 1],
    ]),
    b = new Float32Array(2);
  const z = fromRows([[1, 0.5]]),
    anchor = fromRows([[0, 2]]);
  const caps = capSchedule(0.2);
  assert.deepEqual(caps, [0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(Array.from(closedFormCandidatesLiteral(z, anchor, W, b, caps)), [2]);
  const fast = closedFormSearch(
    { embeddings: z, unlabeled: Int32Array.from([0]), anchors: { anchors: anchor, exact: [new Int32Array(0)] }, W, b },
    { caps, keep: "none", budget: 1 },
  );
  assert.deepEqual(Array.from(fast.firstCap), [2]);
});

/**
 * Random ALFA-Mix inputs. Unless `exact` is false: ReLU zeros, a constant column and a class with
 * one labelled point, so anchors have coordinates that pool rows share exactly.
 */
function mixingInputs(seed: number, K: number, D: number, exact = true) {
  const rng = new Rng(seed);
  const relu = (m: Matrix) => {
    for (let i = 0; i < m.data.length; i++) m.data[i] = Math.max(0, m.data[i]);
    return m;
  };
  const pool = randomMatrix(300, D, rng);
  const labeled = randomMatrix(4 * K + 1, D, rng);
  if (exact) {
    for (const m of [pool, labeled]) relu(m);
    for (const m of [pool, labeled]) for (let i = 0; i < m.rows; i++) m.data[i * D + D - 1] = 0.25; // constant column
  }
  const labels = Int32Array.from({ length: labeled.rows }, (_, i) => (!exact ? i % K : i === labeled.rows - 1 ? K - 1 : i % (K - 1)));
  const W = randomMatrix(K, D, rng, 1.5),
    b = randomMatrix(1, K, rng).data;
  return { pool, labeled, labels, W, b };
}

test("the fast closed-form search finds exactly the literal candidates on random inputs", () => {
  const caps = capSchedule(0.2);
  let flipped = 0;
  for (const [seed, K, D] of [
    [1, 3, 4],
    [2, 4, 6],
    [3, 5, 8],
    [4, 2, 5],
    [5, 6, 3],
  ]) {
    for (const exact of [true, false]) {
      const { pool, labeled, labels, W, b } = mixingInputs(seed, K, D, exact);
      const anchors = buildAnchors(labeled, labels, K);
      assert.equal(
        anchors.exact.some((e) => e.length > 0),
        exact,
      );
      const literal = closedFormCandidatesLiteral(pool, anchors.anchors, W, b, caps);
      // Every row, then every row but each 7th (as if labelled): those rows are multiplied in place and skipped.
      for (const unlabeled of [
        Int32Array.from({ length: pool.rows }, (_, i) => i),
        Int32Array.from({ length: pool.rows }, (_, i) => i).filter((i) => i % 7 !== 3),
      ]) {
        const fast = closedFormSearch({ embeddings: pool, unlabeled, anchors, W, b }, { caps, keep: "none", budget: 10 });
        assert.deepEqual(
          Array.from(fast.firstCap),
          Array.from(unlabeled, (i) => literal[i]),
          `seed ${seed}, K=${K}, D=${D}, exact ${exact}, ${unlabeled.length} rows`,
        );
      }
      flipped += literal.filter((t) => t > 0).length;
    }
  }
  assert.ok(flipped > 200, `the inputs exercise the flip test (${flipped} flips)`);
});

test("the closed-form search keeps the same ‖α‖ and symmetric KL for rows used in place among labelled ones as for the same rows alone", () => {
  const caps = capSchedule(0.2);
  const { pool, labeled, labels, W, b } = mixingInputs(6, 4, 6, false);
  const anchors = buildAnchors(labeled, labels, 4);
  const unlabeled = Int32Array.from({ length: pool.rows }, (_, i) => i).filter((i) => i % 5 !== 0);
  const alone = matrix(unlabeled.length, pool.cols);
  unlabeled.forEach((row, i) => alone.data.set(pool.data.subarray(row * pool.cols, (row + 1) * pool.cols), i * pool.cols));
  for (const keep of ["alphaNorm", "symKL"] as const) {
    const inPlace = closedFormSearch({ embeddings: pool, unlabeled, anchors, W, b }, { caps, keep, budget: 10 });
    const compact = closedFormSearch({ embeddings: alone, unlabeled: Int32Array.from(unlabeled, (_, i) => i), anchors, W, b }, { caps, keep, budget: 10 });
    assert.deepEqual(Array.from(inPlace.firstCap), Array.from(compact.firstCap));
    const values = (r: typeof inPlace) => Array.from((keep === "alphaNorm" ? r.alphaNorm : r.symKL)!).map((v) => (Number.isNaN(v) ? -1 : v));
    assertClose(values(inPlace), values(compact), 1e-5);
    assert.ok(inPlace.firstCap.filter((t) => t > 0).length > 20, `${keep}: the inputs flip items`);
  }
});

test("anchors: class means, the overall mean for an absent class, and their exact coordinates", () => {
  const z = fromRows([
    [0, 1, 2],
    [0, 3, 2],
    [5, 1, 2],
  ]);
  const { anchors, exact } = buildAnchors(z, Int32Array.from([0, 0, 1]), 3);
  assertClose(anchors.data, [0, 2, 2, 5, 1, 2, 5 / 3, 5 / 3, 2], 1e-6);
  assert.deepEqual(
    exact.map((e) => Array.from(e)),
    [[0, 2], [0, 1, 2], [2]],
  );
});

/** A small classification problem, a trained model and a query context over it. */
function scenario(
  options: { seed?: number; classes?: number; labeledCount?: number; oneClass?: boolean; dropout?: number } = {},
): QueryContext & { truth: Int32Array } {
  const { seed = 1, classes = 3, labeledCount = 30, oneClass = false, dropout = 0.2 } = options;
  const rng = new Rng(seed);
  const n = 240,
    d = 6;
  const x = randomMatrix(n, d, rng);
  const truth = Int32Array.from({ length: n }, (_, i) => i % classes);
  for (let i = 0; i < n; i++) x.data[i * d + truth[i]] += 2.5;
  const order = rng.permutation(n);
  let labeled = order.slice(0, labeledCount);
  if (oneClass)
    labeled = Int32Array.from(
      Array.from(order)
        .filter((i) => truth[i] === 0)
        .slice(0, labeledCount),
    );
  const isLabeled = new Set(labeled);
  const unlabeled = Int32Array.from({ length: n }, (_, i) => i).filter((i) => !isLabeled.has(i));
  const labels = labeled.map((i) => truth[i]);
  const model: Classifier = createMLP(d, classes, { hidden: [16], dropout, seed });
  if (labeled.length) {
    const lx = matrix(labeled.length, d);
    labeled.forEach((i, r) => lx.data.set(x.data.subarray(i * d, (i + 1) * d), r * d));
    model.fit(lx, labels, { epochs: 30 });
  }
  return { pool: x, labeled, labels, unlabeled, model, rng: new Rng(seed + 100), truth };
}

const allStrategies = [
  ...STRATEGY_NAMES.map((name) => ({ name, options: {} })),
  ...(["learned", "random"] as const).map((alpha) => ({ name: "alfamix", options: { alfamix: { alpha } } })),
  ...(["norm", "symkl", "uniform"] as const).map((select) => ({ name: "alfamix", options: { alfamix: { select } } })),
  // Entries with settings, as --strategies writes them.
  { name: "alfamix[select=kcenter]", options: {} },
  { name: "alfamix[select=kmeans-labeled]", options: {} },
  { name: "alfamix[select=typical]", options: {} },
  { name: "cdal[double-softmax=true]", options: {} },
  { name: "coregcn[subset=50,epochs=20]", options: {} },
];

function checkInvariants(label: string, context: QueryContext, budget: number, run: (c: QueryContext) => Int32Array): void {
  const picked = run(context);
  const expected = Math.min(budget, context.unlabeled.length);
  assert.equal(picked.length, expected, `${label}: returns min(budget, |unlabelled|)`);
  assert.equal(new Set(picked).size, picked.length, `${label}: distinct`);
  const unlabeled = new Set(context.unlabeled);
  assert.ok(
    picked.every((i) => unlabeled.has(i)),
    `${label}: all unlabelled`,
  );
}

for (const { name, options } of allStrategies) {
  const label = `${name}${Object.keys(options).length ? " " + JSON.stringify(Object.values(options)[0]) : ""}`;
  test(`invariants: ${label}`, () => {
    const run = (budget: number) => (c: QueryContext) => createStrategy(resolveStrategy(name, options)).query(c, budget).indices;
    for (const [what, context, budget] of [
      ["usual", scenario(), 20],
      ["budget ≥ |unlabelled|", scenario({ labeledCount: 200 }), 100],
      ["budget 0", scenario(), 0],
      ["one class labelled", scenario({ oneClass: true, labeledCount: 10 }), 15],
      ["K = 2", scenario({ classes: 2 }), 12],
    ] as const) {
      checkInvariants(`${label}, ${what}`, context, budget, run(budget));
    }
    // The same seed gives the same picks.
    assert.deepEqual(Array.from(run(25)(scenario({ seed: 7 }))), Array.from(run(25)(scenario({ seed: 7 }))));
    // An empty labelled set: meaningful for all but ALFA-Mix, whose anchors need labelled items.
    const empty = scenario({ labeledCount: 0 });
    if (name.startsWith("alfamix")) assert.throws(() => run(5)(empty), /alfamix needs at least one labelled item/);
    else checkInvariants(`${label}, nothing labelled`, empty, 5, run(5));
    // Bad arguments are user errors.
    assert.throws(() => run(-1)(scenario()), /budget must be a non-negative integer/);
    assert.throws(() => run(2.5)(scenario()), /budget must be a non-negative integer/);
    const mismatched = scenario();
    mismatched.labels = mismatched.labels.slice(1);
    assert.throws(() => run(3)(mismatched), /labels for .* labelled items/);
    const overlapping = scenario();
    overlapping.unlabeled = Int32Array.from([...overlapping.unlabeled, overlapping.labeled[0]]);
    assert.throws(() => run(3)(overlapping), /appears twice/);
  });
}

test("unknown strategies and bad options are clear errors", () => {
  assert.throws(
    () => createStrategy("uncertain"),
    /unknown strategy "uncertain"; known strategies: random, least-confidence, margin, entropy, bald, coreset, badge, dfal, cdal, coregcn, typiclust, probcover, cluster-margin, dropquery, alfamix/,
  );
  assert.throws(
    () => alfaMixStrategy({ cap: 0 }),
    (e: Error) => e instanceof ParamError && e.param === "cap" && e.message === "alfamix: cap expects a number in (0, 1], got 0",
  );
  assert.throws(() => alfaMixStrategy({ select: "best" as never }), /alfamix: select expects one of kmeans, norm, symkl, uniform/);
  assert.throws(() => resolveStrategy("bald", { bald: { samples: 1 } }), /bald: samples expects an integer ≥ 2, got 1/);
  assert.throws(() => resolveStrategy("alfamix[cap=2]"), /strategy "alfamix\[cap=2\]": cap expects a number in \(0, 1\], got "2"/);
  assert.throws(() => resolveStrategy("alfamix[capstep=0.1]"), /unknown setting "capstep"; known: alpha, cap, select, ninit, steps, kmeans/);
  assert.throws(() => resolveStrategy("entropy[cap=0.1]"), /entropy\[cap=0.1\]": unknown setting "cap"; it has no settings/);
});

test("bald refuses a model without dropout and says why", () => {
  assert.throws(
    () => createStrategy("bald").query(scenario({ dropout: 0 }), 5),
    (e: Error) => e instanceof UserError && /dropout > 0/.test(e.message),
  );
});

test("uncertainty strategies take the most uncertain items in order", () => {
  const context = scenario();
  const probs = context.model.predict(context.pool).probs;
  const result = createStrategy("entropy").query(context, 10);
  const all = entropyScores(probs);
  const ranked = Array.from(context.unlabeled)
    .sort((a, b) => all[b] - all[a] || a - b)
    .slice(0, 10);
  assert.deepEqual(Array.from(result.indices), ranked);
  assertClose(
    result.scores!,
    ranked.map((i) => all[i]),
    1e-6,
  );
});

test("badge starts from the largest gradient embedding; coreset counts chosen points as centres", () => {
  const context = scenario();
  const { probs, embeddings } = context.model.predict(context.pool);
  const K = probs.cols,
    D = embeddings.cols;
  let best = -1,
    bestNorm = -1;
  for (const u of context.unlabeled) {
    let r2 = 0,
      z2 = 0,
      top = 0;
    for (let c = 1; c < K; c++) if (probs.data[u * K + c] > probs.data[u * K + top]) top = c;
    for (let c = 0; c < K; c++) r2 += (probs.data[u * K + c] - (c === top ? 1 : 0)) ** 2;
    for (let j = 0; j < D; j++) z2 += embeddings.data[u * D + j] ** 2;
    if (r2 * z2 > bestNorm) {
      bestNorm = r2 * z2;
      best = u;
    }
  }
  assert.equal(createStrategy("badge").query(context, 5).indices[0], best);
  const coreset = createStrategy("coreset").query(scenario(), 10);
  for (let t = 1; t < coreset.scores!.length; t++) assert.ok(coreset.scores![t] <= coreset.scores![t - 1] + 1e-6, "farthest-first distances never grow");
});

test("ALFA-Mix reports its candidates, cap and timings, scores its picks by cap, and fills when nothing flips", () => {
  const result = createStrategy("alfamix").query(scenario(), 10);
  const stats = result.stats!;
  for (const key of ["candidates", "cap", "filled", "candidateMs", "selectMs"]) assert.ok(key in stats, key);
  assert.ok(stats.candidates > 0 && [0.2, 0.4, 0.6, 0.8, 1].includes(stats.cap));
  const scored = Array.from(result.scores!).filter((s) => !Number.isNaN(s));
  assert.equal(scored.length, 10 - stats.filled);
  assert.ok(scored.every((s) => s > 0 && s <= Math.fround(stats.cap)));
  // A head with W = 0 gives every item the same uniform prediction and no gradient: no candidates.
  const flat = scenario();
  flat.model = linearFromWeights(matrix(3, 6), new Float32Array(3));
  const filled = createStrategy("alfamix").query(flat, 10);
  assert.deepEqual([filled.stats!.candidates, filled.stats!.filled, filled.indices.length, new Set(filled.indices).size], [0, 10, 10, 10]);
  assert.ok(Array.from(filled.scores!).every(Number.isNaN));
});

test("on a 2-D toy ALFA-Mix picks points by the model's class boundary, not outliers far from it", () => {
  const rng = new Rng(3);
  const rows: number[][] = [];
  for (let i = 0; i < 400; i++) rows.push([(i % 2 ? 2 : -2) + rng.normal(0, 0.8), rng.normal(0, 1)]);
  rows.push([-9, 6], [-10, -7], [9, 7], [11, -6], [-12, 0], [12, 1]); // outliers, each on its own side
  const pool = fromRows(rows);
  const labeled = Int32Array.from({ length: 40 }, (_, i) => i);
  const labels = labeled.map((i) => i % 2);
  const model = createLinear(2, 2, { seed: 1 });
  model.fit(fromRows(Array.from(labeled, (i) => rows[i])), labels, { epochs: 300, lr: 0.05, targetAccuracy: 2 });
  // Distance of a point to the model's boundary (logit 0 = logit 1).
  const { W, b } = model.head();
  const w0 = W.data[0] - W.data[2],
    w1 = W.data[1] - W.data[3],
    c = b[0] - b[1];
  const margin = (p: number[]) => Math.abs(w0 * p[0] + w1 * p[1] + c) / Math.hypot(w0, w1);
  const unlabeled = Int32Array.from({ length: pool.rows - 40 }, (_, i) => i + 40);
  const result = createStrategy("alfamix").query({ pool, labeled, labels, unlabeled, model, rng: new Rng(1) }, 8);
  assert.equal(result.stats!.filled, 0);
  const typical = Array.from(unlabeled, (i) => margin(rows[i])).sort((a, b) => a - b)[unlabeled.length >> 1];
  for (const i of result.indices) {
    assert.ok(i < 400, `picked the outlier ${rows[i]}`);
    assert.ok(margin(rows[i]) < typical / 2, `picked ${rows[i]} at ${margin(rows[i]).toFixed(2)} from the boundary (median ${typical.toFixed(2)})`);
  }
});

test("the pool's probabilities alone are the predictions' bits, and reuse predictions or embeddings already computed", () => {
  const context = scenario({ seed: 4 });
  const alone = poolProbabilities({ ...context });
  const full = poolPredictions({ ...context }).probs;
  assert.deepEqual(alone.data, full.data);
  // From embeddings already there (the head alone), and from predictions already there (the same object).
  assert.deepEqual(poolProbabilities({ ...context, embeddings: context.model.embed(context.pool) }).data, full.data);
  const withPredictions = { ...context };
  const predictions = poolPredictions(withPredictions);
  assert.equal(poolProbabilities(withPredictions), predictions.probs);
});
