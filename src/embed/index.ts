export * from "./embed.js";
export * from "./session.js";
export * from "./pooling.js";
export * from "./onnx-writer.js";
export { MOBILENET_V2, mobileNetV2Path } from "./mobilenet-v2.js";
export * from "./load-dataset.js";
