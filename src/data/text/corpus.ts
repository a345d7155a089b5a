import { readFileSync } from "node:fs";
import { inputError, UserError } from "../../errors.js";
import { forEachCsvRow, type ColumnRef } from "../csv.js";
import { forEachLine } from "../files.js";
import { isDirectoryPath, listImageFolder } from "../images/folder.js";
import { builtInTexts } from "./built-in.js";
import type { TextList, TextSplits } from "./text-list.js";

export type { TextList, TextSplits } from "./text-list.js";

export interface TextReadOptions {
  /** Tables and JSONL: the field holding the text (default `text`). */
  textColumn?: ColumnRef;
  /** Tables and JSONL: the label field (default label, class or y when there is one; none otherwise). */
  labelColumn?: ColumnRef;
  /** Tables and JSONL: the id field (default `id` when there is one, else the row number from 0). */
  idColumn?: ColumnRef;
}

/** Text files in a class-folder layout. */
export const TEXT_FILES = { extensions: [".txt"], noun: "text files" };

/**
 * A text corpus from a built-in name (imdb, spam), a folder of .txt files (DIR/<class>/*.txt, or
 * DIR/train|test/<class>/…), a JSONL file (one object per line) or a CSV/TSV table with a header.
 * Every text must be non-empty after trimming: an empty one is an error naming its row or file.
 */
export async function readTexts(spec: string, options: TextReadOptions = {}): Promise<TextSplits> {
  const builtIn = builtInTexts.find((d) => d.name === spec);
  if (builtIn) return builtIn.load();
  if (isDirectoryPath(spec)) return readTextFolder(spec);
  const list = /\.jsonl$/i.test(spec) ? await readJsonl(spec, options) : await readTextTable(spec, options);
  checkUniqueIds(list);
  return { train: list };
}

/** Train then test as one list; labels kept when every part has them. */
export function joinSplits({ train, test }: TextSplits): TextList {
  if (!test) return train;
  return {
    source: train.source,
    texts: [...train.texts, ...test.texts],
    ids: [...train.ids, ...test.ids],
    labels: train.labels && test.labels ? [...train.labels, ...test.labels] : undefined,
  };
}

/** Whether `spec` names text rather than numbers: a built-in text set, or a folder of .txt files only. */
export function isTextSource(spec: string): boolean {
  if (builtInTexts.some((d) => d.name === spec)) return true;
  if (!isDirectoryPath(spec)) return false;
  try {
    listImageFolder(spec, TEXT_FILES);
    return true;
  } catch {
    return false;
  }
}

function readTextFolder(dir: string): TextSplits {
  const read = (list: ReturnType<typeof listImageFolder>["train"]): TextList => ({
    source: list.source,
    ids: list.ids,
    labels: list.labels,
    texts: list.files.map((file) => {
      const text = readFileSync(file, "utf8").replace(/^\uFEFF/, "");
      if (text.trim() === "") throw inputError(file, undefined, "an empty text file");
      return text;
    }),
  });
  const splits = listImageFolder(dir, TEXT_FILES);
  return { train: read(splits.train), test: splits.test ? read(splits.test) : undefined };
}

const LABEL_NAMES = ["label", "class", "y"];

/** The position of `ref` among `names` (a name, or a 0-based index), or -1 when `ref` is undefined and no default fits. */
function findColumn(names: string[], ref: ColumnRef | undefined, defaults: string[], what: string, source: string): number {
  if (ref === undefined) {
    const lower = names.map((n) => n.trim().toLowerCase());
    return lower.findIndex((n) => defaults.includes(n));
  }
  const at = typeof ref === "number" ? ref : names.findIndex((n) => n.trim() === ref);
  if (at < 0 || at >= names.length) throw inputError(source, "header", `no ${what} column ${JSON.stringify(ref)} (columns: ${names.slice(0, 20).join(", ")})`);
  return at;
}

/** A CSV (or TSV, by extension or sniffed) table whose first row is a header. */
async function readTextTable(path: string, options: TextReadOptions): Promise<TextList> {
  const list: TextList = { source: path, texts: [], ids: [] };
  let columns: { text: number; label: number; id: number; width: number; names: string[] } | undefined;
  const delimiter = /\.tsv(\.gz)?$/i.test(path) ? "\t" : /\.csv(\.gz)?$/i.test(path) ? "," : undefined;
  await forEachCsvRow(
    path,
    (row) => {
      if (!columns) {
        const names = row.fields();
        const text = findColumn(names, options.textColumn, ["text"], "text", path);
        if (text < 0)
          throw inputError(path, "header", `expected a text column "text" (columns: ${names.slice(0, 20).join(", ")}): name another with --text-column`);
        columns = {
          text,
          label: findColumn(names, options.labelColumn, LABEL_NAMES, "label", path),
          id: findColumn(names, options.idColumn, ["id"], "id", path),
          width: names.length,
          names,
        };
        if (columns.label >= 0) list.labels = [];
        return;
      }
      if (row.length !== columns.width) throw inputError(path, `line ${row.line}`, `expected ${columns.width} fields like the header, found ${row.length}`);
      const text = row.text(columns.text);
      if (text.trim() === "") throw inputError(path, `line ${row.line}, column ${JSON.stringify(columns.names[columns.text])}`, "an empty text");
      list.texts.push(text);
      list.ids.push(columns.id >= 0 ? row.text(columns.id) : String(list.ids.length));
      if (list.labels) {
        const label = row.text(columns.label).trim();
        if (label === "")
          throw inputError(path, `line ${row.line}, column ${JSON.stringify(columns.names[columns.label])}`, "expected a label, found an empty field");
        list.labels.push(label);
      }
    },
    delimiter,
  );
  if (list.texts.length === 0) throw inputError(path, undefined, "expected a header and at least one row of text, found none");
  return list;
}

/** One JSON object per line; blank lines are skipped. */
async function readJsonl(path: string, options: TextReadOptions): Promise<TextList> {
  const list: TextList = { source: path, texts: [], ids: [] };
  const field = (ref: ColumnRef | undefined, fallback: string) => (ref === undefined ? fallback : String(ref));
  const textField = field(options.textColumn, "text"),
    idField = field(options.idColumn, "id");
  let labelField: string | undefined = options.labelColumn === undefined ? undefined : String(options.labelColumn);
  let first = true;
  await forEachLine(path, (line, number) => {
    if (line.trim() === "") return;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch (error) {
      throw inputError(path, `line ${number}`, `not JSON: ${(error as Error).message}`);
    }
    if (item === null || typeof item !== "object" || Array.isArray(item)) throw inputError(path, `line ${number}`, "expected a JSON object");
    const record = item as Record<string, unknown>;
    if (first) {
      labelField ??= LABEL_NAMES.find((name) => name in record);
      if (labelField !== undefined) list.labels = [];
      first = false;
    }
    const text = record[textField];
    if (typeof text !== "string")
      throw inputError(
        path,
        `line ${number}`,
        `expected a string field ${JSON.stringify(textField)}${options.textColumn === undefined ? " (name another with --text-column)" : ""}`,
      );
    if (text.trim() === "") throw inputError(path, `line ${number}`, `an empty ${JSON.stringify(textField)}`);
    list.texts.push(text);
    const id = record[idField];
    list.ids.push(id === undefined || id === null ? String(list.ids.length) : String(id));
    if (list.labels) {
      const label = record[labelField!];
      if (label === undefined || label === null || String(label).trim() === "")
        throw inputError(path, `line ${number}`, `expected a label in ${JSON.stringify(labelField)}`);
      list.labels.push(String(label).trim());
    }
  });
  if (list.texts.length === 0) throw inputError(path, undefined, "expected at least one JSON line with a text, found none");
  return list;
}

/** Ids must name one text each: a repeated id is an error naming it. */
function checkUniqueIds(list: TextList): void {
  const seen = new Set<string>();
  for (const id of list.ids) {
    if (seen.has(id)) throw new UserError(`${list.source}: the id ${JSON.stringify(id)} names two texts; ids must be unique`);
    seen.add(id);
  }
}
