export * from "./classifier.js";
export * from "./network.js";
export * from "./adam.js";
export * from "./serialize.js";
