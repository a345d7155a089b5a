import { existsSync, readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { inputError, UserError } from "../../errors.js";
import { matrix, type Matrix } from "../../linalg/matrix.js";
import { onnxRuntime, openSession, type OrtSession } from "../session.js";

/** The token ids of one text, with special tokens, cut to the model's length. */
export interface EncodedText {
  ids: number[];
  typeIds: number[];
  /** Whether the text had more tokens than the model takes. */
  truncated: boolean;
}

/**
 * A sentence encoder exported from Hugging Face to a folder (`optimum-cli export onnx`):
 * `tokenizer.json` (and `tokenizer_config.json`) tokenised by @huggingface/tokenizers, and
 * `model.onnx` (or `onnx/model.onnx`) run by onnxruntime-node.
 */
export interface TextEncoder {
  dir: string;
  maxLength: number;
  /** What the rows are, for the summary. */
  description: string;
  dim: number;
  encode(text: string): EncodedText;
  /** Rows for `texts` in their order, each L2-normalised, and how many texts were cut to maxLength. */
  embed(texts: readonly string[]): Promise<{ rows: Matrix; truncated: number }>;
}

/** Sequences per ONNX run: sorted by length within a call, so that padding stays small. */
const BATCH = 32;

/** Whether `path` is a folder holding an exported Hugging Face text model. */
export function isEncoderFolder(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true && existsSync(join(path, "tokenizer.json"));
}

function readJson(path: string, what: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw inputError(path, undefined, `cannot read the ${what} (${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "not JSON"})`);
  }
}

/**
 * Open an exported encoder. Its length limit is the smaller of tokenizer_config.json's
 * model_max_length and config.json's max_position_embeddings (512 when neither says), or
 * `maxLength` when given. Its output is `sentence_embedding` when it has one (taken as is),
 * else `last_hidden_state` (or its first output) averaged over the attention mask, as
 * sentence-transformers' mean pooling does; either way each row is L2-normalised.
 */
export async function openTextEncoder(dir: string, options: { maxLength?: number; threads?: number } = {}): Promise<TextEncoder> {
  const modelPath = [join(dir, "model.onnx"), join(dir, "onnx", "model.onnx")].find((p) => existsSync(p));
  if (!modelPath)
    throw inputError(dir, undefined, "no model.onnx (or onnx/model.onnx) in the folder; export one with optimum-cli export onnx --model NAME DIR");
  const tokenizerJson = readJson(join(dir, "tokenizer.json"), "tokenizer");
  const configPath = join(dir, "tokenizer_config.json");
  const tokenizerConfig = existsSync(configPath) ? readJson(configPath, "tokenizer configuration") : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  } catch (error) {
    throw inputError(join(dir, "tokenizer.json"), undefined, `not a tokenizer @huggingface/tokenizers can read (${(error as Error).message})`);
  }
  const modelConfigPath = join(dir, "config.json");
  const positions = existsSync(modelConfigPath) ? Number(readJson(modelConfigPath, "model configuration").max_position_embeddings) : NaN;
  const declared = Number(tokenizerConfig.model_max_length);
  const limits = [declared, positions].filter((n) => Number.isInteger(n) && n > 0 && n < 1e6);
  const maxLength = options.maxLength ?? (limits.length ? Math.min(...limits) : 512);
  const padToken = typeof tokenizerConfig.pad_token === "string" ? tokenizerConfig.pad_token : undefined;
  const padId = (padToken !== undefined ? tokenizer.token_to_id(padToken) : undefined) ?? (tokenizerJson.padding as { pad_id?: number } | null)?.pad_id ?? 0;

  const session = await openSession(modelPath, options.threads ?? availableParallelism());
  const inputs = new Set(session.inputNames);
  for (const needed of ["input_ids", "attention_mask"]) {
    if (!inputs.has(needed))
      throw inputError(modelPath, undefined, `expected a text encoder with inputs input_ids and attention_mask, found ${session.inputNames.join(", ")}`);
  }
  const output = session.outputNames.includes("sentence_embedding")
    ? "sentence_embedding"
    : session.outputNames.includes("last_hidden_state")
      ? "last_hidden_state"
      : session.outputNames[0];

  const encode = (text: string): EncodedText => truncate(tokenizer, text, maxLength);
  const probe = await runBatch(session, [encode("a")], padId, inputs.has("token_type_ids"), output);
  return {
    dir,
    maxLength,
    dim: probe.cols,
    description: `${dir}: ${output === "sentence_embedding" ? "its sentence_embedding" : `${output}, mean over the attention mask`}, L2-normalised, at most ${maxLength} tokens`,
    encode,
    async embed(texts) {
      const encoded = texts.map(encode);
      // Longest first within the call: a batch pads to its longest sequence, so neighbours by length waste least.
      const order = Array.from(encoded.keys()).sort((a, b) => encoded[b].ids.length - encoded[a].ids.length || a - b);
      const rows = matrix(texts.length, probe.cols);
      for (let start = 0; start < order.length; start += BATCH) {
        const batch = order.slice(start, start + BATCH);
        const out = await runBatch(
          session,
          batch.map((i) => encoded[i]),
          padId,
          inputs.has("token_type_ids"),
          output,
        );
        batch.forEach((i, b) => rows.data.set(out.data.subarray(b * out.cols, (b + 1) * out.cols), i * out.cols));
      }
      return { rows, truncated: encoded.filter((e) => e.truncated).length };
    },
  };
}

/**
 * A text's ids with the tokenizer's special tokens, cut to `maxLength` as Hugging Face's
 * truncation does for one sequence: the text's own tokens are cut at the end and the special
 * tokens around them ([CLS] … [SEP], <s> … </s>) are kept.
 */
function truncate(tokenizer: Tokenizer, text: string, maxLength: number): EncodedText {
  const full = tokenizer.encode(text, { return_token_type_ids: true });
  if (full.ids.length <= maxLength) return { ids: full.ids, typeIds: full.token_type_ids, truncated: false };
  const bare: number[] = tokenizer.encode(text, { add_special_tokens: false }).ids;
  const extra = full.ids.length - bare.length;
  // Where the text's tokens sit among the special ones.
  let prefix = 0;
  while (prefix <= extra && !bare.every((id, k) => full.ids[prefix + k] === id)) prefix++;
  if (prefix > extra || extra >= maxLength) throw new UserError(`the tokenizer's special tokens leave no room for text within ${maxLength} tokens`);
  const keep = maxLength - extra;
  const pick = (values: number[]) => [...values.slice(0, prefix + keep), ...values.slice(prefix + bare.length)];
  return { ids: pick(full.ids), typeIds: pick(full.token_type_ids), truncated: true };
}

/** One ONNX run over sequences padded to the longest, pooled and L2-normalised. */
async function runBatch(session: OrtSession, batch: EncodedText[], padId: number, withTypes: boolean, output: string): Promise<Matrix> {
  const ort = onnxRuntime();
  const n = batch.length,
    t = Math.max(...batch.map((e) => e.ids.length));
  const ids = new BigInt64Array(n * t).fill(BigInt(padId)),
    mask = new BigInt64Array(n * t),
    types = new BigInt64Array(n * t);
  batch.forEach((e, b) => {
    e.ids.forEach((id, k) => {
      ids[b * t + k] = BigInt(id);
      mask[b * t + k] = 1n;
      types[b * t + k] = BigInt(e.typeIds[k] ?? 0);
    });
  });
  const feeds: Record<string, ReturnType<typeof tensor>> = { input_ids: tensor(ids), attention_mask: tensor(mask) };
  if (withTypes) feeds.token_type_ids = tensor(types);
  const result = (await session.run(feeds, [output]))[output];
  const data = result.data as Float32Array;
  const dims = result.dims;
  let rows: Matrix;
  if (dims.length === 2) rows = { rows: n, cols: dims[1], data: Float32Array.from(data) };
  else if (dims.length === 3 && dims[1] === t) {
    const d = dims[2];
    rows = matrix(n, d);
    for (let b = 0; b < n; b++) {
      const length = batch[b].ids.length;
      for (let k = 0; k < length; k++) for (let c = 0; c < d; c++) rows.data[b * d + c] += data[(b * t + k) * d + c];
      for (let c = 0; c < d; c++) rows.data[b * d + c] /= length;
    }
  } else throw new UserError(`output ${JSON.stringify(output)} of shape [${dims.join(", ")}]: expected N×D, or N×T×D with T the ${t} tokens`);
  normalizeRows(rows);
  return rows;

  function tensor(values: BigInt64Array) {
    return new ort.Tensor("int64", values, [n, t]);
  }
}

/** Each row divided by its Euclidean norm (a zero row stays zero). */
function normalizeRows(x: Matrix): void {
  for (let i = 0; i < x.rows; i++) {
    let sum = 0;
    for (let c = 0; c < x.cols; c++) sum += x.data[i * x.cols + c] ** 2;
    const norm = Math.sqrt(sum);
    if (norm > 0) for (let c = 0; c < x.cols; c++) x.data[i * x.cols + c] /= norm;
  }
}
