import type { Matrix } from "../linalg/matrix.js";
import { findInside, findMediaFile, isVideoName, type MediaFile } from "./media.js";
import type { GuessTerms } from "./guess-terms.js";
import type { Project, StoredItem } from "./store/store.js";

/** How the labelling page shows an item. */
export type ItemDisplay =
  | { kind: "image"; url: string }
  /** A clip, with the times (seconds) of its key frames when `embed --video` chose them. */
  | { kind: "video"; url: string; keyFrames?: number[] }
  | { kind: "text"; text: string; guessTerms?: GuessTerms }
  | { kind: "features"; dim: number; norm: number; min: number; max: number; mean: number; neighbours: { id: string; label: string; distance: number }[] };

/** The nearest labelled items are looked for among the most recent this many (a large project would make every /next slow). */
const NEIGHBOUR_SEARCH = 20000;

/** Texts longer than this are cut for the page (the page scrolls what it gets). */
const MAX_TEXT = 100_000;

const round = (v: number) => Number(v.toPrecision(4));

/**
 * What the page shows for row `row`: its text, a link to its image, or (for bare embeddings) a
 * summary of its features and the three nearest labelled items.
 */
/** Reads a media file safely (see MediaReader), or undefined when it is refused. */
export type ReadMedia = (file: string) => Promise<MediaFile | undefined>;

export async function itemDisplay(
  project: Project,
  item: StoredItem,
  pool: Matrix,
  labeledRows: Map<number, string>,
  row: number,
  idOf: (row: number) => string,
  read: ReadMedia,
): Promise<ItemDisplay> {
  const { id, display } = item;
  const kind = project.display.kind;
  if (kind === "text") return { kind: "text", text: cut(display ?? "") };
  const url = `/api/projects/${encodeURIComponent(project.name)}/items/${encodeURIComponent(id)}/media`;
  if (kind === "media" || kind === "path") {
    // A .txt item is shown as its text, a clip is played; anything else is an image fetched by the page.
    const file = mediaFile(project, id, display);
    if (file?.toLowerCase().endsWith(".txt")) {
      const media = await read(file);
      return { kind: "text", text: media?.text ? cut(media.body.toString("utf8")) : "(this item's text file cannot be shown)" };
    }
    if (file && isVideoName(file)) {
      const keyFrames = item.keyFrames
        ?.split(" ")
        .map(Number)
        .filter((t) => Number.isFinite(t) && t >= 0);
      return { kind: "video", url, keyFrames: keyFrames?.length ? keyFrames : undefined };
    }
  }
  if (kind !== "features") return { kind: "image", url };
  return featureSummary(pool, row, labeledRows, idOf);
}

/** The file behind an item of a media-folder or media-column project, found inside its root; undefined when there is none. */
export function mediaFile(project: Project, id: string, display: string | null): string | undefined {
  if (project.display.kind === "media") return findMediaFile(project.display.dir, id);
  if (project.display.kind === "path" && display) return findInside(project.display.base, display);
  return undefined;
}

/** An item's media, read safely; undefined when there is none or it is refused. */
export async function itemMedia(project: Project, id: string, display: string | null, read: ReadMedia): Promise<MediaFile | undefined> {
  const file = mediaFile(project, id, display);
  return file ? read(file) : undefined;
}

const cut = (text: string) =>
  text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}\n…(${(text.length - MAX_TEXT).toLocaleString("en")} more characters)` : text;

function featureSummary(pool: Matrix, row: number, labeledRows: Map<number, string>, idOf: (row: number) => string): ItemDisplay {
  const d = pool.cols,
    x = pool.data.subarray(row * d, (row + 1) * d);
  let min = Infinity,
    max = -Infinity,
    sum = 0,
    sq = 0;
  for (let j = 0; j < d; j++) {
    min = Math.min(min, x[j]);
    max = Math.max(max, x[j]);
    sum += x[j];
    sq += x[j] * x[j];
  }
  // The three nearest other labelled items (Euclidean), to show what it resembles. Never the item
  // itself: on a second look that would show its first label.
  const nearest: { row: number; distance: number }[] = [];
  let skip = labeledRows.size - NEIGHBOUR_SEARCH;
  for (const r of labeledRows.keys()) {
    if (skip-- > 0 || r === row) continue;
    const y = pool.data.subarray(r * d, (r + 1) * d);
    let dist = 0;
    for (let j = 0; j < d; j++) dist += (x[j] - y[j]) ** 2;
    nearest.push({ row: r, distance: Math.sqrt(dist) });
    if (nearest.length > 3) nearest.sort((a, b) => a.distance - b.distance).pop();
  }
  nearest.sort((a, b) => a.distance - b.distance);
  return {
    kind: "features",
    dim: d,
    norm: round(Math.sqrt(sq)),
    min: round(min),
    max: round(max),
    mean: round(sum / d),
    neighbours: nearest.map((n) => ({ id: idOf(n.row), label: labeledRows.get(n.row)!, distance: round(n.distance) })),
  };
}
