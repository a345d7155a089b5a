import { KMEANS_MODES, nearestToCentres } from "../cluster/kmeans-scale.js";
import { ParamError } from "../errors.js";
import { chunkRows } from "../linalg/distances.js";
import { gatherRows, matrix, type Matrix } from "../linalg/matrix.js";
import { argmaxRows } from "../linalg/rows.js";
import type { Classifier } from "../models/classifier.js";
import type { Rng } from "../random.js";
import { choice, fraction, int, resolveParams, type ParamsOf, type ParamTable } from "./params.js";
import { checkQuery, fillAtRandom, poolEmbeddings, type Strategy } from "./types.js";

/** DropQuery's parameters, declared once (see params.ts). */
export const DROPQUERY_PARAMS = {
  passes: int(3, 1, "dropout passes over the head's input features (M)"),
  rate: fraction(0.75, "the dropout rate on the features (below 1); kept features are scaled by 1/(1 − rate), as in training"),
  kmeans: choice(KMEANS_MODES, "sampled", "k-means over the candidates: sampled as FAISS, or exact Lloyd"),
} as const satisfies ParamTable;
export type DropQueryParams = ParamsOf<typeof DROPQUERY_PARAMS>;

/**
 * DropQuery (Gupte et al., TMLR 2024): run the head M times on the unlabelled items' features
 * with dropout on those features; an item whose prediction differs from the clean one in more than
 * half of the passes is a candidate; B diverse candidates are the members nearest the centres of a
 * k-means over the candidates' features. Any shortfall is filled at random. It is ALFA-Mix's
 * pipeline with dropout in place of anchor mixing, which is why the two sit side by side.
 */
export function dropQueryStrategy(params: Partial<DropQueryParams> = {}): Strategy {
  const p = resolveParams(DROPQUERY_PARAMS, params, "dropquery");
  if (p.rate >= 1) throw new ParamError("rate", "a number in (0, 1): at 1 every feature is dropped", p.rate, "dropquery");
  return {
    name: "dropquery",
    scoreName: "share of dropout passes whose prediction differed from the clean one",
    whyNoPlan: "DropQuery draws its dropout masks over the whole unlabelled pool in one sequence",
    query(context, budget) {
      const b = checkQuery("dropquery", context, budget);
      if (b === 0) return { indices: new Int32Array(0), scores: new Float32Array(0) };
      const { unlabeled, rng } = context;
      const embeddings = poolEmbeddings(context);
      const changed = dropoutDisagreements(context.model, embeddings, unlabeled, p, rng.child("dropquery/masks"));
      const candidates: number[] = [];
      changed.forEach((count, i) => {
        if (count > p.passes >> 1) candidates.push(i);
      });
      let chosen: Int32Array; // positions into unlabeled
      const stats: Record<string, number> = { candidates: candidates.length };
      if (candidates.length <= b) chosen = Int32Array.from(candidates);
      else {
        const points = gatherRows(
          embeddings,
          candidates.map((i) => unlabeled[i]),
        );
        const { rows, result } = nearestToCentres(p.kmeans, points, b, { rng: rng.child("dropquery/kmeans") });
        chosen = rows.map((m) => candidates[m]);
        stats.kmeansIterations = result.iterations;
        stats.kmeansInertia = result.inertia;
      }
      const { indices, filled } = fillAtRandom(
        chosen.map((i) => unlabeled[i]),
        unlabeled,
        b,
        rng,
      );
      const scores = new Float32Array(b).fill(Number.NaN);
      chosen.forEach((i, at) => (scores[at] = changed[i] / p.passes));
      return { indices, scores, stats: { ...stats, filled } };
    },
  };
}

/**
 * For each unlabelled row, in how many of `passes` dropout passes over its features the head's
 * prediction differs from the clean prediction. Rows go a chunk at a time; the masks are drawn from
 * `rng` in row order, pass by pass within each chunk.
 */
export function dropoutDisagreements(
  model: Pick<Classifier, "headLogits">,
  embeddings: Matrix,
  unlabeled: Int32Array,
  p: Pick<DropQueryParams, "passes" | "rate">,
  rng: Rng,
): Int32Array {
  const changed = new Int32Array(unlabeled.length);
  const d = embeddings.cols,
    keep = 1 / (1 - p.rate);
  const chunk = Math.max(1, chunkRows(d * 2));
  for (let start = 0; start < unlabeled.length; start += chunk) {
    const z = gatherRows(embeddings, unlabeled.subarray(start, Math.min(unlabeled.length, start + chunk)));
    const clean = argmaxRows(model.headLogits(z));
    const dropped = matrix(z.rows, d);
    for (let pass = 0; pass < p.passes; pass++) {
      for (let j = 0; j < z.data.length; j++) dropped.data[j] = rng.uniform() < p.rate ? 0 : z.data[j] * keep;
      const noisy = argmaxRows(model.headLogits(dropped));
      for (let i = 0; i < z.rows; i++) if (noisy[i] !== clean[i]) changed[start + i]++;
    }
  }
  return changed;
}
