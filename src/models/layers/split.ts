import { availableParallelism } from "node:os";
import { MessageChannel, Worker } from "node:worker_threads";
import { gemmBackend } from "../../linalg/gemm.js";
import { arenaMemory, inArena } from "./arena.js";
import { kernels, type KernelName } from "./kernels.js";

/**
 * The conv nets' memory-bound passes (batch norm, ReLU, the residual sums, im2col and col2im,
 * Winograd's transforms) run on two cores: a helper thread and this one take chunks of the units
 * from a shared counter over the same memory (SharedArrayBuffer), so that whichever thread is
 * free does the next chunk. ResNet-18 spent over a third of a training step in these passes on one
 * thread, with the second core idle between GEMMs. The helper is used when the GEMM itself may use
 * two threads (so OPENBLAS_NUM_THREADS=1 keeps a process on one core), once it has started, for
 * passes over enough values to repay the hand-over, and when every array is shared.
 *
 * Why chunks, not halves: waking the sleeping helper takes about 100 µs here (50–270, measured
 * around a ResNet-18 step's 140 passes), and with fixed halves this thread then waited for the
 * helper's half: 85 ms of a 1.02 s step. With chunks it does more of them while the helper wakes,
 * and waits only for the chunks the helper has taken.
 */

/** Below this many values a pass runs here alone (a 4M-value ReLU takes about 4 ms). */
const MIN_SPLIT_VALUES = 1 << 17;
/** Chunks a pass is cut into at most. */
const CHUNKS = 8;
/** How long to wait for the helper's last chunk before treating it as lost. */
const HELPER_TIMEOUT_MS = 60_000;

// Slots of the control block shared with the helper (split-thread.ts).
export const POSTED = 0,
  READY = 1,
  /** 1 + a chunk whose kernel threw on the helper, or 0. */
  FAILED = 2,
  /** The current job's sequence number (15 bits) << 16 | the next chunk to take. */
  CLAIM = 3,
  /** Chunks of the current job the helper has finished. */
  FINISHED = 4,
  /** Passes the helper took part in. */
  HELPED = 5;

export interface SplitJob {
  kernel: KernelName;
  /**
   * Each array's memory (null for the arena's: the helper views its own handle on the arena, and
   * runs the SIMD loops there too), byte offset and length. A SharedArrayBuffer in a message costs
   * the sender and the receiver microseconds each, and most passes' arrays are all in the arena.
   */
  arrays: [SharedArrayBuffer | null, number, number][];
  scalars: number[];
  seq: number;
  units: number;
  /** Units per chunk, and chunks. */
  size: number;
  chunks: number;
}

/** The next chunk of job `seq` for this thread, or −1 when the job has no chunk left (or is no longer the current one). */
export function claimChunk(control: Int32Array, seq: number, chunks: number): number {
  for (;;) {
    const v = Atomics.load(control, CLAIM);
    if (v >>> 16 !== seq || (v & 0xffff) >= chunks) return -1;
    if (Atomics.compareExchange(control, CLAIM, v, v + 1) === v) return v & 0xffff;
  }
}

let helper: { worker: Worker; control: Int32Array; post(job: SplitJob): void } | undefined;
let enabled = true,
  waitForHelper = false;
let posted = 0;

/**
 * Run `kernel` over units [0, units), shared with the helper when that pays: `values` is the
 * number of values the pass touches per array, and `grain` a unit count each chunk is a multiple
 * of (elements: 16, a cache line, so the threads never write the same line).
 */
export function split(kernel: KernelName, arrays: Float32Array[], scalars: number[], units: number, values = units, grain = 1): void {
  const size = Math.ceil(units / CHUNKS / grain) * grain,
    chunks = Math.ceil(units / size);
  const h = sharing(arrays, values, chunks);
  if (h) share(h, kernel, arrays, scalars, units, size, chunks);
  else kernels[kernel](arrays, scalars, 0, units);
}

/**
 * Independent GEMMs over units (Winograd's 16 or 36 tile positions), shared with the helper as a
 * pass is, while OpenBLAS runs on one thread: each thread's GEMMs then take OpenBLAS's
 * single-threaded path on their own core. On two threads each of these GEMMs (64 × 64 × 4,096,
 * or 32 × 32 × 4,096 for cnn) is short and bound by memory, and OpenBLAS's threads hand over more
 * often than they compute: 36 of them took 2.9–3.1 ms against 4.4 on one thread, so two at once
 * ideally 2.2. They run on one OpenBLAS thread when not shared too (too few values, the helper
 * not started yet, one core): OpenBLAS's bits on one thread and on two differ at some inner sizes
 * (1,225 tiles, say), and a run's results must not depend on whether the helper took part. Only on
 * OpenBLAS (the backend with threads of its own), which the helper loads too (ALFAMIX_BLAS=off
 * leaves it on the pure-TypeScript GEMM, whose bits may differ from this thread's backend);
 * elsewhere they run here.
 */
export function splitGemms(kernel: KernelName, arrays: Float32Array[], scalars: number[], units: number, values: number): void {
  const blas = gemmBackend();
  if (!blas.threads) {
    kernels[kernel](arrays, scalars, 0, units);
    return;
  }
  const h = sharing(arrays, values, units); // before the count changes: sharing reads it
  const before = blas.threads.get();
  // Never two threaded GEMMs at once (OpenBLAS 0.3.21's thread server can deadlock, gemm.ts).
  blas.threads.set(1);
  try {
    if (h) share(h, kernel, arrays, scalars, units, 1, units);
    else kernels[kernel](arrays, scalars, 0, units);
  } finally {
    blas.threads.set(before);
  }
}

/** The helper, when a pass of `chunks` chunks over `values` values in `arrays` is worth sharing with it and it can take part. */
function sharing(arrays: Float32Array[], values: number, chunks: number): NonNullable<typeof helper> | undefined {
  if (values < MIN_SPLIT_VALUES || chunks < 2 || !enabled || threads() < 2 || !arrays.every((a) => a.buffer instanceof SharedArrayBuffer)) return undefined;
  const h = (helper ??= startHelper());
  return Atomics.load(h.control, READY) === 1 ? h : undefined;
}

/** Post the pass to the helper, and take chunks of `size` units here until none is left. */
function share(
  h: NonNullable<typeof helper>,
  kernel: KernelName,
  arrays: Float32Array[],
  scalars: number[],
  units: number,
  size: number,
  chunks: number,
): void {
  const run = kernels[kernel];
  const seq = ++posted & 0x7fff;
  Atomics.store(h.control, FAILED, 0);
  Atomics.store(h.control, FINISHED, 0);
  Atomics.store(h.control, CLAIM, seq << 16);
  h.post({
    kernel,
    arrays: arrays.map((a) => [inArena(a) ? null : (a.buffer as SharedArrayBuffer), a.byteOffset, a.length]),
    scalars,
    seq,
    units,
    size,
    chunks,
  });
  Atomics.store(h.control, POSTED, posted);
  Atomics.notify(h.control, POSTED);
  if (waitForHelper) {
    const until = performance.now() + 5000;
    while (Atomics.load(h.control, CLAIM) === seq << 16 && performance.now() < until);
  }
  let mine = 0;
  try {
    for (let c = claimChunk(h.control, seq, chunks); c >= 0; c = claimChunk(h.control, seq, chunks)) {
      mine++;
      run(arrays, scalars, c * size, Math.min(units, (c + 1) * size));
    }
  } finally {
    // No chunk is taken after this, and the helper's must be done before this returns or throws:
    // a chunk still being written would land under the next pass.
    const taken = Math.min(chunks, Atomics.exchange(h.control, CLAIM, (seq << 16) | 0xffff) & 0xffff);
    waitForChunks(h.control, taken - mine, kernel);
  }
  // A kernel that threw on the helper throws here too, with its own message: its chunk runs again.
  const failed = Atomics.load(h.control, FAILED);
  if (failed > 0) run(arrays, scalars, (failed - 1) * size, Math.min(units, failed * size));
}

/** Wait until the helper has finished `theirs` chunks, spinning first (it is usually nearly done). */
function waitForChunks(control: Int32Array, theirs: number, kernel: KernelName): void {
  const until = performance.now() + 0.5;
  while (Atomics.load(control, FINISHED) < theirs && performance.now() < until);
  for (let done = Atomics.load(control, FINISHED); done < theirs; done = Atomics.load(control, FINISHED)) {
    if (Atomics.wait(control, FINISHED, done, HELPER_TIMEOUT_MS) === "timed-out")
      throw new Error(`the conv helper thread did not finish a ${kernel} pass in ${HELPER_TIMEOUT_MS / 1000} s`);
  }
}

/** An element-wise kernel over the whole of its first array, split at a cache line. */
export function splitElements(kernel: KernelName, arrays: Float32Array[]): void {
  split(kernel, arrays, [], arrays[0].length, arrays[0].length, 16);
}

const cores = availableParallelism();

/** The helper's threads: two when the machine and the GEMM's own setting allow. */
function threads(): number {
  return Math.min(2, cores, gemmBackend().threads?.get() ?? 2);
}

function startHelper(): NonNullable<typeof helper> {
  const control = new Int32Array(new SharedArrayBuffer(4 * 8));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL("./split-thread.js", import.meta.url), {
    workerData: { control, port: port2, memory: arenaMemory() },
    transferList: [port2],
  });
  worker.unref(); // an idle helper must not keep the process alive
  return { worker, control, post: (job) => port1.postMessage(job) };
}

/**
 * Start the helper and wait until it takes work; false when this process splits nothing (one
 * core, or the GEMM on one thread). Training does not wait: passes run here alone until then.
 */
export async function helperReady(): Promise<boolean> {
  if (!enabled || threads() < 2) return false;
  const h = (helper ??= startHelper());
  while (Atomics.load(h.control, READY) !== 1) await new Promise((r) => setTimeout(r, 5));
  return true;
}

/** Passes the helper has taken part in so far (tests check that a split really happened). */
export function helperJobs(): number {
  return helper ? Atomics.load(helper.control, HELPED) : 0;
}

/**
 * Turn splitting off or on (tests compare the two; the results must be the same bits). `helperFirst`
 * makes each pass wait until the helper has taken its first chunk, so that tests know it took part.
 */
export function setSplitting(on: boolean, helperFirst = false): void {
  enabled = on;
  waitForHelper = helperFirst;
}
