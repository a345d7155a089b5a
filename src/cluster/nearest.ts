import { gatherRows, type Matrix } from "../linalg/matrix.js";
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

/**
 * `assignment` (each point's nearest centre and distance) and `values` (each point's ‖c‖² − 2x·c
 * for that centre, which the centres are compared by) brought up to date after only the centres
 * marked in `moved` changed; the others must be bit for bit where they were. A point whose own
 * centre stayed keeps its values for every unmoved centre, none of them smaller (ties: none at a
 * lower index), so only a moved centre can take it: it is compared with those alone, by value and
 * index as the full pass compares. Only the points of moved centres are compared with every
 * centre. The result is the full pass's, up to the GEMM's rounding: OpenBLAS can round a product
 * differently in a differently shaped call. Late Lloyd iterations move a few clusters, and this is
 * their pass at a fraction of the products (n·moved + members·k against n·k); past half of them,
 * it is the full pass. Returns whether it took the shortcut.
 */
export function nearestCentersAfterMove(
  x: Matrix,
  xNorms: Float32Array,
  centers: Matrix,
  moved: Uint8Array,
  assignment: { index: Int32Array; distance: Float32Array },
  values: Float32Array,
): boolean {
  const n = x.rows,
    k = centers.rows,
    { index, distance } = assignment;
  const movedCentres = Int32Array.from({ length: k }, (_, c) => c).filter((c) => moved[c] === 1);
  const members = Int32Array.from({ length: n }, (_, i) => i).filter((i) => moved[index[i]] === 1);
  const centreNorms = rowSquaredNorms(centers);
  if (n * movedCentres.length + members.length * k > (n * k) / 2) {
    minOfProducts(x, centers, centreNorms, -2, { index, value: values });
    for (let i = 0; i < n; i++) distance[i] = Math.max(xNorms[i] + values[i], 0);
    return false;
  }
  if (movedCentres.length > 0) {
    const nearestMoved = minOfProducts(
      x,
      gatherRows(centers, movedCentres),
      Float32Array.from(movedCentres, (c) => centreNorms[c]),
      -2,
    );
    for (let i = 0; i < n; i++) {
      if (moved[index[i]] === 1) continue;
      const c = movedCentres[nearestMoved.index[i]],
        v = nearestMoved.value[i];
      if (v < values[i] || (v === values[i] && c < index[i])) {
        index[i] = c;
        values[i] = v;
        distance[i] = Math.max(xNorms[i] + v, 0);
      }
    }
  }
  if (members.length > 0) {
    const nearest = minOfProducts(gatherRows(x, members), centers, centreNorms, -2);
    members.forEach((i, m) => {
      index[i] = nearest.index[m];
      values[i] = nearest.value[m];
      distance[i] = Math.max(xNorms[i] + nearest.value[m], 0);
    });
  }
  return true;
}
