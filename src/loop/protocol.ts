import { UserError } from "../errors.js";
import type { Rng } from "../random.js";

/**
 * Budget regimes as labels per class, for the initial set and for each round. Lüth et al.
 * (NeurIPS 2023) and Munjal et al. (CVPR 2022) show rankings flip between them: low (1 a class)
 * is where cold starts and typicality win, mid (5) and high (20) where uncertainty catches up,
 * and large (100) is the paper's "stays ahead after accuracy converges".
 */
export const REGIMES = { low: 1, mid: 5, high: 20, large: 100 } as const;
export type Regime = keyof typeof REGIMES;
export const REGIME_NAMES = Object.keys(REGIMES) as Regime[];

/** The initial labels and labels per round of a regime on `classes` classes. */
export function regimeBudget(regime: Regime, classes: number): { init: number; query: number } {
  const perClass = REGIMES[regime];
  if (perClass === undefined) throw new UserError(`simulate: --regime expects one of ${REGIME_NAMES.join(", ")}, got ${JSON.stringify(regime)}`);
  return { init: perClass * classes, query: perClass * classes };
}

/**
 * A long-tailed subsample of a pool with imbalance ratio `ratio` (Cui et al. 2019, as Ji et al.
 * use it): class c keeps ⌊n · ratio^(−c/(K−1))⌋ rows (at least 1), n being the smallest class's
 * count, so class 0 is the head and class K−1 is `ratio` times rarer. Rows are drawn per class
 * without replacement from `rng`; the kept rows come back in pool order.
 */
export function longTailRows(y: Int32Array, classes: number, ratio: number, rng: Rng): Int32Array {
  if (!(ratio >= 1)) throw new UserError(`simulate: --imbalance expects a ratio ≥ 1, got ${ratio}`);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < y.length; i++) byClass[y[i]].push(i);
  const present = byClass.filter((rows) => rows.length > 0);
  const base = Math.min(...present.map((rows) => rows.length));
  const kept: number[] = [];
  byClass.forEach((rows, c) => {
    if (rows.length === 0) return;
    const share = classes > 1 ? ratio ** (-c / (classes - 1)) : 1;
    const keep = Math.max(1, Math.floor(base * share + 1e-9));
    for (const at of rng.child(`class/${c}`).sample(rows.length, keep)) kept.push(rows[at]);
  });
  return Int32Array.from(kept).sort();
}

export const NOISE_KINDS = ["symmetric", "pairwise"] as const;
export type NoiseKind = (typeof NOISE_KINDS)[number];

/**
 * What a noisy oracle answers for every pool row: with probability `rate` a wrong class, drawn
 * uniformly from the others (symmetric) or the next class, c → c+1 mod K (pairwise, the
 * class-conditional flips of Patrini et al. 2017); otherwise the truth. One draw per row from
 * `rng`, so an item gets the same answer whichever strategy asks for it.
 */
export function noisyAnswers(y: Int32Array, classes: number, rate: number, kind: NoiseKind, rng: Rng): Int32Array {
  if (!(rate >= 0 && rate < 1)) throw new UserError(`simulate: --label-noise expects a share in [0, 1), got ${rate}`);
  const out = y.slice();
  if (classes < 2) return out;
  for (let i = 0; i < y.length; i++) {
    const flip = rng.uniform() < rate;
    const other = rng.int(classes - 1); // drawn either way, so rows keep their draws whatever the rate
    if (!flip) continue;
    out[i] = kind === "pairwise" ? (y[i] + 1) % classes : other >= y[i] ? other + 1 : other;
  }
  return out;
}
