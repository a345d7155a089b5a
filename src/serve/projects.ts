import { chmodSync, existsSync, readdirSync, statSync } from "node:fs";
import { dirname, extname, join, relative, resolve } from "node:path";
import { forEachLine, sidecarFile } from "../data/files.js";
import { IdList } from "../data/ids.js";
import { readNpyHeader, readNpyRows } from "../data/npy.js";
import { isDirectoryPath } from "../data/images/folder.js";
import { isImageManifest, readLabeled, readPool, type Pool } from "../data/pool.js";
import { isTextSource } from "../data/text/corpus.js";
import { readPoolTexts } from "../embed/text/text-dataset.js";
import { fitTextModel, textModelChoice, type FittedTextModel } from "../embed/text/text-model.js";
import { checkFinite } from "../data/transform.js";
import { inputError, UserError } from "../errors.js";
import { DEFAULT_RANDOM_SHARE } from "../eval/stopping.js";
import { matrix } from "../linalg/matrix.js";
import { resolveStrategy, type StrategySpec } from "../strategies/registry.js";
import { findInside, isSafeRelativePath, isVideoName, MEDIA_EXTENSIONS } from "./media.js";
import { CHUNK_ROWS, type Display, type Project, type ProjectConfig, type Store } from "./store/store.js";

export interface CreateProjectOptions {
  name: string;
  /** The pool, in any format `alfamix query` reads, or already in memory (the demo's MNIST). */
  pool: string | Pool;
  /** .npy pools: one id per line (default X.ids beside X.npy, else the row number). */
  ids?: string;
  /** Labels known already (CSV id,label or JSONL). */
  labeled?: string;
  /** The classes, in the order of their keys (default: those of `labeled`, sorted). */
  classes?: string[];
  /** A strategy entry (default alfamix), or one resolved already with the command line's flags. */
  strategy?: string | StrategySpec;
  batch?: number;
  model?: "linear" | "mlp";
  randomShare?: number;
  retrainEvery?: number;
  seed?: number;
  leaseSeconds?: number;
  /** Share of labelled items a second annotator labels too, blind (for agreement and review). */
  overlap?: number;
  /** A folder holding each item's image (or .txt text) as DIR/<id>.<ext>. */
  media?: string;
  /** A pool column with each item's image path, relative to `mediaRoot`. */
  mediaColumn?: string;
  /** The folder media-column paths are relative to (default the pool file's folder); nothing outside it is served. */
  mediaRoot?: string;
  /** A pool column with each item's text. */
  textColumn?: string;
  /**
   * Embed the texts (the text column of a table or JSONL, or a folder of .txt files) with this
   * text model (tfidf, glove-100d, or a .text-model.json) instead of reading features.
   */
  textModel?: string;
  /** Set by the demo: show each row as an image of these pixels. */
  pixels?: { height: number; width: number };
  /**
   * Read the pool only as numbers (.npy, a table, JSONL), never as a folder or manifest of images,
   * whose paths may point anywhere: set for projects created over the API.
   */
  numbersOnly?: boolean;
  /** Called as rows are imported. */
  onProgress?: (rows: number) => void;
  /** Told what the person creating the project should know (missing media, classes without labels). */
  onNote?: (line: string) => void;
}

/** Where a project's own TF-IDF model is kept: beside the database, named after both. */
export const projectTextModelPath = (db: string, project: string) => resolve(`${db}.${project}.text-model.json`);

/** The most a lease may last without a heartbeat: a day. */
export const MAX_LEASE_SECONDS = 86400;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The project's settings from the options, checked (a bad one is a UserError). */
export function projectConfig(options: CreateProjectOptions): ProjectConfig {
  const batch = options.batch ?? 50;
  const spec = typeof options.strategy === "object" ? options.strategy : resolveStrategy(options.strategy ?? "alfamix");
  const config: ProjectConfig = {
    strategy: spec.label,
    strategyName: spec.name,
    strategyParams: spec.params,
    batch,
    model: options.model ?? "linear",
    randomShare: options.randomShare ?? DEFAULT_RANDOM_SHARE,
    retrainEvery: options.retrainEvery ?? Math.max(1, Math.ceil(batch / 2)),
    seed: options.seed ?? 0,
    leaseSeconds: options.leaseSeconds ?? 120,
    overlap: options.overlap ?? 0,
  };
  if (!(Number.isInteger(batch) && batch >= 1 && batch <= 100000)) throw new UserError(`project: the batch must be an integer from 1 to 100000, got ${batch}`);
  if (!(config.randomShare >= 0 && config.randomShare <= 1)) throw new UserError(`project: the random share must be in [0, 1], got ${config.randomShare}`);
  if (!(Number.isInteger(config.retrainEvery) && config.retrainEvery >= 1))
    throw new UserError(`project: retrain-every must be a positive integer, got ${config.retrainEvery}`);
  if (!(config.leaseSeconds >= 1 && config.leaseSeconds <= MAX_LEASE_SECONDS))
    throw new UserError(`project: a lease lasts from 1 to ${MAX_LEASE_SECONDS} seconds (a day), got ${config.leaseSeconds}`);
  if (!(config.overlap! >= 0 && config.overlap! <= 1)) throw new UserError(`project: the overlap must be in [0, 1], got ${config.overlap}`);
  if (config.model !== "linear" && config.model !== "mlp") throw new UserError(`project: the model must be linear or mlp, got ${JSON.stringify(config.model)}`);
  return config;
}

/**
 * Import a pool as a new project: its ids, embeddings (in chunks: an .npy pool of 10⁶ × 256 is
 * read and stored a chunk at a time) and how items are shown, plus any labels known already.
 * The project becomes visible only once the import has finished.
 */
export async function createProject(store: Store, options: CreateProjectOptions): Promise<Project> {
  if (!NAME.test(options.name))
    throw new UserError(
      `project: the name must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit; got ${JSON.stringify(options.name)}`,
    );
  if (store.project(options.name)) throw new UserError(`a project named ${JSON.stringify(options.name)} already exists`);
  const config = projectConfig(options);
  if ([options.media, options.mediaColumn, options.textColumn, options.pixels].filter((v) => v !== undefined).length > 1) {
    throw new UserError("project: choose one of --media, --media-column and --text-column");
  }
  const poolPath = typeof options.pool === "string" ? options.pool : (options.pool.source ?? "pool");
  if (typeof options.pool === "string" && !existsSync(options.pool) && !(options.textModel && isTextSource(options.pool)))
    throw inputError(options.pool, undefined, "no such file");
  const labeled = options.labeled ? await readLabeled(options.labeled) : undefined;
  const classes = options.classes ?? (labeled ? [...new Set(labeled.labels)].sort() : undefined);
  if (!classes || classes.length < 2)
    throw new UserError("project: needs at least two classes: --classes a,b,c, or --labeled FILE with labels of two or more classes");
  if (new Set(classes).size !== classes.length) throw new UserError(`project: a class is listed twice in ${classes.join(",")}`);
  const odd = classes.find((c) => c === "" || c !== c.trim() || c.length > 100);
  if (odd !== undefined) throw new UserError(`project: a class name is 1–100 characters without spaces at its ends; got ${JSON.stringify(odd)}`);
  const unknown = labeled?.labels.find((l) => !classes.includes(l));
  if (unknown !== undefined) throw new UserError(`${options.labeled}: the label ${JSON.stringify(unknown)} is not one of the classes ${classes.join(", ")}`);
  const note = options.onNote ?? (() => undefined);
  if (!options.classes)
    note(
      `the classes are the ${classes.length} labels found in ${options.labeled}: ${classes.join(", ")}. If one is missing, delete the project (alfamix project delete) and name every class with --classes`,
    );
  else {
    const unlabelled = classes.filter((c) => !labeled?.labels.includes(c));
    if (unlabelled.length)
      note(
        `no labelled item yet for ${unlabelled.join(", ")}: until every class has one, the queue takes typical items of the least-labelled clusters (TypiClust) and no model is trained`,
      );
  }

  let display: Display = { kind: "features" };
  let whole: Pool | undefined;
  if (options.media) {
    if (!statSync(options.media, { throwIfNoEntry: false })?.isDirectory())
      throw inputError(options.media, undefined, "no such directory (--media: a folder with DIR/<id>.<ext> per item)");
    display = { kind: "media", dir: resolve(options.media) };
  } else if (options.mediaColumn) {
    const base = resolve(options.mediaRoot ?? dirname(poolPath));
    if (!statSync(base, { throwIfNoEntry: false })?.isDirectory())
      throw inputError(base, undefined, "no such directory (--media-root: the folder media-column paths are relative to)");
    display = { kind: "path", base };
  } else if (options.textColumn || options.textModel) display = { kind: "text" };
  else if (options.pixels) display = { kind: "pixels", ...options.pixels };

  const isNpy = /\.npy$/i.test(poolPath);
  if (options.textModel && (isNpy || options.numbersOnly || typeof options.pool !== "string"))
    throw new UserError(`--text-model embeds a pool of texts (a table or .jsonl with a text column, or a folder of .txt files); ${poolPath} is not one`);
  // A text model fitted here (TF-IDF) is saved beside the database, so the page can show which
  // n-grams pushed each guess; a saved TF-IDF model is referred to where it is.
  let textModel: FittedTextModel | undefined;
  if (options.textModel) {
    const choice = textModelChoice(options.textModel);
    const list = await readPoolTexts(poolPath, { textColumn: options.textColumn });
    textModel = await fitTextModel(choice, list.texts);
    whole = { ids: IdList.of(list.ids), x: (await textModel.embed(list.texts)).rows, texts: list.texts, source: poolPath };
    if (textModel.termPushes)
      display = { kind: "text", termPushes: choice.kind === "fitted" ? resolve(choice.path) : projectTextModelPath(store.path, options.name) };
  }
  const column = options.mediaColumn ?? options.textColumn;
  if (options.numbersOnly && typeof options.pool === "string" && (isDirectoryPath(poolPath) || (column === undefined && (await isImageManifest(poolPath))))) {
    throw new UserError(`${poolPath}: over the API a pool is a file of numbers (.npy, .csv, .jsonl); for images, run alfamix embed and use its .npy`);
  }
  const header = isNpy ? readNpyHeader(poolPath) : undefined;
  if (header && header.shape.length !== 2)
    throw inputError(poolPath, "header", `expected a 2-dimensional (items, features) array, found shape (${header.shape.join(", ")})`);
  // Small formats are read whole (as `query` reads them); .npy is streamed a chunk at a time.
  whole ??= typeof options.pool !== "string" ? options.pool : isNpy ? undefined : await readPool(poolPath, undefined, undefined, column);
  const size = header ? header.shape[0] : whole!.x.rows,
    dim = header ? header.shape[1] : whole!.x.cols;
  if (size === 0) throw inputError(poolPath, undefined, "the pool is empty: expected at least one item");
  let ids = whole ? IdList.of(whole.ids) : undefined;
  if (isNpy) {
    const idsPath = options.ids ?? sidecarFile(poolPath, ".ids");
    ids = idsPath ? await IdList.read(idsPath, size, poolPath) : IdList.rowNumbers(size);
  } else if (options.ids) throw new UserError(`--ids is for .npy pools; ${poolPath} carries its own ids`);
  if (column !== undefined && (isNpy || !whole?.texts))
    throw new UserError(`--${options.mediaColumn ? "media" : "text"}-column needs a table pool (.csv, .tsv, .jsonl); ${poolPath} has no columns`);
  const displays = whole?.texts;
  if (display.kind === "path") checkMediaColumn(poolPath, display.base, displays!, note);
  if (display.kind === "media") checkMediaFolder(display.dir, ids!, note);
  // A clip's key frames, as `embed --video` wrote them beside its .npy.
  const keyFramesPath = header && display.kind !== "features" ? sidecarFile(poolPath, ".keyframes") : undefined;
  const keyFrames = keyFramesPath ? await readKeyFrames(keyFramesPath, size, poolPath) : undefined;

  const projectId = store.beginProject({ name: options.name, config, classes, display, dim, size });
  for (let start = 0; start < size; start += CHUNK_ROWS) {
    const count = Math.min(CHUNK_ROWS, size - start);
    const rows = header ? readNpyRows(poolPath, header, start, count) : whole!.x.data.subarray(start * dim, (start + count) * dim);
    if (header) checkFinite(matrix(count, dim, rows), `${poolPath} (rows ${start}–${start + count - 1})`);
    store.addItems(projectId, start, ids!.toArray(start, start + count), displays?.slice(start, start + count), rows, keyFrames?.slice(start, start + count));
    options.onProgress?.(start + count);
  }
  if (labeled) {
    store.transaction(() => {
      labeled.ids.forEach((id, i) => {
        const row = store.rowOf(projectId, id);
        if (row === undefined) throw new UserError(`${options.labeled}: the labelled id ${JSON.stringify(id)} is not in the pool`);
        store.putLabel(projectId, {
          row,
          label: labeled.labels[i],
          annotator: "import",
          tokenId: null,
          createdAt: Date.now(),
          source: "initial",
          modelVersion: null,
          predicted: null,
          confidence: null,
          random: false,
        });
      });
    });
  }
  if (display.kind === "text" && display.termPushes === projectTextModelPath(store.path, options.name)) {
    // Its vocabulary comes from the texts: as private as the database.
    for (const file of textModel!.save!(display.termPushes, "project")) chmodSync(file, 0o600);
  }
  store.finishImport(projectId, size);
  return store.project(options.name)!;
}

/** Examples of missing items shown in a note. */
const EXAMPLES = 3;

/**
 * Every media-column path must be relative and stay below the media root (checked now, and by
 * real path when served); then count the items that have a file. None: stop. Some: say how many.
 */
function checkMediaColumn(poolPath: string, base: string, paths: string[], note: (line: string) => void): void {
  const missing: string[] = [];
  paths.forEach((path, i) => {
    if (!isSafeRelativePath(path))
      throw inputError(
        poolPath,
        `item ${i + 1}`,
        `the media path ${JSON.stringify(path)} must be relative to the media root and must not use ".." (root: ${base})`,
      );
    if (!findInside(base, path)) missing.push(path);
  });
  reportMissing(missing, paths.length, `under ${base} (--media-root)`, note);
}

/**
 * Count the ids that have a file DIR/<id>.<ext>, from one walk of the folder (not a stat per id
 * and extension), and say how many are images, clips and texts.
 */
function checkMediaFolder(dir: string, ids: IdList, note: (line: string) => void): void {
  const present = new Map<string, string>();
  const extensions = new Set(MEDIA_EXTENSIONS);
  const walk = (folder: string, depth: number) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const extension = extname(entry.name).toLowerCase();
      if (entry.isDirectory() && depth < 8) walk(path, depth + 1);
      else if (extensions.has(extension)) present.set(relative(dir, path).slice(0, -extension.length).split("\\").join("/"), extension);
    }
  };
  walk(dir, 0);
  const missing: string[] = [];
  const kinds = { images: 0, clips: 0, texts: 0 };
  for (const id of ids) {
    const extension = present.get(id);
    if (extension === undefined) missing.push(id);
    else kinds[extension === ".txt" ? "texts" : isVideoName(extension) ? "clips" : "images"]++;
  }
  reportMissing(missing, ids.length, `as ${dir}/<id>${MEDIA_EXTENSIONS.slice(0, 3).join("|")}|…`, note);
  const found = Object.entries(kinds).filter(([, n]) => n > 0);
  note(
    `${ids.length - missing.length} of ${ids.length} items have a file in ${dir}: ${found.map(([kind, n]) => `${n} ${n === 1 ? kind.slice(0, -1) : kind}`).join(", ")}`,
  );
}

/** A .keyframes file: a line of times in seconds per row of `dataPath`, as `embed --video` writes it. */
async function readKeyFrames(path: string, expected: number, dataPath: string): Promise<string[]> {
  const lines: string[] = [];
  await forEachLine(path, (text, line) => {
    const trimmed = text.trim();
    if (trimmed !== "" && !/^\d+(\.\d+)?( +\d+(\.\d+)?)*$/.test(trimmed))
      throw inputError(path, `line ${line}`, `expected key-frame times in seconds separated by spaces, found ${JSON.stringify(trimmed.slice(0, 40))}`);
    lines.push(trimmed);
  });
  while (lines.length > expected && lines[lines.length - 1] === "") lines.pop();
  if (lines.length !== expected)
    throw inputError(path, undefined, `expected ${expected} lines of key-frame times, one per row of ${dataPath}; found ${lines.length}`);
  return lines;
}

function reportMissing(missing: string[], total: number, where: string, note: (line: string) => void): void {
  const examples =
    missing
      .slice(0, EXAMPLES)
      .map((m) => JSON.stringify(m))
      .join(", ") + (missing.length > EXAMPLES ? ", …" : "");
  if (missing.length === total) throw new UserError(`none of the ${total} items has a file ${where}; e.g. ${examples}. Check the folder and the ids`);
  if (missing.length) note(`${missing.length} of ${total} items have no file ${where} (e.g. ${examples}); they are shown without an image`);
}
