/**
 * Portable single-precision GEMM in TypeScript: C = alpha·op(A)·op(B) + beta·C, row-major.
 * Goto-style blocking: op(B) is packed into 4-column panels and op(A) into 4-row panels so the
 * 4×4 micro-kernel reads both contiguously and keeps its 16 accumulators in registers.
 */
const MC = 64;
const KC = 256;
const NC = 1024;

const packedA = new Float64Array(MC * KC);
const packedB = new Float64Array(NC * KC);

export function jsSgemm(
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
): void {
  if (beta !== 1) {
    for (let i = 0; i < m; i++) {
      const row = i * ldc;
      if (beta === 0) c.fill(0, row, row + n);
      else for (let j = row; j < row + n; j++) c[j] *= beta;
    }
  }
  if (alpha === 0 || k === 0) return;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packB(transB, b, ldb, pc, kc, jc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(transA, a, lda, ic, mc, pc, kc, alpha);
        macroKernel(mc, nc, kc, c, ldc, ic, jc);
      }
    }
  }
}

/** packedA[(panel·kc + p)·4 + r] = alpha·op(A)[ic + 4·panel + r, pc + p], zero-padded. */
function packA(trans: boolean, a: Float32Array, lda: number, ic: number, mc: number, pc: number, kc: number, alpha: number): void {
  let idx = 0;
  for (let ir = 0; ir < mc; ir += 4) {
    const rows = Math.min(4, mc - ir);
    for (let p = 0; p < kc; p++) {
      for (let r = 0; r < 4; r++) {
        if (r < rows) {
          const i = ic + ir + r;
          const col = pc + p;
          packedA[idx++] = alpha * (trans ? a[col * lda + i] : a[i * lda + col]);
        } else packedA[idx++] = 0;
      }
    }
  }
}

/** packedB[(panel·kc + p)·4 + c] = op(B)[pc + p, jc + 4·panel + c], zero-padded. */
function packB(trans: boolean, b: Float32Array, ldb: number, pc: number, kc: number, jc: number, nc: number): void {
  let idx = 0;
  for (let jr = 0; jr < nc; jr += 4) {
    const cols = Math.min(4, nc - jr);
    for (let p = 0; p < kc; p++) {
      const row = pc + p;
      for (let col = 0; col < 4; col++) {
        if (col < cols) {
          const j = jc + jr + col;
          packedB[idx++] = trans ? b[j * ldb + row] : b[row * ldb + j];
        } else packedB[idx++] = 0;
      }
    }
  }
}

function macroKernel(mc: number, nc: number, kc: number, c: Float32Array, ldc: number, ic: number, jc: number): void {
  for (let jr = 0; jr < nc; jr += 4) {
    const bBase = (jr >> 2) * kc * 4;
    const cols = Math.min(4, nc - jr);
    for (let ir = 0; ir < mc; ir += 4) {
      const aBase = (ir >> 2) * kc * 4;
      let c00 = 0,
        c01 = 0,
        c02 = 0,
        c03 = 0;
      let c10 = 0,
        c11 = 0,
        c12 = 0,
        c13 = 0;
      let c20 = 0,
        c21 = 0,
        c22 = 0,
        c23 = 0;
      let c30 = 0,
        c31 = 0,
        c32 = 0,
        c33 = 0;
      for (let p = 0; p < kc; p++) {
        const ap = aBase + p * 4;
        const bp = bBase + p * 4;
        const a0 = packedA[ap],
          a1 = packedA[ap + 1],
          a2 = packedA[ap + 2],
          a3 = packedA[ap + 3];
        const b0 = packedB[bp],
          b1 = packedB[bp + 1],
          b2 = packedB[bp + 2],
          b3 = packedB[bp + 3];
        c00 += a0 * b0;
        c01 += a0 * b1;
        c02 += a0 * b2;
        c03 += a0 * b3;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c12 += a1 * b2;
        c13 += a1 * b3;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c22 += a2 * b2;
        c23 += a2 * b3;
        c30 += a3 * b0;
        c31 += a3 * b1;
        c32 += a3 * b2;
        c33 += a3 * b3;
      }
      const rows = Math.min(4, mc - ir);
      const o = (ic + ir) * ldc + jc + jr;
      if (rows === 4 && cols === 4) {
        c[o] += c00;
        c[o + 1] += c01;
        c[o + 2] += c02;
        c[o + 3] += c03;
        const o1 = o + ldc,
          o2 = o1 + ldc,
          o3 = o2 + ldc;
        c[o1] += c10;
        c[o1 + 1] += c11;
        c[o1 + 2] += c12;
        c[o1 + 3] += c13;
        c[o2] += c20;
        c[o2 + 1] += c21;
        c[o2 + 2] += c22;
        c[o2 + 3] += c23;
        c[o3] += c30;
        c[o3 + 1] += c31;
        c[o3 + 2] += c32;
        c[o3 + 3] += c33;
      } else {
        const block = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
        for (let r = 0; r < rows; r++) for (let col = 0; col < cols; col++) c[o + r * ldc + col] += block[r * 4 + col];
      }
    }
  }
}
