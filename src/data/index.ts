export * from "./dataset.js";
export * from "./csv.js";
export * from "./idx.js";
export * from "./npy.js";
export * from "./registry.js";
export * from "./transform.js";
export * from "./pool.js";
