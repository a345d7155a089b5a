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
 * An orthonormal basis of x's columns by Cholesky QR: xᵀx = RᵀR (float64), then x·R⁻¹; the Gram
 * matrix goes through the GEMM and the l×l factorisation is cubic in l only. Its loss of
 * orthogonality grows with the square of x's condition number, so callers run it twice where it
 * matters (CholeskyQR2). A pivot that vanishes (x rank-deficient) gives a zero column.
 */
function orthonormalColumns(x: Matrix): Matrix {
  const l = x.cols;
  const g = Float64Array.from(matmul(x, x, { transA: true }).data);
  let largest = 0;
  for (let i = 0; i < l; i++) largest = Math.max(largest, g[i * l + i]);
  const floor = largest * 1e-12;
  // g's upper triangle becomes R, row by row (g = RᵀR).
  for (let i = 0; i < l; i++) {
    let d = g[i * l + i];
    for (let k = 0; k < i; k++) d -= g[k * l + i] ** 2;
    const pivot = d > floor ? Math.sqrt(d) : 0;
    g[i * l + i] = pivot;
    for (let j = i + 1; j < l; j++) {
      let v = g[i * l + j];
      for (let k = 0; k < i; k++) v -= g[k * l + i] * g[k * l + j];
      g[i * l + j] = pivot > 0 ? v / pivot : 0;
    }
  }
  // R⁻¹, upper triangular, by back substitution one column at a time.
  const inverse = new Float64Array(l * l);
  for (let c = 0; c < l; c++) {
    for (let r = c; r >= 0; r--) {
      const pivot = g[r * l + r];
      if (pivot === 0) continue;
      let v = r === c ? 1 : 0;
      for (let k = r + 1; k <= c; k++) v -= g[r * l + k] * inverse[k * l + c];
      inverse[r * l + c] = v / pivot;
    }
  }
  return matmul(x, matrix(l, l, Float32Array.from(inverse)));
}

/** Each column's entry of largest magnitude made positive. */
function flipSigns(m: Matrix): void {
  for (let c = 0; c < m.cols; c++) {
    let at = 0;
    for (let r = 1; r < m.rows; r++) if (Math.abs(m.data[r * m.cols + c]) > Math.abs(m.data[at * m.cols + c])) at = r;
    if (m.data[at * m.cols + c] < 0) for (let r = 0; r < m.rows; r++) m.data[r * m.cols + c] = -m.data[r * m.cols + c];
  }
}
