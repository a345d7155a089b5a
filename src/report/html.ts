import { curvesPanel, escapeXml } from "../eval/curves-svg.js";
import { formatMs, percentOverSeeds } from "../eval/format.js";
import type { Report } from "./types.js";
import { ablationTable } from "./ablation.js";
import { settingMaps } from "./maps.js";
import { stoppingSummary, type StopSummary } from "../eval/stopping.js";
import type { StrategySummary } from "../eval/summary.js";
import { stopPlot } from "./stop-plot.js";

const CSS = `
:root{--ink:#1d2330;--muted:#5b6475;--line:#e3e6ec;--bg:#f6f7f9;--card:#fff;--accent:#d62728}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#1d2330;color:#fff;padding:28px 40px}header h1{margin:0;font-size:24px;font-weight:650}header p{margin:6px 0 0;color:#c5cbd6}
main{max-width:1080px;margin:0 auto;padding:24px 40px 60px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 24px;margin:20px 0}
h2{margin:0 0 4px;font-size:18px}p.note{margin:2px 0 14px;color:var(--muted);font-size:13.5px}p.warn{margin:6px 0 10px;padding:8px 12px;border-left:4px solid #d99a00;background:#fff8e6;font-size:13.5px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}th,td{padding:6px 12px;text-align:right;border-bottom:1px solid var(--line)}
th{font-weight:600;color:var(--muted);font-size:13px}td:first-child,th:first-child{text-align:left}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:8px;vertical-align:0}
.best{font-weight:650}.ci{color:var(--muted);font-size:12px}td.never{color:#aab}.heat td{width:86px;text-align:center;border:1px solid #fff}.heat td.name{text-align:left;width:auto;border:none}
.heat tr.mean td{border-top:2px solid var(--ink);font-weight:650}.diag{background:#f0f1f4;color:#aab}
svg{max-width:100%;height:auto}details{margin-top:10px}summary{cursor:pointer;color:var(--muted)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 18px;margin:8px 0 0;font-size:13.5px}dt{color:var(--muted)}dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace}
`;

function dot(color: string): string {
  return `<span class="dot" style="background:${color}"></span>`;
}

/** A strategy's figures over the settings, as summary.json holds them: a setting's, with the fewest seeds of any setting. */
type OverallSummary = Pick<StrategySummary, "aulc" | "aulcInterval" | "initialSlope" | "finalBalancedAccuracy" | "finalMacroF1" | "final" | "meanQueryMs"> & {
  seeds: number;
};

/** The leaderboard: one row per strategy, best first by how rarely it is beaten, then AULC. */
function leaderboard(report: Report): string {
  const s = report.summaryJson.strategies as Record<string, OverallSummary>;
  const beaten = new Map(report.penalty.names.map((n, j) => [n, report.penalty.columnMean[j]]));
  const rows = [...report.names].sort((a, b) => beaten.get(a)! - beaten.get(b)! || s[b].aulc - s[a].aulc);
  const best = (value: (n: string) => number | undefined) => Math.max(...rows.map((n) => value(n) ?? -Infinity));
  const bestFinal = best((n) => s[n].final.mean),
    bestAulc = best((n) => s[n].aulc),
    bestSlope = best((n) => s[n].initialSlope);
  // Balanced accuracy and macro-F1 matter where classes are imbalanced; elsewhere they repeat the accuracy.
  const balanced = report.settings.some((setting) => setting.config?.imbalance) && rows.every((n) => s[n].finalBalancedAccuracy !== undefined);
  const bestBalanced = best((n) => s[n].finalBalancedAccuracy),
    bestF1 = best((n) => s[n].finalMacroF1);
  const cell = (value: number, bestValue: number, text: string) => `<td class="${value === bestValue ? "best" : ""}">${text}</td>`;
  const body = rows
    .map((n) => {
      const interval = s[n].aulcInterval ? ` <span class="ci">[${s[n].aulcInterval![0].toFixed(3)}, ${s[n].aulcInterval![1].toFixed(3)}]</span>` : "";
      const balancedCells = balanced
        ? cell(s[n].finalBalancedAccuracy!, bestBalanced, `${(100 * s[n].finalBalancedAccuracy!).toFixed(2)}%`) +
          cell(s[n].finalMacroF1!, bestF1, s[n].finalMacroF1!.toFixed(4))
        : "";
      return `<tr><td>${dot(report.colors.get(n)!)}${escapeXml(n)}</td>
${cell(s[n].final.mean, bestFinal, percentOverSeeds(s[n].final.mean, s[n].final.std, s[n].seeds))}${balancedCells}
${cell(s[n].aulc, bestAulc, s[n].aulc.toFixed(4) + interval)}${cell(s[n].initialSlope, bestSlope, (100 * 100 * s[n].initialSlope).toFixed(2))}<td>${beaten.get(n)!.toFixed(2)}</td><td>${formatMs(s[n].meanQueryMs)}</td></tr>`;
    })
    .join("\n");
  const multi = report.settings.length > 1 ? " Figures are means over the settings." : " AULC's brackets: a 95% bootstrap interval over seeds.";
  const balancedHead = balanced ? "<th>balanced accuracy</th><th>macro-F1</th>" : "";
  const balancedNote = balanced ? " Balanced accuracy (mean recall over classes) and macro-F1 at the last round judge the long-tailed settings." : "";
  return `<section><h2>Summary</h2><p class="note">Final test accuracy (mean ± std over seeds), area under the mean learning curve (normalised by the label range), the initial slope (accuracy points gained per 100 labels over the first three rounds), how often each strategy is significantly beaten (penalty column mean, lower is better) and the mean selection time per round.${balancedNote}${multi}</p>
<table><thead><tr><th>strategy</th><th>final accuracy</th>${balancedHead}<th>AULC</th><th>initial slope</th><th>beaten</th><th>query / round</th></tr></thead><tbody>${body}</tbody></table></section>`;
}

function curves(report: Report): string {
  const width = 760,
    height = 420;
  const panels = report.settings.map((s, i) => curvesPanel(s.summary, 0, i * height, width, height, report.colors));
  return `<section><h2>Learning curves</h2><p class="note">Mean test accuracy against the number of labelled items; bands are ± one standard deviation over seeds. Hover a point for its figures.</p>
<svg viewBox="0 0 ${width} ${height * panels.length}" role="img" aria-label="learning curves">
<style>.grid{stroke:#e6e6e6;stroke-width:1}.axis{stroke:#555;stroke-width:1}.tick{font-size:11px;fill:#555}.label{font-size:12px;fill:#333}.legend{font-size:12px;fill:#222}.title{font-size:14px;font-weight:600;fill:#222}</style>
${panels.join("\n")}</svg></section>`;
}

function heatmap(report: Report): string {
  const { names, matrix, columnMean, ddof, tCritical, settings, fewestPairs } = report.penalty;
  const max = Math.max(1e-9, ...matrix.flat());
  const cell = (v: number) =>
    `<td style="background:rgba(214,39,40,${(0.08 + 0.8 * (v / max)).toFixed(3)});color:${v / max > 0.55 ? "#fff" : "inherit"}">${v.toFixed(2)}</td>`;
  const head = `<tr><td class="name"></td>${names.map((n) => `<th style="text-align:center">${escapeXml(n)}</th>`).join("")}</tr>`;
  const rows = names
    .map(
      (n, i) =>
        `<tr><td class="name">${dot(report.colors.get(n)!)}${escapeXml(n)}</td>${matrix[i].map((v, j) => (i === j ? `<td class="diag">–</td>` : cell(v))).join("")}</tr>`,
    )
    .join("\n");
  const meanRow = `<tr class="mean"><td class="name">column mean ↓</td>${columnMean.map((v) => `<td>${v.toFixed(2)}</td>`).join("")}</tr>`;
  const present = report.settings.map((s) => new Set(Object.keys(s.summary.strategies)));
  const uneven = names.some((n) => present.some((set) => !set.has(n)));
  const unevenNote = uneven
    ? " Not every strategy ran in every setting, and a strategy is only compared where it ran: compare column means among strategies that share their settings."
    : "";
  const seedsNote = tCritical.length ? `critical t ${tCritical.map((t) => t.toFixed(3)).join(", ")}` : "fewer than 2 seeds: no test possible";
  // With 2 seeds the paired t-test has one degree of freedom (critical t 12.7): a zero matrix then
  // says nothing about the strategies.
  // With fewer than 5 seeds a ranking can flip with the seeds drawn (Munjal et al., CVPR 2022; Lüth et al., NeurIPS 2023).
  const powerless =
    fewestPairs < 5
      ? `<p class="warn">${
          fewestPairs < 2
            ? "Fewer than 2 seeds per comparison: no difference can be tested."
            : fewestPairs < 3
              ? `Only ${fewestPairs} seeds in some comparisons: the test has ${fewestPairs - 1} degree of freedom and can hardly find any difference.`
              : `Only ${fewestPairs} seeds in some comparisons: with so few, a good strategy can look both better and worse than random.`
        } Run at least 5 seeds (10 or more to trust a ranking) before reading this table.</p>`
      : "";
  return `<section><h2>Who beats whom</h2>${powerless}<p class="note">Cell (row i, column j): the share of rounds in which i is significantly better than j (paired t-test over seeds, two-sided 95%, ${seedsNote}, std with ddof ${ddof}${ddof === 0 ? ", as the paper's script" : ""}), summed over ${settings} setting${settings === 1 ? "" : "s"}. The bottom row is each column's mean: how often that strategy is beaten. Lower is better.${unevenNote}</p>
<table class="heat">${head}${rows}${meanRow}</table></section>`;
}

function queryTimes(report: Report): string {
  const s = report.summaryJson.strategies as Record<string, { meanQueryMs: number }>;
  const max = Math.max(1e-9, ...report.names.map((n) => s[n].meanQueryMs));
  const rowHeight = 26,
    width = 760,
    labelWidth = 150;
  const bars = report.names.map((n, i) => {
    const w = Math.max(1, ((width - labelWidth - 110) * s[n].meanQueryMs) / max),
      y = i * rowHeight + 6;
    return `<text x="${labelWidth - 10}" y="${y + 14}" text-anchor="end" font-size="12">${escapeXml(n)}</text><rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="18" rx="3" fill="${report.colors.get(n)}"/><text x="${labelWidth + w + 8}" y="${y + 14}" font-size="12" fill="#444">${formatMs(s[n].meanQueryMs)}</text>`;
  });
  return `<section><h2>Query time</h2><p class="note">Mean time to select one batch (selection only, not training), over rounds and seeds${report.settings.length > 1 ? " and settings" : ""}.</p>
<svg viewBox="0 0 ${width} ${report.names.length * rowHeight + 12}" role="img" aria-label="query time per round">${bars.join("")}</svg></section>`;
}

function maps(report: Report): string {
  const blocks = report.settings.flatMap((s) => {
    const map = settingMaps(s, report.names, true);
    return map ? [`<h3 style="font-size:15px;margin:14px 0 4px">${escapeXml(s.summary.name)}</h3><p class="note">${escapeXml(map.caption)}</p>${map.svg}`] : [];
  });
  if (blocks.length === 0) return "";
  return `<section><h2>Where the picks fall</h2><p class="note">The pool projected to 2-D once per seed and shared by every strategy. ALFA-Mix's picks should gather where classes meet; random picks spread with the data.</p>${blocks.join("\n")}</section>`;
}

function rounds(report: Report): string {
  const tables = report.settings.map((setting) => {
    const names = Object.keys(setting.summary.strategies);
    const curves = names.map((n) => setting.summary.strategies[n].curve);
    const byRound = [...new Set(curves.flat().map((p) => p.round))].sort((a, b) => a - b);
    const head = `<tr><th>round</th><th>labels</th>${names.map((n) => `<th>${dot(report.colors.get(n)!)}${escapeXml(n)}</th>`).join("")}</tr>`;
    const body = byRound
      .map((r) => {
        const cells = curves.map((c) => c.find((p) => p.round === r));
        const labels = cells.find((p) => p)?.labeled ?? "";
        return `<tr><td>${r}</td><td>${labels}</td>${cells.map((p) => `<td>${p ? percentOverSeeds(p.mean, p.std, p.seeds) : "–"}</td>`).join("")}</tr>`;
      })
      .join("\n");
    return `<details${report.settings.length === 1 ? " open" : ""}><summary>${escapeXml(setting.summary.name)}</summary><table>${head}${body}</table></details>`;
  });
  return `<section><h2>Accuracy by round</h2><p class="note">Mean ± std test accuracy over seeds after each round.</p>${tables.join("\n")}</section>`;
}

/** Each stopping criterion's first stop per run: the labels it would have saved against the accuracy lost. */
function whenToStop(report: Report): string {
  const tables = report.settings
    .map((setting) => {
      const rows = stoppingSummary(setting.results);
      if (rows.length === 0) return "";
      // One row per strategy, one column per criterion: a criterion that never fired is one dash, not four.
      const strategies = [...new Set(rows.map((r) => r.strategy))],
        criteria = [...new Set(rows.map((r) => r.criterion))];
      const cell = (r: StopSummary | undefined) =>
        !r || r.fired === 0
          ? `<td class="never">never${r ? ` (0 of ${r.runs})` : ""}</td>`
          : `<td><b>${Math.round(r.labelsAtStop)}</b> labels, ${(100 * r.accuracyAtStop).toFixed(1)}%<br><span class="ci">saves ${Math.round(r.labelsSaved)}, loses ${(100 * r.accuracyLost).toFixed(2)} pts · ${r.fired} of ${r.runs} runs</span></td>`;
      const body = strategies
        .map(
          (name) =>
            `<tr><td>${dot(report.colors.get(name) ?? "#888")}${escapeXml(name)}</td>${criteria.map((c) => cell(rows.find((r) => r.strategy === name && r.criterion === c))).join("")}</tr>`,
        )
        .join("\n");
      const title = report.settings.length > 1 ? `<h3>${escapeXml(setting.summary.name)}</h3>` : "";
      return `${title}${stopPlot(rows, report.colors)}<table><tr><th>strategy</th>${criteria.map((c) => `<th>${escapeXml(c)}</th>`).join("")}</tr>${body}</table>`;
    })
    .filter(Boolean);
  if (tables.length === 0) return "";
  return `<section><h2>When to stop</h2><p class="note">small-text's stopping criteria (κ average over 3 rounds ≥ 0.99, no prediction changed, mean normalised entropy &lt; 0.05; ΔF for two classes), checked after every round on a fixed sample of up to 1,000 pool items, and ours, estimate-gain: after every round the model guesses a random 10% of a batch of unlabelled items (serve's random share; these audit labels are extra and not trained on), and it stops when the last 3 rounds' accuracy confidently gains less than 3 points over the 3 before (one-sided 95%). Each cell: over the runs where the criterion fired, the labels and test accuracy at its first stop, and what stopping there would have saved and lost against the last round. The plot puts each criterion that fired at its labels saved and accuracy lost: the best stops sit low and to the right. A criterion that never fires within the budget says keep labelling.</p>${tables.join("\n")}</section>`;
}

function configuration(report: Report): string {
  const blocks = report.settings.map((s) => {
    const entries = Object.entries(s.config ?? {})
      .map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${escapeXml(typeof v === "string" ? v : JSON.stringify(v))}</dd>`)
      .join("");
    return `<details><summary>${escapeXml(s.summary.name)} — ${escapeXml(s.dir)}</summary><dl>${entries || "<dt>config.json</dt><dd>missing</dd>"}</dl></details>`;
  });
  return `<section><h2>Configuration</h2><p class="note">Everything needed to rerun each setting with <code>alfamix simulate</code>.</p>${blocks.join("\n")}</section>`;
}

/** A self-contained page (no scripts, no external resources). */
export function reportHtml(report: Report): string {
  const seeds = [...new Set(report.settings.flatMap((s) => s.results.map((r) => r.seed)))];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>alfamix report</title><style>${CSS}</style></head>
<body><header><h1>Active-learning report</h1><p>${report.settings.length} setting${report.settings.length === 1 ? "" : "s"} · ${report.names.length} strategies · ${seeds.length} seed${seeds.length === 1 ? "" : "s"} · ${escapeXml(report.settings.map((s) => s.summary.name).join("; "))}</p></header>
<main>
${leaderboard(report)}
${curves(report)}
${heatmap(report)}
${queryTimes(report)}
${maps(report)}
${ablationTable(report)}
${whenToStop(report)}
${rounds(report)}
${configuration(report)}
<p class="note">Generated by alfamix ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC.</p>
</main></body></html>
`;
}
