import { UserError } from "../errors.js";
import { gatherRows, type Matrix } from "../linalg/matrix.js";

/** A labelled set of items: features (one row per item), class ids and what the ids mean. */
export interface Dataset {
  /** Where it came from, for messages and reports. */
  name: string;
  x: Matrix;
  /** Class id of each row, 0 ≤ y < classNames.length. */
  y: Int32Array;
  classNames: string[];
  /** Optional item ids (e.g. from an `id` column), one per row. */
  ids?: string[];
  /** Height × width when the rows are images. */
  imageShape?: [number, number];
  /** Colour channels when the rows are images (each row is then C×H×W, planar). */
  channels?: number;
  /** The normalisation this dataset is known by (MNIST: mean 0.1307, std 0.3081); else per feature. */
  normalization?: { mean: number; std: number };
}

/** A training part and, when the source has one, its own test part. */
export interface DatasetParts {
  train: Dataset;
  test?: Dataset;
}

/** The rows at `indices`, as a new dataset. */
export function subset(data: Dataset, indices: Int32Array, name = data.name): Dataset {
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) y[i] = data.y[indices[i]];
  return {
    ...data,
    name,
    x: gatherRows(data.x, indices),
    y,
    ids: data.ids ? Array.from(indices, (i) => data.ids![i]) : undefined,
  };
}

export function classCounts(data: Pick<Dataset, "y" | "classNames">): Int32Array {
  const counts = new Int32Array(data.classNames.length);
  for (let i = 0; i < data.y.length; i++) counts[data.y[i]]++;
  return counts;
}

/**
 * Class ids for string labels: numeric names sort numerically ("2" < "10"), others by code
 * point, so two files with the same classes get the same ids.
 */
export function encodeLabels(labels: string[]): { y: Int32Array; classNames: string[] } {
  const classNames = sortClassNames([...new Set(labels)]);
  const id = new Map(classNames.map((name, i) => [name, i]));
  return { y: Int32Array.from(labels, (l) => id.get(l)!), classNames };
}

export function sortClassNames(names: string[]): string[] {
  const numeric = names.every((n) => n.trim() !== "" && Number.isFinite(Number(n)));
  return [...names].sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Express `test`'s labels in `train`'s class ids (separate files may hold different subsets of
 * classes); a test class that training never saw is an error.
 */
export function alignClasses(train: Dataset, test: Dataset): Dataset {
  const ids = new Map(train.classNames.map((name, i) => [name, i]));
  const unseen = test.classNames.filter((name) => !ids.has(name));
  if (unseen.length) {
    throw new UserError(
      `${test.name}: class ${JSON.stringify(unseen[0])} does not occur in ${train.name} (its classes: ${sortClassNames(train.classNames).slice(0, 20).join(", ")})`,
    );
  }
  const y = Int32Array.from(test.y, (k) => ids.get(test.classNames[k])!);
  return { ...test, y, classNames: train.classNames };
}
