import type { LoadOptions } from "../data/registry.js";
import { loadDataset } from "../embed/load-dataset.js";
import { alignClasses, subset, type Dataset } from "../data/dataset.js";
import {
  channelStandardizer,
  fitChannelStandardizer,
  fitStandardizer,
  scalarStandardizer,
  standardizeInPlace,
  stratifiedSplit,
  type Standardizer,
} from "../data/transform.js";
import { UserError } from "../errors.js";
import { Rng } from "../random.js";

export type Normalization = "auto" | "feature" | "channel" | "none";

/** How a simulation normalises its inputs: a mode, or given per-channel values. */
export interface NormalizationSettings {
  normalize: Normalization;
  /** Per-channel mean and std (one value: every channel); given, they override the mode. */
  mean?: number[];
  std?: number[];
  /** Whether the model reads images (conv nets): auto then means per channel. */
  images?: boolean;
}

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
 * split drawn from the seed. Features are normalised with the given per-channel values, else
 * (auto) the dataset's own mean and std when it has them (MNIST), else per channel for conv nets
 * and per feature for the others, fitted on the pool.
 */
export function prepareExperiment(source: ExperimentSource, seed: number, testFraction: number, settings: NormalizationSettings): Experiment {
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
  const { standardizer, description } = chooseStandardizer(pool, settings);
  if (standardizer) {
    standardizeInPlace(pool.x, standardizer);
    standardizeInPlace(test.x, standardizer);
  }
  return { pool, test, normalization: description };
}

/**
 * The normalisation settings' mistakes that need no statistics: --mean/--std apart or of the wrong
 * length, per-channel normalisation of rows that are not images. Thrown before any work starts.
 */
export function checkNormalization(data: Pick<Dataset, "name" | "channels" | "imageShape">, settings: NormalizationSettings): void {
  const { normalize, mean, std } = settings,
    channels = data.channels ?? 1;
  if (mean || std) {
    if (!mean || !std) throw new UserError("simulate: --mean and --std go together");
    for (const [name, v] of [
      ["mean", mean],
      ["std", std],
    ] as const) {
      if (v.length !== 1 && v.length !== channels)
        throw new UserError(
          `simulate: --${name} has ${v.length} values; ${data.name} has ${channels} channel${channels === 1 ? "" : "s"} (give 1 or ${channels})`,
        );
    }
    if (std.some((s) => !(s > 0))) throw new UserError(`simulate: --std values must be positive, got ${std.join(",")}`);
  } else if (normalize === "channel" && !data.imageShape) {
    throw new UserError(`simulate: per-channel normalisation needs images; ${data.name} has no image shape (use --normalize feature)`);
  }
}

function chooseStandardizer(pool: Dataset, settings: NormalizationSettings): { standardizer?: Standardizer; description: string } {
  checkNormalization(pool, settings);
  const { normalize, mean, std } = settings,
    own = pool.normalization,
    channels = pool.channels ?? 1;
  const list = (v: number[]) => v.map((x) => +x.toFixed(4)).join(", ");
  if (mean && std)
    return { standardizer: channelStandardizer(pool.x.cols, channels, mean, std), description: `per channel, given: mean ${list(mean)}, std ${list(std)}` };
  if (normalize === "none") return { description: "none" };
  if (normalize === "auto" && own)
    return { standardizer: scalarStandardizer(pool.x.cols, own.mean, own.std), description: `dataset mean ${own.mean}, std ${own.std}` };
  if (pool.imageShape && (normalize === "channel" || (normalize === "auto" && settings.images))) {
    const standardizer = fitChannelStandardizer(pool.x, channels);
    const means = Array.from({ length: channels }, (_, c) => standardizer.mean[c * (pool.x.cols / channels)]);
    const stds = Array.from({ length: channels }, (_, c) => standardizer.std[c * (pool.x.cols / channels)]);
    return { standardizer, description: `per channel, fitted on the pool: mean ${list(means)}, std ${list(stds)}` };
  }
  return { standardizer: fitStandardizer(pool.x), description: "per feature, fitted on the pool" };
}
