import { loadTextModel, type FittedTextModel } from "../embed/text/text-model.js";
import type { Matrix } from "../linalg/matrix.js";
import type { NeuralClassifier } from "../models/network.js";

/** The n-grams that pushed a guess, as the page shows them: against which class, and where. */
export interface GuessTerms {
  /** The class the guess was weighed against: the runner-up. */
  against: string;
  terms: { term: string; weight: number; spans: [number, number][] }[];
}

/**
 * "Why this guess" for a text project whose rows came from TF-IDF + LSA and whose head is linear:
 * the head's direction from the runner-up class to the guessed one, traced back through the
 * projection to the text's n-grams (termPushes). The TF-IDF model is read on first use.
 */
export class GuessExplainer {
  private model?: Promise<FittedTextModel | undefined>;

  constructor(
    private readonly textModelFile: string,
    private readonly classes: readonly string[],
  ) {}

  async explain(text: string, row: Matrix, classifier: NeuralClassifier): Promise<GuessTerms | undefined> {
    // A model file moved or deleted since the project was made only loses the highlights.
    this.model ??= loadTextModel(this.textModelFile).catch(() => undefined);
    const model = await this.model;
    if (!model?.termPushes || model.dim !== row.cols) return undefined;
    const probs = classifier.predictProbs(row).data;
    const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
    const [guess, runnerUp] = order;
    const { W } = classifier.head();
    const direction = Float32Array.from({ length: W.cols }, (_, c) => W.data[guess * W.cols + c] - W.data[runnerUp * W.cols + c]);
    const terms = model.termPushes(text, direction).map((t) => ({
      term: t.term,
      weight: Number(t.weight.toPrecision(3)),
      spans: t.spans.filter(([, end]) => end <= text.length),
    }));
    return { against: this.classes[runnerUp], terms };
  }
}
