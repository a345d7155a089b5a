import { UserError } from "../errors.js";
import { alfaMixStrategy, type AlfaMixOptions } from "./alfamix.js";
import { badgeStrategy } from "./badge.js";
import { coresetStrategy } from "./coreset.js";
import type { Strategy } from "./types.js";
import { baldStrategy, entropyStrategy, leastConfidenceStrategy, marginStrategy, randomStrategy, type BaldOptions } from "./uncertainty.js";

/** Options of every strategy that has any, by strategy. */
export interface StrategyOptions {
  alfamix?: AlfaMixOptions;
  bald?: BaldOptions;
}

const factories: Record<string, (options: StrategyOptions) => Strategy> = {
  random: () => randomStrategy,
  "least-confidence": () => leastConfidenceStrategy,
  margin: () => marginStrategy,
  entropy: () => entropyStrategy,
  bald: (o) => baldStrategy(o.bald),
  coreset: () => coresetStrategy,
  badge: () => badgeStrategy,
  alfamix: (o) => alfaMixStrategy(o.alfamix),
};

export const STRATEGY_NAMES: readonly string[] = Object.keys(factories);

/** A strategy by its registered name; an unknown name is an error that lists the known ones. */
export function createStrategy(name: string, options: StrategyOptions = {}): Strategy {
  const factory = factories[name];
  if (!factory) throw new UserError(`unknown strategy ${JSON.stringify(name)}; known strategies: ${STRATEGY_NAMES.join(", ")}`);
  return factory(options);
}
