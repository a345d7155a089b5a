import { kCenterGreedy } from "../cluster/kcenter.js";
import { kmeansAroundFixed } from "../cluster/kmeans-fixed.js";
import { KMEANS_MODES, kmeansByMode, nearestToCentres, type KMeansMode } from "../cluster/kmeans-scale.js";
import { UserError } from "../errors.js";
import { choice, fraction, int, resolveParams, type ParamsOf, type ParamTable } from "./params.js";
import { gatherRows, type Matrix } from "../linalg/matrix.js";
import type { Rng } from "../random.js";
import { normalizeRows } from "../linalg/rows.js";
import { buildAnchors, type Anchors } from "./alfamix-anchors.js";
import { flippingAnchors } from "./alfamix-literal.js";
import type { CandidateSearch } from "./alfamix-candidates.js";
import { closedFormSearch } from "./alfamix-closed-form.js";
import { sampledAlphaSearch } from "./alfamix-sampled.js";
import { clusterTypicality } from "./typiclust.js";
import { checkQuery, fillAtRandom, poolEmbeddings, topK, type ShardPlan, type Strategy } from "./types.js";

export const ALPHA_MODES = ["closed", "learned", "random"] as const;
export const SELECTION_MODES = ["kmeans", "norm", "symkl", "uniform", "kcenter", "kmeans-labeled", "typical"] as const;

/** ALFA-Mix's parameters, declared once (see params.ts). */
export const ALFAMIX_PARAMS = {
  alpha: choice(ALPHA_MODES, "closed", "how α is found: the paper's closed form, optimised per item (learned), or drawn at random"),
  cap: fraction(0.2, "the α cap grows by this step, up to 1, until more items flipped than the budget"),
  select: choice(SELECTION_MODES, "kmeans", "how the batch is chosen among the candidates (kcenter, kmeans-labeled and typical: our variants)"),
  ninit: int(1, 1, "k-means restarts for kmeans selection (1, as scikit-learn ≥ 1.4)"),
  steps: int(5, 1, "Adam steps per anchor and cap, for learned α"),
  kmeans: choice(
    KMEANS_MODES,
    "sampled",
    "k-means over the candidates: trained on ≤ 256 per centre then assigning all, as FAISS (sampled), or Lloyd over all (exact)",
  ),
} as const satisfies ParamTable;
export type AlfaMixParams = ParamsOf<typeof ALFAMIX_PARAMS>;

/** The caps tried: step, 2·step, … up to 1 (rounded so that 5 × 0.2 is exactly 1). */
export function capSchedule(step: number): number[] {
  const caps: number[] = [];
  for (let i = 1; i * step <= 1 + 1e-9; i++) caps.push(Math.round(i * step * 1e9) / 1e9);
  return caps;
}

/**
 * ALFA-Mix (Parvaneh et al., CVPR 2022): an unlabelled item is a candidate when mixing its
 * embedding with a labelled class anchor flips the model's prediction; B diverse candidates are
 * then chosen (by default the member nearest each k-means centre of their L2-normalised
 * embeddings), and any shortfall is filled at random without replacement.
 */
export function alfaMixStrategy(params: Partial<AlfaMixParams> = {}): Strategy {
  const { alpha, cap, select, ninit: nInit, steps, kmeans: kmeansMode } = resolveParams(ALFAMIX_PARAMS, params, "alfamix");
  const caps = capSchedule(cap);
  const choice = { select, nInit, kmeans: kmeansMode };
  return {
    name: "alfamix",
    scoreName: "smallest α cap at which the prediction flipped (lower: closer to the boundary)",
    query(context, budget) {
      const b = checkQuery("alfamix", context, budget);
      if (context.labeled.length === 0) throw new UserError("alfamix needs at least one labelled item: its anchors are the labelled class means");
      const started = performance.now();
      const embeddings = poolEmbeddings(context);
      const { W, b: bias } = context.model.head();
      const problem = {
        embeddings,
        unlabeled: context.unlabeled,
        W,
        b: bias,
        anchors: buildAnchors(embeddings, context.labels, context.model.numClasses, context.labeled),
      };
      const keep = select === "norm" ? "alphaNorm" : select === "symkl" ? "symKL" : "none";
      const search: CandidateSearch =
        alpha === "closed"
          ? closedFormSearch(problem, { caps, keep, budget: b })
          : sampledAlphaSearch(problem, { caps, keep, budget: b, mode: alpha, steps, rng: context.rng });
      const searched = performance.now();
      const chosen = chooseFromSearch(search, {
        unlabeled: context.unlabeled,
        labeled: context.labeled,
        budget: b,
        rng: context.rng,
        rowsOf: (rows) => gatherRows(embeddings, rows),
        ...choice,
      });
      return { ...chosen, stats: { ...chosen.stats, candidateMs: searched - started, selectMs: performance.now() - searched } };
    },
    // Chunks can find each item's first flipping cap with the closed form alone; learned and random
    // α, and the norm and symkl selections, need values that are not kept per chunk.
    ...(alpha !== "closed"
      ? { whyNoPlan: "ALFA-Mix's learned and random α need the whole pool at once; the closed-form α (the default) does not" }
      : select === "norm" || select === "symkl"
        ? { whyNoPlan: `ALFA-Mix's ${select} selection needs per-flip values from every chunk; use kmeans, uniform, kcenter or kmeans-labeled` }
        : { plan: alfaMixPlan(caps, choice) }),
    explain(context, result) {
      const embeddings = poolEmbeddings(context);
      const anchors = buildAnchors(embeddings, context.labels, context.model.numClasses, context.labeled).anchors;
      const { W, b } = context.model.head();
      return Array.from(result.indices, (row, i) => {
        const at = result.scores?.[i];
        return { flips: at === undefined || Number.isNaN(at) ? [] : flippingAnchors(gatherRows(embeddings, [row]), anchors, W, b, at)[0] };
      });
    },
  };
}

interface AlfaMixPlanState {
  W: Matrix;
  b: Float32Array;
  anchors: Anchors;
  budget: number;
}

/**
 * ALFA-Mix a chunk at a time: each chunk finds its unlabelled rows' first flipping cap (one byte a
 * row, the only per-row state the closed form needs), and the coordinator runs the cap loop and the
 * choice over the whole pool's bytes, exactly as `query` does.
 */
function alfaMixPlan(caps: number[], choice: Pick<ChoiceInputs, "select" | "nInit" | "kmeans">): ShardPlan<AlfaMixPlanState, Uint8Array> {
  return {
    prepare: ({ W, b, labeledX, labels, budget }) => ({ W, b, anchors: buildAnchors(labeledX, labels, W.rows), budget }),
    scoreChunk: ({ W, b, anchors, budget }, { x, unlabeled }) =>
      closedFormSearch({ embeddings: x, unlabeled, W, b, anchors }, { caps, keep: "none", budget }).firstCap,
    async finish({ budget }, parts, context) {
      const firstCap = new Uint8Array(context.unlabeled.length);
      let at = 0;
      for (const part of parts) firstCap.set(part, (at += part.length) - part.length);
      const search = { caps, firstCap, capsEvaluated: caps.length };
      const { unlabeled, rng } = context;
      let clustered: ChoiceInputs["clustered"];
      if (choice.select === "kmeans" && context.clusterElsewhere) {
        const { candidates } = candidatePositions(search, budget);
        if (candidates.length > budget) {
          const result = await context.clusterElsewhere(
            Int32Array.from(candidates, (p) => unlabeled[p]),
            budget,
            rng.child("kmeans||").nextUint32(),
          );
          const positionOf = new Map(candidates.map((p) => [unlabeled[p], p]));
          clustered = result && { chosen: result.rows.map((r) => positionOf.get(r)!), stats: result.stats };
        }
      }
      return chooseFromSearch(search, { unlabeled, labeled: context.labeled, budget, rng, rowsOf: context.rowsOf, ...choice, clustered });
    },
  };
}

/** What `chooseFromSearch` needs besides the search: the pool's rows and how to choose. */
export interface ChoiceInputs {
  unlabeled: Int32Array;
  labeled: Int32Array;
  budget: number;
  rng: Rng;
  /** Embeddings of the given pool rows (in that order): a copy, the caller's to change. */
  rowsOf: (rows: ArrayLike<number>) => Matrix;
  select: (typeof SELECTION_MODES)[number];
  nInit: number;
  kmeans: KMeansMode;
  /** k-means run elsewhere over these candidates (query --queue's map-reduce): the positions chosen. */
  clustered?: { chosen: Int32Array; stats: Record<string, number> };
}

/**
 * The cap loop: the first cap with more than B candidates, else the last one evaluated. Returns
 * the candidates (positions into unlabeled, ascending) and how many caps were taken.
 */
export function candidatePositions(search: Pick<CandidateSearch, "caps" | "firstCap" | "capsEvaluated">, b: number): { candidates: number[]; stop: number } {
  const perCap = new Int32Array(search.caps.length + 1);
  for (const t of search.firstCap) perCap[t]++;
  let stop = 0,
    count = 0;
  while (stop < search.capsEvaluated) {
    count += perCap[++stop];
    if (count > b) break;
  }
  const candidates: number[] = [];
  search.firstCap.forEach((t, p) => {
    if (t > 0 && t <= stop) candidates.push(p);
  });
  return { candidates, stop };
}

/**
 * ALFA-Mix after its candidate search: the cap loop (the first cap with more than B candidates,
 * else the last one evaluated), the choice among the candidates, and the random fill of any
 * shortfall. Separate from the search so that a search split over shards (alfamix query --queue)
 * ends exactly as the local one does.
 */
export function chooseFromSearch(search: CandidateSearch, inputs: ChoiceInputs): { indices: Int32Array; scores: Float32Array; stats: Record<string, number> } {
  const { unlabeled, budget: b, rng, rowsOf, select, nInit } = inputs;
  const caps = search.caps;
  const { candidates, stop } = candidatePositions(search, b);
  // L2-normalised in place: the rows are a copy, and a second one would be fresh memory (13 MB on
  // the 50,000 × 512 benchmark) for nothing.
  const unitRows = (rows: ArrayLike<number>) => {
    const x = rowsOf(rows);
    return normalizeRows(x, x);
  };
  const candidateRows = () => unitRows(candidates.map((p) => unlabeled[p]));
  let chosen: Int32Array; // positions into unlabeled
  const stats: Record<string, number> = {};
  if (b === 0) chosen = new Int32Array(0);
  else if (candidates.length <= b) chosen = Int32Array.from(candidates);
  else if (select === "kmeans" && inputs.clustered) {
    chosen = inputs.clustered.chosen;
    Object.assign(stats, inputs.clustered.stats);
  } else if (select === "kmeans") {
    const points = candidateRows();
    const { rows, result } = nearestToCentres(inputs.kmeans, points, b, { rng, nInit });
    chosen = rows.map((m) => candidates[m]);
    stats.kmeansIterations = result.iterations;
    stats.kmeansInertia = result.inertia;
    stats.nInit = nInit;
  } else if (select === "kcenter") {
    // Our variant: farthest-first among the candidates, counting the labelled items as centres.
    const picks = kCenterGreedy(candidateRows(), unitRows(inputs.labeled), b, rng);
    chosen = picks.indices.map((m) => candidates[m]);
  } else if (select === "kmeans-labeled") {
    // Our second variant: k-means among the candidates with the labelled items as fixed centres.
    const picks = kmeansAroundFixed(candidateRows(), unitRows(inputs.labeled), b, rng);
    chosen = picks.map((m) => candidates[m]);
  } else if (select === "typical") {
    // Our TypiClust variant: the candidates' k-means clusters as for kmeans, but from each the
    // candidate most typical among all candidates, in place of the one nearest the centre.
    const points = candidateRows();
    const result = kmeansByMode(inputs.kmeans, points, b, { rng, nInit });
    chosen = mostTypicalPerCluster(clusterTypicality(points, TYPICAL_NEIGHBOURS), result.labels, b).map((m) => candidates[m]);
    stats.kmeansIterations = result.iterations;
    stats.kmeansInertia = result.inertia;
  } else if (select === "uniform") {
    chosen = rng.choice(Int32Array.from(candidates), b);
  } else {
    const values = Float64Array.from(candidates, (p) => (select === "norm" ? -search.alphaNorm![p] : search.symKL![p]));
    chosen = topK(values, b).map((i) => candidates[i]);
  }
  const { indices, filled } = fillAtRandom(
    chosen.map((p) => unlabeled[p]),
    unlabeled,
    b,
    rng,
  );
  const scores = new Float32Array(b).fill(NaN);
  chosen.forEach((p, i) => (scores[i] = caps[search.firstCap[p] - 1]));
  return { indices, scores, stats: { candidates: candidates.length, cap: stop > 0 ? caps[stop - 1] : 0, filled, ...stats } };
}

/** TypiClust's neighbourhood for typicality (its paper's 20). */
const TYPICAL_NEIGHBOURS = 20;

/** Per cluster, the member with the highest typicality (ties: the lower row), in cluster order, empty clusters skipped. */
export function mostTypicalPerCluster(typicality: Float64Array, labels: Int32Array, k: number): Int32Array {
  const best = new Int32Array(k).fill(-1);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (best[c] < 0 || typicality[i] > typicality[best[c]]) best[c] = i;
  }
  return best.filter((m) => m >= 0);
}
