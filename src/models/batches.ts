import { matrix, type Matrix } from "../linalg/matrix.js";
import type { Rng } from "../random.js";
import { instantiateKernel } from "../wasm.js";

type GatherKernel = (dst: number, src: number, order: number, count: number, rowBytes: number) => void;

/**
 * Shuffled mini-batches of a training set without copying in JavaScript: the rows, the epoch's
 * order and the batch buffer live in the memory of a small WebAssembly kernel (src/models/gather.wat)
 * that copies each batch's rows in place. Made once per fit; batches then allocate nothing.
 */
export class BatchSampler {
  /** The current epoch's order of row indices. */
  readonly order: Int32Array;
  private readonly gather: GatherKernel;
  private readonly batches = new Map<number, Matrix>();
  private readonly layout: { rows: number; order: number; batch: number; rowBytes: number };

  constructor(
    readonly x: Matrix,
    readonly batchSize: number,
  ) {
    const n = x.rows,
      rowBytes = 4 * x.cols;
    this.layout = { rows: 0, order: n * rowBytes, batch: n * rowBytes + 4 * n, rowBytes };
    const { exports, memory } = instantiateKernel("models/gather", this.layout.batch + batchSize * rowBytes);
    this.gather = exports.gather as GatherKernel;
    new Float32Array(memory.buffer, 0, n * x.cols).set(x.data);
    this.order = new Int32Array(memory.buffer, this.layout.order, n);
    const full = new Float32Array(memory.buffer, this.layout.batch, batchSize * x.cols);
    // Views for a full batch and for the last, shorter one, made once.
    for (const rows of new Set([Math.min(batchSize, n), n % batchSize || batchSize])) {
      this.batches.set(rows, matrix(rows, x.cols, full.subarray(0, rows * x.cols)));
    }
  }

  /** A new epoch: a fresh random order (the same stream as rng.permutation(n)). */
  shuffle(rng: Rng): void {
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
    rng.shuffle(this.order);
  }

  /** The rows order[start], order[start + 1], … (up to a batch) gathered into the batch buffer. */
  batch(start: number): Matrix {
    const rows = Math.min(this.batchSize, this.order.length - start);
    const { order, batch, rowBytes } = this.layout;
    this.gather(batch, 0, order + 4 * start, rows, rowBytes);
    return this.batches.get(rows)!;
  }
}
