import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeAtomically } from "../data/files.js";
import { inputError, UserError } from "../errors.js";
import type { RoundResult } from "../eval/round-result.js";

export type { RoundResult } from "../eval/round-result.js";

export function readResults(dir: string): RoundResult[] {
  const path = join(dir, "results.jsonl");
  if (!existsSync(path)) return [];
  const results: RoundResult[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        results.push(JSON.parse(line));
      } catch {
        throw inputError(path, `line ${i + 1}`, "expected one JSON object per line");
      }
    });
  return results;
}

export function readConfig<T>(dir: string): T | undefined {
  const path = join(dir, "config.json");
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw inputError(path, undefined, "expected a JSON object");
  }
}

/**
 * The results of a simulation directory, appended a whole (strategy, seed) run at a time: the
 * file is rewritten atomically, so an interruption loses at most the run in progress.
 */
export class ResultsStore {
  private readonly results: RoundResult[];

  constructor(readonly dir: string) {
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`${dir}: expected a directory for the results, found a file`);
    mkdirSync(dir, { recursive: true });
    this.results = readResults(dir);
  }

  /** Whether all rounds 0..rounds of (strategy, seed) are stored. */
  isComplete(strategy: string, seed: number, rounds: number): boolean {
    const have = new Set(this.results.filter((r) => r.strategy === strategy && r.seed === seed).map((r) => r.round));
    for (let r = 0; r <= rounds; r++) if (!have.has(r)) return false;
    return true;
  }

  addRun(rows: RoundResult[]): void {
    const [first] = rows;
    const kept = this.results.filter((r) => !(r.strategy === first.strategy && r.seed === first.seed));
    this.results.length = 0;
    this.results.push(...kept, ...rows);
    writeAtomically(join(this.dir, "results.jsonl"), this.results.map((r) => JSON.stringify(r)).join("\n") + "\n");
  }

  all(): RoundResult[] {
    return [...this.results];
  }
}
