// The GEMM contract, below its implementations (gemm-js.ts, gemm-openblas.ts) and the switch between them (gemm.ts).

/** Row-major C = alpha·op(A)·op(B) + beta·C, with op(X) = X or Xᵀ; the BLAS sgemm contract. */
export type Sgemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;
