import type { RoundResult } from "./round-result.js";
import { areaUnderCurve, mean, std } from "./metrics.js";
import { Rng } from "../random.js";

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
  /** A 95% percentile-bootstrap interval of the AULC over seeds (2,000 resamples of the seeds' own AULCs); absent with one seed. */
  aulcInterval?: [number, number];
  /** Accuracy gained per label over the first rounds (up to 3): the paper's "initial slope", in accuracy per label. */
  initialSlope: number;
  /** Balanced accuracy and macro-F1 at the last round, over seeds, when the results hold them. */
  finalBalancedAccuracy?: number;
  finalMacroF1?: number;
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
    const lastRows = rows.filter((r) => r.round === rounds[rounds.length - 1]);
    const last = lastRows.map((r) => r.accuracy);
    const queried = rows.filter((r) => r.round > 0);
    const early = curve[Math.min(3, curve.length - 1)];
    const balanced = lastRows.every((r) => r.balancedAccuracy !== undefined && r.macroF1 !== undefined);
    const interval = aulcInterval(rows);
    strategies[strategy] = {
      curve,
      aulc: areaUnderCurve(
        curve.map((p) => p.labeled),
        curve.map((p) => p.mean),
      ),
      ...(interval ? { aulcInterval: interval } : {}),
      initialSlope: early.labeled > curve[0].labeled ? (early.mean - curve[0].mean) / (early.labeled - curve[0].labeled) : 0,
      ...(balanced && lastRows.length
        ? { finalBalancedAccuracy: mean(lastRows.map((r) => r.balancedAccuracy!)), finalMacroF1: mean(lastRows.map((r) => r.macroF1!)) }
        : {}),
      final: { mean: mean(last), std: last.length > 1 ? std(last) : 0 },
      meanQueryMs: queried.length ? mean(queried.map((r) => r.queryMs)) : 0,
      meanTrainMs: mean(rows.map((r) => r.trainMs)),
      seeds: [...new Set(rows.map((r) => r.seed))].sort((a, b) => a - b),
    };
  }
  return { name, strategies };
}

/**
 * A 95% percentile-bootstrap interval for the mean AULC over seeds: each seed's own AULC (its
 * curve, normalised by its label range), resampled with replacement 2,000 times from a fixed seed
 * so that a report is reproducible. Undefined with fewer than 2 seeds.
 */
export function aulcInterval(rows: RoundResult[], resamples = 2000): [number, number] | undefined {
  const bySeed = new Map<number, RoundResult[]>();
  for (const r of rows) bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), r]);
  const perSeed = [...bySeed.keys()]
    .sort((a, b) => a - b)
    .map((seed) => {
      const curve = bySeed.get(seed)!.sort((a, b) => a.round - b.round);
      return areaUnderCurve(
        curve.map((r) => r.labeled),
        curve.map((r) => r.accuracy),
      );
    });
  if (perSeed.length < 2) return undefined;
  const rng = new Rng("aulc-bootstrap");
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < perSeed.length; i++) sum += perSeed[rng.int(perSeed.length)];
    means[b] = sum / perSeed.length;
  }
  means.sort();
  return [means[Math.floor(0.025 * (resamples - 1))], means[Math.ceil(0.975 * (resamples - 1))]];
}
