import { readdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { inputError, UserError } from "../../errors.js";
import { forEachCsvRow } from "../csv.js";
import { sortClassNames } from "../dataset.js";

/** Image files by extension (case-insensitive). */
export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png"];

/** What files a folder layout holds: images here, text files for data/text. */
export interface FileKind {
  extensions: string[];
  /** The plural noun for messages: "images". */
  noun: string;
}
const IMAGES: FileKind = { extensions: IMAGE_EXTENSIONS, noun: "images" };
const hasExtension = (name: string, kind: FileKind) => kind.extensions.some((e) => name.toLowerCase().endsWith(e));

/** Images of one split: files under `root`, their ids and, when the layout has classes, labels. */
export interface ImageList {
  /** What to call it in messages: the folder, or the manifest file. */
  source: string;
  /** Absolute or cwd-relative path of each image. */
  files: string[];
  /** The path relative to the root, without its extension, '/'-separated: cat/0001. */
  ids: string[];
  /** Class name of each image, when the layout has classes. */
  labels?: string[];
}

/** A folder or manifest's images: one split, or train and test. */
export interface ImageSplits {
  train: ImageList;
  test?: ImageList;
}

const idOf = (relativePath: string) =>
  relativePath
    .split(sep)
    .join("/")
    .replace(/\.[^./]+$/, "");

/** Non-hidden entries of a directory, sorted by name (byte order), so listings are stable. */
function entries(dir: string): { name: string; path: string; isDirectory: boolean }[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith("."))
    .map((e) => {
      const path = join(dir, e.name);
      // Follow symlinks: a folder of links to images is a common way to build a pool.
      const isDirectory = e.isDirectory() || (e.isSymbolicLink() && statSync(path, { throwIfNoEntry: false })?.isDirectory() === true);
      return { name: e.name, path, isDirectory };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Every file of `kind` under `dir`, recursively, in sorted order. */
function filesUnder(dir: string, kind: FileKind): string[] {
  const out: string[] = [];
  for (const e of entries(dir)) {
    if (e.isDirectory) out.push(...filesUnder(e.path, kind));
    else if (hasExtension(e.name, kind)) out.push(e.path);
  }
  return out;
}

/** Whether `path` is a directory (symlinks followed). */
export function isDirectoryPath(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

/**
 * The images (or other files of `kind`) of a folder in one of three layouts:
 * - `DIR/train/<class>/…` with `DIR/test/<class>/…`: two labelled splits;
 * - `DIR/<class>/…` (images anywhere below each class folder): one labelled split;
 * - `DIR/*.jpg|png` with no subfolders of images: one unlabelled split.
 * Ids are paths relative to DIR without the extension. An empty folder, a class folder with no
 * images, or loose images beside class folders is a one-line error.
 */
export function listImageFolder(dir: string, kind: FileKind = IMAGES): ImageSplits {
  if (!isDirectoryPath(dir)) throw inputError(dir, undefined, "no such directory");
  const subdirs = entries(dir).filter((e) => e.isDirectory);
  const names = subdirs.map((e) => e.name);
  if (names.includes("train") && names.includes("test") && [join(dir, "train"), join(dir, "test")].every((d) => entries(d).some((e) => e.isDirectory))) {
    return { train: listClassFolders(join(dir, "train"), dir, kind), test: listClassFolders(join(dir, "test"), dir, kind) };
  }
  return { train: listClassFolders(dir, dir, kind) };
}

/** `dir`'s files by class folder (or unlabelled, when there are no subfolders of them). */
function listClassFolders(dir: string, root: string, kind: FileKind): ImageList {
  const all = entries(dir);
  const loose = all.filter((e) => !e.isDirectory && hasExtension(e.name, kind)).map((e) => e.path);
  const classDirs = all.filter((e) => e.isDirectory);
  const perClass = classDirs.map((e) => ({ name: e.name, files: filesUnder(e.path, kind), path: e.path }));
  const withImages = perClass.filter((c) => c.files.length > 0);
  if (withImages.length === 0) {
    if (loose.length === 0)
      throw inputError(
        dir,
        undefined,
        `no ${kind.noun} found: expected ${kind.extensions.join("/")} files in class folders (DIR/<class>/…) or directly in the folder`,
      );
    return { source: dir, files: loose, ids: loose.map((f) => idOf(relative(root, f))) };
  }
  if (loose.length > 0) {
    throw inputError(
      dir,
      undefined,
      `has both class folders and ${loose.length} loose file${loose.length === 1 ? "" : "s"} (${relative(root, loose[0])}); move each into its class folder`,
    );
  }
  const empty = perClass.find((c) => c.files.length === 0);
  if (empty) throw inputError(empty.path, undefined, `a class folder with no ${kind.noun}`);
  const order = sortClassNames(perClass.map((c) => c.name));
  const files: string[] = [],
    labels: string[] = [];
  for (const name of order) {
    for (const f of perClass.find((c) => c.name === name)!.files) {
      files.push(f);
      labels.push(name);
    }
  }
  return { source: dir, files, ids: files.map((f) => idOf(relative(root, f))), labels };
}

/** Whether a table's header names a `path` column: then it is a manifest of images. */
export function isManifestHeader(fields: string[]): boolean {
  return fields.some((f) => f.trim().toLowerCase() === "path");
}

/**
 * A manifest: a CSV with a `path` column (relative to the manifest's folder, or absolute) and an
 * optional `label` column (label, class or y); a `split` column of train/test values splits it.
 */
export async function readImageManifest(file: string): Promise<ImageSplits> {
  const base = dirname(file);
  let columns: { path: number; label: number; split: number; width: number } | undefined;
  const rows: { path: string; label?: string; split?: string; line: number }[] = [];
  await forEachCsvRow(
    file,
    (row) => {
      if (!columns) {
        const names = row.fields().map((f) => f.trim().toLowerCase());
        const path = names.indexOf("path");
        if (path < 0)
          throw inputError(
            file,
            `line ${row.line}`,
            `expected a header with a "path" column (and optionally "label"), found ${row
              .fields()
              .map((f) => JSON.stringify(f))
              .join(", ")}`,
          );
        columns = { path, label: names.findIndex((n) => n === "label" || n === "class" || n === "y"), split: names.indexOf("split"), width: row.length };
        return;
      }
      if (row.length !== columns.width) throw inputError(file, `line ${row.line}`, `expected ${columns.width} fields like the header, found ${row.length}`);
      const path = row.text(columns.path).trim();
      if (path === "") throw inputError(file, `line ${row.line}`, "expected an image path, found an empty field");
      const label = columns.label >= 0 ? row.text(columns.label).trim() : undefined;
      if (label === "") throw inputError(file, `line ${row.line}`, "expected a label, found an empty field");
      const split = columns.split >= 0 ? row.text(columns.split).trim().toLowerCase() : undefined;
      if (split !== undefined && split !== "train" && split !== "test")
        throw inputError(file, `line ${row.line}`, `expected split "train" or "test", found ${JSON.stringify(split)}`);
      rows.push({ path, label, split, line: row.line });
    },
    ",",
  );
  if (rows.length === 0) throw inputError(file, undefined, "the manifest lists no images");
  const seen = new Map<string, number>();
  const list = (part: typeof rows): ImageList => ({
    source: file,
    files: part.map((r) => (isAbsolute(r.path) ? r.path : join(base, r.path))),
    ids: part.map((r) => {
      const id = idOf(isAbsolute(r.path) ? relative(base, r.path) : r.path);
      const first = seen.get(id);
      if (first !== undefined) throw inputError(file, `line ${r.line}`, `image id ${JSON.stringify(id)} is listed twice (first on line ${first})`);
      seen.set(id, r.line);
      return id;
    }),
    labels: columns!.label >= 0 ? part.map((r) => r.label!) : undefined,
  });
  if (columns!.split < 0) return { train: list(rows) };
  const train = rows.filter((r) => r.split === "train"),
    test = rows.filter((r) => r.split === "test");
  if (train.length === 0) throw new UserError(`${file}: the split column marks no image "train"`);
  return { train: list(train), test: test.length ? list(test) : undefined };
}
