import { mkdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { writeAtomically } from "../data/files.js";
import { readConfig, readResults } from "../loop/results-store.js";
import type { SimulationConfig } from "../loop/simulation.js";
import { curvesSvg, strategyColor } from "../eval/curves-svg.js";
import { mean } from "../eval/metrics.js";
import { penaltyMatrix, type PenaltyMatrix } from "../eval/penalty.js";
import { summarizeSetting } from "../eval/summary.js";
import { reportHtml } from "./html.js";
import { settingMaps } from "./maps.js";
import type { Report, Setting } from "./types.js";

/** How a setting is named in the report: dataset, model and schedule. */
export function settingName(config: SimulationConfig | undefined, dir: string): string {
  if (!config) return basename(resolve(dir));
  const dropout = config.dropout > 0 ? `, dropout ${config.dropout}` : "";
  const names = {
    linear: "linear",
    mlp: `MLP ${config.hidden.join("-")}`,
    cnn: "CNN",
    resnet18: `ResNet-18${config.resnetStem === "imagenet" ? " (ImageNet stem)" : ""}`,
  };
  const training = [config.optimizer === "sgd" ? "SGD" : "", config.augment ? "augmented" : ""].filter(Boolean).join(", ");
  const model = `${names[config.model]}${dropout}${training ? `, ${training}` : ""}`;
  const protocol = [
    config.regime ? `${config.regime} regime` : "",
    config.initial === "typiclust" ? "TypiClust start" : "",
    config.imbalance ? `long tail ${config.imbalance}` : "",
    config.labelNoise ? `${config.noise === "pairwise" ? "pairwise" : "symmetric"} noise ${config.labelNoise}` : "",
  ].filter(Boolean);
  return [`${datasetName(config.dataset)}`, model, `${config.init} + ${config.rounds} × ${config.query}`, ...protocol].join(" · ");
}

/** A dataset's name: its file or folder, with the folder above when that is only a split ("cifar10/train", not "train"). */
function datasetName(path: string): string {
  const base = basename(path);
  return /^(train|training|test|testing|val|valid|validation)$/i.test(base) && dirname(path) !== path ? `${basename(resolve(dirname(path)))}/${base}` : base;
}

export function readSetting(dir: string): Setting {
  const results = readResults(dir);
  if (results.length === 0) throw new UserError(`${dir}: no results.jsonl with results (run alfamix simulate --out ${dir} first)`);
  const config = readConfig<SimulationConfig>(dir);
  return { dir, config, results, summary: summarizeSetting(settingName(config, dir), results, config?.strategies) };
}

/** Several directories are several settings, summed the way the paper sums them. */
export function buildReport(dirs: string[], options: { ddof?: 0 | 1 } = {}): Report {
  const settings = dirs.map(readSetting);
  const names = [...new Set(settings.flatMap((s) => Object.keys(s.summary.strategies)))];
  const colors = new Map(names.map((n, i) => [n, strategyColor(n, i)]));
  const penalty = penaltyMatrix(
    settings.map((s) => s.results),
    { ddof: options.ddof ?? 1, order: names },
  );
  const overall = Object.fromEntries(
    names.map((n) => {
      const per = settings.map((s) => s.summary.strategies[n]).filter((x) => x !== undefined);
      return [
        n,
        {
          aulc: round(mean(per.map((p) => p.aulc))),
          final: { mean: round(mean(per.map((p) => p.final.mean))), std: round(mean(per.map((p) => p.final.std))) },
          ...(per.length === 1 && per[0].aulcInterval ? { aulcInterval: per[0].aulcInterval.map((v) => round(v)) } : {}),
          initialSlope: round(mean(per.map((p) => p.initialSlope)), 6),
          ...(per.every((p) => p.finalBalancedAccuracy !== undefined)
            ? { finalBalancedAccuracy: round(mean(per.map((p) => p.finalBalancedAccuracy!))), finalMacroF1: round(mean(per.map((p) => p.finalMacroF1!))) }
            : {}),
          meanQueryMs: round(mean(per.map((p) => p.meanQueryMs)), 1),
          // Seeds per setting (the fewest, when settings differ): one seed has no spread to show.
          seeds: Math.min(...per.map((p) => p.seeds.length)),
        },
      ];
    }),
  );
  const summaryJson = {
    strategies: overall,
    penalty: {
      names,
      matrix: penalty.matrix.map((row) => row.map((v) => round(v))),
      columnMean: penalty.columnMean.map((v) => round(v)),
      ddof: penalty.ddof,
      tCritical: penalty.tCritical.length === 1 ? round(penalty.tCritical[0]) : penalty.tCritical.map((t) => round(t)),
    },
    settings: settings.map((s) => ({ dir: s.dir, name: s.summary.name, machines: s.config?.machines ?? [], strategies: s.summary.strategies })),
  };
  return { settings, penalty, names, colors, summaryJson };
}

function round(v: number, digits = 4): number {
  return Number.isFinite(v) ? Number(v.toFixed(digits)) : v;
}

export function penaltyCsv(penalty: PenaltyMatrix): string {
  const lines = [["", ...penalty.names].join(",")];
  penalty.names.forEach((n, i) => lines.push([n, ...penalty.matrix[i].map((v) => round(v))].join(",")));
  lines.push(["column mean", ...penalty.columnMean.map((v) => round(v))].join(","));
  return lines.join("\n") + "\n";
}

/** Write report.html, summary.json, penalty.csv and curves.svg into `out`. */
export function writeReport(report: Report, out: string): string[] {
  mkdirSync(out, { recursive: true });
  const files: [string, string][] = [
    ["summary.json", JSON.stringify(report.summaryJson, null, 2) + "\n"],
    ["penalty.csv", penaltyCsv(report.penalty)],
    [
      "curves.svg",
      curvesSvg(
        report.settings.map((s) => s.summary),
        report.colors,
      ),
    ],
    ["report.html", reportHtml(report)],
  ];
  const map = report.settings.map((s) => settingMaps(s, report.names)).find((m) => m !== undefined);
  if (map) files.push(["map.svg", map.svg]);
  for (const [name, content] of files) writeAtomically(join(out, name), content);
  return files.map(([name]) => join(out, name));
}
