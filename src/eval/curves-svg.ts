import { percentOverSeeds } from "./format.js";
import type { SettingSummary } from "./summary.js";

const PALETTE = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#ff7f0e"];

/** A stable colour per strategy: ALFA-Mix stands out, random is grey, the rest follow a palette. */
export function strategyColor(name: string, index: number): string {
  if (name === "alfamix") return "#d62728";
  if (name === "random") return "#7f7f7f";
  return PALETTE[index % PALETTE.length];
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Round numbers for an axis: about `count` ticks between lo and hi. */
function ticks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/**
 * Learning curves of every strategy in one setting: mean test accuracy against the number of
 * labels, with a ± std band over seeds.
 */
export function curvesPanel(setting: SettingSummary, x0: number, y0: number, width: number, height: number, colors: Map<string, string>): string {
  const names = Object.keys(setting.strategies);
  const points = names.flatMap((n) => setting.strategies[n].curve);
  if (points.length === 0) return "";
  const left = x0 + 58,
    right = x0 + width - 150,
    top = y0 + 34,
    bottom = y0 + height - 46;
  const xs = points.map((p) => p.labeled);
  const xMin = Math.min(...xs),
    xMax = Math.max(...xs, xMin + 1);
  let yMin = Math.min(...points.map((p) => p.mean - p.std)),
    yMax = Math.max(...points.map((p) => p.mean + p.std));
  const pad = Math.max(0.005, (yMax - yMin) * 0.06);
  yMin = Math.max(0, yMin - pad);
  yMax = Math.min(1, yMax + pad);
  if (yMax <= yMin) yMax = yMin + 0.01;
  const sx = (v: number) => left + ((v - xMin) / (xMax - xMin)) * (right - left);
  const sy = (v: number) => bottom - ((v - yMin) / (yMax - yMin)) * (bottom - top);
  const parts: string[] = [];
  parts.push(`<text x="${x0 + width / 2 - 70}" y="${y0 + 20}" text-anchor="middle" class="title">${escapeXml(setting.name)}</text>`);
  for (const t of ticks(yMin, yMax, 6)) {
    parts.push(`<line x1="${left}" x2="${right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" class="grid"/>`);
    parts.push(
      `<text x="${left - 8}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" class="tick">${(100 * t).toFixed(Math.abs(yMax - yMin) < 0.05 ? 1 : 0)}%</text>`,
    );
  }
  for (const t of ticks(xMin, xMax, 8)) {
    parts.push(`<line x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" y1="${bottom}" y2="${bottom + 5}" class="axis"/>`);
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${bottom + 19}" text-anchor="middle" class="tick">${t}</text>`);
  }
  parts.push(
    `<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" class="axis"/><line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" class="axis"/>`,
  );
  parts.push(`<text x="${(left + right) / 2}" y="${bottom + 38}" text-anchor="middle" class="label">labelled items</text>`);
  parts.push(`<text transform="translate(${x0 + 14} ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle" class="label">test accuracy</text>`);
  names.forEach((name, i) => {
    const curve = setting.strategies[name].curve,
      color = colors.get(name)!;
    const band = [
      ...curve.map((p) => `${sx(p.labeled).toFixed(1)},${sy(p.mean + p.std).toFixed(1)}`),
      ...[...curve].reverse().map((p) => `${sx(p.labeled).toFixed(1)},${sy(p.mean - p.std).toFixed(1)}`),
    ];
    parts.push(`<polygon points="${band.join(" ")}" fill="${color}" fill-opacity="0.13" stroke="none"/>`);
    parts.push(
      `<polyline points="${curve.map((p) => `${sx(p.labeled).toFixed(1)},${sy(p.mean).toFixed(1)}`).join(" ")}" fill="none" stroke="${color}" stroke-width="${name === "alfamix" ? 2.6 : 1.8}"/>`,
    );
    for (const p of curve) {
      parts.push(
        `<circle cx="${sx(p.labeled).toFixed(1)}" cy="${sy(p.mean).toFixed(1)}" r="2.8" fill="${color}"><title>${escapeXml(name)}: ${p.labeled} labels, ${percentOverSeeds(p.mean, p.std, p.seeds)}${p.seeds > 1 ? ` (${p.seeds} seeds)` : ""}</title></circle>`,
      );
    }
    const ly = top + 8 + i * 20;
    parts.push(
      `<line x1="${right + 16}" x2="${right + 36}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/><text x="${right + 42}" y="${ly + 4}" class="legend">${escapeXml(name)}</text>`,
    );
  });
  return parts.join("\n");
}

/** A standalone SVG with one panel of learning curves per setting. */
export function curvesSvg(settings: SettingSummary[], colors: Map<string, string>): string {
  const width = 760,
    height = 420;
  const panels = settings.map((s, i) => curvesPanel(s, 0, i * height, width, height, colors));
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height * settings.length}" width="${width}" height="${height * settings.length}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">
<style>.grid{stroke:#e6e6e6;stroke-width:1}.axis{stroke:#555;stroke-width:1}.tick{font-size:11px;fill:#555}.label{font-size:12px;fill:#333}.legend{font-size:12px;fill:#222}.title{font-size:14px;font-weight:600;fill:#222}</style>
<rect width="100%" height="100%" fill="#fff"/>
${panels.join("\n")}
</svg>
`;
}
