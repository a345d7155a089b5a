import { listImages } from "../data/images/dataset.js";
import { isDirectoryPath } from "../data/images/folder.js";
import { UserError } from "../errors.js";
import { formatMs } from "../eval/format.js";
import { embedImages } from "../embed/embed.js";
import { BUNDLED_MODELS } from "../embed/session.js";
import { OptionReader, type CommandSpec, type ParsedArgs } from "./args.js";
import { rateLine, statusLine } from "./progress.js";
import { runTextEmbed, textEmbedOptions } from "./embed-text.js";
import { runVideoEmbed, videoEmbedOptions } from "./embed-video.js";
import { concatenate, pictureOptions } from "./embed-inputs.js";

export const embedCommand: CommandSpec = {
  name: "embed",
  usage: "alfamix embed --model M (--images DIR | --manifest FILE | --video DIR | --text FILE|DIR|NAME) --out emb.npy [options]",
  summary:
    "Embed images or video clips with an ONNX model (or a bundled one: mobilenet-v2, inception-v3), or texts with TF-IDF + LSA or word vectors: write emb.npy (N×D float32), emb.ids and, when the items have classes, emb.labels (clips also get emb.keyframes, for the labelling page). A rerun with the same arguments resumes.",
  options: {
    model: {
      type: "string",
      placeholder: "FILE|NAME|DIR",
      help: `images and clips: an .onnx file (for clips, an image model or a video model with a 5-D input), or a bundled model: ${Object.keys(BUNDLED_MODELS).join(", ")}; texts: tfidf, glove-100d, the .text-model.json an earlier run saved, or a folder with an exported Hugging Face encoder (tokenizer.json, model.onnx)`,
    },
    images: { type: "string", placeholder: "DIR", help: "a folder: DIR/<class>/*.jpg|png, DIR/train|test/<class>/…, or images directly in DIR" },
    ...textEmbedOptions,
    ...videoEmbedOptions,
    manifest: { type: "string", placeholder: "FILE", help: "a CSV with a path column (relative to the file) and optionally label" },
    out: { type: "string", placeholder: "FILE.npy", help: "the embeddings; .ids and .labels are written beside it" },
    size: {
      type: "string",
      placeholder: "N|HxW",
      help: "input size: the shorter side is resized to fit (bilinear), then the centre cropped",
      default: "the model's input size",
    },
    mean: {
      type: "string",
      placeholder: "R,G,B",
      help: "per-channel mean on the [0, 1] scale",
      default: "the bundled model's, else ImageNet's 0.485,0.456,0.406",
    },
    std: {
      type: "string",
      placeholder: "R,G,B",
      help: "per-channel std on the [0, 1] scale",
      default: "the bundled model's, else ImageNet's 0.229,0.224,0.225",
    },
    output: { type: "string", placeholder: "NAME", help: "the model output to embed with", default: "the first" },
    pool: {
      type: "string",
      placeholder: "none|mean|cls",
      help: "rank-3/4/5 outputs: mean of tokens or positions, the first (CLS) token, or flatten",
      default: "mean",
    },
    batch: { type: "string", placeholder: "N", help: "images per inference batch (clips: clips per batch)", default: "32 (clips: 32 frames' worth)" },
    threads: { type: "string", placeholder: "N", help: "inference threads", default: "every core" },
    "skip-bad": { type: "boolean", help: "leave out images or clips that cannot be decoded (listed on stderr) instead of stopping" },
    quiet: { type: "boolean", help: "no progress or summary on stderr" },
  },
};

export async function runEmbed(args: ParsedArgs): Promise<void> {
  const options = new OptionReader("embed", args.values);
  if (options.string("text") !== undefined) return runTextEmbed(options);
  if (options.string("video") !== undefined) return runVideoEmbed(options);
  const model = options.string("model"),
    imagesDir = options.string("images"),
    manifest = options.string("manifest"),
    out = options.string("out");
  if (!model || !out || !imagesDir === !manifest)
    throw new UserError("embed: --model, --out and one of --images DIR, --manifest FILE or --text FILE|DIR are required (see alfamix embed --help)");
  if (imagesDir && !isDirectoryPath(imagesDir))
    throw new UserError(`embed: --images ${imagesDir}: no such directory${imagesDir.endsWith(".csv") ? " (a list of images goes in --manifest)" : ""}`);
  const quiet = options.flag("quiet");
  const splits = await listImages((imagesDir ?? manifest)!, imagesDir !== undefined);
  const images = concatenate([splits.train, ...(splits.test ? [splits.test] : [])]);
  const status = statusLine(quiet);
  const result = await embedImages({
    model,
    images,
    out,
    ...pictureOptions(options, status),
    batch: options.int("batch", 32, 1, 4096),
    onProgress: (p) => status.show(rateLine("embed", "images", { ...p, perSecond: p.imagesPerSecond }), p.done === p.total),
  });
  status.done();
  if (quiet) return;
  if (result.resumedFrom > 0) console.error(`resumed an interrupted run at image ${result.resumedFrom} of ${images.files.length}`);
  console.error(
    `embedded ${result.rows} images as ${result.dim}-d rows (input ${result.shape.channels}×${result.shape.height}×${result.shape.width}, output ${JSON.stringify(result.output)}, ${result.pooling}) in ${formatMs(result.ms)}${result.skipped.length ? `; skipped ${result.skipped.length}` : ""}`,
  );
  console.error(`wrote ${[result.files.embeddings, result.files.ids, result.files.labels].filter(Boolean).join(", ")}`);
}
