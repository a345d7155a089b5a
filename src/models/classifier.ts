import type { Matrix } from "../linalg/matrix.js";
import type { Rng } from "../random.js";

export interface FitOptions {
  /** Upper bound on epochs (default 1000, as in the paper; early stopping usually ends sooner). */
  epochs?: number;
  /** Mini-batch size (default 64). */
  batchSize?: number;
  /** Adam learning rate (default 1e-3). */
  lr?: number;
  /** L2 penalty added to the gradient, as torch.optim.Adam's weight_decay (default 0). */
  weightDecay?: number;
  /** Stop after the first epoch whose running training accuracy reaches this (default 0.99; 1.01 never stops). */
  targetAccuracy?: number;
  /** Convolutional models: Adam (default) or SGD with momentum and a cosine schedule. */
  optimizer?: "adam" | "sgd";
  /** SGD's momentum (default 0.9). */
  momentum?: number;
  /** Convolutional models: random crops (4-pixel padding) and horizontal flips, seeded. */
  augment?: boolean;
  /** Called after each epoch, e.g. for progress. */
  onEpoch?: (epoch: number, accuracy: number, loss: number) => void;
}

export interface FitReport {
  epochs: number;
  /** Running accuracy of the last epoch (training mode, as the paper's stopping rule reads it). */
  trainAccuracy: number;
  /** Mean cross-entropy of the last epoch. */
  loss: number;
  stoppedEarly: boolean;
  ms: number;
}

export interface Predictions {
  /** N×K class probabilities (dropout off). */
  probs: Matrix;
  /** N×D embeddings: the input of the last linear layer. */
  embeddings: Matrix;
}

/**
 * What strategies may use of a model. Every fit starts again from the weights drawn at
 * construction (the paper's protocol), so rounds and strategies stay paired.
 */
export interface Classifier {
  readonly kind: "linear" | "mlp" | "cnn" | "resnet18";
  readonly inputDim: number;
  readonly numClasses: number;
  readonly embeddingDim: number;
  /** Dropout rate before the head; 0 means no stochastic passes are possible. */
  readonly dropout: number;
  fit(x: Matrix, y: Int32Array, options?: FitOptions): FitReport;
  predict(x: Matrix): Predictions;
  /** Embeddings only (the input itself for a linear model: no copy). */
  embed(x: Matrix): Matrix;
  /** Probabilities only: never holds more than a chunk of hidden activations. */
  predictProbs(x: Matrix): Matrix;
  /** The last linear layer: logits = z Wᵀ + b, with W K×D. */
  head(): { W: Matrix; b: Float32Array };
  /** Logits of the head alone for embeddings z (N×D). */
  headLogits(z: Matrix): Matrix;
  /** ∂ CE(softmax(h(z)), target) / ∂z per row = Wᵀ(p − onehot(target)) (N×D). */
  lossGradientWrtEmbedding(z: Matrix, targets: Int32Array): Matrix;
  /** ∂logits/∂input (eval mode): row i·K + k is ∇ₓ f_k(x_i), (N·K)×inputDim (for DFAL's DeepFool steps). */
  logitJacobian(x: Matrix): Matrix;
  /**
   * The same Jacobian factored at the first layer, J = upper·first with upper (N·K)×H and first
   * H×inputDim, where a model has a linear first layer (DFAL then never forms the N·K×inputDim
   * matrix); with `relativeTo`, of f_k − f_{relativeTo[i]}. `first` may be a view of the weights:
   * valid until they change.
   */
  logitJacobianFactors?(x: Matrix, relativeTo?: Int32Array, scratch?: Float32Array): { upper: Matrix; first: Matrix };
  /** A copy of everything fit changes (weights, running statistics), for setWeights. */
  weights(): Float32Array;
  setWeights(weights: Float32Array): void;
  /** T probability matrices with dropout active (identical passes when dropout is 0). */
  mcPredict(x: Matrix, samples: number, rng: Rng): Matrix[];
}
