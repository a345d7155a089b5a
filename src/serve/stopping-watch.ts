import type { AccuracyPoint } from "../eval/accuracy-estimate.js";
import { defaultCriteria, estimateGain, type StoppingCriterion } from "../eval/stopping.js";
import { gatherRows, type Matrix } from "../linalg/matrix.js";
import { argmaxRows } from "../linalg/rows.js";
import type { Classifier } from "../models/classifier.js";
import { Rng } from "../random.js";

/** Pool rows the criteria watch at most: a seeded sample, the same for every model of a project (as in simulate). */
const STOPPING_SET = 1000;

/** One stopping criterion as the project page shows it. */
export interface StopSignal {
  name: string;
  /** Whether it says stop now (small-text's criteria do not latch: a stop can turn back). */
  stop: boolean;
  /** The model version and labels at which it first said stop, if it has. */
  firstStop: { modelVersion: number; labels: number } | null;
  /** The figure it decided on, in words. */
  why: string;
}

interface Observed {
  stop: boolean;
  value: number | null;
  firstStop: StopSignal["firstStop"];
}

/**
 * small-text's stopping criteria (kappa average, classification change, overall uncertainty, ΔF
 * on two classes) checked on every new model of a project, on a fixed sample of its pool, and our
 * criterion from the live accuracy estimate. A restart replays the stored models in order, so the
 * signals come back the same.
 */
export class StoppingWatch {
  private readonly sample: Matrix;
  private readonly criteria: StoppingCriterion[];
  private readonly observed = new Map<string, Observed>();
  private models = 0;

  constructor(pool: Matrix, numClasses: number, seed: number) {
    this.sample = gatherRows(pool, new Rng(seed).child("stopping").sample(pool.rows, Math.min(STOPPING_SET, pool.rows)));
    this.criteria = defaultCriteria(numClasses);
  }

  /** A new model, in version order. */
  observe(modelVersion: number, labels: number, classifier: Classifier): void {
    const probs = classifier.predictProbs(this.sample);
    const predictions = argmaxRows(probs);
    this.models++;
    for (const c of this.criteria) {
      const { stop, value } = c.check(predictions, probs);
      const firstStop = this.observed.get(c.name)?.firstStop ?? (stop ? { modelVersion, labels } : null);
      this.observed.set(c.name, { stop, value, firstStop });
    }
  }

  signals(curve: readonly AccuracyPoint[]): StopSignal[] {
    const fromModels = this.criteria.map((c): StopSignal => {
      const seen = this.observed.get(c.name);
      return { name: c.name, stop: seen?.stop ?? false, firstStop: seen?.firstStop ?? null, why: explain(c.name, seen, this.models, this.sample.rows) };
    });
    const gain = estimateGain(curve);
    const last = curve[curve.length - 1];
    return [
      ...fromModels,
      {
        name: "estimate-gain",
        stop: gain.stop,
        firstStop: gain.stop && last ? { modelVersion: last.models[1], labels: last.labels } : null,
        why:
          gain.gain === null
            ? `needs 6 points of the accuracy estimate (${curve.length} so far): the last 3 against the 3 before`
            : `the last 3 estimate points against the 3 before: ${signed(gain.gain)} points, at most ${signed(gain.upper!)} (95%, one-sided, n = ${gain.n}); stop below +3`,
      },
    ];
  }
}

const signed = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(100 * v).toFixed(1)}`;

function explain(name: string, seen: Observed | undefined, models: number, sampleRows: number): string {
  if (!seen || seen.value === null) return `needs more models (${models} so far)`;
  const v = seen.value;
  switch (name) {
    case "kappa-average":
      return `mean Cohen's κ between the last 3 models' predictions: ${v.toFixed(3)} (stop at ≥ 0.99)`;
    case "classification-change":
      return `${sampleRows - v} of ${sampleRows} sampled items changed class with the last model (stop at 0)`;
    case "overall-uncertainty":
      return `mean normalised entropy ${v.toFixed(3)} (stop below 0.05)`;
    case "delta-f-score":
      return `largest ΔF over the last 3 models ${Number.isNaN(v) ? "undefined (no positive predicted)" : v.toFixed(3)} (stop below 0.05)`;
    default:
      return String(v);
  }
}
