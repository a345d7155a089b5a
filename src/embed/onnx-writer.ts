import { createRequire } from "node:module";
import type onnxProtoModule from "onnx-proto";

/** onnx-proto (protobufjs) takes about 0.2 s to load: loaded when a model is first written, not by every command. */
let proto: typeof onnxProtoModule.onnx | undefined;
const onnxProto = () => (proto ??= (createRequire(import.meta.url)("onnx-proto") as typeof onnxProtoModule).onnx);

/** An attribute: an integer, a list of integers, a float (`{ f }`) or a string. */
export type OnnxAttribute = number | number[] | { f: number } | string;

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, OnnxAttribute>;
  name?: string;
}

/** A graph input or output (float32 unless said); a string dimension is symbolic (e.g. "batch"). */
export interface OnnxValue {
  name: string;
  shape: (number | string)[];
  type?: "float32" | "int64";
}

/** A constant: float32 weights, or int64 values (shapes, axes, pads). */
export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export interface OnnxGraph {
  name: string;
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  /** Default opset 13 (ONNX 1.8), which every current runtime reads. */
  opset?: number;
  /** Written into the model's metadata_props. */
  metadata?: Record<string, string>;
}

/** The graph as ONNX protobuf bytes (IR version 7). */
export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  const onnx = onnxProto();
  const valueInfo = (v: OnnxValue) => ({
    name: v.name,
    type: {
      tensorType: {
        elemType: v.type === "int64" ? onnx.TensorProto.DataType.INT64 : onnx.TensorProto.DataType.FLOAT,
        shape: { dim: v.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: "alfamix",
    opsetImport: [{ domain: "", version: graph.opset ?? 13 }],
    metadataProps: Object.entries(graph.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
      node: graph.nodes.map((n, i) => ({
        name: n.name ?? `${n.op}_${i}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([name, value]) => attribute(name, value)),
      })),
      initializer: graph.initializers.map((t) => ({
        name: t.name,
        dims: t.dims,
        dataType: t.data instanceof Float32Array ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
        // Little-endian raw bytes, as every ONNX reader expects.
        rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function attribute(name: string, value: OnnxAttribute) {
  const T = onnxProto().AttributeProto.AttributeType;
  if (typeof value === "string") return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === "number") return { name, type: T.INT, i: value };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return { name, type: T.FLOAT, f: value.f };
}

/** int64 constant from numbers. */
export function int64(values: number[]): BigInt64Array {
  return BigInt64Array.from(values, (v) => BigInt(v));
}
