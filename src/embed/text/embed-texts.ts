import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { UserError } from "../../errors.js";
import type { TextList } from "../../data/text/corpus.js";
import { EmbeddingWriter } from "../writer.js";
import { fitTextModel, savedFingerprint, loadTextModel, type FittedTextModel, type TextModelChoice, type TextRowsNotes } from "./text-model.js";

export interface EmbedTextsOptions {
  texts: TextList;
  model: TextModelChoice;
  /** The .npy to write; X.ids, X.labels and, for a model fitted here, X.text-model.json go beside it. */
  out: string;
  /** Texts per batch between progress reports and resumable checkpoints (default 2,000). */
  batch?: number;
  onPhase?: (phase: string) => void;
  onProgress?: (progress: { done: number; total: number; textsPerSecond: number; etaMs?: number }) => void;
}

export interface EmbedTextsResult {
  rows: number;
  dim: number;
  description: string;
  /** Texts taken over from an interrupted run with the same arguments. */
  resumedFrom: number;
  /** Summed over the batches: empty rows always; word tokens and those without a vector for glove-100d; texts cut short for an encoder. */
  notes: TextRowsNotes;
  files: { embeddings: string; ids: string; labels?: string; model?: string[] };
  ms: number;
}

/** Where the model fitted for OUT.npy is saved: OUT.text-model.json. */
export const textModelPath = (out: string) => out.replace(/\.npy$/i, "") + ".text-model.json";

/**
 * Embed texts: fit the model on them (or read a saved one), save it beside the output so that new
 * texts can be embedded the same way (`--model OUT.text-model.json`), then write the rows in
 * batches to OUT.partial with progress after each. A rerun with the same arguments takes over the
 * saved model and the rows done; the .npy, .ids and .labels appear together at the end.
 */
export async function embedTexts(options: EmbedTextsOptions): Promise<EmbedTextsResult> {
  const started = performance.now();
  const { texts, out } = options;
  if (!/\.npy$/i.test(out)) throw new UserError(`embed: --out must name a .npy file, got ${JSON.stringify(out)}`);
  const fingerprint = createHash("sha256")
    .update(JSON.stringify({ model: options.model, ids: texts.ids, labels: texts.labels ?? null }))
    .update(texts.texts.join("\u0000"))
    .digest("hex");
  const modelFile = textModelPath(out);
  // Models fitted on these texts are saved beside the rows; a saved model or an encoder folder is already a file.
  const fitsHere = options.model.kind === "tfidf" || options.model.kind === "glove-100d";
  let model: FittedTextModel;
  const phase = options.onPhase ?? (() => {});
  if (fitsHere && existsSync(modelFile) && savedFingerprint(modelFile) === fingerprint) {
    phase(`reading the model an earlier run fitted (${modelFile})`);
    model = await loadTextModel(modelFile);
  } else {
    model = await fitTextModel(options.model, texts.texts, phase);
  }
  const writer = new EmbeddingWriter(out, fingerprint);
  if (fitsHere && savedFingerprint(modelFile) !== fingerprint) model.save!(modelFile, fingerprint);
  const resumedFrom = writer.next;
  const total = texts.texts.length,
    batch = options.batch ?? 2000;
  const notes = { tokens: 0, outOfVocabulary: 0, emptyRows: 0, truncated: 0 };
  const runStarted = performance.now();
  for (let start = writer.next; start < total; start += batch) {
    const { rows, notes: part } = await model.embed(texts.texts.slice(start, start + batch));
    notes.tokens += part.tokens ?? 0;
    notes.outOfVocabulary += part.outOfVocabulary ?? 0;
    notes.emptyRows += part.emptyRows;
    notes.truncated += part.truncated ?? 0;
    writer.append(rows.data, rows.rows, rows.cols, start + rows.rows, []);
    const done = writer.next,
      rate = ((done - resumedFrom) / (performance.now() - runStarted)) * 1000;
    options.onProgress?.({ done, total, textsPerSecond: rate, etaMs: rate > 0 ? ((total - done) / rate) * 1000 : undefined });
  }
  const files = writer.finish(texts.ids, texts.labels);
  return {
    rows: writer.rows,
    dim: writer.dim!,
    description: model.description,
    resumedFrom,
    notes:
      model.kind === "glove-100d"
        ? { tokens: notes.tokens, outOfVocabulary: notes.outOfVocabulary, emptyRows: notes.emptyRows }
        : model.kind === "encoder"
          ? { emptyRows: notes.emptyRows, truncated: notes.truncated }
          : { emptyRows: notes.emptyRows },
    files: { ...files, model: fitsHere ? (model.kind === "tfidf" ? [modelFile, modelFile.replace(/\.json$/, ".npy")] : [modelFile]) : undefined },
    ms: performance.now() - started,
  };
}
