import { CsvParser } from "../data/csv-parser.js";
import { badRequest } from "./http.js";
import type { ImportedLabel } from "./project-service.js";
import type { LabelRow, Project } from "./store/store.js";

export const EXCHANGE_FORMATS = ["csv", "jsonl", "labelstudio"] as const;
export type ExchangeFormat = (typeof EXCHANGE_FORMATS)[number];

export type ExportedLabel = LabelRow & { id: string };

/**
 * A CSV cell. One that a spreadsheet would run as a formula (starting with =, +, -, @, tab or
 * CR: OWASP's CSV-injection rule) gets a leading ' so that it opens as text; the import takes
 * that quote off again, so export → import gives back the same labels.
 */
export function csvCell(text: string): string {
  // A cell that only looks escaped ('=A) gets a quote too (''=A), so that the import's one-quote removal gives it back.
  const safe = /^'*[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A cell as exported by csvCell, back to its text. */
export const uncsvCell = (text: string) => (/^'+[=+\-@\t\r]/.test(text) ? text.slice(1) : text);

/** How an export is written: its type, what opens and closes it, and each label as text. */
export interface ExportWriter {
  contentType: string;
  extension: string;
  head: string;
  /** The `index`-th label (from 0), with its separator from the one before. */
  row(label: ExportedLabel, index: number): string;
  tail: string;
}

/**
 * Labels as CSV (id,label,annotator,time), JSONL (the same fields) or Label Studio tasks (one per
 * labelled item, the label as a `choices` annotation and the model's guess shown at the time as
 * a prediction with its score and model_version). Written a label at a time, so that a large
 * export can be streamed.
 */
export function exportWriter(format: ExchangeFormat, project: Project): ExportWriter {
  const time = (l: ExportedLabel) => new Date(l.createdAt).toISOString();
  if (format === "csv") {
    return {
      contentType: "text/csv; charset=utf-8",
      extension: "csv",
      head: "id,label,annotator,time\n",
      tail: "",
      row: (l) => `${[csvCell(l.id), csvCell(l.label), csvCell(l.annotator), time(l)].join(",")}\n`,
    };
  }
  if (format === "jsonl") {
    return {
      contentType: "application/x-ndjson; charset=utf-8",
      extension: "jsonl",
      head: "",
      tail: "",
      row: (l) => `${JSON.stringify({ id: l.id, label: l.label, annotator: l.annotator, time: time(l) })}\n`,
    };
  }
  const choice = (label: string) => [{ from_name: "label", to_name: "item", type: "choices", value: { choices: [label] } }];
  return {
    contentType: "application/json; charset=utf-8",
    extension: "json",
    head: "[",
    tail: "]\n",
    row: (l, i) =>
      (i ? "," : "") +
      JSON.stringify({
        id: i + 1,
        data: { item: l.id, project: project.name },
        annotations: [{ result: choice(l.label), completed_by: l.annotator, created_at: time(l) }],
        predictions: l.predicted === null ? [] : [{ model_version: `${project.name}@${l.modelVersion}`, score: l.confidence, result: choice(l.predicted) }],
      }),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string | number => (typeof v === "string" && v !== "") || (typeof v === "number" && Number.isFinite(v));

/** Parse an import: CSV with id and label columns (annotator optional), JSONL {id, label}, or a Label Studio export. */
export function parseImport(format: ExchangeFormat, text: string): ImportedLabel[] {
  if (format === "csv") return parseCsv(text);
  if (format === "jsonl") {
    return text.split("\n").flatMap((line, i) => {
      if (line.trim() === "") return [];
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw badRequest(`jsonl (line ${i + 1}): expected a JSON object`);
      }
      if (!isObject(value) || !isId(value.id) || typeof value.label !== "string")
        throw badRequest(`jsonl (line ${i + 1}): expected {"id": ..., "label": "..."}`);
      return [
        {
          id: String(value.id),
          label: value.label,
          annotator: typeof value.annotator === "string" ? value.annotator : undefined,
          where: `jsonl (line ${i + 1})`,
        },
      ];
    });
  }
  let tasks: unknown;
  try {
    tasks = JSON.parse(text);
  } catch {
    throw badRequest("labelstudio: expected a JSON array of tasks (a Label Studio JSON export)");
  }
  if (!Array.isArray(tasks)) throw badRequest("labelstudio: expected a JSON array of tasks (a Label Studio JSON export)");
  return tasks.flatMap((task: unknown, i) => {
    const where = `labelstudio (task ${i + 1})`;
    if (!isObject(task) || !isObject(task.data)) throw badRequest(`${where}: expected a task object with "data"`);
    const id = task.data.item ?? task.data.id;
    if (!isId(id)) throw badRequest(`${where}: expected data.item (or data.id) naming the item`);
    if (task.annotations !== undefined && !Array.isArray(task.annotations)) throw badRequest(`${where}: expected "annotations" to be a list`);
    // The last annotation that chose a class is the label; tasks without one are skipped.
    const chosen = (a: unknown): string | undefined => {
      if (!isObject(a) || !Array.isArray(a.result)) return undefined;
      const first = a.result[0];
      const choices = isObject(first) && isObject(first.value) ? first.value.choices : undefined;
      return Array.isArray(choices) && typeof choices[0] === "string" ? choices[0] : undefined;
    };
    const annotation = [...((task.annotations as unknown[] | undefined) ?? [])].reverse().find((a) => chosen(a) !== undefined) as
      | Record<string, unknown>
      | undefined;
    if (!annotation) return [];
    const by = annotation.completed_by;
    return [
      {
        id: String(id),
        label: chosen(annotation)!,
        annotator: typeof by === "string" ? by : by === undefined ? undefined : `labelstudio:${JSON.stringify(by)}`,
        where,
      },
    ];
  });
}

function parseCsv(text: string): ImportedLabel[] {
  const out: ImportedLabel[] = [];
  let columns: { id: number; label: number; annotator: number; width: number } | undefined;
  const parser = new CsvParser(
    (row) => {
      if (!columns) {
        const names = row.fields().map((f) => f.trim().toLowerCase());
        columns = { id: names.indexOf("id"), label: names.indexOf("label"), annotator: names.indexOf("annotator"), width: row.length };
        if (columns.id < 0 || columns.label < 0) throw badRequest(`csv (line ${row.line}): expected a header with "id" and "label" columns`);
        return;
      }
      if (row.length !== columns.width) throw badRequest(`csv (line ${row.line}): expected ${columns.width} fields like the header, found ${row.length}`);
      const where = `csv (line ${row.line})`;
      const id = uncsvCell(row.text(columns.id)),
        label = uncsvCell(row.text(columns.label).trim());
      if (id === "") throw badRequest(`${where}: expected an item id, found an empty field`);
      if (label === "") throw badRequest(`${where}: expected a label, found an empty field`);
      const annotator = columns.annotator >= 0 ? uncsvCell(row.text(columns.annotator)) || undefined : undefined;
      out.push({ id, label, annotator, where });
    },
    (line, message) => {
      throw badRequest(`csv (line ${line}): ${message}`);
    },
  );
  parser.push(text);
  parser.end();
  return out;
}
