import { joinSplits, readTexts } from "../data/text/corpus.js";
import { UserError } from "../errors.js";
import { formatMs } from "../eval/format.js";
import { embedTexts } from "../embed/text/embed-texts.js";
import { DEFAULT_TFIDF, textModelChoice } from "../embed/text/text-model.js";
import type { OptionReader, OptionSpec } from "./args.js";
import { rateLine, statusLine } from "./progress.js";

/** The text flags of `embed`. */
export const textEmbedOptions: Record<string, OptionSpec> = {
  text: {
    type: "string",
    placeholder: "FILE|DIR|NAME",
    help: "texts: a .csv/.tsv with a header, a .jsonl, a folder DIR/<class>/*.txt (or DIR/train|test/<class>/…), or a built-in set (imdb, spam)",
  },
  "text-column": { type: "string", placeholder: "NAME", help: "texts: the column or JSON field holding the text", default: "text" },
  "label-column": { type: "string", placeholder: "NAME", help: "texts: the label column or field", default: "label/class/y when present" },
  "id-column": { type: "string", placeholder: "NAME", help: "texts: the id column or field", default: "id when present, else the row number" },
  dim: { type: "string", placeholder: "N", help: "tfidf: LSA dimensions", default: String(DEFAULT_TFIDF.dim) },
  "min-df": { type: "string", placeholder: "N", help: "tfidf: drop terms in fewer texts than this", default: String(DEFAULT_TFIDF.minDf) },
  "max-features": {
    type: "string",
    placeholder: "N",
    help: "tfidf: keep at most this many terms per analyzer, the most frequent",
    default: String(DEFAULT_TFIDF.maxFeatures),
  },
  ngrams: { type: "string", placeholder: "A-B", help: "tfidf: word n-gram range", default: "1-2" },
  "char-ngrams": { type: "string", placeholder: "A-B", help: "tfidf: also character n-grams within words (e.g. 2-4)", default: "none" },
  seed: { type: "string", placeholder: "N", help: "tfidf: seeds the randomized SVD", default: "0" },
  "max-length": {
    type: "string",
    placeholder: "N",
    help: "encoder folders: cut each text to this many tokens, special tokens included",
    default: "the model's (tokenizer_config.json, config.json), else 512",
  },
};

function ngramRange(options: OptionReader, name: string): [number, number] | undefined {
  return options.parsed(
    name,
    (text) => {
      const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
      const low = m ? Number(m[1]) : NaN,
        high = m ? Number(m[2] ?? m[1]) : NaN;
      return low >= 1 && high >= low && high <= 10 ? ([low, high] as [number, number]) : undefined;
    },
    "a range A-B with 1 ≤ A ≤ B ≤ 10 (e.g. 1-2)",
  );
}

export async function runTextEmbed(options: OptionReader): Promise<void> {
  const source = options.string("text")!,
    out = options.string("out"),
    modelName = options.string("model") ?? "tfidf";
  if (!out) throw new UserError("embed: --out FILE.npy is required (see alfamix embed --help)");
  if (options.string("images") !== undefined || options.string("manifest") !== undefined)
    throw new UserError("embed: --text embeds texts; --images and --manifest embed images: give one");
  const model = textModelChoice(
    modelName,
    {
      dim: options.int("dim", DEFAULT_TFIDF.dim, 1, 4096),
      minDf: options.int("min-df", DEFAULT_TFIDF.minDf, 1),
      maxFeatures: options.int("max-features", DEFAULT_TFIDF.maxFeatures!, 1),
      ngrams: ngramRange(options, "ngrams") ?? DEFAULT_TFIDF.ngrams,
      charNgrams: ngramRange(options, "char-ngrams"),
      seed: options.int("seed", DEFAULT_TFIDF.seed),
    },
    options.string("max-length") === undefined ? undefined : options.int("max-length", 512, 2),
  );
  const quiet = options.flag("quiet");
  const status = statusLine(quiet);
  const splits = await readTexts(source, {
    textColumn: options.string("text-column"),
    labelColumn: options.string("label-column"),
    idColumn: options.string("id-column"),
  });
  const texts = joinSplits(splits);
  const result = await embedTexts({
    texts,
    model,
    out,
    onPhase: (phase) => status.show(`embed: ${phase}…`),
    onProgress: (p) => status.show(rateLine("embed", "texts", { ...p, perSecond: p.textsPerSecond }), p.done === p.total),
  });
  status.done();
  if (quiet) return;
  if (result.resumedFrom > 0) console.error(`resumed an interrupted run at text ${result.resumedFrom} of ${texts.texts.length}`);
  const { notes } = result;
  const words =
    notes.tokens !== undefined && notes.tokens > 0
      ? `; ${((100 * notes.outOfVocabulary!) / notes.tokens).toFixed(1)}% of ${notes.tokens.toLocaleString("en")} word tokens had no vector`
      : "";
  const cut = notes.truncated
    ? `; ${notes.truncated} text${notes.truncated === 1 ? " was" : "s were"} longer than the model takes and cut to its length (--max-length)`
    : "";
  const empty = notes.emptyRows ? `; ${notes.emptyRows} text${notes.emptyRows === 1 ? "" : "s"} had no known term (a zero row)` : "";
  console.error(`embedded ${result.rows} texts as ${result.dim}-d rows: ${result.description}, in ${formatMs(result.ms)}${words}${empty}${cut}`);
  if (splits.test) console.error(`the rows hold ${splits.train.texts.length} training texts, then ${splits.test.texts.length} test texts`);
  console.error(`wrote ${[result.files.embeddings, result.files.ids, result.files.labels, ...(result.files.model ?? [])].filter(Boolean).join(", ")}`);
}
