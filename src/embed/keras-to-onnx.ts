import { UserError } from "../errors.js";
import { int64, type OnnxGraph, type OnnxInitializer, type OnnxNode } from "./onnx-writer.js";

/** A Keras layer as a tfjs layers-model topology lists it. */
export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  /** [[[inboundLayerName, nodeIndex, tensorIndex, kwargs], …]] */
  inbound_nodes: [string, number, number, unknown][][];
}

/** A weight as the tfjs manifest describes it; uint8-quantised weights are min + scale × q. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: "float32";
  quantization?: { min: number; scale: number; dtype: "uint8" };
}

/**
 * The weights of a tfjs manifest, dequantised as tfjs does (q × scale + min in double precision,
 * stored as float32), by name.
 */
export function decodeWeights(specs: WeightSpec[], data: Uint8Array): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count);
    if (spec.quantization) {
      if (spec.quantization.dtype !== "uint8") throw new Error(`weight ${spec.name}: unsupported quantisation ${spec.quantization.dtype}`);
      const { min, scale } = spec.quantization;
      for (let i = 0; i < count; i++) values[i] = data[offset + i] * scale + min;
      offset += count;
    } else {
      values.set(new Float32Array(data.buffer.slice(data.byteOffset + offset, data.byteOffset + offset + count * 4)));
      offset += count * 4;
    }
    out.set(spec.name, values);
  }
  if (offset !== data.length) throw new Error(`weights: the manifest describes ${offset} bytes, the data holds ${data.length}`);
  return out;
}

/** An output of the converted graph: the global average of a layer's activations, or of several side by side. */
export interface PooledOutput {
  /** Output name in the ONNX graph. */
  name: string;
  /** The Keras layer whose (N, H, W, C) activations are averaged over H and W. */
  layer: string;
  /** Instead: these layers' averages, concatenated in this order. */
  concat?: string[];
}

/**
 * A Keras convolutional network (the layer kinds of MobileNetV2 and InceptionV3: ZeroPadding2D,
 * Conv2D, DepthwiseConv2D, BatchNormalization, ReLU with a cap, Activation(relu), Add,
 * MaxPooling2D, AveragePooling2D, Concatenate) as an ONNX graph with an N×C×H×W
 * float input and, for each of `outputs`, the global average of a layer's activations (N×C).
 * Keras computes channels-last; the graph is channels-first, with the kernels transposed to
 * match, so it computes the same function. Only layers the outputs need are converted.
 */
export function kerasToOnnx(
  layers: KerasLayer[],
  weights: Map<string, Float32Array>,
  options: { name: string; inputName: string; height: number; width: number; outputs: PooledOutput[] },
): OnnxGraph {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const needed = new Set<string>();
  const visit = (name: string) => {
    if (needed.has(name)) return;
    const layer = byName.get(name);
    if (!layer) throw new Error(`layer ${name} is not in the model`);
    needed.add(name);
    for (const [inbound] of layer.inbound_nodes[0] ?? []) visit(inbound);
  };
  for (const o of options.outputs) for (const layer of o.concat ?? [o.layer]) visit(layer);

  const nodes: OnnxNode[] = [],
    initializers: OnnxInitializer[] = [];
  const weight = (name: string) => {
    const w = weights.get(name);
    if (!w) throw new Error(`weight ${name} is missing`);
    return w;
  };
  const constant = (name: string, dims: number[], data: Float32Array | BigInt64Array) => {
    initializers.push({ name, dims, data });
    return name;
  };
  const channels = new Map<string, number>();
  let inputChannels = 3;

  for (const layer of layers) {
    if (!needed.has(layer.name)) continue;
    const c = layer.config,
      name = layer.name;
    // A layer's tensor is "layer/NAME": the graph's output names (a tap called mixed5) stay free.
    const out = tensorOf(name);
    const inputs = (layer.inbound_nodes[0] ?? []).map(([inbound]) =>
      byName.get(inbound)!.class_name === "InputLayer" ? options.inputName : tensorOf(inbound),
    );
    const inChannels = inputs.length ? (inputs[0] === options.inputName ? inputChannels : channels.get(inputs[0])!) : 0;
    switch (layer.class_name) {
      case "InputLayer": {
        const shape = c.batch_input_shape as (number | null)[];
        inputChannels = shape[3] ?? 3;
        break;
      }
      case "ZeroPadding2D": {
        const [[top, bottom], [left, right]] = c.padding as [[number, number], [number, number]];
        nodes.push({
          op: "Pad",
          inputs: [inputs[0], constant(`${name}/pads`, [8], int64([0, 0, top, left, 0, 0, bottom, right]))],
          outputs: [out],
          attributes: { mode: "constant" },
        });
        channels.set(out, inChannels);
        break;
      }
      case "Conv2D":
      case "DepthwiseConv2D": {
        const depthwise = layer.class_name === "DepthwiseConv2D";
        const [kh, kw] = c.kernel_size as [number, number],
          strides = c.strides as [number, number];
        if ((c.dilation_rate as number[]).some((d) => d !== 1)) throw new Error(`${name}: dilated convolutions are not supported`);
        if (c.activation !== "linear") throw new Error(`${name}: fused activation ${String(c.activation)} is not supported`);
        const pads = convPads(name, c.padding as string, kh, kw, strides);
        // Keras kernels are (kh, kw, in, out) or, depthwise, (kh, kw, in, multiplier); ONNX wants (out, in/groups, kh, kw).
        const kernel = weight(`${name}/${depthwise ? "depthwise_kernel" : "kernel"}`);
        const multiplier = depthwise ? (c.depth_multiplier as number) : 1;
        const outChannels = depthwise ? inChannels * multiplier : (c.filters as number);
        const perGroup = depthwise ? 1 : inChannels;
        const w = new Float32Array(outChannels * perGroup * kh * kw);
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++)
            for (let i = 0; i < inChannels; i++) {
              for (let m = 0; m < (depthwise ? multiplier : outChannels); m++) {
                const src = ((y * kw + x) * inChannels + i) * (depthwise ? multiplier : outChannels) + m;
                const o = depthwise ? i * multiplier + m : m,
                  ci = depthwise ? 0 : i;
                w[((o * perGroup + ci) * kh + y) * kw + x] = kernel[src];
              }
            }
        const convInputs = [inputs[0], constant(`${name}/W`, [outChannels, perGroup, kh, kw], w)];
        if (c.use_bias) convInputs.push(constant(`${name}/B`, [outChannels], weight(`${name}/bias`)));
        nodes.push({
          op: "Conv",
          inputs: convInputs,
          outputs: [out],
          attributes: { kernel_shape: [kh, kw], strides, pads, group: depthwise ? inChannels : 1 },
        });
        channels.set(out, outChannels);
        break;
      }
      case "BatchNormalization": {
        if (c.axis !== -1 && c.axis !== 3) throw new Error(`${name}: batch normalisation over axis ${String(c.axis)} is not supported`);
        const n = inChannels,
          ones = new Float32Array(n).fill(1),
          zeros = new Float32Array(n);
        nodes.push({
          op: "BatchNormalization",
          inputs: [
            inputs[0],
            constant(`${name}/gamma`, [n], c.scale ? weight(`${name}/gamma`) : ones),
            constant(`${name}/beta`, [n], c.center ? weight(`${name}/beta`) : zeros),
            constant(`${name}/mean`, [n], weight(`${name}/moving_mean`)),
            constant(`${name}/variance`, [n], weight(`${name}/moving_variance`)),
          ],
          outputs: [out],
          attributes: { epsilon: { f: c.epsilon as number } },
        });
        channels.set(out, n);
        break;
      }
      case "ReLU": {
        if ((c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) throw new Error(`${name}: a leaky or thresholded ReLU is not supported`);
        if (c.max_value === null || c.max_value === undefined) nodes.push({ op: "Relu", inputs: [inputs[0]], outputs: [out] });
        else
          nodes.push({
            op: "Clip",
            inputs: [inputs[0], constant(`${name}/min`, [], Float32Array.of(0)), constant(`${name}/max`, [], Float32Array.of(c.max_value as number))],
            outputs: [out],
          });
        channels.set(out, inChannels);
        break;
      }
      case "Add": {
        nodes.push({ op: "Add", inputs, outputs: [out] });
        channels.set(out, inChannels);
        break;
      }
      case "Activation": {
        if (c.activation !== "relu") throw new Error(`${name}: activation ${String(c.activation)} is not supported`);
        nodes.push({ op: "Relu", inputs: [inputs[0]], outputs: [out] });
        channels.set(out, inChannels);
        break;
      }
      case "MaxPooling2D":
      case "AveragePooling2D": {
        const [kh, kw] = c.pool_size as [number, number],
          strides = c.strides as [number, number];
        if (c.data_format !== undefined && c.data_format !== "channels_last") throw new Error(`${name}: ${String(c.data_format)} pooling is not supported`);
        // Keras's "same" average pooling leaves the padding out of the mean: ONNX's count_include_pad 0.
        const attributes: Record<string, number | number[]> = { kernel_shape: [kh, kw], strides, pads: convPads(name, c.padding as string, kh, kw, strides) };
        if (layer.class_name === "AveragePooling2D") attributes.count_include_pad = 0;
        nodes.push({ op: layer.class_name === "MaxPooling2D" ? "MaxPool" : "AveragePool", inputs: [inputs[0]], outputs: [out], attributes });
        channels.set(out, inChannels);
        break;
      }
      case "Concatenate": {
        if (c.axis !== -1 && c.axis !== 3) throw new Error(`${name}: concatenation over axis ${String(c.axis)} is not supported`);
        nodes.push({ op: "Concat", inputs, outputs: [out], attributes: { axis: 1 } });
        channels.set(
          out,
          inputs.reduce((sum, input) => sum + channels.get(input)!, 0),
        );
        break;
      }
      default:
        throw new Error(`${name}: layer type ${layer.class_name} is not supported`);
    }
  }
  const pooled = new Set<string>();
  const pool = (layer: string) => {
    const t = tensorOf(layer);
    if (!pooled.has(layer)) {
      nodes.push({ op: "GlobalAveragePool", inputs: [t], outputs: [`${t}/pooled4d`] });
      nodes.push({ op: "Flatten", inputs: [`${t}/pooled4d`], outputs: [`${t}/pooled`], attributes: { axis: 1 } });
      pooled.add(layer);
    }
    return `${t}/pooled`;
  };
  for (const o of options.outputs) {
    const parts = (o.concat ?? [o.layer]).map(pool);
    nodes.push(
      parts.length === 1 ? { op: "Identity", inputs: parts, outputs: [o.name] } : { op: "Concat", inputs: parts, outputs: [o.name], attributes: { axis: 1 } },
    );
  }
  const width = (o: PooledOutput) => (o.concat ?? [o.layer]).reduce((sum, layer) => sum + channels.get(tensorOf(layer))!, 0);
  return {
    name: options.name,
    inputs: [{ name: options.inputName, shape: ["batch", inputChannels, options.height, options.width] }],
    outputs: options.outputs.map((o) => ({ name: o.name, shape: ["batch", width(o)] })),
    nodes,
    initializers,
  };
}

const tensorOf = (layer: string) => `layer/${layer}`;

/** ONNX pads [top, left, bottom, right] for Keras "valid", or "same" at stride 1 with an odd kernel. */
function convPads(name: string, padding: string, kh: number, kw: number, strides: [number, number]): number[] {
  if (padding === "valid") return [0, 0, 0, 0];
  if (padding === "same" && strides[0] === 1 && strides[1] === 1 && kh % 2 === 1 && kw % 2 === 1) {
    return [(kh - 1) / 2, (kw - 1) / 2, (kh - 1) / 2, (kw - 1) / 2];
  }
  throw new UserError(`${name}: padding ${padding} with stride ${strides.join("×")} and a ${kh}×${kw} kernel is not supported`);
}
