import { UserError } from "../errors.js";

/** A strategy entry as written: `name`, `name[key=value,…]`, or `alias=name[key=value,…]`. */
export interface StrategyEntry {
  /** What results and reports call it: the alias, else the entry as written. */
  label: string;
  /** The registered strategy. */
  name: string;
  /** Its options as written, by key. */
  settings: Record<string, string>;
}

const ENTRY = /^(?:([A-Za-z0-9][A-Za-z0-9._+-]*)=)?([a-z][a-z-]*)(?:\[([^\]]*)\])?$/;

/** Parse one entry; a malformed one is a UserError that shows the accepted forms. */
export function parseStrategyEntry(entry: string): StrategyEntry {
  const text = entry.trim();
  const m = ENTRY.exec(text);
  if (!m) throw new UserError(`strategy ${JSON.stringify(text)}: expected NAME, NAME[key=value,…] or ALIAS=NAME[key=value,…] (e.g. alfamix[select=norm])`);
  const [, alias, name, body] = m;
  const settings: Record<string, string> = {};
  if (body !== undefined) {
    for (const part of body.split(",")) {
      const kv = /^\s*([a-z][a-z-]*)\s*=\s*([^\s=]+)\s*$/.exec(part);
      if (!kv) throw new UserError(`strategy ${JSON.stringify(text)}: expected key=value settings inside [ ], found ${JSON.stringify(part.trim())}`);
      if (kv[1] in settings) throw new UserError(`strategy ${JSON.stringify(text)}: ${kv[1]} is set twice`);
      settings[kv[1]] = kv[2];
    }
  }
  return { label: alias ?? text, name, settings };
}

/** Split a --strategies list at the commas between entries (not those inside [ ]). */
export function splitStrategyList(list: string): string[] {
  const out: string[] = [];
  let depth = 0,
    start = 0;
  for (let i = 0; i < list.length; i++) {
    if (list[i] === "[") depth++;
    else if (list[i] === "]") depth--;
    else if (list[i] === "," && depth === 0) {
      out.push(list.slice(start, i));
      start = i + 1;
    }
  }
  out.push(list.slice(start));
  return out.map((s) => s.trim()).filter((s) => s !== "");
}

/** The paper's ablation of ALFA-Mix: how α is found, and how candidates are chosen. */
export const ALFAMIX_ABLATION = [
  "alfamix",
  "alfamix[alpha=learned]",
  "alfamix[alpha=random]",
  "alfamix[select=norm]",
  "alfamix[select=symkl]",
  "alfamix[select=uniform]",
];
