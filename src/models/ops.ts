import type { Matrix } from "../linalg/matrix.js";
import type { Rng } from "../random.js";
import { instantiateKernel } from "../wasm.js";

/** Element-wise pieces of the network's forward and backward passes, in place over typed arrays. */

// ReLU multiplies by the comparison instead of branching, as the conv kernels do: half the signs
// are random, and the mispredicted branch made the pass 5–6× slower (12.8 against 2.3 ms on 2M
// values). + 0 turns the −0 of negative inputs into 0.

/** max(0, x) in place. */
export function relu(m: Matrix): void {
  const d = m.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    d[i] = v * Number(v > 0) + 0;
  }
}

/** δ ⊙= [activation > 0]: the ReLU derivative read off its output. */
export function reluBackward(delta: Matrix, activation: Matrix): void {
  const g = delta.data,
    a = activation.data;
  for (let i = 0; i < g.length; i++) g[i] = g[i] * Number(a[i] > 0) + 0;
}

type DropoutKernel = (data: number, mask: number, n: number, state: number, threshold: number, keep: number) => void;

/** Values per call of the dropout kernel (dropout.wat); its memory holds a block and its mask. */
const DROPOUT_BLOCK = 1 << 16;
let dropoutKernel: { run: DropoutKernel; data: Float32Array; mask: Float32Array; state: Uint32Array } | undefined;

/**
 * Inverted dropout: zero each value with probability p, scale survivors by 1/(1−p); keeps the mask.
 * The draws come from eight generators of the SIMD kernel, seeded from 32 draws of `rng` per call.
 */
export function applyDropout(m: Matrix, mask: Float32Array, p: number, rng: Rng): void {
  if (!dropoutKernel) {
    const { exports, memory } = instantiateKernel("models/dropout", 8 * DROPOUT_BLOCK + 128);
    dropoutKernel = {
      run: exports.dropout as DropoutKernel,
      data: new Float32Array(memory.buffer, 0, DROPOUT_BLOCK),
      mask: new Float32Array(memory.buffer, 4 * DROPOUT_BLOCK, DROPOUT_BLOCK),
      state: new Uint32Array(memory.buffer, 8 * DROPOUT_BLOCK, 32),
    };
  }
  const { run, data, mask: blockMask, state } = dropoutKernel;
  for (let i = 0; i < 32; i++) state[i] = rng.nextUint32(); // all four words of a generator 0: p = 2^-128
  const threshold = Math.min(Math.round(p * 4294967296), 4294967295) | 0; // P(draw < threshold) = p
  const d = m.data;
  for (let start = 0; start < d.length; start += DROPOUT_BLOCK) {
    const length = Math.min(DROPOUT_BLOCK, d.length - start);
    data.set(d.subarray(start, start + length));
    run(0, 4 * DROPOUT_BLOCK, Math.ceil(length / 8) * 8, 8 * DROPOUT_BLOCK, threshold, 1 / (1 - p));
    d.set(data.subarray(0, length), start);
    mask.set(blockMask.subarray(0, length), start);
  }
}

export function multiplyInPlace(a: Float32Array, b: Float32Array): void {
  for (let i = 0; i < a.length; i++) a[i] *= b[i];
}

export function columnSums(m: Matrix, out: Float32Array): void {
  out.fill(0);
  const { rows, cols, data } = m;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) out[j] += data[o + j];
  }
}
