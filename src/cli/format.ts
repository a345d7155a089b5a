/** Plain-text tables for the terminal: columns padded, numbers right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const numeric = header.map((_, j) => rows.length > 0 && rows.every((r) => typeof r[j] === "number" || /^[-+]?[\d.,]+(%|\s?[a-zµ]+)?$/.test(String(r[j]))));
  const widths = header.map((_, j) => Math.max(...cells.map((r) => (r[j] ?? "").length)));
  return cells
    .map((r) =>
      r
        .map((c, j) => (numeric[j] ? c.padStart(widths[j]) : c.padEnd(widths[j])))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export { formatMs, percent, percentOverSeeds } from "../eval/format.js";
