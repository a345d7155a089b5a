import { matmul } from "../linalg/gemm.js";
import { gatherRows, matrix, type Matrix } from "../linalg/matrix.js";
import { rowSquaredNorms } from "../linalg/rows.js";

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
}

/** The rows of a matrix as a point set. */
export function densePoints(x: Matrix): PointSet {
  return {
    size: x.rows,
    squaredNorms: () => rowSquaredNorms(x),
    dotsWith(indices, out) {
      matmul(gatherRows(x, indices), x, { transB: true, out: matrix(indices.length, x.rows, out.subarray(0, indices.length * x.rows)) });
    },
  };
}

/**
 * The rows of a matrix through their Gram matrix G = X·Xᵀ, computed once by one GEMM (n² floats):
 * each centre's inner products are then a row of G instead of a pass over all of X. Worth it when
 * seeding takes many centres from few points (ALFA-Mix's k = budget over its candidates).
 */
export function gramPoints(x: Matrix): PointSet {
  const n = x.rows;
  const gram = matmul(x, x, { transB: true });
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
  const n = r.rows;
  return {
    size: n,
    squaredNorms() {
      const rn = rowSquaredNorms(r),
        zn = rowSquaredNorms(z);
      for (let i = 0; i < n; i++) rn[i] *= zn[i];
      return rn;
    },
    dotsWith(indices, out) {
      const t = indices.length;
      const rDots = matmul(gatherRows(r, indices), r, { transB: true });
      const zDots = matrix(t, n, out.subarray(0, t * n));
      matmul(gatherRows(z, indices), z, { transB: true, out: zDots });
      for (let i = 0; i < t * n; i++) out[i] *= rDots.data[i];
    },
  };
}
