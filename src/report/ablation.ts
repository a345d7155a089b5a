import { parseStrategyEntry } from "../strategies/variants.js";
import { escapeXml } from "../eval/curves-svg.js";
import { percentOverSeeds } from "../eval/format.js";
import type { Report } from "./types.js";

/** The rows of the paper's ablation table: which ALFA-Mix setting each varies, and its values. */
const ROWS: { group: string; key: "alpha" | "select"; value: string; name: string }[] = [
  { group: "α", key: "alpha", value: "random", name: "random α" },
  { group: "α", key: "alpha", value: "learned", name: "learned α" },
  { group: "α", key: "alpha", value: "closed", name: "closed-form α (ALFA-Mix)" },
  { group: "selection", key: "select", value: "uniform", name: "uniform" },
  { group: "selection", key: "select", value: "norm", name: "norm (smallest ‖α‖)" },
  { group: "selection", key: "select", value: "symkl", name: "sym. KL" },
  { group: "selection", key: "select", value: "kmeans", name: "k-means (ALFA-Mix)" },
];

/**
 * The ablation of ALFA-Mix in the paper's shape (how α is found, then how candidates are chosen;
 * one column per setting; final accuracy and AULC), from the variants a setting ran: the default
 * `alfamix` and entries that change only `alpha` or only `select`. Empty when no setting ran two of them.
 */
export function ablationTable(report: Report): string {
  const columns = report.settings
    .map((setting) => {
      const byRow = new Map<string, string>(); // row name → strategy label
      for (const entry of setting.config?.strategies ?? Object.keys(setting.summary.strategies)) {
        const { label, name, settings } = parseStrategyEntry(entry);
        const keys = Object.keys(settings);
        if (name !== "alfamix" || keys.length > 1 || (keys.length === 1 && keys[0] !== "alpha" && keys[0] !== "select")) continue;
        for (const row of ROWS) {
          const isDefault = keys.length === 0 && (row.value === "closed" || row.value === "kmeans");
          if (isDefault || (keys[0] === row.key && settings[row.key] === row.value)) byRow.set(row.name, label);
        }
      }
      return { setting, byRow };
    })
    // The default alfamix fills two rows (closed α, k-means) by itself: a table needs two variants.
    .filter((c) => new Set(c.byRow.values()).size >= 2);
  if (columns.length === 0) return "";
  const head = `<tr><th></th><th></th>${columns.map((c) => `<th>${escapeXml(c.setting.summary.name)}</th>`).join("")}</tr>`;
  const body = ROWS.map((row, i) => {
    const cells = columns.map((c) => {
      const label = c.byRow.get(row.name),
        s = label ? c.setting.summary.strategies[label] : undefined;
      return s
        ? `<td>${percentOverSeeds(s.final.mean, s.final.std, s.seeds.length)}<br><span style="color:#5b6475;font-size:12px">AULC ${s.aulc.toFixed(4)}</span></td>`
        : "<td>–</td>";
    });
    const group =
      i === 0 || ROWS[i - 1].group !== row.group
        ? `<td rowspan="${ROWS.filter((r) => r.group === row.group).length}" style="text-align:left;font-weight:600">${row.group}</td>`
        : "";
    return `<tr>${group}<td style="text-align:left">${escapeXml(row.name)}</td>${cells.join("")}</tr>`;
  }).join("\n");
  return `<section><h2>Ablation of ALFA-Mix</h2><p class="note">As in the paper: how α is found (with k-means selection), then how candidates are chosen (with closed-form α). Final test accuracy (mean ± std over seeds) and AULC; each variant is paired with the others like any strategy (see Who beats whom).</p>
<table>${head}${body}</table></section>`;
}
