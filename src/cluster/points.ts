import { gramMatrix, matmul } from "../linalg/gemm.js";
import { gatherRows, matrix, type Matrix } from "../linalg/matrix.js";
import { dotAt, rowSquaredNorms } from "../linalg/rows.js";

/**
 * A set of points known only through inner products, so that k-means++ seeding can run on points
 * that are never materialised (BADGE's gradient embeddings, K·D wide).
 */
export interface PointSet {
  readonly size: number;
  /** ‖x_i‖² for every point. */
  squaredNorms(): Float32Array;
  /** Inner products with the points at `indices`: out[t·size + i] = x_i · x_indices[t]. */
  dotsWith(indices: Int32Array, out: Float32Array): void;
  /**
   * closest[i] ← min(closest[i], ‖x_i − x_c‖²) for every point, where a set can skip the points a
   * bound shows cannot come closer (k-means++ seeding's update, without all n inner products).
   */
  lowerDistances?(c: number, closest: Float64Array): void;
}

/** The rows of a matrix as a point set; `norms`, their squared norms when the caller has them. */
export function densePoints(x: Matrix, norms?: Float32Array): PointSet {
  // The gathered rows, kept between calls: the blocked seeding asks for a block of rows at a time,
  // and fresh memory each time cost 25 ms of ALFA-Mix's query on a VM that backs pages lazily.
  let gathered = new Float32Array(0);
  return {
    size: x.rows,
    squaredNorms: () => norms?.slice() ?? rowSquaredNorms(x),
    dotsWith(indices, out) {
      const t = indices.length;
      if (gathered.length < t * x.cols) gathered = new Float32Array(t * x.cols);
      const rows = gatherRows(x, indices, matrix(t, x.cols, gathered.subarray(0, t * x.cols)));
      matmul(rows, x, { transB: true, out: matrix(t, x.rows, out.subarray(0, t * x.rows)) });
    },
  };
}

/**
 * The rows of a matrix through their Gram matrix G = X·Xᵀ, computed once (n² floats; gramMatrix):
 * each centre's inner products are then a row of G instead of a pass over all of X. Worth it when
 * seeding takes many centres from few points (ALFA-Mix's k = budget over its candidates).
 */
export function gramPoints(x: Matrix): PointSet {
  const n = x.rows;
  const gram = gramMatrix(x);
  return {
    size: n,
    squaredNorms: () => Float32Array.from({ length: n }, (_, i) => gram.data[i * n + i]),
    dotsWith(indices, out) {
      indices.forEach((c, t) => out.set(gram.data.subarray(c * n, (c + 1) * n), t * n));
    },
  };
}

/**
 * Points g_i = r_i ⊗ z_i (outer products, flattened) given their factors R (n×K) and Z (n×D):
 * g_i · g_j = (r_i · r_j)(z_i · z_j), so nothing K·D wide is ever built.
 */
export function outerProductPoints(r: Matrix, z: Matrix): PointSet {
  if (r.rows !== z.rows) throw new RangeError(`outerProductPoints: ${r.rows} rows in R but ${z.rows} in Z`);
  const n = r.rows,
    K = r.cols,
    D = z.cols;
  // Kept once computed: BADGE and its seeding both ask, and Z is the pool's width.
  let norms: { g: Float32Array; gRoot: Float64Array; zRoot: Float64Array } | undefined;
  // lowerDistances' scratch, as wide as every point (the first centre needs them all).
  const need = new Int32Array(n),
    needR = new Float64Array(n),
    dots = new Float32Array(n);
  let gathered = new Float32Array(0);
  const normsOf = () => {
    if (!norms) {
      const g = rowSquaredNorms(r),
        zn = rowSquaredNorms(z);
      for (let i = 0; i < n; i++) g[i] *= zn[i];
      norms = { g, gRoot: Float64Array.from(g, Math.sqrt), zRoot: Float64Array.from(zn, Math.sqrt) };
    }
    return norms;
  };
  return {
    size: n,
    squaredNorms: () => normsOf().g.slice(),
    dotsWith(indices, out) {
      const t = indices.length;
      const rDots = matmul(gatherRows(r, indices), r, { transB: true });
      const zDots = matrix(t, n, out.subarray(0, t * n));
      matmul(gatherRows(z, indices), z, { transB: true, out: zDots });
      for (let i = 0; i < t * n; i++) out[i] *= rDots.data[i];
    },
    /**
     * ‖g_i − g_c‖² = ‖g_i‖² + ‖g_c‖² − 2(r_i·r_c)(z_i·z_c) is at least (‖g_i‖ − ‖g_c‖)², and at
     * least ‖g_i‖² + ‖g_c‖² − 2|r_i·r_c|‖z_i‖‖z_c‖: where either reaches closest[i], z_i·z_c (D
     * wide) is not needed. On MNIST's BADGE 93% of them were not, and a pass over Z per centre
     * was most of the query. The rest are gathered for one matrix-vector product.
     */
    lowerDistances(c, closest) {
      const { g, gRoot, zRoot } = normsOf();
      const gc = g[c];
      let count = 0;
      for (let i = 0; i < n; i++) {
        const current = closest[i],
          apart = gRoot[i] - gRoot[c];
        if (apart * apart >= current) continue;
        const rDot = dotAt(r.data, i * K, r.data, c * K, K);
        if (g[i] + gc - 2 * Math.abs(rDot) * zRoot[i] * zRoot[c] >= current) continue;
        need[count] = i;
        needR[count++] = rDot;
      }
      // Past a quarter of the rows (the first centre: all of them), Z is read whole instead.
      const whole = count > n / 4;
      if (!whole && gathered.length < count * D) gathered = new Float32Array(count * D);
      const rows = whole ? z : gatherRows(z, need.subarray(0, count), matrix(count, D, gathered.subarray(0, count * D)));
      const zDots = matmul(rows, matrix(D, 1, z.data.subarray(c * D, (c + 1) * D)), { out: matrix(rows.rows, 1, dots.subarray(0, rows.rows)) }).data;
      for (let t = 0; t < count; t++) {
        const i = need[t],
          d = Math.max(g[i] + gc - 2 * needR[t] * zDots[whole ? i : t], 0);
        if (d < closest[i]) closest[i] = d;
      }
    },
  };
}
