import { inputError } from "../errors.js";
import type { Matrix } from "../linalg/matrix.js";
import { CsvParser, WhitespaceParser, type CsvRow, type TableParser } from "./csv-parser.js";
import { parseDecimal } from "./decimal.js";
import { readTextChunks } from "./files.js";
import { RowBlocks } from "./row-blocks.js";

/** How the fields of a text table are separated; "whitespace" is runs of spaces or tabs. */
export type Delimiter = "," | "\t" | ";" | "|" | "whitespace";

export const DELIMITER_NAMES: Record<string, Delimiter> = {
  ",": ",",
  comma: ",",
  "\t": "\t",
  "\\t": "\t",
  tab: "\t",
  ";": ";",
  semicolon: ";",
  "|": "|",
  pipe: "|",
  " ": "whitespace",
  space: "whitespace",
  spaces: "whitespace",
  whitespace: "whitespace",
};

/**
 * Each row of a text table (any extension, optionally .gz), streamed; the row view is reused
 * between calls. The delimiter is sniffed from the first lines unless given.
 */
export async function forEachCsvRow(path: string, onRow: (row: CsvRow) => void, delimiter?: Delimiter): Promise<void> {
  let parser: TableParser | undefined;
  for await (const chunk of readTextChunks(path)) {
    if (!parser) {
      const d = delimiter ?? sniffDelimiter(chunk);
      parser =
        d === "whitespace"
          ? new WhitespaceParser(onRow)
          : new CsvParser(
              onRow,
              (line, message) => {
                throw inputError(path, `line ${line}`, message);
              },
              d,
            );
    }
    parser.push(chunk);
  }
  parser?.end();
}

const SNIFF_LINES = 20;

/**
 * The delimiter that splits the first lines of `text` into the same number (≥ 2) of fields:
 * comma, tab, semicolon or pipe (quotes respected), else runs of blanks. A table of one column,
 * or one that no candidate splits evenly, is read as comma-separated (a ragged row is then
 * reported with its line).
 */
export function sniffDelimiter(text: string): Delimiter {
  const lines = text.split("\n");
  if (lines.length > 1) lines.pop(); // may be cut off mid-line
  const sample = lines
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l.trim() !== "")
    .slice(0, SNIFF_LINES);
  const even = (counts: number[]) => counts.length > 0 && counts[0] >= 2 && counts.every((c) => c === counts[0]);
  for (const d of [",", "\t", ";", "|"] as const) {
    if (even(sample.map((line) => countFields(line, d)))) return d;
  }
  if (even(sample.map((line) => line.trim().split(/[ \t]+/).length))) return "whitespace";
  return ",";
}

/** Fields of one line split by `delimiter`, outside double quotes. */
function countFields(line: string, delimiter: string): number {
  let fields = 1,
    quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === delimiter && !quoted) fields++;
  }
  return fields;
}

/** A column chosen by header name or by 0-based index. */
export type ColumnRef = string | number;

export interface CsvTableOptions {
  /** The label column; default a column named label, class or y, else the last. `false`: none. */
  labelColumn?: ColumnRef | false;
  /** The id column; default a column named id, if any. `false`: none. */
  idColumn?: ColumnRef | false;
  /** Default: sniffed from the first lines. */
  delimiter?: Delimiter;
  /** Whether the first row is a header; default: detected (see readCsvTable). */
  header?: boolean;
  /** A column kept as text (an item's text or image path), not read as a feature. */
  textColumn?: ColumnRef;
}

export interface CsvTable {
  featureNames: string[];
  x: Matrix;
  labels?: string[];
  ids?: string[];
  /** The text column's values, when one was asked for. */
  texts?: string[];
}

/**
 * A numeric table from a text file: the delimiter is sniffed (see sniffDelimiter), the header is
 * optional (the first row is a header when one of its fields is not a number where the second row
 * has one), padded and quoted numbers are numbers, and every
 * field that is not the label, id or text column must be a finite number. Rows are read in streamed blocks, so the peak
 * memory is about twice the features' float32 size.
 */
export async function readCsvTable(path: string, options: CsvTableOptions = {}): Promise<CsvTable> {
  let layout: Layout | undefined, rows: RowBlocks | undefined;
  const labels: string[] = [],
    ids: string[] = [],
    texts: string[] = [];

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
    if (l.text >= 0) texts.push(row.text(l.text));
  };

  // The first two rows decide whether there is a header; the first is kept as text until then.
  let first: { fields: string[]; line: number } | undefined;
  const addFirst = () => {
    const f = first!;
    addRow({ line: f.line, length: f.fields.length, text: (i) => f.fields[i], number: (i) => parseNumber(f.fields[i]), fields: () => f.fields });
  };
  await forEachCsvRow(
    path,
    (row) => {
      if (layout) return addRow(row);
      if (!first) {
        first = { fields: row.fields(), line: row.line };
        return;
      }
      layout = planColumns(path, first.fields, row.fields(), options);
      if (!layout.header) addFirst();
      addRow(row);
    },
    options.delimiter,
  );
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
    texts: layout.text >= 0 ? texts : undefined,
  };
}

interface Layout {
  header: boolean;
  width: number;
  names: string[];
  features: number[];
  label: number;
  id: number;
  text: number;
}

/** Number() but empty text is not 0. */
export function parseNumber(text: string): number {
  return parseDecimal(text, 0, text.length);
}

function planColumns(path: string, first: string[], second: string[] | undefined, options: CsvTableOptions): Layout {
  const isNumber = (t: string) => Number.isFinite(parseNumber(t));
  const header =
    options.header ??
    (second
      ? first.some((t, j) => !isNumber(t) && j < second.length && isNumber(second[j])) || first.every((t) => !isNumber(t))
      : first.some((t) => !isNumber(t)));
  const width = first.length;
  const names = header ? first.map((t) => t.trim()) : first.map((_, j) => `column ${j}`);
  const resolve = (ref: ColumnRef, role: string): number => {
    if (typeof ref === "number" || (/^-?\d+$/.test(ref) && !names.includes(ref))) {
      const index = Number(ref);
      const j = index < 0 ? width + index : index;
      if (!(j >= 0 && j < width)) throw inputError(path, "line 1", `the ${role} column index ${ref} is outside 0..${width - 1}`);
      return j;
    }
    const j = names.indexOf(ref);
    if (j < 0) {
      throw inputError(
        path,
        "line 1",
        `expected a ${role} column named ${JSON.stringify(ref)}, found ${header ? `columns ${names.map((c) => JSON.stringify(c)).join(", ")}` : "no header"}`,
      );
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
  const text = options.textColumn === undefined ? -1 : resolve(options.textColumn, "text");
  if (text >= 0 && (text === id || text === label))
    throw inputError(path, "line 1", `the text column ${JSON.stringify(names[text])} is also the ${text === id ? "id" : "label"} column`);
  const features = Array.from({ length: width }, (_, j) => j).filter((j) => j !== label && j !== id && j !== text);
  if (features.length === 0) throw inputError(path, "line 1", "expected at least one feature column besides the label, id and text columns, found none");
  return { header, width, names, features, label, id, text };
}
