import { inputError, UserError } from "../errors.js";
import { matrix, type Matrix } from "../linalg/matrix.js";
import { forEachCsvRow, readCsvTable } from "./csv.js";
import { existsSync } from "node:fs";
import { firstTextChunk, forEachLine, sidecarFile } from "./files.js";
import { IdList } from "./ids.js";
import { isDirectoryPath, isManifestHeader } from "./images/folder.js";
import { loadImageDataset } from "./images/dataset.js";
import { readNpy, readNpyHeader } from "./npy.js";
import { RowBlocks } from "./row-blocks.js";
import { checkFinite } from "./transform.js";

/** Items to choose from: an id and a feature (or embedding) row each. */
export interface Pool {
  /** One per row: an IdList from readPool (get(i), length, iteration), or an array of strings from a caller. */
  ids: IdList | string[];
  x: Matrix;
  /** Where the pool came from, for error messages (a file name). */
  source?: string;
  /** Each item's text or media path, when a text column was asked for. */
  texts?: string[];
}

/**
 * A pool from a text table (.csv, .tsv, .txt, …, optionally .gz; ids from an `id` column, else
 * the row number), JSONL (one {"id", "embedding": [...]} per line), NPY (N×D float32/float64/uint8,
 * ids from `idsPath`, else X.ids beside X.npy, else the row number) or a folder or manifest of
 * images (ids are their paths without extension; pixels flattened to [0, 1]). Read in chunks; any
 * NaN, infinity, ragged row or repeated id is a one-line error; repeated ids are found where the
 * pool is used (IdIndex). `textColumn` keeps a table column (or a JSONL key) aside as each item's
 * text or media path.
 */
export async function readPool(path: string, idsPath?: string, imageSize?: [number, number], textColumn?: string): Promise<Pool> {
  let pool: Pool;
  const isNpy = /\.npy$/i.test(path);
  if (idsPath && !isNpy) throw new UserError(`--ids is for .npy pools; ${path} carries its own ids`);
  if (textColumn !== undefined && (isNpy || isDirectoryPath(path)))
    throw inputError(
      path,
      undefined,
      `a text or media column (${JSON.stringify(textColumn)}) needs a table pool (.csv, .tsv, .jsonl); this one has no columns`,
    );
  if (isNpy) {
    const { x, ids } = await readNpyMatrix(path, idsPath ?? sidecarFile(path, ".ids"));
    pool = { ids: ids ?? IdList.rowNumbers(x.rows), x };
  } else if (/\.jsonl(\.gz)?$/i.test(path)) {
    pool = await readJsonlPool(path, textColumn);
  } else if (textColumn === undefined && (isDirectoryPath(path) || (await isImageManifest(path)))) {
    pool = await readImagePool(path, imageSize);
  } else {
    const table = await readCsvTable(path, { labelColumn: false, textColumn });
    pool = { ids: table.ids ?? IdList.rowNumbers(table.x.rows), x: table.x, texts: table.texts };
  }
  if (pool.x.rows === 0) throw inputError(path, undefined, "the pool is empty: expected at least one item");
  return { ...pool, ids: IdList.of(pool.ids), source: path };
}

/** Whether a table file is a manifest of images (its header names a `path` column). */
export async function isImageManifest(path: string): Promise<boolean> {
  return existsSync(path) && isManifestHeader((await firstTextChunk(path)).split("\n", 1)[0].split(","));
}

/**
 * A 2-D .npy file as a matrix checked to be finite, with its ids when a file of them is given.
 * The ids are parsed while the rows are read (the read runs in libuv's threads), and each chunk
 * of rows is checked as it arrives. A non-finite value is reported at the first chunk holding one
 * in file order, whatever order the chunks arrive in.
 */
export async function readNpyMatrix(path: string, idsPath: string | undefined): Promise<{ x: Matrix; ids?: IdList }> {
  const { shape } = readNpyHeader(path);
  if (shape.length !== 2) throw inputError(path, "header", `expected a 2-dimensional (rows, features) array, found shape (${shape.join(", ")})`);
  const [rows, cols] = shape;
  let firstBad: { from: number; error: unknown } | undefined;
  const [read, ids] = await Promise.all([
    readNpy(path, "float32", (data, from, to) => {
      if (firstBad && firstBad.from < from) return;
      try {
        checkFinite(matrix(rows, cols, data), path, from, to);
      } catch (error) {
        firstBad = { from, error };
      }
    }),
    idsPath ? IdList.read(idsPath, rows, path) : undefined,
  ]);
  if (firstBad) throw firstBad.error;
  return { x: matrix(rows, cols, read.data), ids };
}

/** Every image of a folder or manifest (train and test splits alike) as one pool. */
async function readImagePool(path: string, imageSize: [number, number] | undefined): Promise<Pool> {
  const parts = await loadImageDataset(path, isDirectoryPath(path), { size: imageSize });
  const all = [parts.train, ...(parts.test ? [parts.test] : [])];
  const x = matrix(
    all.reduce((n, d) => n + d.x.rows, 0),
    parts.train.x.cols,
  );
  let offset = 0;
  for (const d of all) {
    x.data.set(d.x.data, offset);
    offset += d.x.data.length;
  }
  return { ids: all.flatMap((d) => d.ids!), x };
}

/** Each non-blank line of a JSONL file, parsed, with its 1-based line number. */
export async function forEachJsonLine(path: string, onLine: (value: unknown, line: number) => void): Promise<void> {
  await forEachLine(path, (text, line) => {
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw inputError(path, `line ${line}`, "expected a JSON object");
    }
    onLine(value, line);
  });
}

async function readJsonlPool(path: string, textKey?: string): Promise<Pool> {
  const ids: string[] = [],
    texts: string[] = [];
  let rows: RowBlocks | undefined;
  await forEachJsonLine(path, (value, line) => {
    const item = value as { id?: unknown; embedding?: unknown };
    if (typeof item !== "object" || item === null || !("id" in item) || !Array.isArray(item.embedding)) {
      throw inputError(path, `line ${line}`, 'expected {"id": ..., "embedding": [numbers]}');
    }
    const embedding = item.embedding as unknown[];
    const dim = rows?.width ?? embedding.length;
    if (embedding.length !== dim || dim === 0)
      throw inputError(path, `line ${line}`, `expected an embedding of ${dim || "at least 1"} numbers like the first line, found ${embedding.length}`);
    rows ??= new RowBlocks(dim);
    const { data, offset } = rows.next();
    for (let j = 0; j < dim; j++) {
      const v = embedding[j];
      if (typeof v !== "number" || !Number.isFinite(v))
        throw inputError(path, `line ${line}`, `expected a finite number at embedding[${j}], found ${JSON.stringify(v)}`);
      data[offset + j] = v;
    }
    ids.push(String(item.id));
    if (textKey !== undefined) {
      const text = (item as Record<string, unknown>)[textKey];
      if (typeof text !== "string")
        throw inputError(path, `line ${line}`, `expected a string at ${JSON.stringify(textKey)}, found ${text === undefined ? "none" : typeof text}`);
      texts.push(text);
    }
  });
  return { ids, x: rows ? rows.toMatrix() : matrix(0, 0), texts: textKey === undefined ? undefined : texts };
}

/** Labels known so far: ids and their labels (strings; numeric labels stay as written). */
export interface LabeledItems {
  ids: string[];
  labels: string[];
}

/**
 * Labelled items from CSV with a header naming an `id` and a `label` column (label, class or y),
 * or from JSONL with {"id", "label"} per line. A repeated id is an error.
 */
export async function readLabeled(path: string): Promise<LabeledItems> {
  const ids: string[] = [],
    labels: string[] = [];
  const lines: number[] = [];
  if (/\.jsonl(\.gz)?$/i.test(path)) {
    await forEachJsonLine(path, (value, line) => {
      const item = value as { id?: unknown; label?: unknown };
      if (typeof item !== "object" || item === null || item.id === undefined || item.label === undefined || item.label === null) {
        throw inputError(path, `line ${line}`, 'expected {"id": ..., "label": ...}');
      }
      ids.push(String(item.id));
      labels.push(String(item.label));
      lines.push(line);
    });
  } else if (/\.(csv|tsv)(\.gz)?$/i.test(path)) {
    let columns: { id: number; label: number; width: number } | undefined;
    await forEachCsvRow(path, (row) => {
      if (!columns) {
        const names = row.fields().map((f) => f.trim().toLowerCase());
        const id = names.indexOf("id"),
          label = names.findIndex((n) => n === "label" || n === "class" || n === "y");
        if (id < 0 || label < 0)
          throw inputError(
            path,
            `line ${row.line}`,
            `expected a header with an "id" and a "label" column, found ${row
              .fields()
              .map((f) => JSON.stringify(f))
              .join(", ")}`,
          );
        columns = { id, label, width: row.length };
        return;
      }
      if (row.length !== columns.width) throw inputError(path, `line ${row.line}`, `expected ${columns.width} fields like the header, found ${row.length}`);
      const label = row.text(columns.label).trim();
      if (label === "") throw inputError(path, `line ${row.line}`, "expected a label, found an empty field");
      ids.push(row.text(columns.id));
      labels.push(label);
      lines.push(row.line);
    });
  } else {
    throw inputError(path, undefined, "unrecognised labelled-file format: expected .csv, .csv.gz or .jsonl with id and label");
  }
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) throw inputError(path, `line ${lines[i]}`, `id ${JSON.stringify(id)} is labelled twice`);
    seen.add(id);
  });
  return { ids, labels };
}
