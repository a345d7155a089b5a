import type { Rng } from "../../random.js";
import { allocate, release, sameBlock } from "./arena.js";

/** Floats in shared memory of their own, outside the arena, which the helper thread (split.ts) can still work on. */
export function sharedFloats(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(4 * n));
}

/**
 * A batch of feature maps, channel-major: data[c][n][y][x]. Every channel of the whole batch is
 * one contiguous row, so a convolution is one GEMM over the batch (Cout×K times K×(N·H·W)) and
 * batch norm reduces contiguous rows.
 */
export interface Volume {
  c: number;
  n: number;
  h: number;
  w: number;
  data: Float32Array;
}

export const volumeSize = (v: Pick<Volume, "c" | "n" | "h" | "w">) => v.c * v.n * v.h * v.w;

/** A layer of a convolutional trunk: feature maps in, feature maps out, parameters in a shared flat buffer. */
export interface VolumeLayer {
  readonly paramCount: number;
  /** Point the layer's weights and gradients at its slice of the model's flat buffers. */
  bind(params: Float32Array, grads: Float32Array): void;
  /** PyTorch's default initialisation of its parameters (and reset of any running statistics). */
  init(rng: Rng): void;
  /** Output shape for an input shape. */
  outputShape(input: Omit<Volume, "data">): Omit<Volume, "data">;
  forward(x: Volume, train: boolean): Volume;
  /** ∂loss/∂input from ∂loss/∂output, accumulating parameter gradients; `needInput` false may skip the input's. */
  backward(dy: Volume, needInput: boolean): Volume | undefined;
  /** Running statistics and other state kept with the weights but not trained (batch norm). */
  state?(): Float32Array[];
}

/** Gives a collected Buffers' blocks back to the arena (its layers, which alone read them, went with it). */
const collected = new FinalizationRegistry<Set<Float32Array>>((blocks) => {
  for (const block of blocks) release(block);
});

/**
 * Buffers that outlive a batch, by name and size: a layer asks for the same buffer every batch and
 * gets the same memory back, so training allocates nothing per batch. Scratch buffers shared by
 * all layers (im2col columns) come from `scratch`.
 */
export class Buffers {
  /** Every block this Buffers holds in the arena, for the registry to give back if it is collected. */
  private readonly blocks = new Set<Float32Array>();
  private readonly owned = new Map<string, { buffer: Float32Array; view: Float32Array }>();
  private readonly shared = new Map<string, Float32Array>();
  private readonly kept = new Map<string, Float32Array>();
  private keptFloats = 0;
  private readonly gradients: Float32Array[] = [];
  private readonly pinned: Float32Array[] = [];

  /** @param keepBudget floats that `keep` may hold at once, over all keys. */
  constructor(private readonly keepBudget = 0) {
    collected.register(this, this.blocks);
  }

  /** n zeroed floats in the arena (arena.ts), or in shared memory of their own if it is full. */
  private allocate(n: number): Float32Array {
    const block = allocate(n);
    if (!block) return sharedFloats(n);
    this.blocks.add(block);
    return block;
  }

  /** Give back a buffer this Buffers no longer hands out. */
  private release(a: Float32Array | undefined): void {
    if (a && this.blocks.delete(a)) release(a);
  }

  /**
   * A buffer of exactly `size` floats owned by `key`. Its capacity only grows, so the short last
   * batch of an epoch and the next full one reuse it: the buffers are SharedArrayBuffers, which V8
   * collects late, and reallocating them twice an epoch held ResNet-18's old ones until the process
   * had 4.8 GB.
   */
  get(key: string, size: number): Float32Array {
    let slot = this.owned.get(key);
    if (!slot || slot.buffer.length < size) {
      this.release(slot?.buffer);
      const buffer = this.allocate(size);
      this.owned.set(key, (slot = { buffer, view: buffer }));
    }
    if (slot.view.length !== size) slot.view = slot.buffer.subarray(0, size);
    return slot.view;
  }

  /** A scratch buffer of at least `size` floats, shared by whoever asks for `name`: valid until the next ask. */
  scratch(name: string, size: number): Float32Array {
    let b = this.shared.get(name);
    if (!b || b.length < size) {
      this.release(b);
      b = this.allocate(size);
      this.shared.set(name, b);
    }
    return b.subarray(0, size);
  }

  /**
   * A buffer of `size` floats owned by `key` that stays valid until the key asks again, if the
   * budget allows; else undefined (the caller recomputes instead of keeping). Capacity only grows,
   * so the short last batch of an epoch reuses it.
   */
  keep(key: string, size: number): Float32Array | undefined {
    let b = this.kept.get(key);
    if (!b || b.length < size) {
      if (this.keptFloats - (b?.length ?? 0) + size > this.keepBudget) return undefined;
      this.keptFloats += size - (b?.length ?? 0);
      this.release(b);
      b = this.allocate(size);
      this.kept.set(key, b);
    }
    return b.subarray(0, size);
  }

  /**
   * A buffer for an input gradient, from a pool shared by every layer: a layer's input gradient
   * is dead once the layer before has read it, so the backward pass needs a few buffers, not one
   * per layer (ResNet-18 held 400 MB of them). It is none of `live` (the output gradient the layer
   * is reading) and none that is pinned (what a residual block still needs), and it is valid until
   * the next backward pass asks for a buffer that is not pinned.
   */
  gradient(size: number, ...live: Float32Array[]): Float32Array {
    const busy = (b: Float32Array) => this.pinned.some((p) => sameBlock(p, b)) || live.some((l) => sameBlock(l, b));
    let i = this.gradients.findIndex((b) => !busy(b) && b.length >= size);
    if (i < 0) {
      // Grow a free buffer rather than add one, so the pool stays as small as the busiest moment.
      i = this.gradients.findIndex((b) => !busy(b));
      if (i < 0) i = this.gradients.length;
      this.release(this.gradients[i]);
      this.gradients[i] = this.allocate(size);
    }
    return this.gradients[i].subarray(0, size);
  }

  /** Keep `a`'s gradient buffer out of the pool until unpinned: a residual block's output gradient, which both branches read. */
  pin(a: Float32Array): void {
    this.pinned.push(a);
  }

  unpin(a: Float32Array): void {
    const i = this.pinned.findIndex((p) => sameBlock(p, a));
    if (i >= 0) this.pinned.splice(i, 1);
  }

  /** Forget every buffer (e.g. after a pass over a large pool with another batch size). */
  clear(): void {
    for (const block of this.blocks) release(block);
    this.blocks.clear();
    this.owned.clear();
    this.shared.clear();
    this.kept.clear();
    this.keptFloats = 0;
    this.gradients.length = 0;
    this.pinned.length = 0;
  }
}

/** A Volume over a buffer. */
export function volume(shape: Omit<Volume, "data">, data: Float32Array): Volume {
  return { ...shape, data };
}

/** Uniform in ±bound, as PyTorch's kaiming_uniform_(a = √5) and bias init give for fan-in `fanIn`. */
export function uniformInit(out: Float32Array, bound: number, rng: Rng): void {
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * bound;
}
