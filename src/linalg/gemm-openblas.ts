import { createRequire } from "node:module";
import type { Sgemm } from "./gemm.js";

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

/** Where Debian's libopenblas0-pthread puts the library; ALFAMIX_BLAS_LIB overrides. */
const CANDIDATES = ["libopenblas.so.0", "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0", "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0", "libopenblas.so"];

/** OpenBLAS's thread count, for the whole process. */
export interface BlasThreads {
  get(): number;
  set(n: number): void;
}

/** cblas_sgemm from OpenBLAS through koffi (and its thread count), or the reason it could not be loaded. */
export function loadOpenBlas(): { sgemm: Sgemm; library: string; threads: BlasThreads } | { error: string } {
  let koffi: { load(path: string): { func(signature: string): (...args: unknown[]) => unknown } };
  try {
    koffi = createRequire(import.meta.url)("koffi");
  } catch (e) {
    return { error: `the koffi package could not be loaded (${(e as Error).message.split("\n")[0]})` };
  }
  const paths = process.env.ALFAMIX_BLAS_LIB ? [process.env.ALFAMIX_BLAS_LIB] : CANDIDATES;
  for (const path of paths) {
    let lib;
    try {
      lib = koffi.load(path);
    } catch {
      continue;
    }
    // Typed arrays are passed as pointers to their own memory: no copies either way.
    const native = lib.func(
      "void cblas_sgemm(int, int, int, int, int, int, float, float *, int, float *, int, float, float *, int)",
    ) as (...args: unknown[]) => void;
    const sgemm: Sgemm = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
      native(CBLAS_ROW_MAJOR, transA ? CBLAS_TRANS : CBLAS_NO_TRANS, transB ? CBLAS_TRANS : CBLAS_NO_TRANS,
        m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    };
    const get = lib.func("int openblas_get_num_threads()") as () => number;
    const set = lib.func("void openblas_set_num_threads(int)") as (n: number) => void;
    return { sgemm, library: path, threads: { get, set } };
  }
  return { error: `libopenblas.so.0 was not found (tried ${paths.join(", ")})` };
}
