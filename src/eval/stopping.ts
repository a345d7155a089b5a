import type { Matrix } from "../linalg/matrix.js";
import type { RoundResult } from "./round-result.js";

/**
 * Stopping criteria: called once per round on a fixed "stopping set" of pool items, each says
 * whether labelling can stop now, and the value it decided on. They follow small-text's semantics
 * exactly (KappaAverage, ClassificationChange, OverallUncertainty, DeltaFScore, MaxIterations):
 * state is kept between calls, and none latches (a stop can turn back into a go).
 */
export interface StoppingCriterion {
  readonly name: string;
  /** One call per round, in order: the model's predicted classes on the stopping set, and its probabilities. */
  check(predictions: Int32Array, probs?: Matrix): { stop: boolean; value: number | null };
}

/** Unweighted Cohen's κ, (p_o − p_e)/(1 − p_e); identical vectors give exactly 1, even constant ones. */
export function cohenKappa(a: Int32Array | number[], b: Int32Array | number[], numClasses: number): number {
  const n = a.length;
  if (b.length !== n) throw new RangeError(`cohenKappa: ${n} against ${b.length} predictions`);
  let same = 0;
  const countA = new Float64Array(numClasses),
    countB = new Float64Array(numClasses);
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) same++;
    countA[a[i]]++;
    countB[b[i]]++;
  }
  if (same === n) return 1;
  let pe = 0;
  for (let k = 0; k < numClasses; k++) pe += (countA[k] / n) * (countB[k] / n);
  return (same / n - pe) / (1 - pe);
}

/** Bloodgood and Vijay-Shanker (2009): the mean κ between consecutive rounds' predictions, over the last `window`, is ≥ `kappa`. */
export function kappaAverage(numClasses: number, { window = 3, kappa = 0.99 } = {}): StoppingCriterion {
  let previous: Int32Array | undefined;
  const history: number[] = [];
  return {
    name: "kappa-average",
    check(predictions) {
      if (previous) history.push(cohenKappa(previous, predictions, numClasses));
      previous = Int32Array.from(predictions);
      if (history.length < window) return { stop: false, value: null };
      const value = history.slice(-window).reduce((s, v) => s + v, 0) / window;
      return { stop: value >= kappa, value };
    },
  };
}

/** Every prediction unchanged since the last round, but for a `threshold` share (0: all of them). */
export function classificationChange({ threshold = 0 } = {}): StoppingCriterion {
  let previous: Int32Array | undefined;
  return {
    name: "classification-change",
    check(predictions) {
      const before = previous;
      previous = Int32Array.from(predictions);
      if (!before) return { stop: false, value: null };
      let unchanged = 0;
      for (let i = 0; i < predictions.length; i++) if (before[i] === predictions[i]) unchanged++;
      return { stop: unchanged >= predictions.length * (1 - threshold), value: unchanged };
    },
  };
}

/** The mean normalised entropy of the predictions (entropy / ln K, each row rescaled to sum to 1) is below `threshold`. */
export function overallUncertainty({ threshold = 0.05 } = {}): StoppingCriterion {
  return {
    name: "overall-uncertainty",
    check(_predictions, probs) {
      if (!probs) throw new RangeError("overall-uncertainty needs the predicted probabilities");
      const { rows, cols, data } = probs;
      let total = 0;
      for (let i = 0; i < rows; i++) {
        let sum = 0;
        for (let k = 0; k < cols; k++) sum += data[i * cols + k];
        let h = 0;
        for (let k = 0; k < cols; k++) {
          const p = data[i * cols + k] / sum;
          if (p > 0) h -= p * Math.log(p);
        }
        total += h / Math.log(cols);
      }
      const value = total / rows;
      return { stop: value < threshold, value };
    },
  };
}

/**
 * Binary tasks (class 1 positive): ΔF = 1 − 2a/(2a + b + c) between consecutive rounds (a: positive
 * in both, b: before only, c: now only) is below `threshold` for each of the last `window` rounds.
 * A round with no positive on either side has ΔF = NaN, which blocks stopping while in the window.
 * The value is the window's largest ΔF.
 */
export function deltaFScore({ window = 3, threshold = 0.05 } = {}): StoppingCriterion {
  let previous: Int32Array | undefined;
  const history: number[] = [];
  return {
    name: "delta-f-score",
    check(predictions) {
      if (previous) {
        let a = 0,
          b = 0,
          c = 0;
        for (let i = 0; i < predictions.length; i++) {
          const before = previous[i] === 1,
            now = predictions[i] === 1;
          if (before && now) a++;
          else if (before) b++;
          else if (now) c++;
        }
        history.push(1 - (2 * a) / (2 * a + b + c));
      }
      previous = Int32Array.from(predictions);
      if (history.length < window) return { stop: false, value: null };
      const last = history.slice(-window);
      const value = last.some(Number.isNaN) ? Number.NaN : Math.max(...last);
      return { stop: last.every((v) => v < threshold), value };
    },
  };
}

/** Stop from the `max`-th call on (round max − 1). */
export function maxIterations(max: number): StoppingCriterion {
  let calls = 0;
  return {
    name: "max-iterations",
    check() {
      calls++;
      return { stop: calls >= max, value: calls };
    },
  };
}

/** What the estimate-gain criterion decided, and on what. */
export interface EstimateGain {
  stop: boolean;
  /** Accuracy of the last `window` points pooled, minus that of the `window` before them (null until there are 2·window points). */
  gain: number | null;
  /** The one-sided upper bound of the gain (Newcombe's interval from the two Wilson intervals). */
  upper: number | null;
  /** Random-share items in the two windows. */
  n: number;
}

/**
 * Ours, for `serve`: from the unbiased accuracy estimate (runs of random-share items, each n
 * items with `correct` guessed right), the gain of the last `window` runs pooled over the
 * `window` runs before them. Stop when the gain's one-sided upper bound (Newcombe's hybrid score
 * interval for a difference of two proportions, from their Wilson intervals at z) is below
 * `epsilon`: more labels confidently buy less than ε of accuracy. It needs many random-share labels
 * to be confident, by design: a 10% share gives one item in ten.
 */
export function estimateGain(points: readonly { n: number; correct: number }[], { window = 3, epsilon = 0.03, z = 1.645 } = {}): EstimateGain {
  if (points.length < 2 * window) return { stop: false, gain: null, upper: null, n: points.reduce((s, p) => s + p.n, 0) };
  const pool = (part: readonly { n: number; correct: number }[]) =>
    part.reduce((a, p) => ({ n: a.n + p.n, correct: a.correct + p.correct }), { n: 0, correct: 0 });
  const before = pool(points.slice(-2 * window, -window)),
    after = pool(points.slice(-window));
  const p1 = before.correct / before.n,
    p2 = after.correct / after.n;
  const w1 = wilsonAt(before.correct, before.n, z),
    w2 = wilsonAt(after.correct, after.n, z);
  const gain = p2 - p1;
  const upper = gain + Math.sqrt((w2.high - p2) ** 2 + (p1 - w1.low) ** 2);
  return { stop: upper < epsilon, gain, upper, n: before.n + after.n };
}

/** The Wilson score interval for k successes in n trials at z. */
export function wilsonAt(k: number, n: number, z: number): { low: number; high: number } {
  const p = k / n,
    z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n),
    half = (z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n))) / (1 + z2n);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** The share of each batch serve draws at random for its accuracy estimate, and simulate audits with. */
export const DEFAULT_RANDOM_SHARE = 0.1;

/** The criteria `simulate` checks every round, with small-text's defaults (ΔF only for two classes). */
export function defaultCriteria(numClasses: number): StoppingCriterion[] {
  return [kappaAverage(numClasses), classificationChange(), overallUncertainty(), ...(numClasses === 2 ? [deltaFScore()] : [])];
}

/** Where one criterion stopped one strategy's runs, over seeds. */
export interface StopSummary {
  strategy: string;
  criterion: string;
  /** Runs in which the criterion fired at some round, and runs in all. */
  fired: number;
  runs: number;
  /** Over the runs where it fired: mean labels and test accuracy at the first round it said stop. */
  labelsAtStop: number;
  accuracyAtStop: number;
  /** Over those runs: mean labels not spent, and accuracy lost, against the run's last round. */
  labelsSaved: number;
  accuracyLost: number;
}

/** Each criterion's first stop in each run of `results`, summarised per strategy ("labels saved against accuracy lost"). */
export function stoppingSummary(results: RoundResult[]): StopSummary[] {
  const runs = new Map<string, RoundResult[]>();
  for (const r of results) {
    const key = JSON.stringify([r.strategy, r.seed]);
    runs.set(key, [...(runs.get(key) ?? []), r]);
  }
  const out = new Map<string, StopSummary>();
  // The criteria every run checks, and any other that fired (ΔF, on two classes).
  const criteria = [
    ...new Set([
      "kappa-average",
      "classification-change",
      "overall-uncertainty",
      ...(results.some((r) => r.audit) ? ["estimate-gain"] : []),
      ...results.flatMap((r) => r.stop ?? []),
    ]),
  ];
  for (const rows of runs.values()) {
    if (!rows.some((r) => r.stop)) continue; // results from before the criteria were recorded
    rows.sort((a, b) => a.round - b.round);
    const last = rows[rows.length - 1];
    for (const criterion of criteria) {
      const key = JSON.stringify([last.strategy, criterion]);
      const entry = out.get(key) ?? {
        strategy: last.strategy,
        criterion,
        fired: 0,
        runs: 0,
        labelsAtStop: 0,
        accuracyAtStop: 0,
        labelsSaved: 0,
        accuracyLost: 0,
      };
      entry.runs++;
      const at = rows.find((r) => r.stop?.includes(criterion));
      if (at) {
        entry.fired++;
        entry.labelsAtStop += at.labeled;
        entry.accuracyAtStop += at.accuracy;
        entry.labelsSaved += last.labeled - at.labeled;
        entry.accuracyLost += last.accuracy - at.accuracy;
      }
      out.set(key, entry);
    }
  }
  return [...out.values()].map((e) => {
    const f = Math.max(1, e.fired);
    return { ...e, labelsAtStop: e.labelsAtStop / f, accuracyAtStop: e.accuracyAtStop / f, labelsSaved: e.labelsSaved / f, accuracyLost: e.accuracyLost / f };
  });
}
