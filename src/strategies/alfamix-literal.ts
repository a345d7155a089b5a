import type { Matrix } from "../linalg/matrix.js";

/** The paper's closed-form α for one item and anchor: α_j = ε‖d‖/‖g‖ · g_j/(d_j + 1e-8), ε = cap/√D. */
export function closedFormAlpha(g: ArrayLike<number>, d: ArrayLike<number>, cap: number): Float64Array {
  const D = g.length;
  const eps = cap / Math.sqrt(D);
  let gNorm = 0, dNorm = 0;
  for (let j = 0; j < D; j++) {
    gNorm += g[j] * g[j];
    dNorm += d[j] * d[j];
  }
  const scale = (eps * Math.sqrt(dNorm)) / Math.sqrt(gNorm);
  return Float64Array.from({ length: D }, (_, j) => (scale * g[j]) / (d[j] + 1e-8));
}

/**
 * The closed-form ALFA-Mix candidate test written out literally, in float64, for checking the
 * fast path: for every cap, anchor and item, build α_j = ε‖d‖/‖g‖ · g_j/(d_j + 1e-8) (ε = cap/√D),
 * mix z̃ = (1 − α)⊙z + α⊙a, run the head and compare argmaxes. Returns, per row of `z`, 1 + the
 * index of the first cap that flipped it (0 if none). O(caps·K·N·D·K): small inputs only.
 */
export function closedFormCandidatesLiteral(z: Matrix, anchors: Matrix, W: Matrix, b: Float32Array, caps: number[]): Uint8Array {
  const N = z.rows, D = z.cols, K = W.rows;
  const out = new Uint8Array(N);
  const logitsOf = (v: Float64Array) => {
    const l = new Float64Array(K);
    for (let c = 0; c < K; c++) {
      let s = b[c];
      for (let j = 0; j < D; j++) s += W.data[c * D + j] * v[j];
      l[c] = s;
    }
    return l;
  };
  const argmax = (l: Float64Array) => l.reduce((best, v, c) => (v > l[best] ? c : best), 0);
  for (let i = 0; i < N; i++) {
    const zi = Float64Array.from(z.data.subarray(i * D, (i + 1) * D));
    const logits = logitsOf(zi);
    const yhat = argmax(logits);
    const max = logits[yhat];
    const e = logits.map((l) => Math.exp(l - max));
    const sum = e.reduce((a, v) => a + v, 0);
    const r = e.map((v, c) => v / sum - (c === yhat ? 1 : 0));
    const g = new Float64Array(D);
    for (let j = 0; j < D; j++) for (let c = 0; c < K; c++) g[j] += W.data[c * D + j] * r[c];
    const gNorm = Math.hypot(...g);
    if (!(gNorm > 0)) continue;
    search: for (let t = 0; t < caps.length; t++) {
      for (let a = 0; a < anchors.rows; a++) {
        const anchor = anchors.data.subarray(a * D, (a + 1) * D);
        const alpha = closedFormAlpha(g, zi.map((v, j) => anchor[j] - v), caps[t]);
        const mixed = zi.map((v, j) => (1 - alpha[j]) * v + alpha[j] * anchor[j]);
        if (argmax(logitsOf(mixed)) !== yhat) {
          out[i] = t + 1;
          break search;
        }
      }
    }
  }
  return out;
}
