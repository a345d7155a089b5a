import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readNpy } from "../src/data/npy.js";
import { encodeOnnxModel } from "../src/embed/onnx-writer.js";
import { openTextEncoder } from "../src/embed/text/onnx-encoder.js";
import { Rng } from "../src/random.js";
import { assertClose, cli, fixture, tempDir, userError } from "./helpers.js";

const dir = tempDir();
process.env.ALFAMIX_CACHE_DIR = join(dir, "cache");

// A BERT-style WordPiece tokenizer, as tokenizer.json spells one: lower-casing, splitting on
// whitespace and punctuation, ## continuations, [CLS] … [SEP] around each text.
const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "sat", "play", "##ing", "##ed", ",", "."];
const special = (content: string) => ({
  id: vocab.indexOf(content),
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});
const tokenizerJson = {
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]"].map(special),
  normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: "BertPreTokenizer" },
  post_processor: {
    type: "TemplateProcessing",
    single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } }],
    pair: [
      { SpecialToken: { id: "[CLS]", type_id: 0 } },
      { Sequence: { id: "A", type_id: 0 } },
      { SpecialToken: { id: "[SEP]", type_id: 0 } },
      { Sequence: { id: "B", type_id: 1 } },
      { SpecialToken: { id: "[SEP]", type_id: 1 } },
    ],
    special_tokens: {
      "[CLS]": { id: "[CLS]", ids: [2], tokens: ["[CLS]"] },
      "[SEP]": { id: "[SEP]", ids: [3], tokens: ["[SEP]"] },
    },
  },
  decoder: { type: "WordPiece", prefix: "##", cleanup: true },
  model: {
    type: "WordPiece",
    unk_token: "[UNK]",
    continuing_subword_prefix: "##",
    max_input_chars_per_word: 100,
    vocab: Object.fromEntries(vocab.map((token, id) => [token, id])),
  },
};

// The encoder: token embeddings plus token-type embeddings, as a transformer's first layer; its
// last_hidden_state is N×T×3. The padding token's embedding is not zero, so pooling that forgot
// the attention mask would show.
const rng = new Rng(3);
const tokenEmbeddings = Float32Array.from({ length: vocab.length * 3 }, () => rng.normal(0, 1));
const typeEmbeddings = Float32Array.from({ length: 2 * 3 }, () => rng.normal(0, 0.1));
function writeEncoder(folder: string, config: Record<string, unknown>): string {
  const path = join(dir, folder);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, "tokenizer.json"), JSON.stringify(tokenizerJson));
  writeFileSync(join(path, "tokenizer_config.json"), JSON.stringify(config));
  writeFileSync(
    join(path, "model.onnx"),
    encodeOnnxModel({
      name: "tiny-encoder",
      inputs: ["input_ids", "attention_mask", "token_type_ids"].map((name) => ({ name, shape: ["batch", "sequence"], type: "int64" as const })),
      outputs: [{ name: "last_hidden_state", shape: ["batch", "sequence", 3] }],
      nodes: [
        { op: "Gather", inputs: ["E", "input_ids"], outputs: ["tokens"] },
        { op: "Gather", inputs: ["T", "token_type_ids"], outputs: ["types"] },
        { op: "Add", inputs: ["tokens", "types"], outputs: ["last_hidden_state"] },
      ],
      initializers: [
        { name: "E", dims: [vocab.length, 3], data: tokenEmbeddings },
        { name: "T", dims: [2, 3], data: typeEmbeddings },
      ],
    }),
  );
  return path;
}
const encoderDir = writeEncoder("encoder", { model_max_length: 6, pad_token: "[PAD]", do_lower_case: true });

/** The literal sentence embedding: the mean of E[id] + T[0] over the text's tokens, L2-normalised. */
function expectedRow(ids: number[]): number[] {
  const row = [0, 1, 2].map((c) => ids.reduce((sum, id) => sum + tokenEmbeddings[id * 3 + c] + typeEmbeddings[c], 0) / ids.length);
  const norm = Math.hypot(...row);
  return row.map((v) => v / norm);
}

test("the tokenizer of an exported folder: WordPiece ids with [CLS] and [SEP], cut to the model's length", async () => {
  const long = await openTextEncoder(encoderDir, { maxLength: 16 });
  assert.deepEqual(long.encode("The cat, playing.").ids, [2, 4, 5, 10, 7, 8, 11, 3]);
  assert.deepEqual(long.encode("Dogs sat").ids, [2, 1, 6, 3]);
  // model_max_length 6: the text's own tokens are cut, the [SEP] at the end is kept.
  const short = await openTextEncoder(encoderDir);
  assert.equal(short.maxLength, 6);
  assert.deepEqual(short.encode("The cat, playing.").ids, [2, 4, 5, 10, 7, 3]);
  assert.deepEqual(short.encode("The cat, playing.").typeIds, [0, 0, 0, 0, 0, 0]);
  assert.equal((await short.embed(["The cat, playing.", "the cat"])).truncated, 1, "cut texts are counted");
});

test("the encoder's rows: mean over the attention mask, L2-normalised, in the texts' order whatever their lengths", async () => {
  const encoder = await openTextEncoder(encoderDir, { maxLength: 16 });
  assert.equal(encoder.dim, 3);
  const texts = ["Dogs sat", "The cat, playing.", "the cat sat", "played"];
  const ids = [
    [2, 1, 6, 3],
    [2, 4, 5, 10, 7, 8, 11, 3],
    [2, 4, 5, 6, 3],
    [2, 7, 9, 3],
  ];
  const { rows } = await encoder.embed(texts);
  assertClose(rows.data, ids.flatMap(expectedRow), 1e-5, "rows");
  // One at a time (no padding at all) gives the same rows.
  for (let i = 0; i < texts.length; i++) assertClose((await encoder.embed([texts[i]])).rows.data, expectedRow(ids[i]), 1e-5, `text ${i} alone`);
});

test("a transformer exported from PyTorch: padded batches give the sentence embeddings PyTorch computes text by text", async () => {
  // bench/torch_text_encoder_fixture.py: two self-attention layers that mask padded keys as BERT does.
  const folder = join(dir, "torch-encoder");
  mkdirSync(folder);
  copyFileSync(fixture("text-encoder/model.onnx"), join(folder, "model.onnx"));
  writeFileSync(join(folder, "tokenizer.json"), JSON.stringify(tokenizerJson));
  const expected = JSON.parse(readFileSync(fixture("text-encoder/expected.json"), "utf8")) as { sequences: number[][]; rows: number[][] };
  const encoder = await openTextEncoder(folder);
  assert.equal(encoder.maxLength, 512, "no length in the folder: 512");
  const texts = ["Dogs sat", "The cat, playing.", "the cat sat", "played"];
  assert.deepEqual(
    texts.map((t) => encoder.encode(t).ids),
    expected.sequences,
  );
  assertClose((await encoder.embed(texts)).rows.data, expected.rows.flat(), 1e-4, "rows against PyTorch");
});

test("a SentencePiece Unigram tokenizer (T5's layout): the same ids as SentencePiece, unknown characters included", async () => {
  // bench/spm_unigram_fixture.py: a model SentencePiece trained, its pieces and scores as a tokenizer.json.
  const expected = JSON.parse(readFileSync(fixture("unigram/expected.json"), "utf8")) as { vocab: number; sentences: string[]; ids: number[][] };
  const folder = join(dir, "unigram");
  mkdirSync(folder);
  for (const file of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(fixture(`unigram/${file}`), join(folder, file));
  writeFileSync(
    join(folder, "model.onnx"),
    encodeOnnxModel({
      name: "unigram-encoder",
      inputs: ["input_ids", "attention_mask"].map((name) => ({ name, shape: ["batch", "sequence"], type: "int64" as const })),
      outputs: [{ name: "last_hidden_state", shape: ["batch", "sequence", 2] }],
      nodes: [{ op: "Gather", inputs: ["E", "input_ids"], outputs: ["last_hidden_state"] }],
      initializers: [{ name: "E", dims: [expected.vocab, 2], data: Float32Array.from({ length: expected.vocab * 2 }, (_, i) => (i % 7) - 3) }],
    }),
  );
  const encoder = await openTextEncoder(folder);
  assert.deepEqual(
    expected.sentences.map((text) => encoder.encode(text).ids),
    expected.ids,
  );
  assert.equal((await encoder.embed(expected.sentences)).rows.rows, 4);
});

test("embed --text --model DIR writes rows the encoder computes; a folder without a model is one line", async () => {
  const corpus = join(dir, "corpus");
  for (const [label, text] of [
    ["pets", "the cat sat"],
    ["pets", "Dogs sat."],
    ["games", "playing, played"],
  ]) {
    mkdirSync(join(corpus, label), { recursive: true });
    writeFileSync(join(corpus, label, `${text.length}.txt`), text);
  }
  const out = join(dir, "out", "emb.npy");
  const run = cli("embed", "--text", corpus, "--model", encoderDir, "--max-length", "16", "--out", out, "--quiet");
  assert.equal(run.status, 0, run.stderr);
  const rows = await readNpy(out, "float32");
  assert.deepEqual(rows.shape, [3, 3]);
  // Class folders in order (games, pets), files by name within each: 11.txt before 9.txt.
  assertClose(
    rows.data,
    [
      [2, 7, 8, 10, 7, 9, 3],
      [2, 4, 5, 6, 3],
      [2, 1, 6, 11, 3],
    ].flatMap(expectedRow),
    1e-5,
    "rows",
  );
  assert.equal(existsSync(join(dir, "out", "emb.text-model.json")), false, "an encoder folder is not saved again");
  // Texts longer than the model takes are cut, and the summary says how many.
  const cut = cli("embed", "--text", corpus, "--model", encoderDir, "--out", join(dir, "out", "cut.npy"));
  assert.equal(cut.status, 0, cut.stderr);
  assert.match(cut.stderr, /; 1 text was longer than the model takes and cut to its length/);

  const empty = join(dir, "no-model");
  mkdirSync(empty);
  writeFileSync(join(empty, "tokenizer.json"), JSON.stringify(tokenizerJson));
  userError(cli("embed", "--text", corpus, "--model", empty, "--out", join(dir, "x.npy"), "--quiet"), /no-model.*no model\.onnx/);
});
