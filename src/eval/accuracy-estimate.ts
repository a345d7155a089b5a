import { wilsonAt } from "./stopping.js";

/** The model's accuracy on a run of random-share items, guessed before they were labelled. */
export interface AccuracyPoint {
  /** Labels in the project when the last item of the run was labelled. */
  labels: number;
  /** Items in the run, and how many the model guessed right. */
  n: number;
  correct: number;
  accuracy: number;
  /** Wilson 95% interval. */
  low: number;
  high: number;
  /** The model versions that made the guesses. */
  models: [number, number];
}

/** Random-share items per point of the accuracy curve, at least. */
const ESTIMATE_RUN = 20;

/**
 * The live accuracy estimate: random-share items (drawn uniformly from the unlabelled pool, the
 * model's guess recorded before each was labelled), in arrival order, cut into consecutive runs of
 * at least ESTIMATE_RUN (fewer only while there are fewer), each run one point with its Wilson
 * interval. Retrains are frequent, so a run spans a few models: each point estimates the accuracy
 * of the models live at the time.
 */
export function accuracyCurve(labels: readonly { label: string; predicted: string; modelVersion: number; seq: number }[]): AccuracyPoint[] {
  const run = Math.max(ESTIMATE_RUN, Math.ceil(labels.length / 12));
  const points: AccuracyPoint[] = [];
  for (let start = 0; start < labels.length; ) {
    // The last run takes what is left, unless that is too few to say anything.
    const part = labels.length - start < 2 * run ? labels.slice(start) : labels.slice(start, start + run);
    const correct = part.filter((l) => l.label === l.predicted).length;
    points.push({
      labels: part[part.length - 1].seq,
      n: part.length,
      correct,
      accuracy: correct / part.length,
      ...wilson(correct, part.length),
      models: [part[0].modelVersion, part[part.length - 1].modelVersion],
    });
    start += part.length;
  }
  return points;
}

/** Wilson score interval at 95% for k successes in n trials. */
export function wilson(k: number, n: number): { low: number; high: number } {
  return wilsonAt(k, n, 1.959964);
}
