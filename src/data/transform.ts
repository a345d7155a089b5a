import { inputError } from "../errors.js";
import type { Matrix } from "../linalg/matrix.js";
import type { Rng } from "../random.js";

/** Per-feature (or one shared) mean and standard deviation. */
export interface Standardizer {
  mean: Float32Array;
  std: Float32Array;
}

/** Per-feature mean and std of `x`; a constant feature gets std 1 so it maps to 0, not NaN. */
export function fitStandardizer(x: Matrix): Standardizer {
  const d = x.cols,
    n = x.rows;
  const sum = new Float64Array(d),
    sq = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) sum[j] += x.data[o + j];
  }
  const mean = new Float32Array(d);
  for (let j = 0; j < d; j++) mean[j] = n ? sum[j] / n : 0;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const v = x.data[o + j] - mean[j];
      sq[j] += v * v;
    }
  }
  const std = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    const s = n ? Math.sqrt(sq[j] / n) : 0;
    std[j] = s > 1e-12 ? s : 1;
  }
  return { mean, std };
}

/** The same mean and std for every feature (e.g. MNIST's 0.1307 and 0.3081). */
export function scalarStandardizer(cols: number, mean: number, std: number): Standardizer {
  return { mean: new Float32Array(cols).fill(mean), std: new Float32Array(cols).fill(std) };
}

/**
 * One mean and std per colour channel of planar image rows (C×H×W), spread over the channel's
 * features. Values of length 1 apply to every channel.
 */
export function channelStandardizer(cols: number, channels: number, mean: number[], std: number[]): Standardizer {
  const plane = cols / channels,
    at = (v: number[], c: number) => v[v.length === 1 ? 0 : c];
  const out = { mean: new Float32Array(cols), std: new Float32Array(cols) };
  for (let c = 0; c < channels; c++) {
    out.mean.fill(at(mean, c), c * plane, (c + 1) * plane);
    out.std.fill(at(std, c), c * plane, (c + 1) * plane);
  }
  return out;
}

/** Each channel's mean and std over every pixel of every row (as torchvision's Normalize values are computed). */
export function fitChannelStandardizer(x: Matrix, channels: number): Standardizer {
  const plane = x.cols / channels,
    mean: number[] = [],
    std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let sum = 0,
      sq = 0;
    for (let i = 0; i < x.rows; i++) {
      for (let j = i * x.cols + c * plane, e = j + plane; j < e; j++) {
        sum += x.data[j];
        sq += x.data[j] * x.data[j];
      }
    }
    const n = x.rows * plane,
      m = n ? sum / n : 0,
      s = n ? Math.sqrt(Math.max(0, sq / n - m * m)) : 0;
    mean.push(m);
    std.push(s > 1e-12 ? s : 1);
  }
  return channelStandardizer(x.cols, channels, mean, std);
}

/** (x − mean) / std per feature, in place. */
export function standardizeInPlace(x: Matrix, s: Standardizer): Matrix {
  if (s.mean.length !== x.cols) throw new RangeError(`standardize: ${s.mean.length} means for ${x.cols} features`);
  const d = x.cols;
  const inv = s.std.map((v) => 1 / v);
  for (let i = 0; i < x.rows; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) x.data[o + j] = (x.data[o + j] - s.mean[j]) * inv[j];
  }
  return x;
}

/** Throw a one-line error naming the first NaN or infinite value of `x` (its rows numbered from `firstRow`). */
export function checkFinite(x: Matrix, source: string, from = 0, to = x.data.length, firstRow = 0): void {
  const data = x.data;
  let bad = -1;
  // v − v is 0 for every finite v and NaN for NaN and ±∞; four at a time, then find the culprit.
  let i = from;
  for (; i + 4 <= to; i += 4) {
    if (data[i] - data[i] + (data[i + 1] - data[i + 1]) + (data[i + 2] - data[i + 2]) + (data[i + 3] - data[i + 3]) !== 0) {
      bad = i;
      break;
    }
  }
  if (bad < 0) for (; i < to; i++) if (data[i] - data[i] !== 0) bad = i;
  if (bad < 0) return;
  while (Number.isFinite(data[bad])) bad++;
  const row = firstRow + Math.floor(bad / x.cols),
    col = bad % x.cols;
  throw inputError(source, `row ${row}, column ${col}`, `expected a finite number, found ${data[bad]}`);
}

/**
 * Split 0..n-1 so each class keeps its share in the test part: per class, round(fraction × count)
 * items go to test (at least one when the class has two or more), drawn by `rng`.
 */
export function stratifiedSplit(y: Int32Array, testFraction: number, rng: Rng): { train: Int32Array; test: Int32Array } {
  checkFraction(testFraction);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < y.length; i++) {
    const list = byClass.get(y[i]);
    if (list) list.push(i);
    else byClass.set(y[i], [i]);
  }
  const train: number[] = [],
    test: number[] = [];
  for (const k of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = rng.shuffle(byClass.get(k)!);
    let take = Math.round(testFraction * members.length);
    if (take === 0 && members.length >= 2 && testFraction > 0) take = 1;
    if (take === members.length && members.length >= 2) take = members.length - 1;
    test.push(...members.slice(0, take));
    train.push(...members.slice(take));
  }
  return { train: Int32Array.from(train).sort(), test: Int32Array.from(test).sort() };
}

/** Split 0..n-1 uniformly at random: round(fraction × n) indices go to test. */
export function randomSplit(n: number, testFraction: number, rng: Rng): { train: Int32Array; test: Int32Array } {
  checkFraction(testFraction);
  const order = rng.permutation(n);
  const take = Math.round(testFraction * n);
  return { train: order.slice(take).sort(), test: order.slice(0, take).sort() };
}

function checkFraction(f: number): void {
  if (!(f >= 0 && f <= 1)) throw new RangeError(`test fraction must be in [0, 1], got ${f}`);
}
