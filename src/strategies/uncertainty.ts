import { UserError } from "../errors.js";
import { chunkRows } from "../linalg/distances.js";
import { gatherRows, type Matrix } from "../linalg/matrix.js";
import { entropyRows, top2Rows } from "../linalg/rows.js";
import { int, resolveParams, type ParamsOf, type ParamTable } from "./params.js";
import { linearFromWeights } from "../models/network.js";
import { checkQuery, poolProbabilities, scoresOf, topK, type QueryContext, type QueryResult, type ShardPlan, type Strategy } from "./types.js";

/** 1 − max_k p_k: larger is less confident. */
export function leastConfidenceScores(probs: Matrix): Float32Array {
  const { first } = top2Rows(probs);
  return first.map((p) => 1 - p);
}

/** p(1) − p(2), the gap between the two most probable classes: smaller is more uncertain. */
export function marginScores(probs: Matrix): Float32Array {
  const { first, second } = top2Rows(probs);
  return first.map((p, i) => p - (Number.isFinite(second[i]) ? second[i] : 0));
}

/** −Σ p log p (0 log 0 = 0): larger is more uncertain. */
export function entropyScores(probs: Matrix): Float32Array {
  return entropyRows(probs);
}

/**
 * BALD's mutual information between the prediction and the weights, from T stochastic passes:
 * H(mean_t p_t) − mean_t H(p_t). Larger means the passes disagree more.
 */
export function mutualInformation(passes: Matrix[]): Float32Array {
  if (passes.length === 0) throw new RangeError("mutualInformation: no passes");
  const { rows, cols } = passes[0];
  const T = passes.length;
  const out = new Float32Array(rows);
  const mean = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    mean.fill(0);
    let expectedEntropy = 0;
    for (const p of passes) {
      const o = i * cols;
      for (let k = 0; k < cols; k++) {
        const v = p.data[o + k];
        mean[k] += v / T;
        if (v > 0) expectedEntropy -= (v * Math.log(v)) / T;
      }
    }
    let entropyOfMean = 0;
    for (let k = 0; k < cols; k++) if (mean[k] > 0) entropyOfMean -= mean[k] * Math.log(mean[k]);
    out[i] = Math.max(0, entropyOfMean - expectedEntropy);
  }
  return out;
}

/** B distinct unlabelled items, uniformly. */
export const randomStrategy: Strategy = {
  name: "random",
  scoreName: "none",
  query(context, budget) {
    const b = checkQuery("random", context, budget);
    return { indices: context.rng.choice(context.unlabeled, b), scores: new Float32Array(b).fill(NaN) };
  },
};

/** A strategy that ranks unlabelled items by a score of their predicted probabilities. */
function probabilityRanking(name: string, scoreName: string, score: (probs: Matrix) => Float32Array, largestFirst: boolean): Strategy {
  return {
    name,
    scoreName,
    query(context: QueryContext, budget: number): QueryResult {
      const b = checkQuery(name, context, budget);
      const probs = gatherRows(poolProbabilities(context), context.unlabeled);
      const scores = score(probs);
      const ranking = largestFirst ? scores : scores.map((s) => -s);
      const positions = topK(ranking, b);
      return { indices: positions.map((p) => context.unlabeled[p]), scores: scoresOf(positions, scores) };
    },
    plan: rankingPlan(score, largestFirst),
  };
}

/** A chunk's best rows (pool rows, best first) and their scores. */
interface RankedPart {
  rows: Int32Array;
  scores: Float32Array;
}

/**
 * The plan every probability ranking shares: each chunk keeps its own best `budget` rows, and the
 * coordinator merges them. Ties go to the lower pool row, as `topK` gives them in memory.
 */
export function rankingPlan(
  score: (probs: Matrix) => Float32Array,
  largestFirst: boolean,
): ShardPlan<{ W: Matrix; b: Float32Array; budget: number }, RankedPart> {
  const rank = (v: number) => (largestFirst ? v : -v);
  return {
    prepare: ({ W, b, budget }) => ({ W, b, budget }),
    scoreChunk({ W, b, budget }, { x, unlabeled, firstRow }) {
      // The whole chunk is scored, as the rows were scored in memory, and its unlabelled rows kept.
      const all = score(linearFromWeights(W, b).predictProbs(x));
      const scores = Float32Array.from(unlabeled, (r) => all[r]);
      const top = topK(scores.map(rank), budget);
      return { rows: top.map((p) => firstRow + unlabeled[p]), scores: scoresOf(top, scores) };
    },
    async finish({ budget }, parts) {
      const all = parts.flatMap((part) => Array.from(part.rows, (row, i) => ({ row, score: part.scores[i] })));
      all.sort((a, c) => rank(c.score) - rank(a.score) || a.row - c.row);
      const best = all.slice(0, budget);
      return { indices: Int32Array.from(best, (e) => e.row), scores: Float32Array.from(best, (e) => e.score) };
    },
  };
}

export const leastConfidenceStrategy = probabilityRanking("least-confidence", "1 − max probability", leastConfidenceScores, true);
export const marginStrategy = probabilityRanking("margin", "top-two probability margin", marginScores, false);
export const entropyStrategy = probabilityRanking("entropy", "predictive entropy (nats)", entropyScores, true);

export const BALD_PARAMS = {
  samples: int(10, 2, "stochastic passes with dropout on"),
} as const satisfies ParamTable;
export type BaldParams = ParamsOf<typeof BALD_PARAMS>;

/** BALD (Houlsby et al. 2011; Gal et al. 2017): the largest mutual information under MC dropout. */
export function baldStrategy(params: Partial<BaldParams> = {}): Strategy {
  const { samples } = resolveParams(BALD_PARAMS, params, "bald");
  return {
    name: "bald",
    scoreName: "mutual information (nats)",
    query(context, budget) {
      const b = checkQuery("bald", context, budget);
      if (!(context.model.dropout > 0)) {
        throw new UserError(
          "bald needs a model with dropout > 0: without it every stochastic pass is identical and every score is 0 (train with --dropout 0.2, say)",
        );
      }
      const { unlabeled, pool, model, rng } = context;
      const scores = new Float32Array(unlabeled.length);
      const chunk = chunkRows(model.numClasses * samples + model.embeddingDim);
      for (let start = 0; start < unlabeled.length; start += chunk) {
        const rows = unlabeled.subarray(start, Math.min(unlabeled.length, start + chunk));
        scores.set(mutualInformation(model.mcPredict(gatherRows(pool, rows), samples, rng)), start);
      }
      const positions = topK(scores, b);
      return { indices: positions.map((p) => unlabeled[p]), scores: scoresOf(positions, scores), stats: { samples } };
    },
  };
}
