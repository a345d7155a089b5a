import { isDirectoryPath } from "../data/images/folder.js";
import { listClipFolder } from "../embed/video/clips.js";
import { UserError } from "../errors.js";
import { formatMs } from "../eval/format.js";
import { embedVideos } from "../embed/video/embed-videos.js";
import type { OptionReader, OptionSpec } from "./args.js";
import { concatenate, pictureOptions } from "./embed-inputs.js";
import { rateLine, statusLine } from "./progress.js";

/** The video flags of `embed`. */
export const videoEmbedOptions: Record<string, OptionSpec> = {
  video: {
    type: "string",
    placeholder: "DIR",
    help: "clips (.mp4 .m4v .webm .mov .mkv .avi, any codec ffmpeg decodes): DIR/<class>/…, DIR/train|test/<class>/…, or clips directly in DIR",
  },
  frames: { type: "string", placeholder: "N", help: "clips: frames per clip, evenly spread over its duration", default: "8, or the video model's own" },
  segments: {
    type: "string",
    placeholder: "K",
    help: "clips: concatenate the frame means of K equal, consecutive segments, so the order of events survives",
    default: "1 (the mean of all frames)",
  },
  ffmpeg: {
    type: "string",
    placeholder: "PATH",
    help: "clips: the ffmpeg program",
    default: "$ALFAMIX_FFMPEG, else ffmpeg on PATH",
  },
};

export async function runVideoEmbed(options: OptionReader): Promise<void> {
  const model = options.string("model"),
    dir = options.string("video")!,
    out = options.string("out");
  if (!model || !out) throw new UserError("embed: --video needs --model (mobilenet-v2, inception-v3 or an .onnx file) and --out emb.npy");
  if (options.string("images") !== undefined || options.string("manifest") !== undefined)
    throw new UserError("embed: choose one of --images, --manifest and --video");
  if (!isDirectoryPath(dir)) throw new UserError(`embed: --video ${dir}: no such directory (a folder of clips, DIR/<class>/*.mp4 or clips directly in DIR)`);
  const quiet = options.flag("quiet");
  const splits = listClipFolder(dir);
  const clips = concatenate([splits.train, ...(splits.test ? [splits.test] : [])]);
  const status = statusLine(quiet);
  const result = await embedVideos({
    model,
    clips,
    out,
    ...pictureOptions(options, status),
    frames: options.string("frames") === undefined ? undefined : options.int("frames", 8, 1, 1024),
    segments: options.string("segments") === undefined ? undefined : options.int("segments", 1, 1, 1024),
    batch: options.string("batch") === undefined ? undefined : options.int("batch", 4, 1, 4096),
    ffmpeg: options.string("ffmpeg"),
    onProgress: (p) => status.show(rateLine("embed", "clips", { ...p, perSecond: p.clipsPerSecond }), p.done === p.total),
  });
  status.done();
  if (quiet) return;
  if (result.resumedFrom > 0) console.error(`resumed an interrupted run at clip ${result.resumedFrom} of ${clips.files.length}`);
  console.error(
    `embedded ${result.rows} clips as ${result.dim}-d rows (${result.frames} frame${result.frames === 1 ? "" : "s"} of ${result.shape.channels}×${result.shape.height}×${result.shape.width} each, output ${JSON.stringify(result.output)}, ${result.pooling}) in ${formatMs(result.ms)}${result.skipped.length ? `; skipped ${result.skipped.length}` : ""}`,
  );
  console.error(`wrote ${[result.files.embeddings, result.files.ids, result.files.labels, result.files.side].filter(Boolean).join(", ")}`);
}
