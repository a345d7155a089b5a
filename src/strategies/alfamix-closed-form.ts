import { matmul } from "../linalg/gemm.js";
import { matrix, rowsAt, rowSlice, type Matrix } from "../linalg/matrix.js";
import { rowSquaredNorms } from "../linalg/rows.js";
import {
  FlipRecord,
  type PseudoLabels,
  flips,
  pseudoLabels,
  searchChunkRows,
  symmetricKL,
  type CandidateSearch,
  type MixingProblem,
  type SearchOptions,
} from "./alfamix-candidates.js";

/**
 * Closed-form α, in logit space (the fast path for a linear head). With g = Wᵀ(p − onehot(ŷ)) and
 * d = a − z, the reference's α_j = ε‖d‖/‖g‖ · g_j/(d_j + 1e-8) gives α⊙d = ε‖d‖/‖g‖ · g ⊙ m, where
 * m_j = 0 where d_j = 0 and 1 elsewhere (up to the 1e-8 term), so
 *   h(z̃) = h(z) + s·δ,   s = ε‖d‖/‖g‖,   δ = W(g ⊙ m) = (WWᵀ)r − Σ_{j: d_j = 0} g_j W[:, j],
 * with r = p − onehot(ŷ) and ‖g‖² = rᵀ(WWᵀ)r. Nothing D-wide is built per item or anchor: one GEMM
 * against [W; anchors] gives the logits and the anchor products, the rest is O(K²) per item.
 * d_j = 0 can only happen at an anchor's exact coordinates (Anchors.exact); their share of δ is
 * one masked GEMM per anchor. Logits move linearly in s, so a competitor c overtakes ŷ once, at
 * s_c = (l_ŷ − l_c)/(δ_c − δ_ŷ): the first flipping cap follows from min_c s_c and is confirmed by
 * the direct argmax test. Every cap is answered in this one pass over the pool.
 */
export function closedFormSearch(problem: MixingProblem, options: SearchOptions): CandidateSearch {
  const { embeddings, unlabeled, W, b } = problem;
  const A = problem.anchors.anchors;
  const K = W.rows,
    D = W.cols,
    nA = A.rows,
    caps = options.caps,
    lastCap = caps[caps.length - 1];
  const n = unlabeled.length;
  const record = new FlipRecord(n, options.keep);
  const WA = matrix(K + nA, D); // one GEMM against [W; A] yields logits (less bias) and anchor products
  WA.data.set(W.data);
  WA.data.set(A.data, K * D);
  const M = matmul(W, W, { transB: true });
  const anchorNorms = rowSquaredNorms(A);
  const corrections = exactCoordinateCorrections(problem);
  const invSqrtD = 1 / Math.sqrt(D);
  const dir = new Float64Array(K),
    gRow = new Float64Array(D);
  // Every anchor without exact coordinates moves the logits along the same δ, only by a step that
  // grows with its distance ‖d‖; and once a competitor overtakes ŷ along δ it stays ahead (ŷ led
  // at step 0). So the farthest such anchor flips the item at every cap a nearer one does, and
  // when nothing is kept per flip it alone is tried: a tenth of this loop's anchors on 10 classes.
  // (Up to rounding: the flip test is monotone in the step only outside a ~1e-10 window at a tie.)
  const farthestOnly = options.keep === "none" && !corrections.needed;
  const chunk = searchChunkRows(problem),
    slack = Math.ceil(chunk / 8);
  const zScratch = new Float32Array(Math.min(chunk, n) * D),
    zNorms = new Float32Array(chunk + slack);
  const stride = K + nA,
    out = matrix(chunk + slack, stride),
    logits = out.data;
  // The chunk being scanned, which searchItem reads.
  // Its arrays are allocated once: fresh ones per chunk cost page faults (see linalg/row-min.ts).
  const chunkLabels: PseudoLabels = { yhat: new Int32Array(chunk), r: matrix(chunk, K), logp: new Float64Array(chunk * K) },
    WgScratch = new Float32Array(chunk * K);
  let start = 0,
    rows: Int32Array = unlabeled,
    { yhat, r, logp } = chunkLabels,
    Wg: Float32Array = WgScratch,
    correction: Float32Array = new Float32Array(0);
  const cStride = nA * K;
  // Item i of the chunk: its first flipping cap, recorded. A function of its own because V8
  // optimises a small hot function within a few hundred calls, where this loop written inline ran
  // unoptimised or half-optimised for about half the pool of a one-shot query.
  const searchItem = (i: number) => {
    const o = i * stride,
      y = yhat[i],
      q = i * K,
      p = start + i;
    let gNorm2 = 0;
    for (let c = 0; c < K; c++) gNorm2 += r.data[q + c] * Wg[q + c];
    const gNorm = Math.sqrt(Math.max(0, gNorm2));
    if (!(gNorm > 0)) return; // p is exactly one-hot: no direction to move in (decision: never a candidate)
    // Logits move along δ = W g for every anchor without exact coordinates: one crossing for them all.
    const shared = earliestCrossing(logits, o, Wg, q, K, y);
    // dir holds the shared direction once an anchor without exact coordinates needs it, and
    // keeps it for the item's later ones: copied per anchor, it was a fifth of this loop.
    let dirShared = false;
    let from = 0,
      to = nA;
    if (farthestOnly) {
      for (let a = 1; a < nA; a++) if (anchorNorms[a] - 2 * logits[o + K + a] > anchorNorms[from] - 2 * logits[o + K + from]) from = a;
      to = from + 1;
    }
    for (let a = from; a < to && record.wants(p, 1); a++) {
      const dNorm = Math.sqrt(Math.max(0, anchorNorms[a] - 2 * logits[o + K + a] + zNorms[i]));
      if (!(dNorm > 0)) continue; // z is the anchor: nothing to mix
      const own = corrections.has[a];
      if (own) {
        for (let c = 0; c < K; c++) dir[c] = Wg[q + c] - correction[i * cStride + a * K + c];
        dirShared = false;
      }
      const crossing = own ? earliestCrossing(logits, o, dir, 0, K, y) : shared;
      // s* = the earliest crossing; a cap flips the item iff cap·scale passes it.
      const scale = (dNorm / gNorm) * invSqrtD;
      if (!(crossing <= lastCap * scale * (1 + 1e-9))) continue;
      if (!own && !dirShared) {
        for (let c = 0; c < K; c++) dir[c] = Wg[q + c];
        dirShared = true;
      }
      let t = 0;
      while (t < caps.length - 1 && caps[t] * scale < crossing * (1 - 1e-9)) t++;
      while (t < caps.length && record.wants(p, t + 1) && !flips(logits, o, caps[t] * scale, dir, K, y)) t++;
      if (t === caps.length || !record.wants(p, t + 1)) continue;
      const s = caps[t] * scale;
      let value = NaN;
      if (options.keep === "alphaNorm") {
        // ‖α‖ = s · ‖g ⊘ (d + 1e-8)‖, with this item's full g built only now.
        gRow.fill(0);
        for (let c = 0; c < K; c++) for (let j = 0, rc = r.data[q + c]; j < D; j++) gRow[j] += rc * W.data[c * D + j];
        let sq = 0;
        for (let j = 0; j < D; j++) sq += (gRow[j] / (A.data[a * D + j] - embeddings.data[rows[i] * D + j] + 1e-8)) ** 2;
        value = s * Math.sqrt(sq);
      } else if (options.keep === "symKL") {
        value = symmetricKL(logits, o, s, dir, logp, q, K);
      }
      record.record(p, t + 1, value);
    }
  };
  for (start = 0; start < n; start += chunk) {
    rows = unlabeled.subarray(start, Math.min(n, start + chunk));
    const m = rows.length;
    // Rows that nearly form a run (a few labelled rows among them) are multiplied in place, the
    // labelled ones too, and only their results are compacted: copying the rows out cost more.
    // Exact-coordinate corrections read z row by row, so they take the copy.
    const first = rows[0],
      span = rows[m - 1] - first + 1,
      inPlace = span <= m + slack && !corrections.needed;
    const z = inPlace ? rowSlice(embeddings, first, first + span) : rowsAt(embeddings, rows, zScratch);
    rowSquaredNorms(z, zNorms);
    matmul(z, WA, { transB: true, out: rowSlice(out, 0, z.rows) });
    if (inPlace && span > m) {
      for (let i = 0; i < m; i++) {
        const from = rows[i] - first; // ≥ i, so moving rows forward in order never overwrites one still needed
        zNorms[i] = zNorms[from];
        logits.copyWithin(i * stride, from * stride, (from + 1) * stride);
      }
    }
    addBias(logits, stride, m, b);
    ({ yhat, r, logp } = pseudoLabels(logits, stride, m, K, chunkLabels));
    Wg = matmul(r, M, { out: matrix(m, K, WgScratch.subarray(0, m * K)) }).data; // row i: (WWᵀ)r_i = W g_i (M is symmetric)
    correction = corrections.compute(z, r);
    for (let i = 0; i < m; i++) searchItem(i);
  }
  return record.result(caps, caps.length);
}

/**
 * The share of δ that the literal formula does not mix, per anchor a and item: Σ g_j W[:, j] over
 * a's exact coordinates j where z_j equals the anchor, g computed at the union of exact
 * coordinates only. Returned as one rows × (anchors·K) block (anchor a at columns a·K…); `has[a]`
 * says whether anchor a has exact coordinates at all.
 *
 * After a ReLU, exact coordinates are those where the anchor is 0 (every labelled member of the
 * class is): then the mask is [z_j = 0] for every anchor, and all anchors' corrections are one
 * GEMM, (g ⊙ [z = 0]) times B with B[e, a·K + c] = W[c, union_e] where e is a zero-valued exact
 * coordinate of a. A mask and a small GEMM per anchor took 3× longer. Exact coordinates with
 * another value (an anchor equal to an item's coordinate by chance) are added row by row.
 */
function exactCoordinateCorrections(problem: MixingProblem): { needed: boolean; has: boolean[]; compute: (z: Matrix, r: Matrix) => Float32Array } {
  const {
    W,
    anchors: { anchors: A, exact },
  } = problem;
  const K = W.rows,
    D = W.cols,
    nA = exact.length;
  const union = Int32Array.from(new Set(exact.flatMap((e) => Array.from(e)))).sort();
  const U = union.length;
  const has = exact.map((e) => e.length > 0);
  if (U === 0) return { needed: false, has, compute: () => new Float32Array(0) };
  const WU = matrix(K, U);
  for (let c = 0; c < K; c++) for (let e = 0; e < U; e++) WU.data[c * U + e] = W.data[c * D + union[e]];
  const slot = new Map(Array.from(union, (j, i) => [j, i]));
  const B = matrix(U, nA * K);
  const valued: { a: number; e: number; j: number; value: number }[] = [];
  exact.forEach((columns, a) => {
    for (const j of columns) {
      const e = slot.get(j)!,
        value = A.data[a * D + j];
      if (value === 0) for (let c = 0; c < K; c++) B.data[e * nA * K + a * K + c] = W.data[c * D + j];
      else valued.push({ a, e, j, value });
    }
  });
  const compute = (z: Matrix, r: Matrix) => {
    const rows = z.rows;
    const g = matmul(r, WU); // g at the union's coordinates
    const masked = matrix(rows, U);
    for (let i = 0; i < rows; i++) for (let e = 0; e < U; e++) masked.data[i * U + e] = g.data[i * U + e] * Number(z.data[i * D + union[e]] === 0);
    const out = matmul(masked, B).data;
    for (const { a, e, j, value } of valued)
      for (let i = 0; i < rows; i++) {
        if (z.data[i * D + j] !== value) continue;
        for (let c = 0; c < K; c++) out[i * nA * K + a * K + c] += g.data[i * U + e] * W.data[c * D + j];
      }
    return out;
  };
  return { needed: true, has, compute };
}

/** logits[i·stride + c] += b[c] for rows i < rows: in a small function V8 optimises at once (inline here, a cold 22 ms). */
function addBias(logits: Float32Array, stride: number, rows: number, b: Float32Array): void {
  const K = b.length;
  for (let i = 0; i < rows; i++) for (let c = 0; c < K; c++) logits[i * stride + c] += b[c];
}

/** min over competitors c of the step s at which l_c + s·δ_c overtakes l_ŷ + s·δ_ŷ (δ at dir[q…]); ∞ if none does. */
function earliestCrossing(logits: Float32Array, o: number, dir: Float32Array | Float64Array, q: number, K: number, y: number): number {
  let crossing = Infinity;
  for (let c = 0; c < K; c++) {
    const slope = dir[q + c] - dir[q + y];
    if (c !== y && slope > 0) crossing = Math.min(crossing, (logits[o + y] - logits[o + c]) / slope);
  }
  return crossing;
}
