import { instantiateKernel } from "../wasm.js";
import { matmul } from "./gemm.js";
import { matrix, rowSlice, type Matrix } from "./matrix.js";

/**
 * Block sizes keep the product block near 4 MB, whatever the number of rows or columns: as fast as
 * 16 MB once warm (6,568 × 1,000 × 512: 41 ms either way; 10⁵ × 1,000 × 256: 350 ms), and the
 * first call touches a quarter of the fresh pages (83 against 130 ms).
 */
const BLOCK_FLOATS = 1 << 20;
const MAX_COLUMN_BLOCK = 1 << 12;

type ArgminKernel = (block: number, rows: number, cols: number, values: number, indices: number, offset: number) => void;

/**
 * The kernel (argmin.wat) and its memory: a product block the GEMM writes in place, then each
 * row's running minimum and its column. One, kept for the process: the first touch of fresh pages
 * costs about 2.5 ms per MB on a VM whose host backs memory lazily, more than a scan.
 */
let scanner: { scan: ArgminKernel; memory: WebAssembly.Memory; rows: number } | undefined;

function scannerFor(rows: number) {
  if (!scanner || scanner.rows < rows) {
    const { exports, memory } = instantiateKernel("linalg/argmin", 4 * (BLOCK_FLOATS + 2 * rows));
    scanner = { scan: exports.argmin as ArgminKernel, memory, rows };
  }
  return scanner;
}

/**
 * For every row i of A, min over rows j of B of bias[j] + alpha·(A_i·B_j), and the first j that
 * reaches it: one GEMM per block of the (never whole) rows×columns product, each block's rows
 * scanned four lanes at a time. Nearest centres (bias ‖c‖², alpha −2) and CDAL's symmetric KL
 * (bias Σc log c, alpha −1) are both this.
 */
export function minOfProducts(
  A: Matrix,
  B: Matrix,
  bias: Float32Array,
  alpha: number,
  out: { index: Int32Array; value: Float32Array } = { index: new Int32Array(A.rows), value: new Float32Array(A.rows) },
): { index: Int32Array; value: Float32Array } {
  const k = B.rows;
  if (k === 0) throw new RangeError("minOfProducts: no columns");
  const columnBlock = Math.min(k, MAX_COLUMN_BLOCK);
  const rowBlock = Math.max(1, Math.min(A.rows, Math.floor(BLOCK_FLOATS / columnBlock)));
  const { scan, memory } = scannerFor(rowBlock);
  const valuesAt = 4 * BLOCK_FLOATS,
    indicesAt = valuesAt + 4 * rowBlock;
  const values = new Float32Array(memory.buffer, valuesAt, rowBlock),
    indices = new Int32Array(memory.buffer, indicesAt, rowBlock);
  for (let r0 = 0; r0 < A.rows; r0 += rowBlock) {
    const rows = Math.min(A.rows, r0 + rowBlock) - r0;
    values.fill(Number.POSITIVE_INFINITY, 0, rows);
    indices.fill(0, 0, rows);
    for (let c0 = 0; c0 < k; c0 += columnBlock) {
      const cols = Math.min(k, c0 + columnBlock) - c0;
      const block = matrix(rows, cols, new Float32Array(memory.buffer, 0, rows * cols));
      const columnBias = bias.subarray(c0, c0 + cols);
      for (let i = 0; i < rows; i++) block.data.set(columnBias, i * cols);
      matmul(rowSlice(A, r0, r0 + rows), rowSlice(B, c0, c0 + cols), { transB: true, alpha, beta: 1, out: block });
      scan(0, rows, cols, valuesAt, indicesAt, c0);
    }
    out.index.set(indices.subarray(0, rows), r0);
    out.value.set(values.subarray(0, rows), r0);
  }
  return out;
}
