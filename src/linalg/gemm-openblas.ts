import { createRequire } from "node:module";
import type { Sgemm } from "./sgemm.js";

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;
const CBLAS_UPPER = 121;

/** Where Debian's libopenblas0-pthread puts the library; ALFAMIX_BLAS_LIB overrides. */
const CANDIDATES = [
  "libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "libopenblas.so",
];

/** OpenBLAS's thread count, for the whole process. */
export interface BlasThreads {
  get(): number;
  set(n: number): void;
}

/** cblas_sgemm from OpenBLAS through koffi (and its thread count), or the reason it could not be loaded. */
export function loadOpenBlas():
  | {
      sgemm: Sgemm;
      library: string;
      kernel: string;
      threads: BlasThreads;
      copy: (src: Float32Array, dst: Float32Array) => void;
      gram: (x: Float32Array, n: number, d: number, out: Float32Array) => void;
    }
  | { error: string } {
  let koffi: { load(path: string): { func(signature: string): (...args: unknown[]) => unknown } };
  try {
    koffi = createRequire(import.meta.url)("koffi");
  } catch (e) {
    return { error: `the koffi package could not be loaded (${(e as Error).message.split("\n")[0]})` };
  }
  // OpenBLAS's threads spin for 2^28 cycles (about 0.1 s) after each GEMM before they sleep, which
  // took the second core from the conv layers' helper thread (layers/split.ts) between GEMMs: its
  // passes then ran little faster than on one thread. 2^21 cycles (under a millisecond) still spans
  // the gaps between back-to-back GEMMs; 2^18 made ResNet-18's unsplit step 25% slower (its GEMMs'
  // threads woke late). The library reads this when it loads; a value the user set stands.
  process.env.OPENBLAS_THREAD_TIMEOUT ??= "21";
  const paths = process.env.ALFAMIX_BLAS_LIB ? [process.env.ALFAMIX_BLAS_LIB] : CANDIDATES;
  for (const path of paths) {
    let lib;
    try {
      lib = koffi.load(path);
    } catch {
      continue;
    }
    // Typed arrays are passed as pointers to their own memory: no copies either way.
    const native = lib.func("void cblas_sgemm(int, int, int, int, int, int, float, float *, int, float *, int, float, float *, int)") as (
      ...args: unknown[]
    ) => void;
    const gemv = lib.func("void cblas_sgemv(int, int, int, int, float, float *, int, float *, int, float, float *, int)") as (...args: unknown[]) => void;
    const op = (t: boolean) => (t ? CBLAS_TRANS : CBLAS_NO_TRANS);
    // A product with one output column or row is a matrix-vector product; sgemm packs the whole
    // matrix first and took twice sgemv's time on 10⁴×256 (0.53 against 0.30 ms: CoreGCN's graph).
    const sgemm: Sgemm = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
      if (n === 1) {
        // c (m) = op(A)·b: A is stored m×k, or k×m when transposed; b is a column (stride ldb) or a row.
        gemv(CBLAS_ROW_MAJOR, op(transA), transA ? k : m, transA ? m : k, alpha, a, lda, b, transB ? 1 : ldb, beta, c, ldc);
      } else if (m === 1) {
        // cᵀ (n) = op(B)ᵀ·aᵀ: B is stored k×n, or n×k when transposed; a is a row or a column (stride lda).
        gemv(CBLAS_ROW_MAJOR, op(!transB), transB ? n : k, transB ? k : n, alpha, b, ldb, a, transA ? lda : 1, beta, c, 1);
      } else {
        native(CBLAS_ROW_MAJOR, op(transA), op(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      }
    };
    const get = lib.func("int openblas_get_num_threads()") as () => number;
    const set = lib.func("void openblas_set_num_threads(int)") as (n: number) => void;
    const scopy = lib.func("void cblas_scopy(int, float *, int, float *, int)") as (
      n: number,
      x: Float32Array,
      incx: number,
      y: Float32Array,
      incy: number,
    ) => void;
    // The build and the kernel it chose for this CPU ("OpenBLAS 0.3.21 DYNAMIC_ARCH … Haswell", core "Haswell"), for the record of what ran.
    const config = lib.func("const char * openblas_get_config()") as () => string;
    const core = lib.func("const char * openblas_get_corename()") as () => string;
    const kernel = `${config().trim()}; core ${core().trim()}`;
    const ssyrk = lib.func("void cblas_ssyrk(int, int, int, int, int, float, float *, int, float, float *, int)") as (
      ...args: [number, number, number, number, number, number, Float32Array, number, number, Float32Array, number]
    ) => void;
    const somatcopy = lib.func("void cblas_somatcopy(int, int, int, int, float, float *, int, float *, int)") as (
      ...args: [number, number, number, number, number, Float32Array, number, Float32Array, number]
    ) => void;
    /**
     * out (n × n) = X·Xᵀ for X n × d: ssyrk's upper triangle (half a GEMM's multiplies), then the
     * lower one mirrored, B rows at a time: the block beside the diagonal by somatcopy, the
     * diagonal block here. ALFA-Mix's 6,568 candidates × 512: 65–71 ms and 25 ms against the GEMM's
     * 128–172 ms, with the GEMM's bits there.
     */
    const gram = (x: Float32Array, n: number, d: number, out: Float32Array) => {
      ssyrk(CBLAS_ROW_MAJOR, CBLAS_UPPER, CBLAS_NO_TRANS, n, d, 1, x, Math.max(1, d), 0, out, n);
      const B = 256;
      for (let top = 0; top < n; top += B) {
        const end = Math.min(n, top + B);
        for (let i = top; i < end; i++) for (let j = i + 1; j < end; j++) out[j * n + i] = out[i * n + j];
        if (end < n) somatcopy(CBLAS_ROW_MAJOR, CBLAS_TRANS, end - top, n - end, 1, out.subarray(top * n + end), n, out.subarray(end * n + top), n);
      }
    };
    return { sgemm, library: path, kernel, threads: { get, set }, copy: (src, dst) => scopy(src.length, src, 1, dst, 1), gram };
  }
  return { error: `libopenblas.so.0 was not found (tried ${paths.join(", ")})` };
}
