import { instantiateOver } from "../../wasm.js";

/**
 * The conv layers' buffers live in one shared WebAssembly memory, so that SIMD kernels
 * (layers.wat) can work on them in place, on this thread and on split.ts's helper, which runs its
 * own instance over the same memory. Copying activations in and out of a kernel's memory would
 * cost the passes the kernels save.
 *
 * First-fit allocation with coalescing frees. Blocks come back when a Buffers grows a buffer,
 * clears, or is collected; the memory itself never shrinks (WebAssembly cannot), so a process keeps
 * its high-water mark for the next model. Past wasm32's 4 GiB, `allocate` returns undefined and
 * the caller takes ordinary shared memory, on which the kernels' JavaScript twins run.
 */

const PAGE = 65536;
/** One page short of wasm32's 4 GiB, so that no block ends at address 2³², where a kernel's end pointer would wrap to 0. */
const MAX_PAGES = 65535;
/** Grow by at least this much, so that a model's first batch does not grow the memory once per buffer. */
const MIN_GROWTH_PAGES = 1024;
/** 64-byte blocks: a cache line, and v128 loads are aligned. */
const ALIGN = 64;

/**
 * The arena's first bytes are two kernels' scratch regions, one per thread (the main thread's,
 * then split.ts's helper's): layers.wat's input transform copies four image rows there.
 */
const SCRATCH_BYTES = 32768;
let memory: WebAssembly.Memory | undefined;
let helper = false;
/** Every SharedArrayBuffer object this thread has seen the memory as (a grow makes a new one). */
const known = new Set<ArrayBufferLike>();
/** Free blocks, by address. */
const free: { at: number; bytes: number }[] = [];
let top = 2 * SCRATCH_BYTES;

/** The memory, made on first use (main thread), or adopted from the main thread (helper). */
export function arenaMemory(adopt?: WebAssembly.Memory): WebAssembly.Memory {
  if (adopt) {
    memory = adopt;
    helper = true;
  }
  memory ??= new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  return memory;
}

/** A view of `length` floats at byte address `at`. */
export function arenaView(at: number, length: number): Float32Array {
  const buffer = arenaMemory().buffer;
  known.add(buffer);
  return new Float32Array(buffer, at, length);
}

/** This thread's scratch region: its address and size in bytes. */
export function arenaScratch(): { at: number; bytes: number } {
  return { at: helper ? SCRATCH_BYTES : 0, bytes: SCRATCH_BYTES };
}

/** Whether `a` lies in the arena: then its byteOffset is its address for the kernels. */
export function inArena(a: Float32Array): boolean {
  return known.has(a.buffer);
}

/**
 * Whether views that start where their block starts (a buffer and its subarray(0, …)) share it:
 * in the arena every view has the memory's buffer, so the address tells them apart.
 */
export function sameBlock(a: Float32Array, b: Float32Array): boolean {
  return inArena(a) ? inArena(b) && a.byteOffset === b.byteOffset : a.buffer === b.buffer;
}

/** `n` zeroed floats in the arena, or undefined when it cannot grow that far. */
export function allocate(n: number): Float32Array | undefined {
  const bytes = Math.max(ALIGN, Math.ceil((4 * n) / ALIGN) * ALIGN);
  const i = free.findIndex((b) => b.bytes >= bytes);
  if (i >= 0) {
    const block = free[i];
    const view = arenaView(block.at, n);
    if (block.bytes === bytes) free.splice(i, 1);
    else {
      block.at += bytes;
      block.bytes -= bytes;
    }
    return view.fill(0); // callers may count on zeros, as fresh memory has
  }
  const m = arenaMemory();
  const need = top + bytes - m.buffer.byteLength;
  if (need > 0) {
    const pages = Math.max(MIN_GROWTH_PAGES, Math.ceil(need / PAGE));
    const grow = Math.min(pages, MAX_PAGES - m.buffer.byteLength / PAGE);
    if (grow * PAGE < need) return undefined;
    try {
      m.grow(grow);
    } catch {
      return undefined;
    }
  }
  const view = arenaView(top, n);
  top += bytes;
  // Zeroed here too: a block released at the top lowers `top`, and its old data is still there.
  return view.fill(0);
}

/** Give `a`'s block back (a view that `allocate` returned, whole). */
export function release(a: Float32Array): void {
  if (!inArena(a)) return;
  let at = a.byteOffset,
    bytes = Math.max(ALIGN, Math.ceil(a.byteLength / ALIGN) * ALIGN);
  let i = free.findIndex((b) => b.at > at);
  if (i < 0) i = free.length;
  // Merge with the neighbours on either side, and with the unallocated top.
  if (i > 0 && free[i - 1].at + free[i - 1].bytes === at) {
    at = free[i - 1].at;
    bytes += free[i - 1].bytes;
    free.splice(--i, 1);
  }
  if (i < free.length && at + bytes === free[i].at) {
    bytes += free[i].bytes;
    free.splice(i, 1);
  }
  if (at + bytes === top) top = at;
  else free.splice(i, 0, { at, bytes });
}

/** Bytes allocated and not released, and the memory's size (for tests). */
export function arenaUsage(): { used: number; size: number } {
  return { used: top - free.reduce((s, b) => s + b.bytes, 0), size: memory?.buffer.byteLength ?? 0 };
}

export interface LayerKernels {
  sumSquares(a: number, n: number): [number, number];
  sumDot(a: number, b: number, n: number): [number, number];
  maskedSumDot(a: number, out: number, b: number, n: number): [number, number];
  normalize(x: number, out: number, n: number, scale: number, shift: number, relu: number): void;
  normGradient(g: number, x: number, dx: number, n: number, a: number, b: number, k: number, out: number): void;
  scaleGradient(g: number, dx: number, n: number, scale: number, out: number): void;
  relu(a: number, n: number): void;
  passWherePositive(g: number, out: number, dx: number, n: number): void;
  add(a: number, b: number, dst: number, n: number): void;
  addRelu(a: number, b: number, dst: number, n: number): void;
  transposeBlocks(src: number, dst: number, a: number, b: number, len: number, from: number, to: number): void;
  winogradOutput(m: number, planeBytes: number, y: number, th: number, tw: number, bias: number): void;
  winogradOutputGradient(dy: number, d: number, planeBytes: number, th: number, tw: number): void;
  winogradInput(image: number, h: number, w: number, pad: number, th: number, tw: number, v: number, planeBytes: number, scratch: number): void;
  winogradInputGradient(dv: number, planeBytes: number, dx: number, h: number, w: number, pad: number, th: number, tw: number, scratch: number): void;
  winograd4Input(image: number, h: number, w: number, pad: number, n: number, th: number, tw: number, v: number, planeBytes: number, scratch: number): void;
  winograd4Output(
    m: number,
    planeBytes: number,
    y: number,
    oh: number,
    ow: number,
    n: number,
    th: number,
    tw: number,
    bias: number,
    relu: number,
    scratch: number,
  ): void;
  winograd4OutputGradient(
    dy: number,
    oh: number,
    ow: number,
    n: number,
    th: number,
    tw: number,
    d: number,
    planeBytes: number,
    toY: number,
    scratch: number,
  ): void;
  winograd4OutputPooled(
    m: number,
    planeBytes: number,
    y: number,
    oh: number,
    ow: number,
    n: number,
    th: number,
    tw: number,
    bias: number,
    toPos: number,
    scratch: number,
  ): void;
  winograd4OutputGradientPooled(
    dy: number,
    oh: number,
    ow: number,
    n: number,
    th: number,
    tw: number,
    d: number,
    planeBytes: number,
    toPos: number,
    scratch: number,
  ): void;
  winograd4InputGradient(
    dv: number,
    planeBytes: number,
    dx: number,
    h: number,
    w: number,
    pad: number,
    n: number,
    th: number,
    tw: number,
    toX: number,
    scratch: number,
  ): void;
  columnsStride2(x: number, n: number, h: number, w: number, k: number, p: number, oh: number, ow: number, out: number): void;
  columnsStride2Adjoint(cols: number, n: number, h: number, w: number, k: number, p: number, oh: number, ow: number, dx: number): void;
  maxPool2x2(x: number, from: number, to: number, h: number, w: number, out: number, argmax: number): void;
  maxPool2x2Backward(dy: number, argmax: number, from: number, to: number, h: number, w: number, dx: number): void;
  adam(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    beta1: number,
    beta2: number,
    stepSize: number,
    correction: number,
    eps: number,
    wd: number,
  ): void;
}

let instance: LayerKernels | undefined;

/** layers.wat, winograd4.wat, columns.wat, pool.wat and adam.wat over the arena, instantiated once per thread, when every one of `arrays` lies in the arena. */
export function arenaKernels(...arrays: Float32Array[]): LayerKernels | undefined {
  if (!arrays.every(inArena)) return undefined;
  return (instance ??= {
    ...instantiateOver("models/layers/layers", arenaMemory()),
    ...instantiateOver("models/layers/winograd4", arenaMemory()),
    ...instantiateOver("models/layers/columns", arenaMemory()),
    ...instantiateOver("models/layers/pool", arenaMemory()),
    ...instantiateOver("models/adam", arenaMemory()),
  } as unknown as LayerKernels);
}

/** Byte address of a[i], for the kernels (a in the arena). */
export const address = (a: Float32Array, i: number) => a.byteOffset + 4 * i;
