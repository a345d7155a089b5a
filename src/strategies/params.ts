import { ParamError } from "../errors.js";

/**
 * One parameter of a strategy, declared once in the strategy's own file (as scikit-learn's
 * `_parameter_constraints`): its type, default, range or choices, and what it does. The CLI
 * flags (`--<strategy>-<key>`), the entry settings (`name[key=value]`), the checks and their
 * messages, the help text, the strategies reference page and the TypeScript type all come from it.
 */
export type Param =
  | { readonly kind: "choice"; readonly choices: readonly string[]; readonly default: string; readonly help: string }
  | { readonly kind: "int"; readonly min: number; readonly default: number; readonly help: string }
  | { readonly kind: "fraction"; readonly default: number; readonly help: string }
  | { readonly kind: "boolean"; readonly default: boolean; readonly help: string };

export type ParamTable = Readonly<Record<string, Param>>;

type ValueOf<P> = P extends { kind: "choice"; choices: readonly (infer C)[] } ? C : P extends { kind: "boolean" } ? boolean : number;

/** A strategy's complete parameters, typed from its table. */
export type ParamsOf<T extends ParamTable> = { -readonly [K in keyof T]: ValueOf<T[K]> };

export const choice = <const C extends readonly string[]>(choices: C, defaultValue: C[number], help: string) =>
  ({ kind: "choice", choices, default: defaultValue, help }) as const;
export const int = (defaultValue: number, min: number, help: string) => ({ kind: "int", min, default: defaultValue, help }) as const;
/** A number in (0, 1]. */
export const fraction = (defaultValue: number, help: string) => ({ kind: "fraction", default: defaultValue, help }) as const;
export const flag = (help: string) => ({ kind: "boolean", default: false, help }) as const;

/** What a parameter accepts, in words (for errors and help). */
export function expected(p: Param): string {
  switch (p.kind) {
    case "choice":
      return `one of ${p.choices.join(", ")}`;
    case "int":
      return `an integer ≥ ${p.min}`;
    case "fraction":
      return "a number in (0, 1]";
    case "boolean":
      return "true or false";
  }
}

/** The placeholder a flag shows in --help. */
export function placeholder(p: Param): string {
  return p.kind === "choice" ? p.choices.join("|") : p.kind === "int" ? "N" : p.kind === "fraction" ? "X" : "";
}

/**
 * A value for `p` from text (an entry setting or a flag) or from JSON (a stored config, an HTTP
 * body); undefined when `p` does not accept it.
 */
export function coerce(p: Param, raw: unknown): string | number | boolean | undefined {
  switch (p.kind) {
    case "choice":
      return typeof raw === "string" && p.choices.includes(raw) ? raw : undefined;
    case "boolean":
      return typeof raw === "boolean" ? raw : raw === "true" ? true : raw === "false" ? false : undefined;
    case "int": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*[-+]?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      return Number.isInteger(n) && n >= p.min ? n : undefined;
    }
    case "fraction": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      return n > 0 && n <= 1 ? n : undefined;
    }
  }
}

/**
 * Complete, checked parameters: `given` over the table's defaults. An unknown key is a
 * ParamError listing the known ones; a value the parameter does not take is a ParamError naming
 * it (`where` says whose it is: "alfamix", or the entry as written).
 */
export function resolveParams<T extends ParamTable>(table: T, given: Readonly<Record<string, unknown>>, where: string): ParamsOf<T> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(given)) {
    if (given[key] !== undefined && !(key in table)) {
      const known = Object.keys(table);
      const message = `${where}: unknown setting ${JSON.stringify(key)}; ${known.length ? `known: ${known.map(kebab).join(", ")}` : "it has no settings"}`;
      throw new ParamError(key, `one of ${known.map(kebab).join(", ")}`, given[key], where, message);
    }
  }
  for (const [key, p] of Object.entries(table)) {
    const raw = given[key];
    if (raw === undefined) {
      out[key] = p.default;
      continue;
    }
    const value = coerce(p, raw);
    if (value === undefined) throw new ParamError(kebab(key), expected(p), raw, where);
    out[key] = value;
  }
  return out as ParamsOf<T>;
}

/** A parameter's name as entries and flags spell it (doubleSoftmax → double-softmax). */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The table key of an entry setting or flag suffix (double-softmax → doubleSoftmax). */
export function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
