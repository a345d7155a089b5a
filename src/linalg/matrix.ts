/** A dense row-major float32 matrix: element (i, j) is data[i * cols + j]. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

export function matrix(rows: number, cols: number, data?: Float32Array): Matrix {
  if (!(Number.isInteger(rows) && rows >= 0 && Number.isInteger(cols) && cols >= 0)) {
    throw new RangeError(`matrix: shape must be non-negative integers, got ${rows}×${cols}`);
  }
  if (data === undefined) return { rows, cols, data: new Float32Array(rows * cols) };
  if (data.length !== rows * cols) throw new RangeError(`matrix: ${rows}×${cols} needs ${rows * cols} values, got ${data.length}`);
  return { rows, cols, data };
}

/** Rows [start, end) sharing memory with `m`. */
export function rowSlice(m: Matrix, start: number, end: number): Matrix {
  return { rows: end - start, cols: m.cols, data: m.data.subarray(start * m.cols, end * m.cols) };
}

/** A new matrix holding the rows of `m` at `indices`, in that order. */
export function gatherRows(m: Matrix, indices: ArrayLike<number>, out?: Matrix): Matrix {
  const cols = m.cols;
  const result = out ?? matrix(indices.length, cols);
  for (let r = 0; r < indices.length; r++) {
    const src = indices[r] * cols;
    result.data.set(m.data.subarray(src, src + cols), r * cols);
  }
  return result;
}

/**
 * The rows of `m` at `indices` without copying when they are consecutive (a view), else gathered
 * into `scratch` (which must have room for them). For chunked scans of mostly contiguous pools.
 */
export function rowsAt(m: Matrix, indices: Int32Array, scratch: Float32Array): Matrix {
  const n = indices.length;
  if (n > 0 && indices[n - 1] - indices[0] === n - 1) {
    let consecutive = true;
    for (let i = 1; i < n && consecutive; i++) consecutive = indices[i] === indices[i - 1] + 1;
    if (consecutive) return rowSlice(m, indices[0], indices[0] + n);
  }
  return gatherRows(m, indices, matrix(n, m.cols, scratch.subarray(0, n * m.cols)));
}

export function cloneMatrix(m: Matrix): Matrix {
  return { rows: m.rows, cols: m.cols, data: m.data.slice() };
}

export function transpose(m: Matrix): Matrix {
  const out = matrix(m.cols, m.rows);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) out.data[j * m.rows + i] = m.data[i * m.cols + j];
  return out;
}

/** Row-major matrix from nested arrays (for tests and small literals). */
export function fromRows(rows: ArrayLike<number>[]): Matrix {
  const cols = rows.length ? rows[0].length : 0;
  const out = matrix(rows.length, cols);
  rows.forEach((row, i) => {
    if (row.length !== cols) throw new RangeError(`fromRows: row ${i} has ${row.length} values, expected ${cols}`);
    for (let j = 0; j < cols; j++) out.data[i * cols + j] = row[j];
  });
  return out;
}

/** Nested arrays from a matrix (for tests and printing). */
export function toRows(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}
