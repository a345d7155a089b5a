import type { Matrix } from "../linalg/matrix.js";
import { classMeans } from "../linalg/rows.js";

export interface Anchors {
  /** One anchor per class (K×D): the mean labelled embedding of the class, or of all labelled items when the class has none. */
  anchors: Matrix;
  /**
   * Per anchor, the coordinates where every labelled embedding it averages holds the same value,
   * so the anchor equals that value exactly. Only there can a pool embedding coincide with the
   * anchor (d_j = 0), where the literal ALFA-Mix formula mixes nothing.
   */
  exact: Int32Array[];
}

/**
 * ALFA-Mix anchors from the labelled embeddings (the rows `rows` of `z`, default all of them) and
 * their classes `y` (step 1 of the reference). The rows are read where they lie: gathering them
 * took about 10 ms of a one-shot query over 1,000 labelled rows of 512.
 */
export function buildAnchors(z: Matrix, y: Int32Array, numClasses: number, rows?: ArrayLike<number>): Anchors {
  const n = rows ? rows.length : z.rows,
    d = z.cols,
    data = z.data;
  if (n === 0) throw new RangeError("buildAnchors: no labelled embeddings");
  const { means: anchors, counts } = classMeans(z, y, numClasses, rows);
  // The mean of every labelled row stands in for a class without any, so it is needed only then.
  const anyEmpty = counts.includes(0);
  const all = anyEmpty ? classMeans(z, new Int32Array(n), 1, rows).means.data : undefined;
  // equal[k·d + j]: every labelled value of class k at coordinate j equals the first one (first[k·d + j]).
  const first = new Float32Array(numClasses * d),
    equal = new Uint8Array(numClasses * d).fill(1),
    seen = new Uint8Array(numClasses),
    allEqual = new Uint8Array(d).fill(1);
  const o0 = (rows ? rows[0] : 0) * d;
  for (let i = 0; i < n; i++) {
    const k = y[i],
      o = (rows ? rows[i] : i) * d,
      s = k * d;
    for (let j = 0; j < d; j++) {
      const v = data[o + j];
      if (!seen[k]) first[s + j] = v;
      else if (v !== first[s + j]) equal[s + j] = 0;
      if (anyEmpty && v !== data[o0 + j]) allEqual[j] = 0;
    }
    seen[k] = 1;
  }
  const exact: Int32Array[] = [];
  for (let k = 0; k < numClasses; k++) {
    if (counts[k] === 0) {
      anchors.data.set(all!, k * d);
      exact.push(Int32Array.from({ length: d }, (_, j) => j).filter((j) => allEqual[j] === 1));
    } else {
      exact.push(Int32Array.from({ length: d }, (_, j) => j).filter((j) => equal[k * d + j] === 1));
    }
  }
  return { anchors, exact };
}
