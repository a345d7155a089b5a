import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeAtomically } from "../data/files.js";
import type { Projection } from "../eval/projection.js";

/** One strategy's state at the map round: what was labelled before it, and the batch it chose. */
export interface MapRecord {
  strategy: string;
  round: number;
  labelled: number[];
  batch: number[];
}

/** A seed's map: the shared projection and every strategy's record. */
export interface SeedMap {
  seed: number;
  round: number;
  /** Pool indices projected, their x, y in [0, 1] and their true classes. */
  indices: number[];
  xy: number[];
  classes: number[];
  classNames: string[];
  poolSize: number;
  records: MapRecord[];
}

const seedDir = (out: string, seed: number) => join(out, "maps", `seed-${seed}`);

export function writeMapRecord(out: string, seed: number, record: MapRecord): void {
  const dir = seedDir(out, seed);
  mkdirSync(dir, { recursive: true });
  writeAtomically(join(dir, `strategy-${encodeURIComponent(record.strategy)}.json`), JSON.stringify(record) + "\n");
}

export function readMapRecords(out: string, seed: number): MapRecord[] {
  const dir = seedDir(out, seed);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith("strategy-"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as MapRecord);
}

export function writeProjection(out: string, seed: number, round: number, projection: Projection, classes: Int32Array, classNames: string[]): void {
  const dir = seedDir(out, seed);
  mkdirSync(dir, { recursive: true });
  writeAtomically(
    join(dir, "projection.json"),
    JSON.stringify({
      seed,
      round,
      indices: Array.from(projection.indices),
      xy: Array.from(projection.xy, (v) => Math.round(v * 1e4) / 1e4),
      classes: Array.from(projection.indices, (i) => classes[i]),
      classNames,
      poolSize: projection.poolSize,
    }) + "\n",
  );
}

/** The map of the first seed (in `seeds` order) that has one, or undefined. */
export function readSeedMap(out: string, seeds: number[]): SeedMap | undefined {
  for (const seed of seeds) {
    const file = join(seedDir(out, seed), "projection.json");
    if (!existsSync(file)) continue;
    const projection = JSON.parse(readFileSync(file, "utf8")) as Omit<SeedMap, "records">;
    return { ...projection, records: readMapRecords(out, seed) };
  }
  return undefined;
}
