import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/random.js";
import { gramMatrix, matmul, sgemm } from "../src/linalg/gemm.js";
import { fromRows, matrix, gatherRows, rowSlice, transpose, toRows, type Matrix } from "../src/linalg/matrix.js";
import {
  argmaxRows,
  classMeans,
  columnMeans,
  entropyRows,
  logSoftmaxRows,
  normalizeRows,
  rowNorms,
  rowSquaredNorms,
  softmaxRows,
  top2Rows,
} from "../src/linalg/rows.js";
import { squaredDistances } from "../src/linalg/distances.js";
import { minOfProducts } from "../src/linalg/row-min.js";
import { assertClose, backends, randomMatrix, withBackend } from "./helpers.js";

/** Float64 triple loop: the reference every backend is held to. */
function referenceGemm(transA: boolean, transB: boolean, a: Matrix, b: Matrix, alpha: number, beta: number, c: Float32Array): Float64Array {
  const m = transA ? a.cols : a.rows,
    k = transA ? a.rows : a.cols,
    n = transB ? b.rows : b.cols;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a.data[p * a.cols + i] : a.data[i * a.cols + p];
        const bv = transB ? b.data[j * b.cols + p] : b.data[p * b.cols + j];
        s += av * bv;
      }
      out[i * n + j] = alpha * s + beta * c[i * n + j];
    }
  }
  return out;
}

const shapes: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 1],
  [1, 5, 9],
  [9, 5, 1],
  [3, 1, 4],
  [13, 17, 11],
  [64, 300, 5],
  [130, 70, 260],
  [5, 1100, 3],
  [257, 33, 129],
];

for (const backend of backends()) {
  test(`gemm (${backend.name}) matches a float64 reference on awkward shapes and every transpose`, () => {
    const rng = new Rng(1);
    withBackend(backend, () => {
      for (const [m, k, n] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const a = transA ? randomMatrix(k, m, rng) : randomMatrix(m, k, rng);
            const b = transB ? randomMatrix(n, k, rng) : randomMatrix(k, n, rng);
            const c = randomMatrix(m, n, rng);
            const expected = referenceGemm(transA, transB, a, b, 0.75, 0.5, c.data);
            matmul(a, b, { transA, transB, alpha: 0.75, beta: 0.5, out: c });
            assertClose(c.data, expected, 1e-4 * Math.sqrt(k), `${m}×${k}×${n} transA=${transA} transB=${transB}`);
          }
        }
      }
    });
  });

  test(`gemm (${backend.name}) honours leading dimensions and sub-array views`, () => {
    const rng = new Rng(2);
    withBackend(backend, () => {
      // A is the 6×4 left block of an 6×10 buffer; C is written into rows 2.. of a larger buffer.
      const big = randomMatrix(6, 10, rng);
      const b = randomMatrix(4, 3, rng);
      const cBuffer = new Float32Array(8 * 3).fill(7);
      sgemm(false, false, 6, 3, 4, 1, big.data, 10, b.data, 3, 0, cBuffer.subarray(6), 3);
      const a = matrix(6, 4);
      for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) a.data[i * 4 + j] = big.data[i * 10 + j];
      assertClose(cBuffer.subarray(6), referenceGemm(false, false, a, b, 1, 0, new Float32Array(18)), 1e-5);
      assert.deepEqual(Array.from(cBuffer.subarray(0, 6)), [7, 7, 7, 7, 7, 7]);
      // One output column, then one output row (the matrix-vector paths), through strided views:
      // b is B's first column (stride 3), c every other value of a buffer (stride 2).
      const column = new Float32Array(12).fill(7);
      sgemm(false, false, 6, 1, 4, 1, big.data, 10, b.data, 3, 0, column, 2);
      const bColumn = matrix(
        4,
        1,
        Float32Array.from({ length: 4 }, (_, i) => b.data[i * 3]),
      );
      const expectedColumn = referenceGemm(false, false, a, bColumn, 1, 0, new Float32Array(6));
      assertClose(
        Array.from({ length: 6 }, (_, i) => column[2 * i]),
        expectedColumn,
        1e-5,
        "one column",
      );
      assert.deepEqual(
        Array.from({ length: 6 }, (_, i) => column[2 * i + 1]),
        [7, 7, 7, 7, 7, 7],
      );
      const row = new Float32Array(3);
      sgemm(true, false, 1, 3, 4, 1, big.data, 10, b.data, 3, 0, row, 3); // aᵀ: the first column of big's left 4×1 block
      const aColumn = matrix(
        4,
        1,
        Float32Array.from({ length: 4 }, (_, i) => big.data[i * 10]),
      );
      assertClose(row, referenceGemm(true, false, aColumn, b, 1, 0, new Float32Array(3)), 1e-5, "one row");
    });
  });
}

test("the Gram matrix X·Xᵀ (OpenBLAS: ssyrk's upper triangle, mirrored in blocks of 256 rows) is symmetric and equals the GEMM's on every backend: sizes across the blocks, one column, one row", () => {
  const rng = new Rng(21);
  for (const [n, d] of [
    [1, 3],
    [5, 7],
    [300, 17],
    [600, 64],
    [513, 1],
  ]) {
    const x = randomMatrix(n, d, rng);
    for (const backend of backends())
      withBackend(backend, () => {
        const g = gramMatrix(x),
          what = `${backend.name}, ${n} × ${d}`;
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) assert.equal(g.data[i * n + j], g.data[j * n + i], `${what}: (${i}, ${j})`);
        assertClose(g.data, matmul(x, x, { transB: true }).data, 1e-5, what);
      });
  }
});

test("gemm with k = 0 scales C by beta and an inner-dimension mismatch is an error", () => {
  const c = fromRows([
    [1, 2],
    [3, 4],
  ]);
  matmul(matrix(2, 0), matrix(0, 2), { beta: 0.5, out: c });
  assert.deepEqual(toRows(c), [
    [0.5, 1],
    [1.5, 2],
  ]);
  assert.throws(() => matmul(matrix(2, 3), matrix(2, 3)), /inner dimensions differ/);
});

test("softmax, log-softmax and entropy on hand-computed rows", () => {
  const logits = fromRows([
    [0, Math.log(3)],
    [1000, 1000],
    [-Infinity, 0],
  ]);
  const p = softmaxRows(logits);
  assertClose(p.data, [0.25, 0.75, 0.5, 0.5, 0, 1], 1e-7);
  const lp = logSoftmaxRows(fromRows([[0, Math.log(3)]]));
  assertClose(lp.data, [Math.log(0.25), Math.log(0.75)], 1e-6);
  const h = entropyRows(
    fromRows([
      [0.5, 0.5],
      [1, 0],
      [0.25, 0.75],
    ]),
  );
  assertClose(h, [Math.log(2), 0, -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75))], 1e-6);
});

test("argmax and top-2 take the first index on ties", () => {
  const m = fromRows([
    [1, 3, 3],
    [5, 4, 5],
    [2, 9, 1],
  ]);
  assert.deepEqual(Array.from(argmaxRows(m)), [1, 0, 1]);
  const t = top2Rows(m);
  assert.deepEqual(Array.from(t.index), [1, 0, 1]);
  assert.deepEqual(Array.from(t.first), [3, 5, 9]);
  assert.deepEqual(Array.from(t.second), [3, 5, 2]);
});

test("row norms, normalisation, column and class means", () => {
  const m = fromRows([
    [3, 4],
    [0, 0],
    [1, 0],
  ]);
  assertClose(rowNorms(m), [5, 0, 1], 1e-7);
  assertClose(normalizeRows(m).data, [0.6, 0.8, 0, 0, 1, 0], 1e-7);
  assertClose(columnMeans(m), [4 / 3, 4 / 3], 1e-7);
  const { means, counts } = classMeans(m, Int32Array.from([1, 1, 0]), 3);
  assert.deepEqual(Array.from(counts), [1, 2, 0]);
  assertClose(means.data, [1, 0, 1.5, 2, 0, 0], 1e-7);
  // Equal values give exactly that value (ALFA-Mix's exact-zero test relies on it).
  const same = matrix(7, 1, new Float32Array(7).fill(0.1));
  assert.equal(classMeans(same, new Int32Array(7), 1).means.data[0], Math.fround(0.1));
});

for (const backend of backends()) {
  test(`squared distances (${backend.name}) agree with the direct formula`, () => {
    const rng = new Rng(3);
    withBackend(backend, () => {
      const a = randomMatrix(17, 9, rng),
        b = randomMatrix(5, 9, rng);
      const d = squaredDistances(a, b);
      const expected: number[] = [];
      for (let i = 0; i < 17; i++)
        for (let j = 0; j < 5; j++) {
          let s = 0;
          for (let p = 0; p < 9; p++) s += (a.data[i * 9 + p] - b.data[j * 9 + p]) ** 2;
          expected.push(s);
        }
      assertClose(d.data, expected, 1e-4);
      assert.equal(
        squaredDistances(a, a).data.every((v) => v >= 0),
        true,
      );
    });
  });
}

test("squared row norms (eight interleaved sums) equal a literal float64 sum rounded to float32: widths 0 to 19, past the unrolled part", () => {
  const rng = new Rng(4);
  for (let cols = 0; cols < 20; cols++) {
    const m = matrix(
      3,
      cols,
      Float32Array.from({ length: 3 * cols }, () => rng.normal(0, 3)),
    );
    const literal = Float32Array.from({ length: 3 }, (_, i) => {
      let s = 0;
      for (let j = 0; j < cols; j++) s += m.data[i * cols + j] ** 2;
      return s;
    });
    const fast = rowSquaredNorms(m);
    // Float64 sums in another order round to the same float32, or its neighbour.
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(fast[i] - literal[i]) <= literal[i] * 2 ** -23, `width ${cols}, row ${i}: ${fast[i]} against ${literal[i]}`);
  }
});

test("row slices share memory; gather and transpose copy", () => {
  const m = fromRows([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  const s = rowSlice(m, 1, 3);
  s.data[0] = 30;
  assert.equal(m.data[2], 30);
  assert.deepEqual(toRows(gatherRows(m, [2, 0])), [
    [5, 6],
    [1, 2],
  ]);
  assert.deepEqual(toRows(transpose(m)), [
    [1, 30, 5],
    [2, 4, 6],
  ]);
});

test("the minimum of each row of a product (SIMD scan) is the first minimum a scalar loop finds: ties, NaN, tails, several blocks", () => {
  const rng = new Rng(8);
  for (const [n, k] of [
    [50, 9],
    [7, 4100],
  ]) {
    // Small integers: many exact ties among the products.
    const A = matrix(
      n,
      3,
      Float32Array.from({ length: n * 3 }, () => rng.int(3)),
    );
    const B = matrix(
      k,
      3,
      Float32Array.from({ length: k * 3 }, () => rng.int(3)),
    );
    const bias = Float32Array.from({ length: k }, (_, j) => (j % 5 === 2 ? Number.NaN : rng.int(2)));
    const got = minOfProducts(A, B, bias, -1);
    for (let i = 0; i < n; i++) {
      let best = Number.POSITIVE_INFINITY,
        at = 0;
      for (let j = 0; j < k; j++) {
        let dot = 0;
        for (let c = 0; c < 3; c++) dot += A.data[i * 3 + c] * B.data[j * 3 + c];
        const v = bias[j] - dot;
        if (v < best) {
          best = v;
          at = j;
        }
      }
      assert.equal(got.index[i], at, `row ${i} of ${n}×${k}`);
      assert.equal(got.value[i], best);
    }
  }
});
