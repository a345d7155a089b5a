import type { RoundResult } from "./round-result.js";
import { areaUnderCurve, mean, std } from "./metrics.js";

/** Mean ± std accuracy over seeds at one round. */
export interface CurvePointSummary {
  round: number;
  labeled: number;
  mean: number;
  std: number;
  seeds: number;
}

export interface StrategySummary {
  curve: CurvePointSummary[];
  /** Area under the mean learning curve, divided by the label range. */
  aulc: number;
  /** Accuracy at the last round, over seeds (sample std). */
  final: { mean: number; std: number };
  /** Mean selection time per round (rounds ≥ 1, all seeds). */
  meanQueryMs: number;
  /** Mean training time per round. */
  meanTrainMs: number;
  seeds: number[];
}

/** One results directory: a dataset and model setting with its strategies. */
export interface SettingSummary {
  name: string;
  strategies: Record<string, StrategySummary>;
}

/** Per strategy: learning curve, AULC, final accuracy and times, from one setting's results. */
export function summarizeSetting(name: string, results: RoundResult[], order: string[] = []): SettingSummary {
  const names = [...new Set([...order.filter((s) => results.some((r) => r.strategy === s)), ...results.map((r) => r.strategy)])];
  const strategies: Record<string, StrategySummary> = {};
  for (const strategy of names) {
    const rows = results.filter((r) => r.strategy === strategy);
    const rounds = [...new Set(rows.map((r) => r.round))].sort((a, b) => a - b);
    const curve = rounds.map((round) => {
      const at = rows.filter((r) => r.round === round);
      const accuracies = at.map((r) => r.accuracy);
      return { round, labeled: Math.round(mean(at.map((r) => r.labeled))), mean: mean(accuracies), std: at.length > 1 ? std(accuracies) : 0, seeds: at.length };
    });
    const last = rows.filter((r) => r.round === rounds[rounds.length - 1]).map((r) => r.accuracy);
    const queried = rows.filter((r) => r.round > 0);
    strategies[strategy] = {
      curve,
      aulc: areaUnderCurve(
        curve.map((p) => p.labeled),
        curve.map((p) => p.mean),
      ),
      final: { mean: mean(last), std: last.length > 1 ? std(last) : 0 },
      meanQueryMs: queried.length ? mean(queried.map((r) => r.queryMs)) : 0,
      meanTrainMs: mean(rows.map((r) => r.trainMs)),
      seeds: [...new Set(rows.map((r) => r.seed))].sort((a, b) => a - b),
    };
  }
  return { name, strategies };
}
