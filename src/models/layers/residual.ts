import type { Rng } from "../../random.js";
import { Conv2d, type ConvAlgorithm } from "./conv2d.js";
import { BatchNorm2d } from "./norm-pool.js";
import { splitElements } from "./split.js";
import { volume, type Buffers, type Volume, type VolumeLayer } from "./volume.js";

/** Layers run one after another, their parameters side by side in the model's flat buffer. */
export class Sequential implements VolumeLayer {
  readonly paramCount: number;

  constructor(readonly layers: VolumeLayer[]) {
    this.paramCount = layers.reduce((n, l) => n + l.paramCount, 0);
  }

  bind(params: Float32Array, grads: Float32Array): void {
    let o = 0;
    for (const l of this.layers) {
      l.bind(params.subarray(o, o + l.paramCount), grads.subarray(o, o + l.paramCount));
      o += l.paramCount;
    }
  }

  init(rng: Rng): void {
    this.layers.forEach((l, i) => l.init(rng.child(i)));
  }

  state(): Float32Array[] {
    return this.layers.flatMap((l) => l.state?.() ?? []);
  }

  outputShape(x: Omit<Volume, "data">): Omit<Volume, "data"> {
    return this.layers.reduce((shape, l) => l.outputShape(shape), x);
  }

  forward(x: Volume, train: boolean): Volume {
    return this.layers.reduce((v, l) => l.forward(v, train), x);
  }

  backward(dy: Volume, needInput: boolean): Volume | undefined {
    let g: Volume | undefined = dy;
    for (let i = this.layers.length - 1; i >= 0 && g; i--) g = this.layers[i].backward(g, needInput || i > 0);
    return g;
  }
}

/**
 * torchvision's BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), 3×3 convolutions
 * without bias; the shortcut is the identity, or a strided 1×1 convolution with batch norm when the
 * shape changes. `algorithm` applies to its stride-1 3×3 convolutions (tests force each).
 */
export class BasicBlock implements VolumeLayer {
  readonly paramCount: number;
  private readonly main: Sequential;
  private readonly shortcut?: Sequential;
  private output?: Float32Array;

  constructor(
    readonly name: string,
    private readonly buffers: Buffers,
    inC: number,
    outC: number,
    stride: number,
    algorithm: ConvAlgorithm = "auto",
  ) {
    this.main = new Sequential([
      new Conv2d(`${name}/conv1`, buffers, inC, outC, 3, stride, 1, false, stride === 1 ? algorithm : "auto"),
      new BatchNorm2d(`${name}/bn1`, buffers, outC, true), // and ReLU
      new Conv2d(`${name}/conv2`, buffers, outC, outC, 3, 1, 1, false, algorithm),
      new BatchNorm2d(`${name}/bn2`, buffers, outC),
    ]);
    if (stride !== 1 || inC !== outC) {
      this.shortcut = new Sequential([new Conv2d(`${name}/down`, buffers, inC, outC, 1, stride, 0, false), new BatchNorm2d(`${name}/down-bn`, buffers, outC)]);
    }
    this.paramCount = this.main.paramCount + (this.shortcut?.paramCount ?? 0);
  }

  bind(params: Float32Array, grads: Float32Array): void {
    const m = this.main.paramCount;
    this.main.bind(params.subarray(0, m), grads.subarray(0, m));
    this.shortcut?.bind(params.subarray(m), grads.subarray(m));
  }

  init(rng: Rng): void {
    this.main.init(rng.child("main"));
    this.shortcut?.init(rng.child("shortcut"));
  }

  state(): Float32Array[] {
    return [...this.main.state(), ...(this.shortcut?.state() ?? [])];
  }

  outputShape(x: Omit<Volume, "data">): Omit<Volume, "data"> {
    return this.main.outputShape(x);
  }

  forward(x: Volume, train: boolean): Volume {
    const y = this.main.forward(x, train);
    const s = this.shortcut ? this.shortcut.forward(x, train) : x;
    // In place over the second batch norm's output, which nothing reads again (its backward
    // pass needs only its input): ResNet-18 saves a buffer per block, 96 MB at batch 64.
    splitElements("addRelu", [y.data, s.data, y.data]);
    this.output = y.data;
    return y;
  }

  backward(dy: Volume, needInput: boolean): Volume | undefined {
    const out = this.output!,
      g = this.buffers.gradient(dy.data.length, dy.data);
    splitElements("passWherePositive", [dy.data, out, g]);
    const gv = volume(dy, g);
    // g feeds both branches, and the main branch's result waits for the shortcut's: neither may
    // be handed out again by the gradient pool meanwhile.
    this.buffers.pin(g);
    const dMain = this.main.backward(gv, needInput);
    if (dMain) this.buffers.pin(dMain.data);
    const dShort = this.shortcut ? this.shortcut.backward(gv, needInput) : gv;
    this.buffers.unpin(g);
    if (!needInput) return undefined;
    this.buffers.unpin(dMain!.data);
    splitElements("add", [dMain!.data, dShort!.data, dMain!.data]);
    return dMain;
  }
}
