import { CsvParser } from "../data/csv-parser.js";
import { badRequest } from "./http.js";
import type { LabelRow, Project } from "./store/store.js";

export const EXCHANGE_FORMATS = ["csv", "jsonl", "labelstudio"] as const;
export type ExchangeFormat = (typeof EXCHANGE_FORMATS)[number];

type ExportedLabel = LabelRow & { id: string };

const csvField = (text: string) => (/[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

/**
 * Labels as CSV (id,label,annotator,time), JSONL (the same fields) or Label Studio tasks (one per
 * labelled item, the label as a `choices` annotation and the model's guess shown at the time as
 * a prediction with its score and model_version).
 */
export function exportLabels(format: ExchangeFormat, labels: ExportedLabel[], project: Project): { contentType: string; body: string } {
  const time = (l: ExportedLabel) => new Date(l.createdAt).toISOString();
  if (format === "csv") {
    return { contentType: "text/csv; charset=utf-8", body: ["id,label,annotator,time", ...labels.map((l) => [csvField(l.id), csvField(l.label), csvField(l.annotator), time(l)].join(","))].join("\n") + "\n" };
  }
  if (format === "jsonl") {
    return { contentType: "application/x-ndjson; charset=utf-8", body: labels.map((l) => JSON.stringify({ id: l.id, label: l.label, annotator: l.annotator, time: time(l) }) + "\n").join("") };
  }
  const choice = (label: string) => [{ from_name: "label", to_name: "item", type: "choices", value: { choices: [label] } }];
  const tasks = labels.map((l, i) => ({
    id: i + 1,
    data: { item: l.id, project: project.name },
    annotations: [{ result: choice(l.label), completed_by: l.annotator, created_at: time(l) }],
    predictions: l.predicted === null ? [] : [{ model_version: `${project.name}@${l.modelVersion}`, score: l.confidence, result: choice(l.predicted) }],
  }));
  return { contentType: "application/json; charset=utf-8", body: JSON.stringify(tasks) + "\n" };
}

/** Labels to import, each with where it came from (for a one-line error). */
export interface ImportedLabel {
  id: string;
  label: string;
  annotator?: string;
  where: string;
}

/** Parse an import: CSV with id and label columns (annotator optional), JSONL {id, label}, or a Label Studio export. */
export function parseImport(format: ExchangeFormat, text: string): ImportedLabel[] {
  if (format === "csv") {
    const out: ImportedLabel[] = [];
    let columns: { id: number; label: number; annotator: number } | undefined;
    const parser = new CsvParser((row) => {
      if (!columns) {
        const names = row.fields().map((f) => f.trim().toLowerCase());
        columns = { id: names.indexOf("id"), label: names.indexOf("label"), annotator: names.indexOf("annotator") };
        if (columns.id < 0 || columns.label < 0) throw badRequest(`csv (line ${row.line}): expected a header with "id" and "label" columns`);
        return;
      }
      const label = row.text(columns.label).trim();
      if (label === "") throw badRequest(`csv (line ${row.line}): expected a label, found an empty field`);
      out.push({ id: row.text(columns.id), label, annotator: columns.annotator >= 0 ? row.text(columns.annotator) || undefined : undefined, where: `csv (line ${row.line})` });
    }, (line, message) => {
      throw badRequest(`csv (line ${line}): ${message}`);
    });
    parser.push(text);
    parser.end();
    return out;
  }
  if (format === "jsonl") {
    return text.split("\n").flatMap((line, i) => {
      if (line.trim() === "") return [];
      let value: { id?: unknown; label?: unknown; annotator?: unknown };
      try {
        value = JSON.parse(line);
      } catch {
        throw badRequest(`jsonl (line ${i + 1}): expected a JSON object`);
      }
      if (value === null || typeof value !== "object" || value.id === undefined || typeof value.label !== "string") throw badRequest(`jsonl (line ${i + 1}): expected {"id": ..., "label": "..."}`);
      return [{ id: String(value.id), label: value.label, annotator: typeof value.annotator === "string" ? value.annotator : undefined, where: `jsonl (line ${i + 1})` }];
    });
  }
  let tasks: unknown;
  try {
    tasks = JSON.parse(text);
  } catch {
    throw badRequest("labelstudio: expected a JSON array of tasks (a Label Studio JSON export)");
  }
  if (!Array.isArray(tasks)) throw badRequest("labelstudio: expected a JSON array of tasks (a Label Studio JSON export)");
  return tasks.flatMap((task: { id?: unknown; data?: Record<string, unknown>; annotations?: { result?: { value?: { choices?: unknown[] } }[]; completed_by?: unknown }[] }, i) => {
    const where = `labelstudio (task ${i + 1})`;
    const id = task?.data?.item ?? task?.data?.id;
    if (id === undefined) throw badRequest(`${where}: expected data.item (or data.id) naming the item`);
    // The last annotation that chose a class is the label; tasks without one are skipped.
    const annotation = [...(task.annotations ?? [])].reverse().find((a) => typeof a?.result?.[0]?.value?.choices?.[0] === "string");
    if (!annotation) return [];
    const by = annotation.completed_by;
    return [{ id: String(id), label: annotation.result![0].value!.choices![0] as string, annotator: typeof by === "string" ? by : by === undefined ? undefined : `labelstudio:${JSON.stringify(by)}`, where }];
  });
}
