import { UserError } from "../errors.js";
import { ALPHA_MODES, alfaMixStrategy, SELECTION_MODES, type AlfaMixOptions } from "./alfamix.js";
import { badgeStrategy } from "./badge.js";
import { KMEANS_MODES } from "../cluster/kmeans-scale.js";
import { cdalStrategy, type CdalOptions } from "./cdal.js";
import { coreGcnStrategy, type CoreGcnOptions } from "./coregcn.js";
import { coresetStrategy } from "./coreset.js";
import { dfalStrategy, type DfalOptions } from "./dfal.js";
import type { Strategy } from "./types.js";
import { baldStrategy, entropyStrategy, leastConfidenceStrategy, marginStrategy, randomStrategy, type BaldOptions } from "./uncertainty.js";
import { parseStrategyEntry } from "./variants.js";

/** Options of every strategy that has any, by strategy. */
export interface StrategyOptions {
  alfamix?: AlfaMixOptions;
  bald?: BaldOptions;
  cdal?: CdalOptions;
  dfal?: DfalOptions;
  coregcn?: CoreGcnOptions;
}

/** A per-entry setting: its value as written, checked, into the strategy's options. */
type Setting = (value: string, fail: (expected: string) => never) => Record<string, unknown>;

const choice = <T extends string>(key: string, choices: readonly T[]): Setting => (v, fail) => (choices.includes(v as T) ? { [key]: v } : fail(`one of ${choices.join(", ")}`));
const integer = (key: string, min: number): Setting => (v, fail) => (/^\d+$/.test(v) && Number(v) >= min ? { [key]: Number(v) } : fail(`an integer ≥ ${min}`));
const fraction = (key: string): Setting => (v, fail) => (Number(v) > 0 && Number(v) <= 1 ? { [key]: Number(v) } : fail("a number in (0, 1]"));
const flag = (key: string): Setting => (v, fail) => (v === "true" || v === "false" ? { [key]: v === "true" } : fail("true or false"));

const strategies: Record<string, { make: (o: StrategyOptions) => Strategy; settings?: { group: keyof StrategyOptions; keys: Record<string, Setting> } }> = {
  random: { make: () => randomStrategy },
  "least-confidence": { make: () => leastConfidenceStrategy },
  margin: { make: () => marginStrategy },
  entropy: { make: () => entropyStrategy },
  bald: { make: (o) => baldStrategy(o.bald), settings: { group: "bald", keys: { samples: integer("samples", 2) } } },
  coreset: { make: () => coresetStrategy },
  badge: { make: () => badgeStrategy },
  dfal: { make: (o) => dfalStrategy(o.dfal), settings: { group: "dfal", keys: { steps: integer("maxSteps", 1) } } },
  cdal: { make: (o) => cdalStrategy(o.cdal), settings: { group: "cdal", keys: { "double-softmax": flag("doubleSoftmax") } } },
  coregcn: { make: (o) => coreGcnStrategy(o.coregcn), settings: { group: "coregcn", keys: { subset: integer("subset", 1), epochs: integer("epochs", 1) } } },
  alfamix: {
    make: (o) => alfaMixStrategy(o.alfamix),
    settings: {
      group: "alfamix",
      keys: {
        alpha: choice("alpha", ALPHA_MODES), cap: fraction("capStep"), select: choice("select", SELECTION_MODES),
        ninit: integer("nInit", 1), steps: integer("learnedSteps", 1), kmeans: choice("kmeans", KMEANS_MODES),
      },
    },
  },
};

export const STRATEGY_NAMES: readonly string[] = Object.keys(strategies);

/**
 * A strategy from an entry: a registered name, optionally with settings and an alias
 * (`alfamix-norm=alfamix[select=norm]`; see parseStrategyEntry). Settings override `options`
 * (the command line's --alfamix-* flags and the like). The strategy is named by the entry's
 * label. An unknown name, key or value is a one-line error.
 */
export function createStrategy(entry: string, options: StrategyOptions = {}): Strategy {
  const { label, name, settings } = parseStrategyEntry(entry);
  const known = strategies[name];
  if (!known) throw new UserError(`unknown strategy ${JSON.stringify(name)}; known strategies: ${STRATEGY_NAMES.join(", ")}`);
  const merged: StrategyOptions = { ...options };
  const keys = Object.keys(settings);
  if (keys.length) {
    if (!known.settings) throw new UserError(`strategy ${JSON.stringify(entry)}: ${name} has no settings`);
    const { group, keys: accepted } = known.settings;
    let values: Record<string, unknown> = { ...options[group] };
    for (const key of keys) {
      const setting = accepted[key];
      if (!setting) throw new UserError(`strategy ${JSON.stringify(entry)}: unknown setting ${JSON.stringify(key)} for ${name}; known: ${Object.keys(accepted).join(", ")}`);
      values = { ...values, ...setting(settings[key], (expected) => {
        throw new UserError(`strategy ${JSON.stringify(entry)}: ${key} expects ${expected}, got ${JSON.stringify(settings[key])}`);
      }) };
    }
    (merged as Record<string, unknown>)[group] = values;
  }
  const strategy = known.make(merged);
  return label === name ? strategy : { ...strategy, name: label };
}
