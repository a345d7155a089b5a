import type { Matrix } from "../linalg/matrix.js";

/** The paper's closed-form α for one item and anchor: α_j = ε‖d‖/‖g‖ · g_j/(d_j + 1e-8), ε = cap/√D. */
export function closedFormAlpha(g: ArrayLike<number>, d: ArrayLike<number>, cap: number): Float64Array {
  const D = g.length;
  const eps = cap / Math.sqrt(D);
  let gNorm = 0,
    dNorm = 0;
  for (let j = 0; j < D; j++) {
    gNorm += g[j] * g[j];
    dNorm += d[j] * d[j];
  }
  const scale = (eps * Math.sqrt(dNorm)) / Math.sqrt(gNorm);
  return Float64Array.from({ length: D }, (_, j) => (scale * g[j]) / (d[j] + 1e-8));
}

/** The head's view of one embedding, in float64: its predicted class and g = Wᵀ(p − onehot(ŷ)) (null when p is one-hot). */
function headState(zi: Float64Array, W: Matrix, b: Float32Array): { yhat: number; g: Float64Array | null } {
  const logits = headLogits(zi, W, b),
    K = W.rows,
    D = W.cols;
  const yhat = argmax(logits);
  const max = logits[yhat];
  const e = logits.map((l) => Math.exp(l - max));
  const sum = e.reduce((a, v) => a + v, 0);
  const r = e.map((v, c) => v / sum - (c === yhat ? 1 : 0));
  const g = new Float64Array(D);
  for (let j = 0; j < D; j++) for (let c = 0; c < K; c++) g[j] += W.data[c * D + j] * r[c];
  return { yhat, g: Math.hypot(...g) > 0 ? g : null };
}

function headLogits(v: Float64Array, W: Matrix, b: Float32Array): Float64Array {
  const K = W.rows,
    D = W.cols,
    l = new Float64Array(K);
  for (let c = 0; c < K; c++) {
    let s = b[c];
    for (let j = 0; j < D; j++) s += W.data[c * D + j] * v[j];
    l[c] = s;
  }
  return l;
}

const argmax = (l: Float64Array) => l.reduce((best, v, c) => (v > l[best] ? c : best), 0);

/** Whether mixing `zi` towards `anchor` with the closed-form α at `cap` changes the predicted class. */
function mixingFlips(zi: Float64Array, anchor: ArrayLike<number>, state: { yhat: number; g: Float64Array }, cap: number, W: Matrix, b: Float32Array): boolean {
  const alpha = closedFormAlpha(
    state.g,
    zi.map((v, j) => anchor[j] - v),
    cap,
  );
  const mixed = zi.map((v, j) => (1 - alpha[j]) * v + alpha[j] * anchor[j]);
  return argmax(headLogits(mixed, W, b)) !== state.yhat;
}

/**
 * The closed-form ALFA-Mix candidate test written out literally, in float64, for checking the
 * fast path: for every cap, anchor and item, build α_j = ε‖d‖/‖g‖ · g_j/(d_j + 1e-8) (ε = cap/√D),
 * mix z̃ = (1 − α)⊙z + α⊙a, run the head and compare argmaxes. Returns, per row of `z`, 1 + the
 * index of the first cap that flipped it (0 if none). O(caps·K·N·D·K): small inputs only.
 */
export function closedFormCandidatesLiteral(z: Matrix, anchors: Matrix, W: Matrix, b: Float32Array, caps: number[]): Uint8Array {
  const N = z.rows,
    D = z.cols;
  const out = new Uint8Array(N);
  for (let i = 0; i < N; i++) {
    const zi = Float64Array.from(z.data.subarray(i * D, (i + 1) * D));
    const state = headState(zi, W, b);
    if (!state.g) continue;
    search: for (let t = 0; t < caps.length; t++) {
      for (let a = 0; a < anchors.rows; a++) {
        if (mixingFlips(zi, anchors.data.subarray(a * D, (a + 1) * D), { yhat: state.yhat, g: state.g }, caps[t], W, b)) {
          out[i] = t + 1;
          break search;
        }
      }
    }
  }
  return out;
}

/**
 * For each row of `z`, the anchors (one per class: class ids) whose closed-form mixing at `cap`
 * flips the prediction: why ALFA-Mix wants the item. A handful of rows at a time (it is literal).
 */
export function flippingAnchors(z: Matrix, anchors: Matrix, W: Matrix, b: Float32Array, cap: number): number[][] {
  const D = z.cols;
  return Array.from({ length: z.rows }, (_, i) => {
    const zi = Float64Array.from(z.data.subarray(i * D, (i + 1) * D));
    const state = headState(zi, W, b);
    if (!state.g) return [];
    const g = state.g;
    return Array.from({ length: anchors.rows }, (_, a) => a).filter((a) =>
      mixingFlips(zi, anchors.data.subarray(a * D, (a + 1) * D), { yhat: state.yhat, g }, cap, W, b),
    );
  });
}
