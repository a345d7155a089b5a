import { jsSgemm } from "./gemm-js.js";
import { loadOpenBlas, type BlasThreads } from "./gemm-openblas.js";
import { matrix, type Matrix } from "./matrix.js";
import type { Sgemm } from "./sgemm.js";

export type { Sgemm } from "./sgemm.js";

export type BackendName = "openblas" | "js";

export interface GemmBackend {
  readonly name: BackendName;
  readonly sgemm: Sgemm;
  /** The library's build and the kernel it runs on this CPU (OpenBLAS), when it says. */
  readonly kernel?: string;
  /** The library's own threads (OpenBLAS), when it has any. */
  readonly threads?: BlasThreads;
  /** dst = src, float by float (BLAS scopy), when the library has one. */
  readonly copy?: (src: Float32Array, dst: Float32Array) => void;
  /** out (n × n) = X·Xᵀ for X (n × d, rows packed), when the library has a symmetric product. */
  readonly gram?: (x: Float32Array, n: number, d: number, out: Float32Array) => void;
}

export const jsBackend: GemmBackend = { name: "js", sgemm: jsSgemm };

let openblas: GemmBackend | null | undefined;
let active: GemmBackend | undefined;
let warned = false;

/** The OpenBLAS backend, or null when koffi or libopenblas cannot be loaded. */
export function openBlasBackend(): GemmBackend | null {
  if (openblas === undefined) {
    const loaded = loadOpenBlas();
    openblas =
      "sgemm" in loaded
        ? { name: "openblas", sgemm: loaded.sgemm, kernel: loaded.kernel, threads: loaded.threads, copy: loaded.copy, gram: loaded.gram }
        : null;
    if (!openblas && !warned && process.env.ALFAMIX_BLAS !== "off") {
      warned = true;
      // Written at once (process.emitWarning would wait for the synchronous work to end): a slow
      // run should say why before it starts.
      process.stderr.write(
        `alfamix: warning: OpenBLAS is unavailable (${(loaded as { error: string }).error}); using the pure-TypeScript GEMM, ` +
          "about 40× slower. Install it with: apt-get install libopenblas0-pthread\n",
      );
    }
  }
  return openblas;
}

/** The backend in use: OpenBLAS when available, unless ALFAMIX_BLAS=off. */
export function gemmBackend(): GemmBackend {
  if (!active) active = (process.env.ALFAMIX_BLAS === "off" ? null : openBlasBackend()) ?? jsBackend;
  return active;
}

/**
 * Run `work` with the GEMM library on `n` threads of its own, then restore the count: for work
 * that runs on several threads of ours, each calling the GEMM (OpenBLAS's threads would otherwise
 * oversubscribe the cores and spin waiting for each other).
 */
export async function withGemmThreads<T>(n: number, work: () => T | Promise<T>): Promise<T> {
  const threads = gemmBackend().threads;
  const before = threads?.get();
  threads?.set(n);
  try {
    return await work();
  } finally {
    if (before !== undefined) threads!.set(before);
  }
}

/**
 * Run the GEMM library on its callers' threads only, from now on, for the whole process: for a
 * process whose own threads call the GEMM at the same time, each for as long as it likes (serve's
 * retrain threads, one per project). OpenBLAS 0.3.21's thread server deadlocks when two threads
 * call a threaded GEMM at once: seen as one caller spinning in exec_blas_async for good while the
 * others wait on its level-3 lock. (withGemmThreads is the scoped form, for work with an end.)
 */
export function gemmOnCallingThreads(): void {
  gemmBackend().threads?.set(1);
}

/** Switch backends (benchmarks and tests compare them); returns the previous one. */
export function useGemmBackend(backend: GemmBackend): GemmBackend {
  const previous = gemmBackend();
  active = backend;
  return previous;
}

/** Raw sgemm through the active backend; degenerate shapes never reach the native library. */
export const sgemm: Sgemm = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
  if (m === 0 || n === 0) return;
  const backend = k === 0 ? jsBackend : gemmBackend();
  backend.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
};

/**
 * dst = src (same lengths). Typed arrays' own set() copies a SharedArrayBuffer's memory 7× slower
 * than an unshared one's (86 against 12 µs for 64K floats), and the conv layers' buffers
 * are shared (layers/split.ts); BLAS's scopy copies at memcpy's speed either way.
 */
export function copyFloats(src: Float32Array, dst: Float32Array): void {
  const copy = gemmBackend().copy;
  if (copy && (src.buffer instanceof SharedArrayBuffer || dst.buffer instanceof SharedArrayBuffer)) copy(src, dst);
  else dst.set(src);
}

/** X·Xᵀ (the rows' inner products): through the library's symmetric product when it has one, else a GEMM. */
export function gramMatrix(x: Matrix): Matrix {
  const gram = gemmBackend().gram;
  if (!gram || x.rows === 0 || x.cols === 0) return matmul(x, x, { transB: true });
  const out = matrix(x.rows, x.rows);
  gram(x.data, x.rows, x.cols, out.data);
  return out;
}

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  /** Accumulate into `out` scaled by beta (default 0: overwrite). */
  beta?: number;
  out?: Matrix;
}

/** op(A)·op(B) as a new matrix, or into `out`. */
export function matmul(a: Matrix, b: Matrix, options: MatmulOptions = {}): Matrix {
  const { transA = false, transB = false, alpha = 1, beta = 0 } = options;
  const m = transA ? a.cols : a.rows;
  const k = transA ? a.rows : a.cols;
  const kB = transB ? b.cols : b.rows;
  const n = transB ? b.rows : b.cols;
  if (k !== kB) {
    throw new RangeError(`matmul: inner dimensions differ (${a.rows}×${a.cols}${transA ? "ᵀ" : ""} · ${b.rows}×${b.cols}${transB ? "ᵀ" : ""})`);
  }
  const out = options.out ?? matrix(m, n);
  if (out.rows !== m || out.cols !== n) throw new RangeError(`matmul: out is ${out.rows}×${out.cols}, expected ${m}×${n}`);
  sgemm(transA, transB, m, n, k, alpha, a.data, Math.max(1, a.cols), b.data, Math.max(1, b.cols), beta, out.data, Math.max(1, n));
  return out;
}
