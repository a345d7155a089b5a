import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/random.js";
import { fromRows, gatherRows, matrix, type Matrix } from "../src/linalg/matrix.js";
import { kmeans, nearestMembers } from "../src/cluster/kmeans.js";
import { kmeansPlusPlus, kmeansPlusPlusInBlocks, CANDIDATES_PER_CENTRE } from "../src/cluster/kmeans-plus-plus.js";
import { nearestCenters } from "../src/cluster/nearest.js";
import { densePoints, type PointSet } from "../src/cluster/points.js";
import { fewDistinctPoints, randomMatrix } from "./helpers.js";

const f = Math.fround;

/**
 * kmeansPlusPlusInBlocks written out in JavaScript: the same draws, and seeding-blocks.wat's float32
 * arithmetic one operation at a time (a gain in four lane sums over i mod 4, then the tail; the
 * update where a point is strictly nearer, and the potential it leaves summed as a gain is).
 */
function literalBlockedSeeding(points: PointSet, k: number, rng: Rng, trials: number, block: number) {
  const n = points.size,
    norms = points.squaredNorms();
  const closest = new Float32Array(n).fill(Number.POSITIVE_INFINITY),
    nearest = new Int32Array(n),
    chosen = new Uint8Array(n),
    centers = new Int32Array(k),
    dots = new Float32Array(CANDIDATES_PER_CENTRE * block * n);
  const distance = (i: number, row: number, t: number) => Math.max(f(f(norms[i] + norms[row]) - f(dots[t * n + i] * 2)), 0);
  // Four lane sums over i mod 4 up to the last multiple of 4, then the tail; added in float64.
  const sum = (term: (i: number) => number) => {
    const lanes = [0, 0, 0, 0],
      end = n - (n % 4);
    let tail = 0;
    for (let i = 0; i < n; i++) {
      if (i < end) lanes[i % 4] = f(lanes[i % 4] + term(i));
      else tail = f(tail + term(i));
    }
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + tail;
  };
  const gain = (row: number, t: number) => sum((i) => Math.max(f(closest[i] - distance(i, row, t)), 0));
  let potential = 0;
  const take = (c: number, row: number, t: number) => {
    for (let i = 0; i < n; i++) {
      const d = distance(i, row, t);
      if (d < closest[i]) {
        closest[i] = d;
        nearest[i] = c;
      }
    }
    potential = sum((i) => closest[i]) - closest[row];
    centers[c] = row;
    chosen[row] = 1;
    closest[row] = 0;
    nearest[row] = c;
  };
  const above = (cumulative: number[], target: number) => cumulative.findIndex((v) => v > target);
  const first = rng.int(n);
  points.dotsWith(Int32Array.of(first), dots);
  take(0, first, 0);
  let c = 1;
  while (c < k) {
    let blockPotential = 0;
    const cumulative = Array.from(closest, (v) => (blockPotential += v));
    if (!(blockPotential > 0)) {
      let skip = rng.int(n - c),
        next = -1;
      for (let i = 0; i < n && next < 0; i++) if (!chosen[i] && skip-- === 0) next = i;
      points.dotsWith(Int32Array.of(next), dots);
      take(c++, next, 0);
      continue;
    }
    const size = CANDIDATES_PER_CENTRE * Math.min(block, k - c);
    const pool = Int32Array.from({ length: size }, () => above(cumulative, rng.uniform() * blockPotential));
    points.dotsWith(pool, dots);
    let poolPotential = 0;
    for (let taken = 0; taken < size / CANDIDATES_PER_CENTRE && c < k; taken++) {
      let total = 0;
      const drawn = Array.from(pool, (row) => (total += closest[row]));
      if (taken === 0) poolPotential = total;
      // A new block once the candidates' weight falls more than twice as fast as the points'.
      else if (!(total > 0) || total / poolPotential < potential / blockPotential / 2) break;
      const gains = new Map<number, number>();
      let best = above(drawn, rng.uniform() * total);
      for (let trial = 1; trial < trials; trial++) {
        const t = above(drawn, rng.uniform() * total);
        if (t === best || gains.has(t)) continue;
        if (!gains.has(best)) gains.set(best, gain(pool[best], best));
        gains.set(t, gain(pool[t], t));
        if (gains.get(t)! > gains.get(best)!) best = t;
      }
      take(c++, pool[best], best);
    }
  }
  return { centers, nearest, closest };
}

test("k-means++ in blocks: its WebAssembly passes take the literal seeding's centres, nearest centres and distances", () => {
  const rng = new Rng("blocks");
  // n mod 4 = 1, 2, 3 and 0 (the kernels' one-lane tail); blocks of 1, of some and of more than k.
  for (const [n, d, k, trials, block] of [
    [301, 7, 40, 1, 4],
    [298, 16, 60, 5, 7],
    [99, 3, 80, 8, 32],
    [1203, 5, 100, 3, 1],
    [400, 9, 33, 8, 64],
  ]) {
    const x = randomMatrix(n, d, rng);
    x.data.copyWithin(0, d, 20 * d); // rows 18 and 19 coincide (19 rows copied down one)
    const assignment = { index: new Int32Array(n), distance: new Float32Array(n) };
    const fast = kmeansPlusPlusInBlocks(densePoints(x), k, new Rng(n), { localTrials: trials, block, assignment });
    const literal = literalBlockedSeeding(densePoints(x), k, new Rng(n), trials, block);
    const at = `n ${n}, ${trials} trials, blocks of ${block}`;
    assert.deepEqual(Array.from(fast), Array.from(literal.centers), at);
    assert.deepEqual(Array.from(assignment.index), Array.from(literal.nearest), at);
    assert.deepEqual(Array.from(assignment.distance), Array.from(literal.closest), at);
    assert.equal(new Set(fast).size, k, `${at}: distinct centres`);
  }
  // Fewer distinct points than centres: the potential reaches 0 and the rest are drawn uniformly.
  const few = fewDistinctPoints();
  const seeds = kmeansPlusPlusInBlocks(densePoints(few), 6, new Rng(2), { localTrials: 3, block: 2 });
  assert.deepEqual(Array.from(seeds), Array.from(literalBlockedSeeding(densePoints(few), 6, new Rng(2), 3, 2).centers));
  assert.equal(new Set(seeds).size, 6);
  assert.deepEqual(new Set(Array.from(seeds, (i) => few.data.slice(2 * i, 2 * i + 2).join())).size, 4, "every distinct point a centre");
});

test("k-means++ in blocks: the assignment it leaves is each point's nearest seed, as Lloyd's first pass finds it", () => {
  // Small integers: every distance is exact in float32, so the two must agree to the bit (ties
  // go to the lower centre in both: the seeding keeps the earlier centre unless one is strictly nearer).
  const rng = new Rng(8);
  const x = matrix(500, 6);
  for (let i = 0; i < x.data.length; i++) x.data[i] = rng.int(5) - 2;
  const assignment = { index: new Int32Array(500), distance: new Float32Array(500) };
  const seeds = kmeansPlusPlusInBlocks(densePoints(x), 45, new Rng(9), { localTrials: 4, block: 8, assignment });
  const expected = nearestCenters(x, gatherRows(x, seeds));
  assert.deepEqual(Array.from(assignment.distance), Array.from(expected.distance));
  assert.deepEqual(Array.from(assignment.index), Array.from(expected.index));
  let ties = 0;
  for (let i = 0; i < 500; i++) {
    let equal = 0;
    for (const s of seeds) {
      let d = 0;
      for (let j = 0; j < 6; j++) d += (x.data[i * 6 + j] - x.data[s * 6 + j]) ** 2;
      if (d === expected.distance[i]) equal++;
    }
    if (equal > 1) ties++;
  }
  assert.ok(ties >= 50, `${ties} points with two seeds equally near: the tie rule is exercised`);
  // k ≥ n: every point its own centre.
  const all = { index: new Int32Array(7), distance: new Float32Array(7).fill(9) };
  assert.deepEqual(Array.from(kmeansPlusPlusInBlocks(densePoints(randomMatrix(7, 2, rng)), 9, rng, { block: 4, assignment: all })), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(all.index), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(all.distance), [0, 0, 0, 0, 0, 0, 0]);
});

/** Σ over points of the squared distance to the nearest of `rows`: what a batch of picks covers. */
function coverage(x: Matrix, rows: Int32Array): number {
  return nearestCenters(x, gatherRows(x, rows)).distance.reduce((s, v) => s + v, 0);
}

test("k-means++ in blocks seeds nearly as well as the classic greedy seeding, far better than plain D² sampling", () => {
  // 60 blobs of 40 points in 12 dimensions. With k = 60 (one centre a blob) a block's candidates
  // run out of empty blobs before the block is done; with k = 120 several centres share a blob,
  // as ALFA-Mix's k = budget puts several in a dense region. Mean coverage over 6 seeds.
  const rng = new Rng(21);
  const centres = randomMatrix(60, 12, rng, 6);
  const x = matrix(2400, 12);
  for (let i = 0; i < 2400; i++) for (let j = 0; j < 12; j++) x.data[i * 12 + j] = centres.data[(i % 60) * 12 + j] + rng.normal();
  const mean = (seeding: (rng: Rng) => Int32Array) => {
    let sum = 0;
    for (let seed = 0; seed < 6; seed++) sum += coverage(x, seeding(new Rng(seed)));
    return sum / 6;
  };
  for (const [k, ofPlain] of [
    [60, 0.6],
    [120, 0.95],
  ]) {
    const plain = mean((r) => kmeansPlusPlus(densePoints(x), k, r, { localTrials: 1 })),
      greedy = mean((r) => kmeansPlusPlus(densePoints(x), k, r, { localTrials: 8 })),
      blocked = mean((r) => kmeansPlusPlusInBlocks(densePoints(x), k, r, { localTrials: 8, block: 32 }));
    const at = `k = ${k}: blocks of 32 ${blocked}; classic greedy ${greedy}; D² ${plain}`;
    assert.ok(blocked < 1.05 * greedy && blocked < ofPlain * plain, at);
  }
  // Through k-means (large problems seed this way): every blob keeps a pick, and the labels are
  // those of the returned centres after a first pass taken from the seeding.
  const result = kmeans(x, 120, { rng: new Rng(3), seedingBlock: 32, stopWhenPicksStable: true });
  assert.deepEqual(Array.from(nearestCenters(x, result.centers).index), Array.from(result.labels));
  const picks = nearestMembers(x, result);
  assert.equal(new Set(Array.from(picks, (p) => p % 60)).size, 60, "a pick in every blob");
  assert.deepEqual(kmeans(x, 120, { rng: new Rng(3), seedingBlock: 32, stopWhenPicksStable: true }).labels, result.labels, "deterministic");
});

/** The rows of x as a point set that fails, instead of looping, past `limit` products. */
function boundedPoints(x: Matrix, limit: number): PointSet {
  const points = densePoints(x);
  let calls = 0;
  return {
    size: points.size,
    squaredNorms: () => points.squaredNorms(),
    dotsWith(indices, out) {
      if (++calls > limit) throw new Error(`${calls} products for at most ${limit} blocks: the seeding does not end`);
      points.dotsWith(indices, out);
    },
  };
}

test("k-means++ in blocks always ends: every block takes a centre, and a centre's rounded distance to itself is not counted", () => {
  // A centre's distance to itself is ‖r‖² + ‖r‖² − 2r·r, rounded: here 2⁻¹¹ (the norm is summed
  // one way, the product another), more than everything left. Counted in the potential, it made
  // each block stop before its first centre, forever.
  const e = 2 ** -12;
  const tiny = fromRows([
    [0, 0, 0],
    [1, e, e],
    [1e-5, 0, 0],
    [0, 0, 0],
  ]);
  const seeds = kmeansPlusPlusInBlocks(boundedPoints(tiny, 4), 3, new Rng(1), { localTrials: 3, block: 32, first: 0 });
  assert.equal(new Set(seeds).size, 3);
  // Rows of varied norms, each twice, with k past the distinct rows: the same, at scale.
  const rng = new Rng("twice");
  const x = matrix(600, 32);
  for (let i = 0; i < 300; i++) {
    const scale = Math.exp(3 * rng.uniform());
    for (let j = 0; j < 32; j++) x.data[i * 32 + j] = scale * rng.normal();
  }
  x.data.copyWithin(300 * 32, 0, 300 * 32);
  for (const seed of [0, 1, 2, 3]) {
    const centres = kmeansPlusPlusInBlocks(boundedPoints(x, 580), 580, new Rng(seed), { localTrials: 8, block: 32 });
    assert.equal(new Set(centres).size, 580, `seed ${seed}`);
  }
  // Non-finite coordinates: one clear error, not a loop.
  const bad = fromRows([
    [Number.NaN, 0],
    [1, 0],
    [2, 0],
    [3, 0],
    [4, 0],
    [5, 0],
  ]);
  assert.throws(() => kmeansPlusPlusInBlocks(boundedPoints(bad, 6), 3, new Rng(1), { block: 32, first: 1 }), /NaN or infinite/);
});
