import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, cpus, platform, release, totalmem } from "node:os";
import { gemmBackend } from "../linalg/gemm.js";
import { VERSION } from "../version.js";

/** What ran a simulation: rankings can depend on the hardware and the libraries (the GEMM's kernel, thread counts). */
export interface MachineRecord {
  alfamix: string;
  node: string;
  os: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  /** The GEMM: "openblas" with its build and kernel, or "js" (the portable TypeScript GEMM). */
  gemm: string;
  gemmThreads: number;
  /** onnxruntime-node's version when it is installed (embed's backbones), else null. */
  onnxruntime: string | null;
}

export function describeMachine(): MachineRecord {
  const backend = gemmBackend();
  return {
    alfamix: VERSION,
    node: process.version,
    os: `${platform()} ${release()}`,
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    gemm: backend.kernel ? `${backend.name} (${backend.kernel})` : backend.name,
    gemmThreads: backend.threads?.get() ?? 1,
    onnxruntime: packageVersion("onnxruntime-node"),
  };
}

/** An installed package's version, without loading it (onnxruntime's native binary is large). */
function packageVersion(name: string): string | null {
  try {
    const require = createRequire(import.meta.url);
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")).version;
  } catch {
    return null;
  }
}
