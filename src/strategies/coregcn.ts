import { kCenterGreedy } from "../cluster/kcenter.js";
import { matmul } from "../linalg/gemm.js";
import { gatherRows, matrix, type Matrix } from "../linalg/matrix.js";
import { normalizeRows } from "../linalg/rows.js";
import { Adam } from "../models/adam.js";
import type { Rng } from "../random.js";
import { checkQuery, poolEmbeddings, type Strategy } from "./types.js";
import { int, resolveParams, type ParamsOf, type ParamTable } from "./params.js";

/**
 * CoreGCN's graph, Â = (FFᵀ − I)·diag(1/colsum) + I for L2-normalised rows F, applied without
 * forming the n×n matrix: FFᵀ has rank ≤ D, so Â·Y = F(Fᵀ(c ⊙ Y)) − c ⊙ Y + Y with c the inverse
 * column sums (colsum_j = F_j·ΣF − 1). Same numbers as the dense matrix, O(n·D) memory.
 */
export class LowRankAdjacency {
  /** 1 / (column sum of FFᵀ − I), per node; 0 where that sum is 0. */
  readonly c: Float32Array;

  constructor(readonly F: Matrix) {
    const n = F.rows,
      d = F.cols,
      total = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) total[j] += F.data[i * d + j];
    this.c = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let s = -1;
      for (let j = 0; j < d; j++) s += F.data[i * d + j] * total[j];
      this.c[i] = s === 0 ? 0 : 1 / s;
    }
  }

  /** Â·Y. */
  apply(Y: Matrix): Matrix {
    const scaled = this.scaleRows(Y);
    const out = matmul(this.F, matmul(this.F, scaled, { transA: true }));
    for (let i = 0; i < out.data.length; i++) out.data[i] += Y.data[i] - scaled.data[i];
    return out;
  }

  /** Âᵀ·G = c ⊙ (F(FᵀG) − G) + G. */
  applyTransposed(G: Matrix): Matrix {
    const out = matmul(this.F, matmul(this.F, G, { transA: true }));
    const cols = G.cols;
    for (let i = 0; i < out.data.length; i++) out.data[i] = this.c[Math.floor(i / cols)] * (out.data[i] - G.data[i]) + G.data[i];
    return out;
  }

  /** The n×n matrix itself (for checking; small graphs only). */
  dense(): Matrix {
    const n = this.F.rows,
      A = matmul(this.F, this.F, { transB: true });
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A.data[i * n + j] = (A.data[i * n + j] - (i === j ? 1 : 0)) * this.c[j] + (i === j ? 1 : 0);
    return A;
  }

  private scaleRows(Y: Matrix): Matrix {
    const out = matrix(Y.rows, Y.cols),
      cols = Y.cols;
    for (let i = 0; i < Y.data.length; i++) out.data[i] = Y.data[i] * this.c[Math.floor(i / cols)];
    return out;
  }
}

export interface GcnOptions {
  hidden?: number;
  dropout?: number;
  epochs?: number;
  lr?: number;
  weightDecay?: number;
  /** Weight of the unlabelled term of the loss. */
  lambda?: number;
  rng: Rng;
}

/**
 * The two-layer GCN of CoreGCN (Caramalau et al. 2021), trained full-batch to tell labelled from
 * unlabelled nodes: s = σ(Â·(dropout(relu(Â·F·W₁ + b₁)))·W₂ + b₂), loss
 * −mean log s(labelled) − λ·mean log(1 − s(unlabelled)), Adam with weight decay. Returns the
 * hidden features (eval mode) and the loss of every epoch. Backpropagation written out; every
 * product is a GEMM.
 */
export function trainCoreGcn(adjacency: LowRankAdjacency, labeled: Uint8Array, options: GcnOptions): { features: Matrix; losses: number[] } {
  const { hidden = 128, dropout = 0.3, epochs = 200, lr = 1e-3, weightDecay = 5e-4, lambda = 1.2, rng } = options;
  const F = adjacency.F,
    n = F.rows,
    d = F.cols;
  const nLabeled = labeled.reduce((a, v) => a + v, 0),
    nUnlabeled = n - nLabeled;
  // Flat parameters: W₁ (d×h), b₁ (h), W₂ (h×1), b₂ (1); PyTorch GCN init: uniform ±1/√(out features).
  const adam = new Adam(d * hidden + hidden + hidden + 1);
  const p = adam.params,
    g = adam.grads;
  const W1 = matrix(d, hidden, p.subarray(0, d * hidden)),
    b1 = p.subarray(d * hidden, d * hidden + hidden);
  const W2 = matrix(hidden, 1, p.subarray(d * hidden + hidden, d * hidden + 2 * hidden)),
    b2 = p.subarray(d * hidden + 2 * hidden);
  const gW1 = matrix(d, hidden, g.subarray(0, d * hidden)),
    gb1 = g.subarray(d * hidden, d * hidden + hidden);
  const gW2 = matrix(hidden, 1, g.subarray(d * hidden + hidden, d * hidden + 2 * hidden)),
    gb2 = g.subarray(d * hidden + 2 * hidden);
  const init = rng.child("init");
  for (let i = 0; i < d * hidden + hidden; i++) p[i] = (2 * init.uniform() - 1) / Math.sqrt(hidden);
  for (let i = d * hidden + hidden; i < p.length; i++) p[i] = 2 * init.uniform() - 1;

  const hiddenLayer = (train: boolean, mask?: Float32Array) => {
    const Z1 = adjacency.apply(matmul(F, W1));
    const H = matrix(n, hidden);
    for (let i = 0; i < H.data.length; i++) {
      const z = Z1.data[i] + b1[i % hidden];
      H.data[i] = Math.max(z, 0);
    }
    if (!train) return { H, Hd: H };
    const Hd = matrix(n, hidden);
    for (let i = 0; i < H.data.length; i++) Hd.data[i] = H.data[i] * mask![i];
    return { H, Hd };
  };
  const losses: number[] = [];
  const mask = new Float32Array(n * hidden),
    keep = 1 / (1 - dropout),
    drop = rng.child("dropout");
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < mask.length; i++) mask[i] = drop.uniform() < dropout ? 0 : keep;
    const { H, Hd } = hiddenLayer(true, mask);
    const Z2 = adjacency.apply(matmul(Hd, W2));
    // Loss and ∂loss/∂Z₂: −(1 − s)/|L| on labelled nodes, λ·s/|U| on the rest.
    let loss = 0;
    const dZ2 = matrix(n, 1);
    for (let i = 0; i < n; i++) {
      const z = Z2.data[i] + b2[0],
        s = 1 / (1 + Math.exp(-z));
      if (labeled[i]) {
        loss -= Math.log(Math.max(s, 1e-12)) / nLabeled;
        dZ2.data[i] = -(1 - s) / nLabeled;
      } else {
        loss -= (lambda * Math.log(Math.max(1 - s, 1e-12))) / nUnlabeled;
        dZ2.data[i] = (lambda * s) / nUnlabeled;
      }
    }
    losses.push(loss);
    gb2[0] = dZ2.data.reduce((a, v) => a + v, 0);
    const dS2 = adjacency.applyTransposed(dZ2);
    matmul(Hd, dS2, { transA: true, out: gW2 });
    const dH = matmul(dS2, W2, { transB: true });
    for (let i = 0; i < dH.data.length; i++) dH.data[i] = H.data[i] > 0 ? dH.data[i] * mask[i] : 0;
    gb1.fill(0);
    for (let i = 0; i < dH.data.length; i++) gb1[i % hidden] += dH.data[i];
    matmul(F, adjacency.applyTransposed(dH), { transA: true, out: gW1 });
    adam.step({ lr, weightDecay });
  }
  return { features: hiddenLayer(false).H, losses };
}

export const COREGCN_PARAMS = {
  subset: int(10000, 1, "unlabelled items in the graph at most (drawn at random)"),
  epochs: int(200, 1, "Adam epochs of the GCN"),
} as const satisfies ParamTable;
export type CoreGcnParams = ParamsOf<typeof COREGCN_PARAMS>;

/**
 * CoreGCN (Caramalau et al. 2021): a GCN over the labelled items and a random subset of the
 * unlabelled ones (L2-normalised embeddings, Â = (FFᵀ − I) column-normalised + I) learns to tell
 * them apart; greedy k-center on its hidden features then picks the batch from the subset.
 */
export function coreGcnStrategy(params: Partial<CoreGcnParams> = {}): Strategy {
  const { subset: subsetSize, epochs } = resolveParams(COREGCN_PARAMS, params, "coregcn");
  return {
    name: "coregcn",
    scoreName: "distance in the GCN's hidden features to the nearest labelled or chosen item when picked",
    query(context, budget) {
      const b = checkQuery("coregcn", context, budget);
      const { labeled, unlabeled, rng } = context;
      const subset = unlabeled.length > subsetSize ? rng.child("subset").choice(unlabeled, subsetSize) : unlabeled;
      const nodes = Int32Array.from([...labeled, ...subset]);
      const F = normalizeRows(gatherRows(poolEmbeddings(context), nodes));
      const isLabeled = new Uint8Array(nodes.length).fill(1, 0, labeled.length);
      const { features, losses } = trainCoreGcn(new LowRankAdjacency(F), isLabeled, { epochs, rng: rng.child("gcn") });
      const labelledRows = Int32Array.from({ length: labeled.length }, (_, i) => i);
      const subsetRows = Int32Array.from({ length: subset.length }, (_, i) => labeled.length + i);
      const picks = kCenterGreedy(gatherRows(features, subsetRows), gatherRows(features, labelledRows), Math.min(b, subset.length), rng.child("kcenter"));
      return {
        indices: picks.indices.map((p) => subset[p]),
        scores: picks.squaredDistances.map(Math.sqrt),
        stats: { graphNodes: nodes.length, firstLoss: losses[0], lastLoss: losses[losses.length - 1] },
      };
    },
  };
}
