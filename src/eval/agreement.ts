/**
 * Agreement between annotators who labelled the same items (nominal labels).
 *
 * - Cohen's κ for two raters: κ = (p_o − p_e) / (1 − p_e), where p_o is the share of items they
 *   agree on and p_e = Σ_k p₁(k) p₂(k) the agreement expected from their own label frequencies.
 * - Krippendorff's α (nominal) for any number of raters per item: α = 1 − D_o / D_e from the
 *   coincidence matrix o (each unit of m labels adds every ordered pair of its labels, weighted
 *   1/(m − 1)), with n_c = Σ_k o_ck, n = Σ_c n_c, D_o = Σ_{c≠k} o_ck and D_e = Σ_{c≠k} n_c n_k / (n − 1).
 *
 * Both are null when undefined (no items, or chance agreement of 1: every label the same).
 */

/** Cohen's κ of two raters' labels of the same items, in order. */
export function cohenKappa(a: readonly string[], b: readonly string[]): number | null {
  if (a.length !== b.length) throw new Error(`cohenKappa: ${a.length} labels against ${b.length}`);
  const n = a.length;
  if (n === 0) return null;
  const countA = new Map<string, number>(),
    countB = new Map<string, number>();
  let agree = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) agree++;
    countA.set(a[i], (countA.get(a[i]) ?? 0) + 1);
    countB.set(b[i], (countB.get(b[i]) ?? 0) + 1);
  }
  let expected = 0;
  for (const [k, c] of countA) expected += (c / n) * ((countB.get(k) ?? 0) / n);
  const observed = agree / n;
  return expected >= 1 ? null : (observed - expected) / (1 - expected);
}

/** Krippendorff's α (nominal) over units, each the labels it got (units with fewer than two are ignored). */
export function krippendorffAlpha(units: readonly (readonly string[])[]): number | null {
  const o = new Map<string, Map<string, number>>();
  const add = (c: string, k: string, w: number) => {
    let row = o.get(c);
    if (!row) o.set(c, (row = new Map()));
    row.set(k, (row.get(k) ?? 0) + w);
  };
  for (const unit of units) {
    const m = unit.length;
    if (m < 2) continue;
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j) add(unit[i], unit[j], 1 / (m - 1));
  }
  const totals = new Map<string, number>();
  let n = 0,
    disagreeing = 0;
  for (const [c, row] of o) {
    for (const [k, w] of row) {
      totals.set(c, (totals.get(c) ?? 0) + w);
      n += w;
      if (c !== k) disagreeing += w;
    }
  }
  let expected = 0;
  for (const [c, nc] of totals) for (const [k, nk] of totals) if (c !== k) expected += nc * nk;
  if (n <= 1 || expected === 0) return null;
  return 1 - ((n - 1) * disagreeing) / expected;
}

/** One item labelled by two annotators. */
export interface LabelPair {
  first: { annotator: string; label: string };
  second: { annotator: string; label: string };
}

export interface AgreementReport {
  /** Items labelled twice. */
  items: number;
  /** Share of them with the same two labels. */
  observed: number | null;
  alpha: number | null;
  /** Per pair of annotators (in name order): their shared items, share agreeing, and κ. */
  pairs: { annotators: [string, string]; items: number; observed: number; kappa: number | null }[];
  /** Per class, one against the rest: items either annotator put in it, share agreeing on it, κ. */
  classes: { label: string; items: number; observed: number | null; kappa: number | null }[];
}

/** Agreement of doubly labelled items: per annotator pair, per class, and α across all. */
export function agreementReport(pairs: readonly LabelPair[], classes: readonly string[]): AgreementReport {
  const byPair = new Map<string, { annotators: [string, string]; a: string[]; b: string[] }>();
  for (const { first, second } of pairs) {
    // Each pair is keyed by its names in order, and each label goes to its annotator's column.
    const [x, y] = first.annotator <= second.annotator ? [first, second] : [second, first];
    const key = JSON.stringify([x.annotator, y.annotator]);
    let entry = byPair.get(key);
    if (!entry) byPair.set(key, (entry = { annotators: [x.annotator, y.annotator], a: [], b: [] }));
    entry.a.push(x.label);
    entry.b.push(y.label);
  }
  const agreeing = (a: string[], b: string[]) => a.filter((l, i) => l === b[i]).length;
  const firsts = pairs.map((p) => p.first.label),
    seconds = pairs.map((p) => p.second.label);
  return {
    items: pairs.length,
    observed: pairs.length ? agreeing(firsts, seconds) / pairs.length : null,
    alpha: krippendorffAlpha(pairs.map((p) => [p.first.label, p.second.label])),
    pairs: [...byPair.values()]
      .map(({ annotators, a, b }) => ({ annotators, items: a.length, observed: agreeing(a, b) / a.length, kappa: cohenKappa(a, b) }))
      .sort((p, q) => q.items - p.items),
    classes: classes.map((label) => {
      const inA = firsts.map((l) => (l === label ? label : "other")),
        inB = seconds.map((l) => (l === label ? label : "other"));
      const involved = inA.filter((l, i) => l === label || inB[i] === label).length;
      const both = inA.filter((l, i) => l === label && inB[i] === label).length;
      return { label, items: involved, observed: involved ? both / involved : null, kappa: cohenKappa(inA, inB) };
    }),
  };
}
