/** Fraction of positions where `predicted` equals `truth`. */
export function accuracy(predicted: Int32Array, truth: Int32Array): number {
  if (predicted.length !== truth.length) throw new RangeError(`accuracy: ${predicted.length} predictions for ${truth.length} labels`);
  let correct = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) correct++;
  return truth.length ? correct / truth.length : NaN;
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
