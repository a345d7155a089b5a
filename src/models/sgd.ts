/**
 * SGD with momentum and weight decay over a flat parameter buffer, as torch.optim.SGD computes it:
 * g ← g + wd·θ; v ← μ·v + g; θ ← θ − lr·v.
 */
export class Sgd {
  private readonly velocity: Float32Array;
  private first = true;

  constructor(
    private readonly params: Float32Array,
    private readonly grads: Float32Array,
    private readonly momentum = 0.9,
  ) {
    this.velocity = new Float32Array(params.length);
  }

  step(lr: number, weightDecay = 0): void {
    const p = this.params,
      g = this.grads,
      v = this.velocity,
      mu = this.momentum;
    for (let i = 0; i < p.length; i++) {
      const grad = g[i] + weightDecay * p[i];
      // PyTorch starts the momentum buffer at the first gradient, not at 0.
      v[i] = this.first ? grad : mu * v[i] + grad;
      p[i] -= lr * v[i];
    }
    this.first = false;
  }
}
