import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/random.js";

test("the same seed gives the same stream; different seeds differ", () => {
  const draw = (seed: number) => Array.from({ length: 5 }, () => new Rng(seed).nextUint32());
  assert.deepEqual(draw(1), draw(1));
  const a = new Rng(1),
    b = new Rng(1),
    c = new Rng(10);
  const xs = Array.from({ length: 100 }, () => a.uniform());
  assert.deepEqual(
    xs,
    Array.from({ length: 100 }, () => b.uniform()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 100 }, () => c.uniform()),
  );
});

test("child streams do not depend on how much the parent has drawn", () => {
  const a = new Rng(7),
    b = new Rng(7);
  for (let i = 0; i < 1000; i++) b.uniform();
  assert.equal(a.child("model").uniform(), b.child("model").uniform());
  assert.notEqual(a.child("model").uniform(), a.child("strategy").uniform());
});

test("uniform, int and normal have the right moments", () => {
  const rng = new Rng(42);
  const n = 200000;
  let su = 0,
    sn = 0,
    sn2 = 0;
  const counts = new Array(7).fill(0);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
    su += u;
    const z = rng.normal(2, 3);
    sn += z;
    sn2 += z * z;
    counts[rng.int(7)]++;
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.005);
  const mean = sn / n,
    variance = sn2 / n - mean * mean;
  assert.ok(Math.abs(mean - 2) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(Math.sqrt(variance) - 3) < 0.03, `std ${Math.sqrt(variance)}`);
  for (const c of counts) assert.ok(Math.abs(c / n - 1 / 7) < 0.005);
});

test("sampling without replacement gives distinct values in range, uniformly", () => {
  const rng = new Rng(3);
  for (const [n, k] of [
    [10, 10],
    [1000, 3],
    [50, 20],
    [5, 0],
  ]) {
    const s = rng.sample(n, k);
    assert.equal(s.length, k);
    assert.equal(new Set(s).size, k);
    assert.ok(s.every((v) => v >= 0 && v < n));
  }
  assert.throws(() => rng.sample(3, 4), RangeError);
  const hits = new Array(20).fill(0);
  for (let t = 0; t < 20000; t++) for (const v of rng.sample(20, 2)) hits[v]++;
  for (const h of hits) assert.ok(Math.abs(h / 40000 - 0.05) < 0.006, `frequency ${h / 40000}`);
  const from = Int32Array.from([10, 20, 30, 40]);
  assert.deepEqual(Array.from(rng.choice(from, 4)).sort(), [10, 20, 30, 40]);
});

test("shuffle is a permutation; weighted sampling follows the weights and skips zeros", () => {
  const rng = new Rng(5);
  const p = rng.permutation(100);
  assert.deepEqual(
    Array.from(p).sort((x, y) => x - y),
    Array.from({ length: 100 }, (_, i) => i),
  );
  const weights = [0, 1, 3, 0];
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 40000; i++) counts[rng.weightedIndex(weights)]++;
  assert.equal(counts[0] + counts[3], 0);
  assert.ok(Math.abs(counts[2] / 40000 - 0.75) < 0.01);
  assert.throws(() => rng.weightedIndex([0, 0]), RangeError);
});
