import { escapeXml } from "../eval/curves-svg.js";
import type { StopSummary } from "../eval/stopping.js";

/** A marker per criterion, so that colour stays the strategy's. */
const MARKERS = ["circle", "square", "triangle", "diamond", "cross"] as const;

function marker(kind: (typeof MARKERS)[number], x: number, y: number, color: string, title: string): string {
  const r = 6;
  const shape =
    kind === "circle"
      ? `<circle cx="${x}" cy="${y}" r="${r}"`
      : kind === "square"
        ? `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${2 * r}"`
        : kind === "triangle"
          ? `<path d="M${x} ${y - r - 1}L${x + r} ${y + r}L${x - r} ${y + r}Z"`
          : kind === "diamond"
            ? `<path d="M${x} ${y - r - 1}L${x + r + 1} ${y}L${x} ${y + r + 1}L${x - r - 1} ${y}Z"`
            : `<path d="M${x - r} ${y - r}L${x + r} ${y + r}M${x + r} ${y - r}L${x - r} ${y + r}" stroke="${color}" stroke-width="2.5"`;
  return `${shape} fill="${color}" fill-opacity="0.85"><title>${escapeXml(title)}</title>${shape.startsWith("<circle") ? "</circle>" : shape.startsWith("<rect") ? "</rect>" : "</path>"}`;
}

/**
 * "Labels saved vs accuracy lost": one point per strategy and criterion that fired, at the mean
 * labels it would have saved (x) and the accuracy it would have lost (y, points) against the last
 * round. The best stops sit at the bottom right.
 */
export function stopPlot(rows: StopSummary[], colors: Map<string, string>): string {
  const fired = rows.filter((r) => r.fired > 0);
  if (fired.length === 0) return "";
  const criteria = [...new Set(rows.map((r) => r.criterion))];
  const width = 760,
    height = 300,
    left = 60,
    right = 200,
    top = 16,
    bottom = 44;
  const xTicks = niceTicks(0, Math.max(10, ...fired.map((r) => r.labelsSaved)));
  const lost = fired.map((r) => 100 * r.accuracyLost);
  const yTicks = niceTicks(Math.min(0, ...lost), Math.max(0.5, ...lost));
  const maxX = xTicks[xTicks.length - 1],
    minY = yTicks[0],
    maxY = yTicks[yTicks.length - 1];
  const sx = (v: number) => left + ((width - left - right) * v) / maxX;
  const sy = (v: number) => top + ((height - top - bottom) * (maxY - v)) / (maxY - minY);
  const label = (v: number) => String(Number(v.toPrecision(6)) + 0); // + 0 turns −0 into 0
  const grid = [
    ...xTicks.map(
      (v) =>
        `<line class="grid" x1="${sx(v)}" x2="${sx(v)}" y1="${top}" y2="${height - bottom}"/><text class="tick" x="${sx(v)}" y="${height - bottom + 16}" text-anchor="middle">${label(v)}</text>`,
    ),
    ...yTicks.map(
      (v) =>
        `<line class="grid" x1="${left}" x2="${width - right}" y1="${sy(v)}" y2="${sy(v)}"/><text class="tick" x="${left - 6}" y="${sy(v) + 4}" text-anchor="end">${label(v)}</text>`,
    ),
    `<line class="axis" x1="${left}" x2="${width - right}" y1="${sy(0)}" y2="${sy(0)}"/>`,
  ];
  const points = fired.map((r) =>
    marker(
      MARKERS[criteria.indexOf(r.criterion) % MARKERS.length],
      sx(r.labelsSaved),
      sy(100 * r.accuracyLost),
      colors.get(r.strategy) ?? "#888",
      `${r.strategy}, ${r.criterion}: fired in ${r.fired} of ${r.runs} runs; ${Math.round(r.labelsSaved)} labels saved, ${(100 * r.accuracyLost).toFixed(2)} points lost`,
    ),
  );
  const legend = criteria.map(
    (c, i) =>
      `${marker(MARKERS[i % MARKERS.length], width - right + 24, top + 14 + 22 * i, "#555", c)}<text class="legend" x="${width - right + 38}" y="${top + 18 + 22 * i}">${escapeXml(c)}</text>`,
  );
  return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="labels saved against accuracy lost">
<style>.grid{stroke:#eee}.axis{stroke:#999}.tick{font-size:11px;fill:#555}.label{font-size:12px;fill:#333}.legend{font-size:12px;fill:#222}</style>
${grid.join("")}${points.join("")}${legend.join("")}
<text class="label" x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle">labels saved against the last round →</text>
<text class="label" transform="translate(14 ${(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle">accuracy lost (points) ↓</text></svg>`;
}

/** Ticks at a round step (1, 2 or 5 × 10ⁿ) covering [lo, hi], about five of them. */
export function niceTicks(lo: number, hi: number): number[] {
  const raw = (hi - lo) / 4 || 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.floor(lo / step) * step; v < hi + step - 1e-9; v += step) ticks.push(Math.round(v / step) * step);
  return ticks;
}
