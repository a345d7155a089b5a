import { matmul } from "../../linalg/gemm.js";
import { matrix, type Matrix } from "../../linalg/matrix.js";
import { symmetricEigen } from "../../linalg/eigen.js";
import type { Rng } from "../../random.js";
import { sparseTimesDense, sparseTransposeTimesDense, type SparseRows } from "./sparse.js";

export interface LsaSettings {
  /** Dimensions kept. */
  dim: number;
  /** Extra random directions (scikit-learn's n_oversamples, 10). */
  oversamples?: number;
  /** Power iterations (TruncatedSVD's n_iter, 5). */
  iterations?: number;
  rng: Rng;
}

export interface Lsa {
  /** The right singular vectors as columns (features × dim): a row's embedding is row · components. */
  components: Matrix;
  singularValues: Float64Array;
}

/**
 * Truncated SVD of a sparse matrix by Halko, Martinsson and Tropp's randomized range finder, as
 * scikit-learn's TruncatedSVD(algorithm="randomized") runs it: a Gaussian start of dim +
 * oversamples directions, `iterations` power iterations with a normalisation after each product,
 * then the SVD of the small projected matrix. The dense products go through the GEMM; the small
 * l×l eigenproblems are solved in float64. Signs follow scikit-learn's svd_flip on the components
 * (each component's largest entry in absolute value is positive), so that results compare.
 */
export function randomizedSvd(a: SparseRows, settings: LsaSettings): Lsa {
  const { dim, oversamples = 10, iterations = 5, rng } = settings;
  const l = Math.min(dim + oversamples, a.rows, a.cols);
  let q = matrix(a.cols, l);
  for (let i = 0; i < q.data.length; i++) q.data[i] = rng.normal(0, 1);
  for (let it = 0; it < iterations; it++) {
    q = orthonormalColumns(sparseTransposeTimesDense(a, orthonormalColumns(sparseTimesDense(a, q))));
  }
  // Twice: the second pass restores the orthogonality the first leaves at float32 precision.
  q = orthonormalColumns(orthonormalColumns(sparseTimesDense(a, q)));
  // B = Qᵀ·A, held as its transpose (features × l); B·Bᵀ = W·Λ·Wᵀ gives B's singular values and,
  // through Bᵀ·W·Λ^(-1/2), its right singular vectors.
  const bt = sparseTransposeTimesDense(a, q);
  const { values, vectors } = symmetricEigen(Float64Array.from(matmul(bt, bt, { transA: true }).data), l);
  const k = Math.min(dim, l);
  const singularValues = Float64Array.from({ length: k }, (_, c) => Math.sqrt(Math.max(0, values[c])));
  const scale = matrix(l, k);
  for (let r = 0; r < l; r++) for (let c = 0; c < k; c++) scale.data[r * k + c] = singularValues[c] > 0 ? vectors[r * l + c] / singularValues[c] : 0;
  const components = matmul(bt, scale);
  flipSigns(components);
  return { components, singularValues };
}

/**
 * An orthonormal basis of x's columns, through the Gram matrix: x·W·Λ^(-1/2) for xᵀx = W·Λ·Wᵀ.
 * Directions with a negligible eigenvalue (x rank-deficient) become zero columns.
 */
function orthonormalColumns(x: Matrix): Matrix {
  const l = x.cols;
  const { values, vectors } = symmetricEigen(Float64Array.from(matmul(x, x, { transA: true }).data), l);
  const scale = matrix(l, l);
  const floor = Math.max(values[0], 0) * 1e-12;
  for (let r = 0; r < l; r++) for (let c = 0; c < l; c++) scale.data[r * l + c] = values[c] > floor ? vectors[r * l + c] / Math.sqrt(values[c]) : 0;
  return matmul(x, scale);
}

/** Each column's entry of largest magnitude made positive. */
function flipSigns(m: Matrix): void {
  for (let c = 0; c < m.cols; c++) {
    let at = 0;
    for (let r = 1; r < m.rows; r++) if (Math.abs(m.data[r * m.cols + c]) > Math.abs(m.data[at * m.cols + c])) at = r;
    if (m.data[at * m.cols + c] < 0) for (let r = 0; r < m.rows; r++) m.data[r * m.cols + c] = -m.data[r * m.cols + c];
  }
}
