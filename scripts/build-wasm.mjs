// Compile every src/**/*.wat (WebAssembly text) to dist/src/**/*.wasm with wabt, beside the
// JavaScript that loads it. Run by `npm run build` after tsc.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import wabtInit from "wabt";

const root = new URL("..", import.meta.url).pathname;
const wabt = await wabtInit();
const sources = readdirSync(join(root, "src"), { recursive: true }).filter((f) => f.endsWith(".wat"));
for (const source of sources) {
  const path = join(root, "src", source);
  // threads: the conv layers' kernels import the shared memory of arena.ts.
  const features = { simd: true, threads: true, multi_value: true, bulk_memory: true };
  const module = wabt.parseWat(source, readFileSync(path, "utf8"), features);
  module.validate(features);
  const { buffer } = module.toBinary({});
  const out = join(root, "dist", "src", source.replace(/\.wat$/, ".wasm"));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, buffer);
  console.log(`wasm: ${relative(root, path)} → ${relative(root, out)} (${buffer.length} bytes)`);
}
