import type { Matrix } from "../linalg/matrix.js";
import { minOfProducts } from "../linalg/row-min.js";
import { rowSquaredNorms } from "../linalg/rows.js";

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
  if (centers.rows === 0) throw new RangeError("nearestCenters: no centres");
  // ‖x‖² is constant along a row, so it joins only the winner.
  minOfProducts(x, centers, rowSquaredNorms(centers), -2, { index: out.index, value: out.distance });
  for (let i = 0; i < x.rows; i++) out.distance[i] = Math.max(xNorms[i] + out.distance[i], 0);
  return out;
}
