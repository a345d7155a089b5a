import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { readCsvTable } from "../data/csv.js";
import { sidecarFile } from "../data/files.js";
import { IdList } from "../data/ids.js";
import { readNpyHeader, readNpyRows } from "../data/npy.js";
import { readLabeled, readPool, type Pool } from "../data/pool.js";
import { checkFinite } from "../data/transform.js";
import { inputError, UserError } from "../errors.js";
import { matrix } from "../linalg/matrix.js";
import { createStrategy, type StrategyOptions } from "../strategies/registry.js";
import { CHUNK_ROWS, type Display, type Project, type ProjectConfig, type Store } from "./store/store.js";

export interface CreateProjectOptions {
  name: string;
  /** The pool, in any format `alfamix query` reads, or already in memory (the demo's MNIST). */
  pool: string | Pool;
  /** .npy pools: one id per line (default X.ids beside X.npy, else the row number). */
  ids?: string;
  /** Labels known already (CSV id,label or JSONL). */
  labeled?: string;
  /** The classes, in the order keys 1–9 pick them (default: those of `labeled`, sorted). */
  classes?: string[];
  strategy?: string;
  strategyOptions?: StrategyOptions;
  batch?: number;
  model?: "linear" | "mlp";
  randomShare?: number;
  retrainEvery?: number;
  seed?: number;
  leaseSeconds?: number;
  /** A folder holding each item's image as DIR/<id>.<ext>. */
  media?: string;
  /** A pool column with each item's image path (relative to the pool file) or its text. */
  mediaColumn?: string;
  textColumn?: string;
  /** Set by the demo: show each row as an image of these pixels. */
  pixels?: { height: number; width: number };
  /** Called as rows are imported. */
  onProgress?: (rows: number) => void;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The project's settings from the options, checked (a bad one is a UserError). */
export function projectConfig(options: CreateProjectOptions): ProjectConfig {
  const batch = options.batch ?? 50;
  const config: ProjectConfig = {
    strategy: options.strategy ?? "alfamix",
    strategyOptions: options.strategyOptions ?? {},
    batch,
    model: options.model ?? "linear",
    randomShare: options.randomShare ?? 0.1,
    retrainEvery: options.retrainEvery ?? Math.max(1, Math.ceil(batch / 2)),
    seed: options.seed ?? 0,
    leaseSeconds: options.leaseSeconds ?? 120,
  };
  createStrategy(config.strategy, config.strategyOptions);
  if (!(Number.isInteger(batch) && batch >= 1 && batch <= 100000)) throw new UserError(`project: the batch must be an integer from 1 to 100000, got ${batch}`);
  if (!(config.randomShare >= 0 && config.randomShare <= 1)) throw new UserError(`project: the random share must be in [0, 1], got ${config.randomShare}`);
  if (!(Number.isInteger(config.retrainEvery) && config.retrainEvery >= 1)) throw new UserError(`project: retrain-every must be a positive integer, got ${config.retrainEvery}`);
  if (!(config.leaseSeconds >= 1)) throw new UserError(`project: leases must last at least a second, got ${config.leaseSeconds}`);
  if (config.model !== "linear" && config.model !== "mlp") throw new UserError(`project: the model must be linear or mlp, got ${JSON.stringify(config.model)}`);
  return config;
}

/**
 * Import a pool as a new project: its ids, embeddings (in chunks: an .npy pool of 10⁶ × 256 is
 * read and stored a chunk at a time) and how items are shown, plus any labels known already.
 * The project becomes visible only once the import has finished.
 */
export async function createProject(store: Store, options: CreateProjectOptions): Promise<Project> {
  if (!NAME.test(options.name)) throw new UserError(`project: the name must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit; got ${JSON.stringify(options.name)}`);
  if (store.project(options.name)) throw new UserError(`a project named ${JSON.stringify(options.name)} already exists`);
  const config = projectConfig(options);
  if ([options.media, options.mediaColumn, options.textColumn, options.pixels].filter((v) => v !== undefined).length > 1) {
    throw new UserError("project: choose one of --media, --media-column and --text-column");
  }
  const poolPath = typeof options.pool === "string" ? options.pool : options.pool.source ?? "pool";
  if (typeof options.pool === "string" && !existsSync(options.pool)) throw inputError(options.pool, undefined, "no such file");
  const labeled = options.labeled ? await readLabeled(options.labeled) : undefined;
  const classes = options.classes ?? (labeled ? [...new Set(labeled.labels)].sort() : undefined);
  if (!classes || classes.length < 2) throw new UserError("project: needs at least two classes: --classes a,b,c, or --labeled FILE with labels of two or more classes");
  if (new Set(classes).size !== classes.length) throw new UserError(`project: a class is listed twice in ${classes.join(",")}`);
  const unknown = labeled?.labels.find((l) => !classes.includes(l));
  if (unknown !== undefined) throw new UserError(`${options.labeled}: the label ${JSON.stringify(unknown)} is not one of the classes ${classes.join(", ")}`);

  let display: Display = { kind: "features" };
  if (options.media) {
    if (!statSync(options.media, { throwIfNoEntry: false })?.isDirectory()) throw inputError(options.media, undefined, "no such directory (--media: a folder with DIR/<id>.<ext> per item)");
    display = { kind: "media", dir: resolve(options.media) };
  } else if (options.mediaColumn) display = { kind: "path", base: resolve(dirname(poolPath)) };
  else if (options.textColumn) display = { kind: "text" };
  else if (options.pixels) display = { kind: "pixels", ...options.pixels };

  const isNpy = /\.npy$/i.test(poolPath);
  const header = isNpy ? readNpyHeader(poolPath) : undefined;
  if (header && header.shape.length !== 2) throw inputError(poolPath, "header", `expected a 2-dimensional (items, features) array, found shape (${header.shape.join(", ")})`);
  // Small formats are read whole (as `query` reads them); .npy is streamed a chunk at a time.
  const whole = typeof options.pool !== "string" ? options.pool : isNpy ? undefined : await readPool(poolPath);
  const size = header ? header.shape[0] : whole!.x.rows, dim = header ? header.shape[1] : whole!.x.cols;
  if (size === 0) throw inputError(poolPath, undefined, "the pool is empty: expected at least one item");
  let ids = whole ? IdList.of(whole.ids) : undefined;
  if (isNpy) {
    const idsPath = options.ids ?? sidecarFile(poolPath, ".ids");
    ids = idsPath ? await IdList.read(idsPath, size, poolPath) : IdList.rowNumbers(size);
  } else if (options.ids) throw new UserError(`--ids is for .npy pools; ${poolPath} carries its own ids`);
  let displays: string[] | undefined;
  const column = options.mediaColumn ?? options.textColumn;
  if (column !== undefined) {
    if (isNpy || typeof options.pool !== "string" || /\.jsonl(\.gz)?$/i.test(poolPath)) throw new UserError(`--${options.mediaColumn ? "media" : "text"}-column needs a table pool (.csv, .tsv, …); ${poolPath} has no columns`);
    // The column comes back as the table's "labels": text kept aside from the features.
    displays = (await readCsvTable(poolPath, { labelColumn: column })).labels;
  }

  const projectId = store.beginProject({ name: options.name, config, classes, display, dim, size });
  for (let start = 0; start < size; start += CHUNK_ROWS) {
    const count = Math.min(CHUNK_ROWS, size - start);
    const rows = header ? readNpyRows(poolPath, header, start, count) : whole!.x.data.subarray(start * dim, (start + count) * dim);
    if (header) checkFinite(matrix(count, dim, rows), `${poolPath} (rows ${start}–${start + count - 1})`);
    store.addItems(projectId, start, ids!.toArray(start, start + count), displays?.slice(start, start + count), rows);
    options.onProgress?.(start + count);
  }
  if (labeled) {
    store.transaction(() => {
      labeled.ids.forEach((id, i) => {
        const row = store.rowOf(projectId, id);
        if (row === undefined) throw new UserError(`${options.labeled}: the labelled id ${JSON.stringify(id)} is not in the pool`);
        store.putLabel(projectId, { row, label: labeled.labels[i], annotator: "import", createdAt: Date.now(), source: "initial", modelVersion: null, predicted: null, confidence: null, random: false });
      });
    });
  }
  store.finishImport(projectId, size);
  return store.project(options.name)!;
}
