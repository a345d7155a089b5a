import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";

// Let V8 inline small WebAssembly functions into their callers (default from V8 12; Node 20 has
// 11.3): the kernels call helpers that take and return several SIMD vectors, and inlined, the
// conv layers' Winograd transforms ran in half the time (64 channels, 32×32, 64 images: F(4×4)'s
// four passes 32 against 61 ms). Modules compiled after this line get it.
setFlagsFromString("--experimental-wasm-inlining");

const modules = new Map<string, WebAssembly.Module>();

/** The compiled module of dist/src/<path>.wasm (built from src/<path>.wat by scripts/build-wasm.mjs). */
function compiled(path: string): WebAssembly.Module {
  let module = modules.get(path);
  if (!module) {
    module = new WebAssembly.Module(readFileSync(new URL(`./${path}.wasm`, import.meta.url)));
    modules.set(path, module);
  }
  return module;
}

/** A kernel instantiated over `memory`, which it imports as env.memory. */
export function instantiateOver(path: string, memory: WebAssembly.Memory): WebAssembly.Exports {
  return new WebAssembly.Instance(compiled(path), { env: { memory } }).exports;
}

/**
 * A kernel instantiated over a fresh memory of `bytes` (`shared` for a kernel that imports shared
 * memory). The memory never grows, so typed-array views of it stay valid for the instance's life.
 */
export function instantiateKernel(path: string, bytes: number, shared = false): { exports: WebAssembly.Exports; memory: WebAssembly.Memory } {
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
  return { exports: instantiateOver(path, memory), memory };
}
