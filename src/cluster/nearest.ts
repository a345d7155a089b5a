import { matmul } from "../linalg/gemm.js";
import { matrix, rowSlice, type Matrix } from "../linalg/matrix.js";
import { rowSquaredNorms } from "../linalg/rows.js";

/** Block sizes keep the distance block near 16 MB, whatever the number of points or centres. */
const BLOCK_FLOATS = 1 << 22;

/**
 * For every row of `x`, the nearest row of `centers` and the squared distance to it, through
 * GEMM (‖x‖² − 2x·c + ‖c‖²), blocked over both sets so memory stays O(block), never O(n·k).
 * Ties go to the lower centre index. Distances are clamped at 0 against rounding.
 */
export function nearestCenters(
  x: Matrix,
  centers: Matrix,
  xNorms: Float32Array = rowSquaredNorms(x),
  out: { index: Int32Array; distance: Float32Array } = { index: new Int32Array(x.rows), distance: new Float32Array(x.rows) },
): { index: Int32Array; distance: Float32Array } {
  const k = centers.rows;
  if (k === 0) throw new RangeError("nearestCenters: no centres");
  const cNorms = rowSquaredNorms(centers);
  const centerBlock = Math.min(k, 1 << 12);
  const rowBlock = Math.max(1, Math.floor(BLOCK_FLOATS / centerBlock));
  const dots = new Float32Array(Math.min(rowBlock, x.rows) * centerBlock);
  const best = new Float64Array(Math.min(rowBlock, x.rows));
  for (let r0 = 0; r0 < x.rows; r0 += rowBlock) {
    const r1 = Math.min(x.rows, r0 + rowBlock),
      rows = r1 - r0;
    best.fill(Infinity);
    for (let c0 = 0; c0 < k; c0 += centerBlock) {
      const c1 = Math.min(k, c0 + centerBlock),
        cols = c1 - c0;
      const block = matrix(rows, cols, dots.subarray(0, rows * cols));
      // block = ‖c‖² − 2x·c: ‖x‖² is constant along a row, so it joins only the winner.
      const centerNorms = cNorms.subarray(c0, c1);
      for (let i = 0; i < rows; i++) block.data.set(centerNorms, i * cols);
      matmul(rowSlice(x, r0, r1), rowSlice(centers, c0, c1), { transB: true, alpha: -2, beta: 1, out: block });
      const score = block.data;
      for (let i = 0; i < rows; i++) {
        const o = i * cols;
        let bestValue = best[i],
          bestIndex = c0 === 0 ? 0 : out.index[r0 + i];
        for (let j = 0; j < cols; j++) {
          const v = score[o + j];
          if (v < bestValue) {
            bestValue = v;
            bestIndex = c0 + j;
          }
        }
        best[i] = bestValue;
        out.index[r0 + i] = bestIndex;
      }
    }
    for (let i = 0; i < rows; i++) {
      const d = xNorms[r0 + i] + best[i];
      out.distance[r0 + i] = Math.max(d, 0);
    }
  }
  return out;
}
