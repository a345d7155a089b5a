import { coerce, expected, kebab, placeholder } from "../strategies/params.js";
import { resolveStrategy, STRATEGY_NAMES, strategyInfo, type StrategyParams, type StrategySpec } from "../strategies/registry.js";
import type { OptionReader, OptionSpec } from "./args.js";

/** Every strategy parameter as a flag, `--<strategy>-<parameter>`, from the strategies' own tables. */
const flags = STRATEGY_NAMES.flatMap((name) =>
  Object.entries(strategyInfo(name).params).map(([key, param]) => ({ name, key, param, flag: `${name}-${kebab(key)}` })),
);

/** The strategies' own flags, shared by every command that runs strategies. */
export const strategyOptionSpecs: Record<string, OptionSpec> = Object.fromEntries(
  flags.map(({ name, param, flag }) => [
    flag,
    param.kind === "boolean"
      ? { type: "boolean", help: `${name}: ${param.help}` }
      : { type: "string", placeholder: placeholder(param), help: `${name}: ${param.help}`, default: String(param.default) },
  ]),
);

/**
 * The strategy flags the user gave, by strategy (absent ones are left out: the strategies'
 * defaults fill them, and a flag of a strategy that does not run changes nothing).
 */
export function readStrategyOptions(options: OptionReader): StrategyParams {
  const out: Record<string, Record<string, unknown>> = {};
  for (const { name, key, param, flag } of flags) {
    const value = param.kind === "boolean" ? options.flag(flag) || undefined : options.parsed(flag, (text) => coerce(param, text), expected(param));
    if (value !== undefined) (out[name] ??= {})[key] = value;
  }
  return out;
}

/** The `--strategy` entry resolved with the strategy flags: the one place a query's strategy is settled. */
export function strategySpec(options: OptionReader): StrategySpec {
  return resolveStrategy(options.string("strategy", "alfamix"), readStrategyOptions(options));
}
