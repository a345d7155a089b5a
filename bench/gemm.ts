import { jsBackend, openBlasBackend, useGemmBackend, matmul } from "../src/linalg/gemm.js";
import { matrix } from "../src/linalg/matrix.js";
import { Rng } from "../src/random.js";
import { bestTimeMs, emit } from "./timing.js";

export const GEMM_SHAPES: [number, number, number][] = [
  [512, 512, 512],
  [60000, 784, 256],
];

/** GFLOP/s of C = A·B (M×K times K×N) on each available backend. */
export function benchGemm(json: boolean, shapes = GEMM_SHAPES): void {
  const backends = [openBlasBackend(), jsBackend].filter((b) => b !== null);
  const rng = new Rng(0);
  for (const [m, k, n] of shapes) {
    const a = matrix(m, k),
      b = matrix(k, n),
      c = matrix(m, n);
    for (let i = 0; i < a.data.length; i++) a.data[i] = rng.uniform() - 0.5;
    for (let i = 0; i < b.data.length; i++) b.data[i] = rng.uniform() - 0.5;
    for (const backend of backends) {
      const previous = useGemmBackend(backend);
      try {
        matmul(a, b, { out: c }); // warm-up
        const ms = bestTimeMs(() => matmul(a, b, { out: c }), { minRuns: backend.name === "js" && m > 10000 ? 1 : 3, budgetMs: 2000 });
        const gflops = (2 * m * k * n) / (ms * 1e6);
        const shape = `${m}x${k}x${n}`;
        emit(
          json,
          { backend: backend.name, shape, gflops: Number(gflops.toFixed(1)) },
          `${backend.name.padEnd(9)} ${shape.padEnd(14)} ${gflops.toFixed(1).padStart(7)} GFLOP/s  (${ms.toFixed(1)} ms)`,
        );
      } finally {
        useGemmBackend(previous);
      }
    }
  }
}
