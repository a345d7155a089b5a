import { buildReport, writeReport } from "../report/report.js";
import { OptionReader, type CommandSpec, type ParsedArgs } from "./args.js";
import { formatMs, percentOverSeeds, table } from "./format.js";

export const reportCommand: CommandSpec = {
  name: "report",
  usage: "alfamix report DIR [DIR…] [--out DIR] [--paper-compat]",
  summary:
    "Turn simulation results into report.html, summary.json, penalty.csv and curves.svg. Several DIRs are several settings, summed the way the paper sums them.",
  options: {
    out: { type: "string", placeholder: "DIR", help: "where to write the report", default: "the first DIR" },
    "paper-compat": { type: "boolean", help: "penalty test with the population std (ddof 0), as the paper's script" },
  },
  positionals: { min: 1, max: Infinity },
};

/** Build and write the report; print a short table and where the files are. */
export function runReportFor(dirs: string[], out: string, ddof: 0 | 1): string {
  const report = buildReport(dirs, { ddof });
  const files = writeReport(report, out);
  const s = report.summaryJson.strategies as Record<string, { aulc: number; final: { mean: number; std: number }; meanQueryMs: number; seeds: number }>;
  const beaten = new Map(report.penalty.names.map((n, j) => [n, report.penalty.columnMean[j]]));
  console.log(
    table(
      ["strategy", "final accuracy", "AULC", "beaten", "query/round"],
      report.names.map((n) => [
        n,
        percentOverSeeds(s[n].final.mean, s[n].final.std, s[n].seeds),
        s[n].aulc.toFixed(4),
        beaten.get(n)!.toFixed(2),
        formatMs(s[n].meanQueryMs),
      ]),
    ),
  );
  console.log(`\npenalty: paired t-test, ddof ${ddof}${ddof === 0 ? " (--paper-compat)" : ""}; "beaten" is the column mean, lower is better.`);
  console.log(
    `report: ${files.find((f) => f.endsWith("report.html"))} (also ${files
      .filter((f) => !f.endsWith(".html"))
      .map((f) => f.split("/").pop())
      .join(", ")})`,
  );
  return files[files.length - 1];
}

export function runReport(args: ParsedArgs): void {
  const options = new OptionReader("report", args.values);
  runReportFor(args.positionals, options.string("out", args.positionals[0]), options.flag("paper-compat") ? 0 : 1);
}
