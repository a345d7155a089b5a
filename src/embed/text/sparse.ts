import { matrix, type Matrix } from "../../linalg/matrix.js";

/** A sparse matrix in compressed sparse rows: row i's entries are at indptr[i] … indptr[i+1]. */
export interface SparseRows {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** A·B for sparse A (n×d) and dense B (d×l): each entry of A adds a scaled row of B. */
export function sparseTimesDense(a: SparseRows, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new RangeError(`sparseTimesDense: ${a.rows}×${a.cols} · ${b.rows}×${b.cols}`);
  const l = b.cols,
    out = matrix(a.rows, l),
    o = out.data,
    bd = b.data;
  for (let i = 0; i < a.rows; i++) {
    const row = i * l;
    for (let e = a.indptr[i]; e < a.indptr[i + 1]; e++) {
      const v = a.values[e],
        from = a.indices[e] * l;
      for (let c = 0; c < l; c++) o[row + c] += v * bd[from + c];
    }
  }
  return out;
}

/** Aᵀ·B for sparse A (n×d) and dense B (n×l): each entry of A adds a scaled row of B to its column's row. */
export function sparseTransposeTimesDense(a: SparseRows, b: Matrix): Matrix {
  if (a.rows !== b.rows) throw new RangeError(`sparseTransposeTimesDense: (${a.rows}×${a.cols})ᵀ · ${b.rows}×${b.cols}`);
  const l = b.cols,
    out = matrix(a.cols, l),
    o = out.data,
    bd = b.data;
  for (let i = 0; i < a.rows; i++) {
    const from = i * l;
    for (let e = a.indptr[i]; e < a.indptr[i + 1]; e++) {
      const v = a.values[e],
        to = a.indices[e] * l;
      for (let c = 0; c < l; c++) o[to + c] += v * bd[from + c];
    }
  }
  return out;
}

/** Rows side by side: [A | B | …], for blocks with the same number of rows. */
export function concatColumns(blocks: SparseRows[]): SparseRows {
  const rows = blocks[0].rows;
  const nnz = blocks.reduce((s, b) => s + b.indices.length, 0);
  const indptr = new Int32Array(rows + 1),
    indices = new Int32Array(nnz),
    values = new Float32Array(nnz);
  let at = 0;
  for (let i = 0; i < rows; i++) {
    let offset = 0;
    for (const b of blocks) {
      for (let e = b.indptr[i]; e < b.indptr[i + 1]; e++) {
        indices[at] = b.indices[e] + offset;
        values[at++] = b.values[e];
      }
      offset += b.cols;
    }
    indptr[i + 1] = at;
  }
  return { rows, cols: blocks.reduce((s, b) => s + b.cols, 0), indptr, indices, values };
}
