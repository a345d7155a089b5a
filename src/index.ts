export * from "./errors.js";
export { Rng } from "./random.js";
export * from "./linalg/index.js";
export * from "./cluster/index.js";
export * from "./data/index.js";
export * from "./models/index.js";
export * from "./strategies/index.js";
export * from "./loop/index.js";
export * from "./eval/index.js";
