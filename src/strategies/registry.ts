import { UserError } from "../errors.js";
import { ALFAMIX_PARAMS, alfaMixStrategy } from "./alfamix.js";
import { badgeStrategy } from "./badge.js";
import { CDAL_PARAMS, cdalStrategy } from "./cdal.js";
import { COREGCN_PARAMS, coreGcnStrategy } from "./coregcn.js";
import { CLUSTER_MARGIN_PARAMS, clusterMarginStrategy } from "./cluster-margin.js";
import { coresetStrategy } from "./coreset.js";
import { DFAL_PARAMS, dfalStrategy } from "./dfal.js";
import { DROPQUERY_PARAMS, dropQueryStrategy } from "./dropquery.js";
import { camel, resolveParams, type ParamTable } from "./params.js";
import { PROBCOVER_PARAMS, probCoverStrategy } from "./probcover.js";
import type { Strategy } from "./types.js";
import { TYPICLUST_PARAMS, typiClustStrategy } from "./typiclust.js";
import { BALD_PARAMS, baldStrategy, entropyStrategy, leastConfidenceStrategy, marginStrategy, randomStrategy } from "./uncertainty.js";
import { parseStrategyEntry } from "./variants.js";

/** A registered strategy: how it is made from its parameters, what they are, and what it does (one line). */
interface Registration {
  make(params: Record<string, unknown>): Strategy;
  params: ParamTable;
  summary: string;
}

const none: ParamTable = {};
const registry: Record<string, Registration> = {
  random: { make: () => randomStrategy, params: none, summary: "uniformly at random: the baseline every strategy must beat" },
  "least-confidence": { make: () => leastConfidenceStrategy, params: none, summary: "the lowest probability of the predicted class" },
  margin: { make: () => marginStrategy, params: none, summary: "the smallest gap between the two most probable classes" },
  entropy: { make: () => entropyStrategy, params: none, summary: "the highest predictive entropy" },
  bald: {
    make: (p) => baldStrategy(p),
    params: BALD_PARAMS,
    summary: "the largest mutual information under MC dropout (Houlsby et al. 2011; Gal et al. 2017); needs a model with dropout",
  },
  coreset: { make: () => coresetStrategy, params: none, summary: "greedy k-center on the embeddings (Sener and Savarese 2018)" },
  badge: { make: () => badgeStrategy, params: none, summary: "k-means++ seeding on gradient embeddings (Ash et al. 2020)" },
  dfal: {
    make: (p) => dfalStrategy(p),
    params: DFAL_PARAMS,
    summary: "the smallest DeepFool perturbation that flips the prediction (Ducoffe and Precup 2018)",
  },
  cdal: {
    make: (p) => cdalStrategy(p),
    params: CDAL_PARAMS,
    summary: "greedy k-center under the symmetric KL of predicted distributions (Agarwal et al. 2020)",
  },
  coregcn: {
    make: (p) => coreGcnStrategy(p),
    params: COREGCN_PARAMS,
    summary: "a GCN that tells labelled from unlabelled items, then k-center on its features (Caramalau et al. 2021)",
  },
  typiclust: {
    make: (p) => typiClustStrategy(p),
    params: TYPICLUST_PARAMS,
    summary:
      "the most typical item of each of |L| + B k-means clusters, emptiest cluster first; needs no model, so it is a cold start (Hacohen et al., ICML 2022)",
  },
  probcover: {
    make: (p) => probCoverStrategy(p),
    params: PROBCOVER_PARAMS,
    summary: "greedy max cover of the δ-ball graph, δ by the purity rule; needs no model, so it is a cold start (Yehuda et al., NeurIPS 2022)",
  },
  "cluster-margin": {
    make: (p) => clusterMarginStrategy(p),
    params: CLUSTER_MARGIN_PARAMS,
    summary: "the lowest-margin items, round-robin over the pool's clusters, smallest first (Citovsky et al., NeurIPS 2021)",
  },
  dropquery: {
    make: (p) => dropQueryStrategy(p),
    params: DROPQUERY_PARAMS,
    summary: "items whose prediction changes under dropout on the features, then k-means among them (Gupte et al., TMLR 2024)",
  },
  alfamix: {
    make: (p) => alfaMixStrategy(p),
    params: ALFAMIX_PARAMS,
    summary: "items whose prediction flips when their features are mixed with the labelled class centres, then k-means among them (Parvaneh et al., CVPR 2022)",
  },
};

export const STRATEGY_NAMES: readonly string[] = Object.keys(registry);

/** A registered strategy's parameter table and one-line summary (for flags, help and the reference page). */
export function strategyInfo(name: string): Readonly<Registration> {
  const known = registry[name];
  if (!known) throw new UserError(`unknown strategy ${JSON.stringify(name)}; known strategies: ${STRATEGY_NAMES.join(", ")}`);
  return known;
}

/** Parameters given for some strategies, by strategy name (the command line's --alfamix-cap and the like); the rest take their defaults. */
export type StrategyParams = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/**
 * A strategy entry resolved once, at the edge (the command line, an HTTP body, a stored config):
 * the registered name and complete, checked parameters. This is what travels through simulate,
 * serve's projects and queue jobs, and what identifies a strategy's results.
 */
export interface StrategySpec {
  /** What results and reports call it: the alias, else the entry as written. */
  label: string;
  name: string;
  params: Record<string, unknown>;
}

/**
 * Resolve an entry (`alfamix`, `alfamix[cap=0.1]`, `norm=alfamix[select=norm]`; see
 * parseStrategyEntry) into its spec: the entry's settings over `given[name]` over the defaults.
 * An unknown name, key or value is a one-line error.
 */
export function resolveStrategy(entry: string, given: StrategyParams = {}): StrategySpec {
  const { label, name, settings } = parseStrategyEntry(entry);
  const { params } = strategyInfo(name);
  const fromEntry = Object.fromEntries(Object.entries(settings).map(([key, value]) => [camel(key), value]));
  const where = Object.keys(settings).length ? `strategy ${JSON.stringify(entry)}` : name;
  return { label, name, params: resolveParams(params, { ...given[name], ...fromEntry }, where) };
}

/** The strategy of a spec (or of an entry, with its defaults), named by the spec's label. */
export function createStrategy(spec: StrategySpec | string): Strategy {
  const { label, name, params } = typeof spec === "string" ? resolveStrategy(spec) : spec;
  const strategy = strategyInfo(name).make(params);
  return label === name ? strategy : { ...strategy, name: label };
}

/** Parameter names alfamix stored before they had one name everywhere (config.json, serve projects). */
const OLD_NAMES: Record<string, Record<string, string>> = { alfamix: { capStep: "cap", nInit: "ninit", learnedSteps: "steps" }, dfal: { maxSteps: "steps" } };

/** Stored parameters under today's names: old config.json files and SQLite rows still read. */
export function upgradeStrategyParams(stored: StrategyParams | undefined): StrategyParams {
  return Object.fromEntries(
    Object.entries(stored ?? {}).map(([name, params]) => [
      name,
      Object.fromEntries(Object.entries(params ?? {}).map(([key, value]) => [OLD_NAMES[name]?.[key] ?? key, value])),
    ]),
  );
}
