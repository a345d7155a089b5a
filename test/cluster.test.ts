import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/random.js";
import { fromRows, gatherRows, matrix, type Matrix } from "../src/linalg/matrix.js";
import { kmeans, nearestMembers } from "../src/cluster/kmeans.js";
import { kmeansPlusPlus } from "../src/cluster/kmeans-plus-plus.js";
import { kCenterGreedy } from "../src/cluster/kcenter.js";
import { kmeansAroundFixed } from "../src/cluster/kmeans-fixed.js";
import { nearestCenters, nearestCentersAfterMove } from "../src/cluster/nearest.js";
import { kmeansParallel, localParts, rowDraw } from "../src/cluster/kmeans-parallel.js";
import { densePoints, gramPoints, outerProductPoints, type PointSet } from "../src/cluster/points.js";
import { assertClose, backends, fewDistinctPoints, randomMatrix, withBackend } from "./helpers.js";
import { jsBackend } from "../src/linalg/gemm.js";

function blobs(rng: Rng, perBlob: number, centres: number[][], spread: number): { x: Matrix; truth: Int32Array } {
  const d = centres[0].length;
  const x = matrix(perBlob * centres.length, d);
  const truth = new Int32Array(x.rows);
  for (let c = 0; c < centres.length; c++) {
    for (let i = 0; i < perBlob; i++) {
      const r = c * perBlob + i;
      truth[r] = c;
      for (let j = 0; j < d; j++) x.data[r * d + j] = centres[c][j] + rng.normal(0, spread);
    }
  }
  return { x, truth };
}

function bruteNearest(x: Matrix, c: Matrix): { index: number[]; distance: number[] } {
  const index: number[] = [],
    distance: number[] = [];
  for (let i = 0; i < x.rows; i++) {
    let best = Infinity,
      at = -1;
    for (let k = 0; k < c.rows; k++) {
      let s = 0;
      for (let j = 0; j < x.cols; j++) s += (x.data[i * x.cols + j] - c.data[k * x.cols + j]) ** 2;
      if (s < best) {
        best = s;
        at = k;
      }
    }
    index.push(at);
    distance.push(best);
  }
  return { index, distance };
}

for (const backend of backends()) {
  test(`nearest centres (${backend.name}) agree with brute force, also when centres span several blocks`, () => {
    const rng = new Rng(1);
    withBackend(backend, () => {
      for (const [n, k, d] of [
        [40, 7, 5],
        [30, 5000, 3],
      ]) {
        const x = randomMatrix(n, d, rng),
          c = randomMatrix(k, d, rng);
        const got = nearestCenters(x, c),
          want = bruteNearest(x, c);
        assert.deepEqual(Array.from(got.index), want.index);
        assertClose(got.distance, want.distance, 1e-4);
      }
    });
  });
}

test("k-means recovers well-separated blobs, and its labels and inertia are consistent", () => {
  const rng = new Rng(2);
  const { x, truth } = blobs(
    rng,
    50,
    [
      [0, 0],
      [10, 0],
      [0, 10],
      [10, 10],
    ],
    0.5,
  );
  const result = kmeans(x, 4, { rng: new Rng(3) });
  // Each true blob maps to exactly one cluster.
  const mapping = new Map<number, number>();
  for (let i = 0; i < x.rows; i++) {
    const seen = mapping.get(truth[i]);
    if (seen === undefined) mapping.set(truth[i], result.labels[i]);
    else assert.equal(result.labels[i], seen);
  }
  assert.equal(new Set(mapping.values()).size, 4);
  const brute = bruteNearest(x, result.centers);
  assert.deepEqual(Array.from(result.labels), brute.index);
  assert.ok(Math.abs(result.inertia - brute.distance.reduce((a, b) => a + b, 0)) < 1e-3 * result.inertia);
  const members = nearestMembers(x, result);
  for (let c = 0; c < 4; c++) assert.equal(result.labels[members[c]], c);
});

test("k-means restarts keep the lowest inertia, and the same seed gives the same clustering", () => {
  const x = randomMatrix(300, 6, new Rng(4));
  const one = kmeans(x, 12, { rng: new Rng(5) });
  const ten = kmeans(x, 12, { rng: new Rng(5), nInit: 10 });
  assert.ok(ten.inertia <= one.inertia);
  assert.equal(ten.nInit, 10);
  const again = kmeans(x, 12, { rng: new Rng(5) });
  assert.deepEqual(Array.from(again.labels), Array.from(one.labels));
  assert.deepEqual(Array.from(again.centers.data), Array.from(one.centers.data));
});

test("k-means handles k ≥ n, duplicate points and more clusters than distinct points", () => {
  const x = fromRows([
    [1, 1],
    [2, 2],
    [3, 3],
  ]);
  const all = kmeans(x, 5, { rng: new Rng(1) });
  assert.deepEqual(Array.from(all.labels), [0, 1, 2]);
  assert.equal(all.inertia, 0);
  const same = matrix(20, 3, new Float32Array(60).fill(2));
  const r = kmeans(same, 4, { rng: new Rng(1) });
  assert.equal(r.inertia, 0);
  assert.ok(r.labels.every((l) => l >= 0 && l < 4));
  // Two distinct points, three clusters: two centres coincide, so one cluster is left empty and
  // has no nearest member; the other two are exact.
  const two = fromRows([
    [0, 0],
    [0, 0],
    [0, 0],
    [5, 5],
    [5, 5],
  ]);
  const t = kmeans(two, 3, { rng: new Rng(2) });
  assert.equal(t.inertia, 0);
  const members = Array.from(nearestMembers(two, t));
  assert.equal(members.filter((m) => m === -1).length, 1);
  assert.equal(new Set(members.filter((m) => m >= 0).map((m) => two.data[m * 2])).size, 2);
  assert.throws(() => kmeans(x, 0, { rng: new Rng(1) }), /positive integer/);
});

/**
 * Rounds of moving a few centres (the last round: every one), each followed by the partial pass
 * and compared with a full one; `values` for the data. Returns how many points a moved centre
 * took from one that stayed.
 */
function movesAgainstFullPasses(x: Matrix, centers: Matrix, rng: Rng, draw: () => number): number {
  const n = x.rows,
    k = centers.rows,
    d = x.cols;
  const xNorms = Float32Array.from({ length: n }, (_, i) => x.data.slice(i * d, i * d + d).reduce((s, v) => s + v * v, 0));
  const assignment = { index: new Int32Array(n), distance: new Float32Array(n) },
    values = new Float32Array(n);
  assert.equal(nearestCentersAfterMove(x, xNorms, centers, new Uint8Array(k).fill(1), assignment, values), false, "every centre moved: the full pass");
  let taken = 0;
  for (let round = 0; round < 12; round++) {
    // Some centres onto another's coordinates in part, for ties across kept and new values.
    const moved = new Uint8Array(k);
    const count = round === 11 ? k : 1 + rng.int(4);
    for (let m = 0; m < count; m++) {
      const c = round === 11 ? m : rng.int(k);
      moved[c] = 1;
      const other = rng.int(k);
      for (let j = 0; j < d; j++) centers.data[c * d + j] = rng.uniform() < 0.5 ? centers.data[other * d + j] : draw();
    }
    const before = Array.from(assignment.index);
    const partial = nearestCentersAfterMove(x, xNorms, centers, moved, assignment, values);
    assert.equal(partial, round < 11, `round ${round}: ${round < 11 ? "the partial" : "the full"} pass`);
    const full = nearestCenters(x, centers, xNorms);
    assert.deepEqual(Array.from(assignment.index), Array.from(full.index), `round ${round}: labels`);
    assert.deepEqual(Array.from(assignment.distance), Array.from(full.distance), `round ${round}: distances`);
    if (partial) taken += before.filter((c, i) => c !== assignment.index[i] && moved[assignment.index[i]] === 1 && moved[c] === 0).length;
  }
  return taken;
}

test("nearest centres after a move: the same labels and distances as a full pass, ties to the lower centre", () => {
  // Small integers: every product is exact in float32 on either backend, so the partial pass must
  // agree with the full one to the bit, and the many ties test the rule across kept and new values.
  for (const backend of backends())
    withBackend(backend, () => {
      const rng = new Rng(14);
      const ints = (rows: number, cols: number) => {
        const m = matrix(rows, cols);
        for (let i = 0; i < m.data.length; i++) m.data[i] = rng.int(7) - 3;
        return m;
      };
      const taken = movesAgainstFullPasses(ints(700, 5), ints(60, 5), rng, () => rng.int(7) - 3);
      assert.ok(taken > 20, `${backend.name}: ${taken} points taken from an unmoved centre by a moved one`);
    });
  // Floats, on the JavaScript GEMM (whose products do not depend on the call's shape): values
  // that differ in the last bit, and coinciding points and centres whose distances clamp to 0.
  withBackend(jsBackend, () => {
    const rng = new Rng(15);
    const x = randomMatrix(600, 3, rng),
      centers = randomMatrix(50, 3, rng);
    for (let i = 0; i < 100; i++) x.data.copyWithin(3 * (500 + i), 3 * (i % 50), 3 * (i % 50) + 3);
    centers.data.set(x.data.subarray(0, 30));
    const taken = movesAgainstFullPasses(x, centers, rng, () => (rng.uniform() < 0.3 ? x.data[rng.int(x.data.length)] : rng.normal()));
    assert.ok(taken > 20, `floats: ${taken} points taken from an unmoved centre by a moved one`);
  });
});

test("k-means++ returns distinct seeds, honours `first`, and spreads over the blobs", () => {
  const rng = new Rng(6);
  const { x, truth } = blobs(
    rng,
    30,
    [
      [0, 0],
      [20, 0],
      [0, 20],
      [20, 20],
      [40, 40],
    ],
    0.3,
  );
  const seeds = kmeansPlusPlus(densePoints(x), 5, new Rng(7), { first: 17, localTrials: 3 });
  assert.equal(seeds[0], 17);
  assert.equal(new Set(seeds).size, 5);
  assert.equal(new Set(Array.from(seeds, (s) => truth[s])).size, 5);
  const dup = matrix(6, 2, new Float32Array(12).fill(1));
  assert.equal(new Set(kmeansPlusPlus(densePoints(dup), 4, new Rng(1))).size, 4);
  assert.equal(kmeansPlusPlus(densePoints(dup), 9, new Rng(1)).length, 6);
});

test("k-means++ on factorised outer products matches it on the materialised vectors", () => {
  const rng = new Rng(8);
  const r = randomMatrix(60, 4, rng),
    z = randomMatrix(60, 7, rng);
  const g = matrix(60, 28);
  for (let i = 0; i < 60; i++) for (let a = 0; a < 4; a++) for (let b = 0; b < 7; b++) g.data[i * 28 + a * 7 + b] = r.data[i * 4 + a] * z.data[i * 7 + b];
  for (const backend of backends()) {
    withBackend(backend, () => {
      const fromFactors = kmeansPlusPlus(outerProductPoints(r, z), 10, new Rng(9), { first: 3 });
      const fromDense = kmeansPlusPlus(densePoints(g), 10, new Rng(9), { first: 3 });
      assert.deepEqual(Array.from(fromFactors), Array.from(fromDense));
      assertClose(outerProductPoints(r, z).squaredNorms(), densePoints(g).squaredNorms(), 1e-5);
    });
  }
});

test("BADGE's pruned seeding update (bounds, then gathered products) follows the full one, and picks the same centres", () => {
  // Gradient embeddings as BADGE builds them: r = p − onehot(argmax p), mostly small.
  const rng = new Rng(21),
    n = 1500,
    K = 5,
    D = 12;
  // z near one direction (as post-ReLU embeddings are), where Cauchy–Schwarz is nearly tight.
  const r = matrix(n, K),
    z = randomMatrix(n, D, rng, 0.2);
  for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) z.data[i * D + j] += 1 + 0.1 * j;
  for (let i = 0; i < n; i++) {
    const logits = Array.from({ length: K }, () => rng.normal(0, 3)),
      max = Math.max(...logits),
      e = logits.map((v) => Math.exp(v - max)),
      sum = e.reduce((a, b) => a + b, 0);
    e.forEach((v, k) => (r.data[i * K + k] = v / sum - (logits[k] === max ? 1 : 0)));
  }
  const g = matrix(n, K * D);
  for (let i = 0; i < n; i++) for (let a = 0; a < K; a++) for (let b = 0; b < D; b++) g.data[i * K * D + a * D + b] = r.data[i * K + a] * z.data[i * D + b];
  const points = outerProductPoints(r, z);
  const closest = new Float64Array(n).fill(Number.POSITIVE_INFINITY),
    literal = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  for (let t = 0; t < 60; t++) {
    const c = rng.int(n);
    points.lowerDistances!(c, closest);
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let j = 0; j < K * D; j++) d += (g.data[i * K * D + j] - g.data[c * K * D + j]) ** 2;
      literal[i] = Math.min(literal[i], d);
    }
    assertClose(closest, literal, 1e-4, `after centre ${c}`);
  }
  const fromFactors = kmeansPlusPlus(points, 40, new Rng(3), { first: 5 });
  const fromDense = kmeansPlusPlus(densePoints(g), 40, new Rng(3), { first: 5 });
  assert.deepEqual(Array.from(fromFactors), Array.from(fromDense));
});

test("greedy k-center takes the farthest point first (hand-computed order)", () => {
  const points = fromRows([[0], [1], [5], [10], [11]]);
  // From centre {0}: 11 is farthest; then {0, 11} leaves 5 (distance 5); then 1 and 10 tie at 1 → lower index.
  const greedy = kCenterGreedy(points, fromRows([[0]]), 3, new Rng(1));
  assert.deepEqual(Array.from(greedy.indices), [4, 2, 1]);
  assert.deepEqual(Array.from(greedy.squaredDistances), [121, 25, 1]);
  // No centres: the first is random, the rest follow farthest-first; every index once.
  const order = kCenterGreedy(points, matrix(0, 1), 5, new Rng(2)).indices;
  assert.equal(new Set(order).size, 5);
  const dup = matrix(4, 2, new Float32Array(8).fill(3));
  assert.equal(new Set(kCenterGreedy(dup, gatherRows(dup, [0]), 4, new Rng(1)).indices).size, 4);
});

test("k-means around fixed centres leaves what the fixed centres cover and splits the rest (hand example)", () => {
  // Tight groups on a line at 0, 10 and 20; a labelled item sits at 0. Two free centres must go
  // to the groups at 10 (mean 10.03) and 20 (mean 20.1), and each picks the member nearest its mean.
  const points = fromRows([[-0.1], [0.1], [9.8], [10], [10.3], [19.9], [20], [20.4]]);
  for (const seed of [1, 2, 3]) {
    const picks = kmeansAroundFixed(points, fromRows([[0]]), 2, new Rng(seed));
    assert.deepEqual(Array.from(picks).sort(), [3, 6], `seed ${seed}`);
  }
  // Without fixed centres it is k-means: one pick per group.
  const plain = Array.from(kmeansAroundFixed(points, matrix(0, 1), 3, new Rng(4))).sort();
  assert.deepEqual(
    plain.map((i) => (i < 2 ? 0 : i < 5 ? 1 : 2)),
    [0, 1, 2],
  );
  // Every point picked once when k = n, even where the fixed centres cover everything; deterministic.
  const all = kmeansAroundFixed(points, points, 8, new Rng(5));
  assert.equal(new Set(all).size, 8);
  assert.deepEqual(
    Array.from(kmeansAroundFixed(points, fromRows([[5]]), 3, new Rng(6))),
    Array.from(kmeansAroundFixed(points, fromRows([[5]]), 3, new Rng(6))),
  );
});

test("k-means++ through the Gram matrix matches it on the rows themselves", () => {
  // Small integers: every inner product is exact in float32 whichever GEMM computes it, so both
  // paths must take the very same centres.
  const rng = new Rng(10);
  const ints = matrix(150, 12);
  for (let i = 0; i < ints.data.length; i++) ints.data[i] = rng.int(7) - 3;
  const real = randomMatrix(150, 12, rng);
  for (const backend of backends()) {
    withBackend(backend, () => {
      const viaGram = kmeansPlusPlus(gramPoints(ints), 40, new Rng(11), { localTrials: 4 });
      const viaRows = kmeansPlusPlus(densePoints(ints), 40, new Rng(11), { localTrials: 4 });
      assert.deepEqual(Array.from(viaGram), Array.from(viaRows));
      const picks = Int32Array.from([5, 77, 149]);
      const a = new Float32Array(3 * 150),
        b = new Float32Array(3 * 150);
      gramPoints(real).dotsWith(picks, a);
      densePoints(real).dotsWith(picks, b);
      assertClose(a, b, 1e-5);
      assertClose(gramPoints(real).squaredNorms(), densePoints(real).squaredNorms(), 1e-5);
    });
  }
});

test("k-means|| and Lloyd over parts against exact k-means on blobs: inertia within 2%, deterministic, the same in 1 part or 7", async () => {
  const r = new Rng(5),
    n = 20000,
    dim = 16,
    k = 40;
  const centres = Array.from({ length: 12 }, () => Array.from({ length: dim }, () => r.normal(0, 3)));
  const { x } = blobs(r, (n / 12) | 0, centres, 1);
  const exact = kmeans(x, k, { rng: new Rng(1) });
  const one = await kmeansParallel(localParts(x, 1).run, k, { seed: 3 });
  const seven = await kmeansParallel(localParts(x, 7).run, k, { seed: 3 });
  assert.ok(one.inertia <= exact.inertia * 1.02, `k-means|| ${one.inertia} vs Lloyd with k-means++ ${exact.inertia}`);
  assert.ok(one.seeds > k && one.seeds < 6 * 2 * k, `${one.seeds} k-means|| candidates`);
  // The draws hang on (seed, round, row), never on the split; distances and sums differ only in rounding.
  assert.deepEqual(Array.from(seven.nearestRows), Array.from(one.nearestRows));
  assert.ok(Math.abs(seven.inertia - one.inertia) <= 1e-6 * one.inertia, `${seven.inertia} vs ${one.inertia}, ${seven.iterations} vs ${one.iterations} passes`);
  assert.deepEqual(await kmeansParallel(localParts(x, 7).run, k, { seed: 3 }), seven);
  assert.notDeepEqual(Array.from((await kmeansParallel(localParts(x, 7).run, k, { seed: 4 })).nearestRows), Array.from(seven.nearestRows));
  // The inertia is the centres' own, and each centre's pick is its nearest member: distinct rows.
  const assigned = nearestCenters(x, one.centers);
  assertClose(Float64Array.of(assigned.distance.reduce((s, v) => s + v, 0)), Float64Array.of(one.inertia), 1e-5);
  assert.deepEqual(Array.from(one.nearestRows), Array.from(nearestMembers(x, { centers: one.centers, labels: assigned.index })));
  assert.equal(new Set(one.nearestRows).size, k);
});

test("k-means|| with k at least the points: every point is its own centre; draws are uniform", async () => {
  const x = fromRows([
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 0],
    [5, 5],
  ]);
  const result = await kmeansParallel(localParts(x, 2).run, 5, { seed: 1 });
  assert.equal(result.inertia, 0);
  assert.deepEqual(Array.from(result.nearestRows), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(result.centers.data), Array.from(x.data));
  const draws = Float64Array.from({ length: 100000 }, (_, i) => rowDraw(7, 2, i));
  const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
  assert.ok(Math.abs(mean - 0.5) < 0.005 && draws.every((v) => v >= 0 && v < 1), `mean ${mean}`);
});

test("weighted k-means++: weight 1 everywhere is the unweighted seeding; a heavy point is drawn first", () => {
  const rng = new Rng(2);
  const x = randomMatrix(300, 5, rng);
  const plain = kmeansPlusPlus(densePoints(x), 20, new Rng(3), { localTrials: 3 });
  assert.deepEqual(Array.from(kmeansPlusPlus(densePoints(x), 20, new Rng(3), { localTrials: 3, weights: new Float64Array(300).fill(1) })), Array.from(plain));
  const weights = new Float64Array(300).fill(1e-9);
  weights[123] = 1;
  assert.equal(kmeansPlusPlus(densePoints(x), 2, new Rng(3), { first: 0, weights })[1], 123);
});

test("k-means seeded from a sample and stopped once the picks hold: consistent labels, the picks are the result's nearest members", () => {
  const rng = new Rng(31),
    n = 3000,
    d = 6,
    k = 30;
  const centres = randomMatrix(k, d, rng, 20);
  const x = matrix(n, d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x.data[i * d + j] = centres.data[(i % k) * d + j] + rng.normal();
  const full = kmeans(x, k, { rng: new Rng(2) });
  const fast = kmeans(x, k, { rng: new Rng(2), seedingSample: 500, stopWhenPicksStable: true });
  assert.ok(fast.iterations >= 2 && fast.iterations <= full.iterations, `${fast.iterations} against ${full.iterations} iterations`);
  assert.ok(fast.inertia <= full.inertia * 1.05, `inertia ${fast.inertia} against ${full.inertia}`);
  // The labels are those of the returned centres, so the picks read from them are exact.
  assert.deepEqual(Array.from(nearestCenters(x, fast.centers).index), Array.from(fast.labels));
  const picks = nearestMembers(x, fast);
  assert.equal(new Set(Array.from(picks).map((p) => p % k)).size, k, "one pick in each blob");
  // Deterministic, and the seeds came from the sample: every centre moved from a data point.
  assert.deepEqual(Array.from(kmeans(x, k, { rng: new Rng(2), seedingSample: 500, stopWhenPicksStable: true }).labels), Array.from(fast.labels));
});

/**
 * Greedy k-means++ written out in JavaScript, one point at a time, as kmeansPlusPlus computed it
 * before seeding.wat: the twin of its passes (the same squared distances from norms and inner
 * products; each candidate's potential summed in one sequence where the kernel keeps two sums).
 */
function literalSeeding(points: PointSet, k: number, rng: Rng, trials: number, weights: Float64Array): Int32Array {
  const n = points.size,
    norms = points.squaredNorms();
  const closest = new Float64Array(n),
    cumulative = new Float64Array(n),
    dots = new Float32Array(trials * n),
    chosen = new Uint8Array(n),
    centers = new Int32Array(k);
  const distance = (i: number, c: number, o: number) => Math.max(norms[i] + norms[c] - 2 * dots[o + i], 0);
  const first = rng.int(n);
  points.dotsWith(Int32Array.of(first), dots);
  for (let i = 0; i < n; i++) closest[i] = distance(i, first, 0);
  centers[0] = first;
  chosen[first] = 1;
  for (let c = 1; c < k; c++) {
    let potential = 0;
    for (let i = 0; i < n; i++) cumulative[i] = potential += weights[i] * closest[i];
    let next = -1,
      offset = 0;
    if (potential > 0) {
      const candidates = Int32Array.from({ length: trials }, () => {
        const target = rng.uniform() * potential;
        return cumulative.findIndex((v) => v > target);
      });
      points.dotsWith(candidates, dots);
      let best = Infinity;
      for (let t = 0; trials > 1 && t < trials; t++) {
        let p = 0;
        for (let i = 0; i < n; i++) p += weights[i] * Math.min(closest[i], distance(i, candidates[t], t * n));
        if (p < best) [best, offset] = [p, t * n];
      }
      next = candidates[offset / n];
    } else {
      let skip = rng.int(n - c);
      for (let i = 0; i < n && next < 0; i++) if (!chosen[i] && skip-- === 0) next = i;
      points.dotsWith(Int32Array.of(next), dots);
    }
    for (let i = 0; i < n; i++) closest[i] = Math.min(closest[i], distance(i, next, offset));
    centers[c] = next;
    chosen[next] = 1;
    closest[next] = 0;
  }
  return centers;
}

test("k-means++'s WebAssembly passes take the literal seeding's centres (odd and even counts, weights, duplicates)", () => {
  const rng = new Rng("seeding");
  // 4,915 points with 3 trials and 4,681 with 7: odd counts whose arrays once ended on the
  // kernel memory's last page, where reading one float past a row trapped.
  for (const [n, d, k, trials] of [
    [301, 7, 40, 1],
    [300, 16, 60, 5],
    [99, 3, 80, 8],
    [4915, 4, 5, 3],
    [4681, 4, 12, 7],
  ]) {
    const x = randomMatrix(n, d, rng);
    x.data.copyWithin(0, d, 20 * d); // rows 18 and 19 coincide (19 rows copied down one)
    const weights = Float64Array.from({ length: n }, () => 0.5 + rng.uniform());
    const fast = kmeansPlusPlus(densePoints(x), k, new Rng(n), { localTrials: trials, weights });
    const literal = literalSeeding(densePoints(x), k, new Rng(n), trials, weights);
    assert.deepEqual(Array.from(fast), Array.from(literal), `n ${n}, ${trials} trials`);
  }
  // Fewer distinct points than centres: the potential reaches 0 and the rest are drawn uniformly.
  const few = fewDistinctPoints();
  const ones = new Float64Array(7).fill(1);
  assert.deepEqual(
    Array.from(kmeansPlusPlus(densePoints(few), 6, new Rng(2), { localTrials: 3 })),
    Array.from(literalSeeding(densePoints(few), 6, new Rng(2), 3, ones)),
  );
});
