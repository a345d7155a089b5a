import { loadDataset, type LoadOptions } from "../data/registry.js";
import { alignClasses, subset, type Dataset } from "../data/dataset.js";
import { fitStandardizer, scalarStandardizer, standardizeInPlace, stratifiedSplit, type Standardizer } from "../data/transform.js";
import { UserError } from "../errors.js";
import { Rng } from "../random.js";

export type Normalization = "auto" | "feature" | "none";

/** The pool the learner draws from and the test set it is judged on, for one seed. */
export interface Experiment {
  pool: Dataset;
  test: Dataset;
  /** How the features were normalised, for the record. */
  normalization: string;
}

/** The train and optional test parts of a simulation, loaded once. */
export interface ExperimentSource {
  train: Dataset;
  test?: Dataset;
}

export async function loadExperimentSource(dataset: string, test: string | undefined, options: LoadOptions): Promise<ExperimentSource> {
  const parts = await loadDataset(dataset, options);
  if (test) return { train: parts.train, test: alignClasses(parts.train, (await loadDataset(test, options)).train) };
  // A source with its own test part (MNIST, IDX directories with t10k files) uses it.
  return { train: parts.train, test: parts.test ? alignClasses(parts.train, parts.test) : undefined };
}

/**
 * The seed's pool and test set: the source's own test set when it has one, else a stratified
 * split drawn from the seed. Features are normalised with the dataset's own mean and std when it
 * has them (MNIST), else per feature from the pool, unless `normalization` says otherwise.
 */
export function prepareExperiment(source: ExperimentSource, seed: number, testFraction: number, normalization: Normalization): Experiment {
  let pool: Dataset, test: Dataset;
  if (source.test) {
    pool = { ...source.train, x: { ...source.train.x, data: source.train.x.data.slice() } };
    test = { ...source.test, x: { ...source.test.x, data: source.test.x.data.slice() } };
  } else {
    const split = stratifiedSplit(source.train.y, testFraction, new Rng(seed).child("split"));
    if (split.test.length === 0) throw new UserError(`${source.train.name}: a ${testFraction} test split of ${source.train.x.rows} rows is empty; pass --test`);
    pool = subset(source.train, split.train, `${source.train.name} (pool)`);
    test = subset(source.train, split.test, `${source.train.name} (test)`);
  }
  let standardizer: Standardizer | undefined, description = "none";
  const own = source.train.normalization;
  if (normalization === "auto" && own) {
    standardizer = scalarStandardizer(pool.x.cols, own.mean, own.std);
    description = `dataset mean ${own.mean}, std ${own.std}`;
  } else if (normalization !== "none") {
    standardizer = fitStandardizer(pool.x);
    description = "per feature, fitted on the pool";
  }
  if (standardizer) {
    standardizeInPlace(pool.x, standardizer);
    standardizeInPlace(test.x, standardizer);
  }
  return { pool, test, normalization: description };
}
