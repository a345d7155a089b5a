import { parseArgs } from "node:util";
import { UserError } from "../errors.js";

export interface OptionSpec {
  type: "string" | "boolean";
  /** May be given more than once (read with OptionReader.strings). */
  multiple?: boolean;
  /** What the option does, for --help. */
  help: string;
  /** Shown in --help; parsing leaves absent options undefined. */
  placeholder?: string;
  default?: string;
}

export interface CommandSpec {
  name: string;
  usage: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Number of positional arguments allowed. */
  positionals?: { min: number; max: number };
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  help: boolean;
}

/** Parse argv strictly against `spec`: an unknown option or a missing value is a UserError. */
export function parseCommand(spec: CommandSpec, argv: string[]): ParsedArgs {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = { help: { type: "boolean" } };
  for (const [name, o] of Object.entries(spec.options)) options[name] = o.multiple ? { type: o.type, multiple: true } : { type: o.type };
  // A negative number after a flag that takes a value is that value (--budget -3), so that the
  // reader says what the flag expects, rather than Node's parser calling it ambiguous.
  const args = argv
    .map((arg, i) => {
      const flag = /^--([^=]+)$/.exec(argv[i - 1] ?? "")?.[1];
      return flag && options[flag]?.type === "string" && /^-\d|^-\.\d|^-Infinity$/.test(arg) ? `--${flag}=${arg}` : arg;
    })
    .filter((arg, i, all) => !all[i + 1]?.startsWith(`${arg}=-`));
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    const message = (e as Error).message.split("\n")[0].replace(/\. To specify a positional.*$/, "");
    const unknown = /^Unknown option '--([^']+)'/.exec(message)?.[1];
    const near = unknown === undefined ? undefined : closest(unknown, Object.keys(spec.options));
    throw new UserError(
      `${spec.name}: ${message.charAt(0).toLowerCase()}${message.slice(1)}${near ? `; did you mean --${near}?` : ""} (see alfamix ${spec.name} --help)`,
    );
  }
  const help = parsed.values.help === true;
  const { min, max } = spec.positionals ?? { min: 0, max: 0 };
  if (!help && (parsed.positionals.length < min || parsed.positionals.length > max)) {
    throw new UserError(
      `${spec.name}: expected ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? "" : "s"}, found ${parsed.positionals.length}; usage: ${spec.usage}`,
    );
  }
  return { values: parsed.values as ParsedArgs["values"], positionals: parsed.positionals, help };
}

/** The option within two edits of `name` (labelled → labeled), if there is one. */
function closest(name: string, options: string[]): string | undefined {
  let best: string | undefined,
    bestDistance = 3;
  for (const option of options) {
    const d = editDistance(name, option);
    if (d < bestDistance) [best, bestDistance] = [option, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

export function helpText(spec: CommandSpec): string {
  const lines = [`usage: ${spec.usage}`, "", spec.summary];
  const entries = Object.entries(spec.options);
  if (entries.length) {
    lines.push("", "options:");
    const labels = entries.map(([name, o]) => `  --${name}${o.type === "string" ? ` ${o.placeholder ?? "VALUE"}` : ""}`);
    const width = Math.max(...labels.map((l) => l.length)) + 2;
    entries.forEach(([, o], i) => lines.push(`${labels[i].padEnd(width)}${o.help}${o.default !== undefined ? ` (default ${o.default})` : ""}`));
  }
  return lines.join("\n");
}

/** Typed reads of parsed option values; a malformed value is a UserError naming the flag. */
export class OptionReader {
  constructor(
    private readonly command: string,
    private readonly values: ParsedArgs["values"],
  ) {}

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const v = this.values[name];
    return typeof v === "string" ? v : Array.isArray(v) ? v[v.length - 1] : fallback;
  }

  /** Every value of an option that may repeat. */
  strings(name: string): string[] {
    const v = this.values[name];
    return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  int(name: string, fallback: number, min = -Infinity, max = Infinity): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) this.fail(name, v, `an integer${range(min, max)}`);
    return n;
  }

  number(name: string, fallback: number, min = -Infinity, max = Infinity): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max) this.fail(name, v, `a number${range(min, max)}`);
    return n;
  }

  intList(name: string, fallback: number[], min = -Infinity): number[] {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const items = v.split(",").map((s) => s.trim());
    const numbers = items.map(Number);
    if (items.some((s) => s === "") || numbers.some((n) => !Number.isInteger(n) || n < min))
      this.fail(name, v, `a comma-separated list of integers${range(min, Infinity)}`);
    return numbers;
  }

  /** A comma-separated list of numbers, or undefined when the option is absent. */
  numberList(name: string): number[] | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    const items = v.split(",").map((s) => s.trim());
    if (items.some((s) => s === "" || !Number.isFinite(Number(s)))) this.fail(name, v, "a comma-separated list of numbers");
    return items.map(Number);
  }

  list(name: string, fallback: string[]): string[] {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const items = v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    if (items.length === 0) this.fail(name, v, "a comma-separated list");
    return items;
  }

  choice<T extends string, F extends T | undefined>(name: string, choices: readonly T[], fallback: F): T | F {
    const v = this.string(name);
    if (v === undefined) return fallback;
    if (!choices.includes(v as T)) this.fail(name, v, `one of ${choices.join(", ")}`);
    return v as T;
  }

  /** A value read by `parse` (undefined: not accepted, which fails naming the flag and `expected`), or undefined when absent. */
  parsed<T>(name: string, parse: (text: string) => T | undefined, expected: string): T | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    const value = parse(v);
    if (value === undefined) this.fail(name, v, expected);
    return value;
  }

  private fail(name: string, value: string, expected: string): never {
    throw new UserError(`${this.command}: --${name} expects ${expected}, got ${JSON.stringify(value)}`);
  }
}

function range(min: number, max: number): string {
  if (min > -Infinity && max < Infinity) return ` from ${min} to ${max}`;
  if (min > -Infinity) return ` ≥ ${min}`;
  if (max < Infinity) return ` ≤ ${max}`;
  return "";
}
