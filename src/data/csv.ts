import { inputError } from "../errors.js";
import type { Matrix } from "../linalg/matrix.js";
import { CsvParser, type CsvRow } from "./csv-parser.js";
import { parseDecimal } from "./decimal.js";
import { readTextChunks } from "./files.js";
import { RowBlocks } from "./row-blocks.js";

/** Each row of a CSV file (.csv, .tsv, optionally .gz), streamed; the row view is reused between calls. */
export async function forEachCsvRow(path: string, onRow: (row: CsvRow) => void): Promise<void> {
  const delimiter = /\.tsv(\.gz)?$/i.test(path) ? "\t" : ",";
  const parser = new CsvParser(onRow, (line, message) => {
    throw inputError(path, `line ${line}`, message);
  }, delimiter);
  for await (const chunk of readTextChunks(path)) parser.push(chunk);
  parser.end();
}

/** A column chosen by header name or by 0-based index. */
export type ColumnRef = string | number;

export interface CsvTableOptions {
  /** The label column; default a column named label, class or y, else the last. `false`: none. */
  labelColumn?: ColumnRef | false;
  /** The id column; default a column named id, if any. `false`: none. */
  idColumn?: ColumnRef | false;
}

export interface CsvTable {
  featureNames: string[];
  x: Matrix;
  labels?: string[];
  ids?: string[];
}

/**
 * A numeric table from a CSV file: the header is optional (the first row is a header when one of
 * its fields is not a number where the second row has one), quoted numbers are numbers, and every
 * non-label, non-id field must be a finite number. Rows are read in streamed blocks, so the peak
 * memory is about twice the features' float32 size.
 */
export async function readCsvTable(path: string, options: CsvTableOptions = {}): Promise<CsvTable> {
  let layout: Layout | undefined, rows: RowBlocks | undefined;
  const labels: string[] = [], ids: string[] = [];

  const addRow = (row: CsvRow) => {
    const l = layout!;
    if (row.length !== l.width) {
      throw inputError(path, `line ${row.line}`, `expected ${l.width} fields${l.header ? " like the header" : " like the first row"}, found ${row.length}`);
    }
    rows ??= new RowBlocks(l.features.length);
    const { data: block, offset: o } = rows.next();
    for (let j = 0; j < l.features.length; j++) {
      const column = l.features[j];
      const v = row.number(column);
      if (!Number.isFinite(v)) {
        const text = row.text(column);
        const what = text.trim() === "" ? "an empty field" : JSON.stringify(text);
        throw inputError(path, `line ${row.line}, column ${JSON.stringify(l.names[column])}`, `expected a finite number, found ${what}`);
      }
      block[o + j] = v;
    }
    if (l.label >= 0) {
      const label = row.text(l.label).trim();
      if (label === "") throw inputError(path, `line ${row.line}, column ${JSON.stringify(l.names[l.label])}`, "expected a label, found an empty field");
      labels.push(label);
    }
    if (l.id >= 0) ids.push(row.text(l.id));
  };

  // The first two rows decide whether there is a header; the first is kept as text until then.
  let first: { fields: string[]; line: number } | undefined;
  const addFirst = () => {
    const f = first!;
    addRow({ line: f.line, length: f.fields.length, text: (i) => f.fields[i], number: (i) => parseNumber(f.fields[i]), fields: () => f.fields });
  };
  await forEachCsvRow(path, (row) => {
    if (layout) return addRow(row);
    if (!first) {
      first = { fields: row.fields(), line: row.line };
      return;
    }
    layout = planColumns(path, first.fields, row.fields(), options);
    if (!layout.header) addFirst();
    addRow(row);
  });
  if (!layout && first) {
    layout = planColumns(path, first.fields, undefined, options);
    if (!layout.header) addFirst();
  }
  if (!layout || !rows) throw inputError(path, undefined, "expected at least one data row, found none");
  const x = rows.toMatrix();
  return {
    featureNames: layout.features.map((c) => layout!.names[c]),
    x,
    labels: layout.label >= 0 ? labels : undefined,
    ids: layout.id >= 0 ? ids : undefined,
  };
}

interface Layout {
  header: boolean;
  width: number;
  names: string[];
  features: number[];
  label: number;
  id: number;
}

/** Number() but empty text is not 0. */
export function parseNumber(text: string): number {
  return parseDecimal(text, 0, text.length);
}

function planColumns(path: string, first: string[], second: string[] | undefined, options: CsvTableOptions): Layout {
  const isNumber = (t: string) => Number.isFinite(parseNumber(t));
  const header = second
    ? first.some((t, j) => !isNumber(t) && j < second.length && isNumber(second[j])) || first.every((t) => !isNumber(t))
    : first.some((t) => !isNumber(t));
  const width = first.length;
  const names = header ? first.map((t) => t.trim()) : first.map((_, j) => `column ${j}`);
  const resolve = (ref: ColumnRef, role: string): number => {
    if (typeof ref === "number" || (/^-?\d+$/.test(ref) && !names.includes(ref))) {
      const index = Number(ref);
      const j = index < 0 ? width + index : index;
      if (!(j >= 0 && j < width)) throw inputError(path, "line 1", `the ${role} column index ${ref} is outside 0..${width - 1}`);
      return j;
    }
    const j = names.findIndex((name) => name === ref);
    if (j < 0) {
      throw inputError(path, "line 1", `expected a ${role} column named ${JSON.stringify(ref)}, found ${header ? `columns ${names.map((c) => JSON.stringify(c)).join(", ")}` : "no header"}`);
    }
    return j;
  };
  const byName = (candidates: string[]) => (header ? names.findIndex((name) => candidates.includes(name.toLowerCase())) : -1);
  const id = options.idColumn === false ? -1 : options.idColumn !== undefined ? resolve(options.idColumn, "id") : byName(["id"]);
  let label = -1;
  if (options.labelColumn !== false) {
    if (options.labelColumn !== undefined) label = resolve(options.labelColumn, "label");
    else {
      label = byName(["label", "class", "y"]);
      if (label < 0) label = width - 1;
    }
    if (label === id) throw inputError(path, "line 1", `the label column ${JSON.stringify(names[label])} is also the id column`);
  }
  const features = Array.from({ length: width }, (_, j) => j).filter((j) => j !== label && j !== id);
  if (features.length === 0) throw inputError(path, "line 1", "expected at least one feature column besides the label and id columns, found none");
  return { header, width, names, features, label, id };
}
