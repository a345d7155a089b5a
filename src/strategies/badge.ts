import { kmeansPlusPlus } from "../cluster/kmeans-plus-plus.js";
import { outerProductPoints } from "../cluster/points.js";
import { gatherRows } from "../linalg/matrix.js";
import { checkQuery, poolPredictions, type Strategy } from "./types.js";

/**
 * BADGE (Ash et al. 2020): k-means++ seeding on gradient embeddings g_u = (p_u − onehot(ŷ_u)) ⊗ z_u,
 * the first centre being the largest ‖g_u‖. The K·D-wide g_u are never built: distances come from
 * their factors, (r_u·r_v)(z_u·z_v).
 */
export const badgeStrategy: Strategy = {
  name: "badge",
  scoreName: "gradient-embedding norm ‖(p − onehot(ŷ)) ⊗ z‖",
  query(context, budget) {
    const b = checkQuery("badge", context, budget);
    const { probs, embeddings } = poolPredictions(context);
    const r = gatherRows(probs, context.unlabeled);
    const k = r.cols;
    for (let i = 0; i < r.rows; i++) {
      const o = i * k;
      let best = 0;
      for (let j = 1; j < k; j++) if (r.data[o + j] > r.data[o + best]) best = j;
      r.data[o + best] -= 1;
    }
    const points = outerProductPoints(r, gatherRows(embeddings, context.unlabeled));
    const norms = points.squaredNorms();
    let first = 0;
    for (let i = 1; i < norms.length; i++) if (norms[i] > norms[first]) first = i;
    const picks = b === 0 ? new Int32Array(0) : kmeansPlusPlus(points, b, context.rng, { first });
    return { indices: picks.map((p) => context.unlabeled[p]), scores: Float32Array.from(picks, (p) => Math.sqrt(norms[p])) };
  },
};
