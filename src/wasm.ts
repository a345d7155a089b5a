import { readFileSync } from "node:fs";

const modules = new Map<string, WebAssembly.Module>();

/**
 * A compiled kernel from dist/src/<path>.wasm (built from src/<path>.wat by scripts/build-wasm.mjs),
 * instantiated over a fresh memory of `bytes`. The memory never grows, so typed-array views of it
 * stay valid for the instance's life.
 */
export function instantiateKernel(path: string, bytes: number): { exports: WebAssembly.Exports; memory: WebAssembly.Memory } {
  let module = modules.get(path);
  if (!module) {
    module = new WebAssembly.Module(readFileSync(new URL(`./${path}.wasm`, import.meta.url)));
    modules.set(path, module);
  }
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return { exports: instance.exports, memory };
}
