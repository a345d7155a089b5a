import { readFileSync } from "node:fs";

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
 * A kernel instantiated over a fresh memory of `bytes`. The memory never grows, so typed-array
 * views of it stay valid for the instance's life.
 */
export function instantiateKernel(path: string, bytes: number): { exports: WebAssembly.Exports; memory: WebAssembly.Memory } {
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  return { exports: instantiateOver(path, memory), memory };
}
