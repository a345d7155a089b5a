import { mean, std } from "./metrics.js";
import { tCritical } from "./student-t.js";

/** Test accuracy of one strategy, seed and round in one setting. */
export interface CurvePoint {
  strategy: string;
  seed: number;
  round: number;
  accuracy: number;
}

export interface PenaltyOptions {
  /** Degrees of freedom removed from the std of the paired differences: 1 (sample, default) or 0 (the public script's). */
  ddof?: 0 | 1;
  confidence?: number;
  /** Row and column order of the strategies (default: first seen); names not in the results are dropped. */
  order?: string[];
}

export interface PenaltyMatrix {
  names: string[];
  /** matrix[i][j]: summed over settings, the share of rounds in which i significantly beats j. */
  matrix: number[][];
  /** Σ_i matrix[i][j] / (M − 1): how often column j is beaten; lower is better. */
  columnMean: number[];
  ddof: 0 | 1;
  /** The critical t per setting (one value when every setting has the same number of seeds). */
  tCritical: number[];
  /** The fewest seed pairs any comparison had (0: none could be tested); below 3 the test can hardly find a difference. */
  fewestPairs: number;
  settings: number;
}

/**
 * The paper's pairwise penalty matrix. Per setting, for strategies i ≠ j and each round r ≥ 1
 * with S ≥ 2 seeds run by both: Δ_s = acc_i − acc_j, t = √S · mean(Δ)/std(Δ); i beats j in that
 * round when t > t_crit (two-sided, df = S − 1). P[i][j] += (rounds i beats j) / R, summed over
 * settings. Round 0 is excluded: every strategy starts from the same labelled set.
 */
export function penaltyMatrix(settings: CurvePoint[][], options: PenaltyOptions = {}): PenaltyMatrix {
  const ddof = options.ddof ?? 1;
  const seen = new Set(settings.flat().map((p) => p.strategy));
  const names = [...new Set([...(options.order ?? []).filter((n) => seen.has(n)), ...seen])];
  const M = names.length;
  const matrix = names.map(() => new Array<number>(M).fill(0));
  const criticals = new Set<number>();
  let fewestPairs = Infinity;
  for (const points of settings) {
    const byKey = new Map<string, number>();
    for (const p of points) byKey.set(`${p.strategy}|${p.seed}|${p.round}`, p.accuracy);
    const rounds = [...new Set(points.map((p) => p.round))].filter((r) => r >= 1).sort((a, b) => a - b);
    const seeds = [...new Set(points.map((p) => p.seed))];
    const R = rounds.length;
    if (R === 0) continue;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < M; j++) {
        if (i === j) continue;
        let wins = 0;
        for (const r of rounds) {
          const deltas: number[] = [];
          for (const s of seeds) {
            const a = byKey.get(`${names[i]}|${s}|${r}`),
              b = byKey.get(`${names[j]}|${s}|${r}`);
            if (a !== undefined && b !== undefined) deltas.push(a - b);
          }
          const S = deltas.length;
          fewestPairs = Math.min(fewestPairs, S);
          if (S < 2) continue;
          const critical = tCritical(S - 1, options.confidence);
          criticals.add(Number(critical.toFixed(4)));
          const m = mean(deltas),
            sd = std(deltas, ddof);
          const t = sd > 0 ? (Math.sqrt(S) * m) / sd : m > 0 ? Infinity : 0;
          if (t > critical) wins++;
        }
        matrix[i][j] += wins / R;
      }
    }
  }
  const columnMean = names.map((_, j) => (M > 1 ? matrix.reduce((s, row) => s + row[j], 0) / (M - 1) : 0));
  return { names, matrix, columnMean, ddof, tCritical: [...criticals], settings: settings.length, fewestPairs: Number.isFinite(fewestPairs) ? fewestPairs : 0 };
}
