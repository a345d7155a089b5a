import { escapeXml } from "./curves-svg.js";

/** One small map: the projected pool, the labelled items and a batch. */
export interface MapPanel {
  title: string;
  /** x, y per point in [0, 1], interleaved. */
  xy: Float32Array | number[];
  /** Class id per point (colour). */
  classes: ArrayLike<number>;
  /** Point positions that are labelled (outlined) and in the batch (marked). */
  labelled: Set<number>;
  batch: Set<number>;
}

/** Distinct colours for classes (Tableau 20), repeated past twenty. */
const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
  "#a0cbe8",
  "#ffbe7d",
  "#ff9d9a",
  "#86bcb6",
  "#8cd17d",
  "#f1ce63",
  "#d4a6c8",
  "#fabfd2",
  "#d7b5a6",
  "#79706e",
];

export const classColour = (k: number) => PALETTE[k % PALETTE.length];

/**
 * Maps side by side, one per panel (e.g. per strategy, all on the same projection): pool points
 * small and faint, coloured by class; labelled items as rings; the batch as larger dark-edged
 * dots on top; a legend of classes and marks, and a note (e.g. that a sample is shown). `inline`:
 * for embedding in an HTML page.
 */
export function renderMaps(
  panels: MapPanel[],
  classNames: string[],
  note: string,
  options: { size?: number; columns?: number; inline?: boolean } = {},
): string {
  const size = options.size ?? 260,
    columns = Math.min(panels.length, options.columns ?? 4),
    gap = 18,
    titleHeight = 22;
  const rows = Math.ceil(panels.length / columns);
  const width0 = columns * size + (columns - 1) * gap + 20;
  const noteLines = wrap(note, Math.floor((width0 - 20) / 6));
  const legendHeight = 24 + 18 * Math.ceil(classNames.length / 8) + 16 * noteLines.length;
  const width = width0,
    height = rows * (size + titleHeight + gap) + legendHeight + 24;
  // A standalone file names its namespace; inside HTML the svg element needs none.
  const out: string[] = [
    `<svg${options.inline ? "" : ' xmlns="http://www.w3.org/2000/svg"'} viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" role="img">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  ];
  const pad = 8;
  panels.forEach((panel, p) => {
    const ox = 10 + (p % columns) * (size + gap),
      oy = Math.floor(p / columns) * (size + titleHeight + gap);
    const at = (i: number) => [
      ox + pad + Number(panel.xy[2 * i]) * (size - 2 * pad),
      oy + titleHeight + pad + (1 - Number(panel.xy[2 * i + 1])) * (size - 2 * pad),
    ];
    out.push(`<text x="${ox}" y="${oy + 15}" font-size="13" font-weight="600" fill="#1b2230">${escapeXml(panel.title)}</text>`);
    out.push(`<rect x="${ox}" y="${oy + titleHeight}" width="${size}" height="${size}" fill="#fbfbfc" stroke="#e3e6ec" rx="6"/>`);
    const n = panel.classes.length;
    const pool: string[] = [],
      rings: string[] = [],
      picks: string[] = [];
    for (let i = 0; i < n; i++) {
      const [x, y] = at(i),
        colour = classColour(panel.classes[i]);
      if (panel.batch.has(i)) picks.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3.6" fill="${colour}" stroke="#111" stroke-width="1.3"/>`);
      else if (panel.labelled.has(i))
        rings.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3.2" fill="#fff" stroke="${colour}" stroke-width="1.6"/>`);
      else pool.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="1.5" fill="${colour}" fill-opacity="0.35"/>`);
    }
    out.push(`<g>${pool.join("")}</g><g>${rings.join("")}</g><g>${picks.join("")}</g>`);
  });
  // Legend: classes, then the marks.
  let y = rows * (size + titleHeight + gap) + 6,
    x = 10;
  classNames.forEach((name, k) => {
    if (k > 0 && k % 8 === 0) {
      y += 18;
      x = 10;
    }
    out.push(
      `<circle cx="${x + 5}" cy="${y + 5}" r="4.5" fill="${classColour(k)}"/><text x="${x + 14}" y="${y + 9}" font-size="11" fill="#333">${escapeXml(name)}</text>`,
    );
    x += 20 + Math.min(90, 7 * name.length + 6);
  });
  y += 22;
  out.push(
    `<circle cx="15" cy="${y + 5}" r="3.2" fill="#fff" stroke="#555" stroke-width="1.6"/><text x="24" y="${y + 9}" font-size="11" fill="#333">labelled</text>`,
  );
  out.push(
    `<circle cx="95" cy="${y + 5}" r="3.6" fill="#999" stroke="#111" stroke-width="1.3"/><text x="104" y="${y + 9}" font-size="11" fill="#333">picked</text>`,
  );
  noteLines.forEach((line, i) => out.push(`<text x="10" y="${y + 27 + 16 * i}" font-size="11" fill="#5b6474">${escapeXml(line)}</text>`));
  out.push("</svg>");
  return out.join("\n");
}

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
