import { matmul } from "./gemm.js";
import { matrix, type Matrix } from "./matrix.js";
import { rowSquaredNorms } from "./rows.js";

/**
 * Squared Euclidean distances between the rows of `a` (n×d) and `b` (m×d) as n×m, through one
 * GEMM: ‖a‖² − 2a·b + ‖b‖², clamped at 0 against rounding. Callers chunk `a` to bound memory.
 */
export function squaredDistances(
  a: Matrix,
  b: Matrix,
  aNorms: Float32Array = rowSquaredNorms(a),
  bNorms: Float32Array = rowSquaredNorms(b),
  out: Matrix = matrix(a.rows, b.rows),
): Matrix {
  matmul(a, b, { transB: true, out });
  const d = out.data,
    m = b.rows;
  for (let i = 0; i < a.rows; i++) {
    const o = i * m,
      na = aNorms[i];
    for (let j = 0; j < m; j++) {
      const v = na + bNorms[j] - 2 * d[o + j];
      d[o + j] = Math.max(v, 0);
    }
  }
  return out;
}

/** Rows per chunk so that a chunk × width float32 block stays near `bytes` (default 16 MB). */
export function chunkRows(width: number, bytes = 16 << 20): number {
  return Math.max(1, Math.floor(bytes / (4 * Math.max(1, width))));
}
