import { kCenterGreedy } from "../cluster/kcenter.js";
import { gatherRows } from "../linalg/matrix.js";
import { checkQuery, poolEmbeddings, type Strategy } from "./types.js";

/**
 * Core-set (Sener & Savarese 2018), greedy k-center on the embeddings: each pick is the
 * unlabelled item farthest from every labelled item and every item picked before it.
 */
export const coresetStrategy: Strategy = {
  name: "coreset",
  scoreName: "distance to the nearest labelled or chosen item when picked",
  query(context, budget) {
    const b = checkQuery("coreset", context, budget);
    const embeddings = poolEmbeddings(context);
    const points = gatherRows(embeddings, context.unlabeled);
    const centers = gatherRows(embeddings, context.labeled);
    const picks = kCenterGreedy(points, centers, b, context.rng);
    return { indices: picks.indices.map((p) => context.unlabeled[p]), scores: picks.squaredDistances.map(Math.sqrt) };
  },
};
