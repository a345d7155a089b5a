import type { Dataset } from "../data/dataset.js";
import { UserError } from "../errors.js";
import type { Classifier } from "./classifier.js";
import { ConvClassifier } from "./convnet.js";
import { CONV_KINDS, type ConvKind } from "./layers/architectures.js";
import { NeuralClassifier } from "./network.js";

export const MODEL_KINDS = ["mlp", "linear", ...CONV_KINDS] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** What a simulation says about its model. */
export interface ModelSettings {
  model: ModelKind;
  /** MLP hidden widths. */
  hidden: number[];
  dropout: number;
  /** resnet18's stem (default cifar). */
  resnetStem?: "cifar" | "imagenet";
}

export const isConvKind = (kind: string): kind is ConvKind => (CONV_KINDS as readonly string[]).includes(kind);

/** A conv net's input height and width: the data's image shape, which rows from a table lack. */
export function requireImageShape(model: ModelKind, data: Pick<Dataset, "name" | "x" | "imageShape">): readonly number[] {
  if (!data.imageShape) {
    throw new UserError(
      `--model ${model} trains on images; ${data.name} has ${data.x.cols} features and no image shape (use an image folder, MNIST or IDX images, or --model mlp)`,
    );
  }
  return data.imageShape;
}

/**
 * The classifier a simulation trains on `data`'s rows, its initial weights drawn from `seed`.
 * Conv nets read the rows as C×H×W images, so the data must say its image shape.
 */
export function createClassifier(
  settings: ModelSettings,
  data: Pick<Dataset, "name" | "x" | "classNames" | "imageShape" | "channels">,
  seed: number,
): Classifier {
  const { model, dropout } = settings,
    numClasses = data.classNames.length;
  if (!isConvKind(model)) return new NeuralClassifier(data.x.cols, numClasses, { hidden: model === "linear" ? [] : settings.hidden, dropout, seed });
  const [h, w] = requireImageShape(model, data),
    c = data.channels ?? 1;
  return new ConvClassifier({ kind: model, input: { c, h, w }, numClasses, dropout, seed, stem: settings.resnetStem });
}
