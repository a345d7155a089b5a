export * from "./embed.js";
export * from "./session.js";
export * from "./pooling.js";
export * from "./onnx-writer.js";
export { INCEPTION_V3, MOBILENET_V2, mobileNetV2Path, nsfwjsModelPath } from "./nsfwjs-models.js";
export * from "./load-dataset.js";
