import { availableParallelism } from "node:os";
import { MessageChannel, Worker } from "node:worker_threads";
import { gemmBackend } from "../../linalg/gemm.js";
import { arenaMemory, inArena } from "./arena.js";
import { kernels, type KernelName } from "./kernels.js";

/**
 * The conv nets' memory-bound passes (batch norm, ReLU, the residual sums, im2col and col2im,
 * Winograd's transforms) run on two cores: a helper thread takes the first part of the units
 * while this thread does the rest, over the same memory (SharedArrayBuffer). ResNet-18 spent over
 * a third of a training step in these passes on one thread, with the second core idle between
 * GEMMs. The helper is used when the GEMM itself may use two threads (so OPENBLAS_NUM_THREADS=1
 * keeps a process on one core), once it has started, for passes over enough values to repay the
 * hand-over (about 40 µs), and when every array is shared.
 */

/** Below this many values a pass runs here alone (a 4M-value ReLU takes about 4 ms). */
const MIN_SPLIT_VALUES = 1 << 17;
/** How long to wait for the helper before treating it as lost. */
const HELPER_TIMEOUT_MS = 60_000;

// Slots of the control block shared with the helper (split-thread.ts).
export const POSTED = 0,
  DONE = 1,
  READY = 2,
  FAILED = 3;

export interface SplitJob {
  kernel: KernelName;
  /** Each array's memory, byte offset and length, and whether it lies in the arena (then the helper views its own copy of the arena's memory, and runs the SIMD loops there too). */
  arrays: [SharedArrayBuffer, number, number, boolean][];
  scalars: number[];
  from: number;
  to: number;
}

let helper: { worker: Worker; control: Int32Array; post(job: SplitJob): void; jobs: number } | undefined;
let enabled = true;
let posted = 0;

/**
 * Run `kernel` over units [0, units), split with the helper when that pays: `values` is the
 * number of values the pass touches per array, and `grain` a unit count each part is a multiple
 * of (elements: 16, a cache line, so the threads never write the same line).
 */
export function split(kernel: KernelName, arrays: Float32Array[], scalars: number[], units: number, values = units, grain = 1): void {
  const run = kernels[kernel];
  const cut = Math.floor(units / 2 / grain) * grain;
  if (values < MIN_SPLIT_VALUES || cut === 0 || !enabled || threads() < 2 || !arrays.every((a) => a.buffer instanceof SharedArrayBuffer)) {
    run(arrays, scalars, 0, units);
    return;
  }
  const h = (helper ??= startHelper());
  if (Atomics.load(h.control, READY) !== 1) {
    run(arrays, scalars, 0, units);
    return;
  }
  const seq = ++posted;
  h.post({ kernel, arrays: arrays.map((a) => [a.buffer as SharedArrayBuffer, a.byteOffset, a.length, inArena(a)]), scalars, from: 0, to: cut });
  Atomics.store(h.control, POSTED, seq);
  Atomics.notify(h.control, POSTED);
  run(arrays, scalars, cut, units);
  while (Atomics.load(h.control, DONE) !== seq) {
    if (Atomics.wait(h.control, DONE, seq - 1, HELPER_TIMEOUT_MS) === "timed-out")
      throw new Error(`the conv helper thread did not finish a ${kernel} pass in ${HELPER_TIMEOUT_MS / 1000} s`);
  }
  h.jobs++;
  // A kernel that threw on the helper throws here too, with its own message.
  if (Atomics.exchange(h.control, FAILED, 0) === 1) run(arrays, scalars, 0, cut);
}

/** An element-wise kernel over the whole of its first array, split at a cache line. */
export function splitElements(kernel: KernelName, arrays: Float32Array[]): void {
  split(kernel, arrays, [], arrays[0].length, arrays[0].length, 16);
}

/** The helper's threads: two when the machine and the GEMM's own setting allow. */
function threads(): number {
  return Math.min(2, availableParallelism(), gemmBackend().threads?.get() ?? 2);
}

function startHelper(): NonNullable<typeof helper> {
  const control = new Int32Array(new SharedArrayBuffer(4 * 4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL("./split-thread.js", import.meta.url), {
    workerData: { control, port: port2, memory: arenaMemory() },
    transferList: [port2],
  });
  worker.unref(); // an idle helper must not keep the process alive
  return { worker, control, post: (job) => port1.postMessage(job), jobs: 0 };
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

/** Passes the helper has shared in so far (tests check that a split really happened). */
export function helperJobs(): number {
  return helper?.jobs ?? 0;
}

/** Turn splitting off or on (tests compare the two; the results must be the same bits). */
export function setSplitting(on: boolean): void {
  enabled = on;
}
