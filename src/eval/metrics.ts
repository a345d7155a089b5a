/** Fraction of positions where `predicted` equals `truth`. */
export function accuracy(predicted: Int32Array, truth: Int32Array): number {
  if (predicted.length !== truth.length) throw new RangeError(`accuracy: ${predicted.length} predictions for ${truth.length} labels`);
  let correct = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) correct++;
  return truth.length ? correct / truth.length : NaN;
}

/**
 * Per-class figures of a test: recall averaged over the classes present in `truth` (balanced
 * accuracy, as scikit-learn's balanced_accuracy_score) and the unweighted mean of per-class F1
 * over the classes present in `truth` or `predicted` (macro-F1, as f1_score(average="macro"),
 * an F1 of 0 where precision and recall are both undefined or 0).
 */
export function classBalancedScores(predicted: Int32Array, truth: Int32Array, numClasses: number): { balancedAccuracy: number; macroF1: number } {
  if (predicted.length !== truth.length) throw new RangeError(`classBalancedScores: ${predicted.length} predictions for ${truth.length} labels`);
  const truePositive = new Float64Array(numClasses),
    actual = new Float64Array(numClasses),
    said = new Float64Array(numClasses);
  for (let i = 0; i < truth.length; i++) {
    actual[truth[i]]++;
    said[predicted[i]]++;
    if (predicted[i] === truth[i]) truePositive[truth[i]]++;
  }
  let recallSum = 0,
    present = 0,
    f1Sum = 0,
    labelsSeen = 0;
  for (let k = 0; k < numClasses; k++) {
    if (actual[k] > 0) {
      recallSum += truePositive[k] / actual[k];
      present++;
    }
    if (actual[k] > 0 || said[k] > 0) {
      f1Sum += (2 * truePositive[k]) / (actual[k] + said[k]);
      labelsSeen++;
    }
  }
  return { balancedAccuracy: present ? recallSum / present : NaN, macroF1: labelsSeen ? f1Sum / labelsSeen : NaN };
}

export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length ? s / values.length : NaN;
}

/** Standard deviation with `ddof` delta degrees of freedom (1: sample, 0: population). */
export function std(values: ArrayLike<number>, ddof = 1): number {
  const n = values.length;
  if (n - ddof <= 0) return NaN;
  const m = mean(values);
  let s = 0;
  for (let i = 0; i < n; i++) s += (values[i] - m) ** 2;
  return Math.sqrt(s / (n - ddof));
}

/**
 * Area under a learning curve by the trapezoid rule, divided by the range of x so that a
 * constant accuracy a has area a.
 */
export function areaUnderCurve(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length || x.length === 0) throw new RangeError("areaUnderCurve: needs equally long, non-empty x and y");
  if (x.length === 1) return y[0];
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return area / (x[x.length - 1] - x[0]);
}
