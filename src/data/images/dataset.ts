import { UserError } from "../../errors.js";
import { matrix } from "../../linalg/matrix.js";
import { alignClasses, encodeLabels, type Dataset } from "../dataset.js";
import { listImageFolder, readImageManifest, type ImageList, type ImageSplits } from "./folder.js";
import { loadImages, type ImageLoadOptions, type ImageStats } from "./load.js";

/** An image dataset's splits, with what its files looked like before loading. */
export interface ImageDatasetParts {
  train: Dataset;
  test?: Dataset;
  images: { stats: ImageStats; cached: boolean };
}

/** The splits of a folder (see listImageFolder) or of a manifest CSV (see readImageManifest). */
export async function listImages(spec: string, isFolder: boolean): Promise<ImageSplits> {
  return isFolder ? listImageFolder(spec) : readImageManifest(spec);
}

/**
 * An image folder or manifest as a dataset: each image one row of C×H×W values in [0, 1] (planar,
 * so the row is the N×C×H×W form flattened), labels from class folders or the manifest. Without
 * labels the rows get the single class "(unlabelled)", unless `requireLabels` makes that an error.
 */
export async function loadImageDataset(
  spec: string,
  isFolder: boolean,
  options: ImageLoadOptions & { requireLabels?: boolean } = {},
): Promise<ImageDatasetParts> {
  const splits = await listImages(spec, isFolder);
  const lists = [splits.train, ...(splits.test ? [splits.test] : [])];
  if (options.requireLabels && !splits.train.labels) {
    throw new UserError(`${spec}: the images have no labels: put them in class folders (DIR/<class>/…) or give the manifest a label column`);
  }
  const loaded = await loadImages(lists, options);
  const { channels, height, width } = loaded.shape;
  const toDataset = (list: ImageList, bytes: Uint8Array, name: string): Dataset => {
    const x = matrix(list.files.length, channels * height * width);
    bytesToUnit(bytes, x.data);
    const { y, classNames } = list.labels ? encodeLabels(list.labels) : { y: new Int32Array(x.rows), classNames: ["(unlabelled)"] };
    return { name, x, y, classNames, ids: list.ids, imageShape: [height, width], channels };
  };
  const train = toDataset(splits.train, loaded.parts[0], splits.test ? `${spec} (train)` : spec);
  const test = splits.test ? alignClasses(train, toDataset(splits.test, loaded.parts[1], `${spec} (test)`)) : undefined;
  return { train, test, images: { stats: loaded.stats, cached: loaded.cached } };
}

/** Bytes to [0, 1] floats. (Filling a fresh 700 MB array costs ~3 s here, nearly all page faults.) */
function bytesToUnit(bytes: Uint8Array, out: Float32Array): void {
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
}
