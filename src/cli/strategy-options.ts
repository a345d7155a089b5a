import { ALPHA_MODES, SELECTION_MODES } from "../strategies/alfamix.js";
import type { StrategyOptions } from "../strategies/registry.js";
import { KMEANS_MODES } from "../cluster/kmeans-scale.js";
import type { OptionReader, OptionSpec } from "./args.js";

/** The strategies' own flags, shared by every command that runs strategies. */
export const strategyOptionSpecs: Record<string, OptionSpec> = {
  "alfamix-alpha": { type: "string", placeholder: ALPHA_MODES.join("|"), help: "ALFA-Mix: how α is found", default: "closed" },
  "alfamix-cap": { type: "string", placeholder: "STEP", help: "ALFA-Mix: the α cap grows by this step up to 1", default: "0.2" },
  "alfamix-select": { type: "string", placeholder: SELECTION_MODES.join("|"), help: "ALFA-Mix: how candidates are chosen (kcenter and kmeans-labeled: our variants)", default: "kmeans" },
  "alfamix-ninit": { type: "string", placeholder: "N", help: "ALFA-Mix: k-means restarts", default: "1" },
  "alfamix-kmeans": { type: "string", placeholder: "sampled|exact", help: "ALFA-Mix: k-means trained on ≤ 256 candidates per centre (as FAISS), or Lloyd over all", default: "sampled" },
  "bald-samples": { type: "string", placeholder: "T", help: "BALD: stochastic passes with dropout on", default: "10" },
  "dfal-steps": { type: "string", placeholder: "N", help: "DFAL: DeepFool steps per item at most", default: "50" },
  "cdal-double-softmax": { type: "boolean", help: "CDAL: apply softmax twice, as the public code does" },
  "coregcn-subset": { type: "string", placeholder: "N", help: "CoreGCN: unlabelled items in the graph at most", default: "10000" },
};

export function readStrategyOptions(options: OptionReader): StrategyOptions {
  return {
    alfamix: {
      alpha: options.choice("alfamix-alpha", ALPHA_MODES, "closed"),
      capStep: options.number("alfamix-cap", 0.2, 1e-6, 1),
      select: options.choice("alfamix-select", SELECTION_MODES, "kmeans"),
      nInit: options.int("alfamix-ninit", 1, 1),
      kmeans: options.choice("alfamix-kmeans", KMEANS_MODES, "sampled"),
    },
    bald: { samples: options.int("bald-samples", 10, 2) },
    dfal: { maxSteps: options.int("dfal-steps", 50, 1) },
    cdal: { doubleSoftmax: options.flag("cdal-double-softmax") },
    coregcn: { subset: options.int("coregcn-subset", 10000, 1) },
  };
}
