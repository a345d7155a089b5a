import { Conv2d } from "./conv2d.js";
import { BatchNorm2d, MaxPool2d } from "./norm-pool.js";
import { BasicBlock, Sequential } from "./residual.js";
import type { Buffers } from "./volume.js";

export const CONV_KINDS = ["cnn", "resnet18"] as const;
export type ConvKind = (typeof CONV_KINDS)[number];

/** A convolutional trunk and how its output becomes the dense layers' input. */
export interface ConvArchitecture {
  trunk: Sequential;
  /** Flatten the feature maps (c, y, x order, as PyTorch's view) or average them over positions. */
  vector: "flatten" | "gap";
  /** Width of that vector. */
  features: number;
  /** Whether the 256-d embedding layer has a ReLU (cnn) or is linear (resnet18, as the public code). */
  reluEmbedding: boolean;
}

/**
 * The trunks: `cnn` is conv 32-32, max-pool, conv 64-64, max-pool (3×3 kernels, padding 1, ReLU);
 * `resnet18` is torchvision's BasicBlock layout [2, 2, 2, 2] with 64-128-256-512 channels, after a
 * 3×3 stride-1 stem (`cifar`, for 32×32 inputs) or ImageNet's 7×7 stride-2 stem with max-pool.
 */
export function architecture(kind: ConvKind, input: { c: number; h: number; w: number }, buffers: Buffers, stem: "cifar" | "imagenet"): ConvArchitecture {
  const shape = { c: input.c, n: 1, h: input.h, w: input.w };
  if (kind === "cnn") {
    // Each conv with its ReLU, and the max-pools after conv2 and conv4, fused (Conv2d's `relu` and
    // `pool`); conv2 and conv4 mask their input gradients for the ReLU before them.
    const convs = [
      new Conv2d("conv1", buffers, input.c, 32, 3, 1, 1, true, "auto", true),
      new Conv2d("conv2", buffers, 32, 32, 3, 1, 1, true, "auto", true, true),
      new Conv2d("conv3", buffers, 32, 64, 3, 1, 1, true, "auto", true),
      new Conv2d("conv4", buffers, 64, 64, 3, 1, 1, true, "auto", true, true),
    ];
    convs[1].followsRelu(convs[0]);
    convs[3].followsRelu(convs[2]);
    const trunk = new Sequential(convs);
    const out = trunk.outputShape(shape);
    return { trunk, vector: "flatten", features: out.c * out.h * out.w, reluEmbedding: true };
  }
  const stemLayers =
    stem === "cifar"
      ? [new Conv2d("stem", buffers, input.c, 64, 3, 1, 1, false), new BatchNorm2d("stem-bn", buffers, 64, true)]
      : [new Conv2d("stem", buffers, input.c, 64, 7, 2, 3, false), new BatchNorm2d("stem-bn", buffers, 64, true), new MaxPool2d("stem-pool", buffers, 3, 2, 1)];
  const blocks = [];
  let inC = 64;
  for (const [stage, outC] of [64, 128, 256, 512].entries()) {
    for (let i = 0; i < 2; i++) {
      blocks.push(new BasicBlock(`layer${stage + 1}.${i}`, buffers, inC, outC, stage > 0 && i === 0 ? 2 : 1));
      inC = outC;
    }
  }
  return { trunk: new Sequential([...stemLayers, ...blocks]), vector: "gap", features: 512, reluEmbedding: false };
}
