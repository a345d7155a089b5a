import { matrix, type Matrix } from "../linalg/matrix.js";
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

/** ALFA-Mix anchors from the labelled embeddings `z` and their classes `y` (step 1 of the reference). */
export function buildAnchors(z: Matrix, y: Int32Array, numClasses: number): Anchors {
  if (z.rows === 0) throw new RangeError("buildAnchors: no labelled embeddings");
  const d = z.cols;
  const { means, counts } = classMeans(z, y, numClasses);
  const all = classMeans(z, new Int32Array(z.rows), 1).means.data;
  const anchors = matrix(numClasses, d, means.data);
  // equal[k·d + j]: every labelled value of class k at coordinate j equals the first one.
  const first = new Float32Array(numClasses * d);
  const equal = new Uint8Array(numClasses * d).fill(1);
  const seen = new Uint8Array(numClasses);
  const allEqual = new Uint8Array(d).fill(1);
  for (let i = 0; i < z.rows; i++) {
    const k = y[i],
      o = i * d,
      s = k * d;
    for (let j = 0; j < d; j++) {
      const v = z.data[o + j];
      if (!seen[k]) first[s + j] = v;
      else if (v !== first[s + j]) equal[s + j] = 0;
      if (v !== z.data[j]) allEqual[j] = 0;
    }
    seen[k] = 1;
  }
  const exact: Int32Array[] = [];
  for (let k = 0; k < numClasses; k++) {
    if (counts[k] === 0) {
      anchors.data.set(all, k * d);
      exact.push(Int32Array.from({ length: d }, (_, j) => j).filter((j) => allEqual[j] === 1));
    } else {
      exact.push(Int32Array.from({ length: d }, (_, j) => j).filter((j) => equal[k * d + j] === 1));
    }
  }
  return { anchors, exact };
}
