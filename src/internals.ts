/** Every module's exports, for code that needs the parts (alfamix/internals): not kept stable between releases. The stable API is index.ts. */
export * from "./errors.js";
export { Rng } from "./random.js";
export * from "./linalg/index.js";
export * from "./cluster/index.js";
export * from "./data/index.js";
export * from "./models/index.js";
export * from "./strategies/index.js";
export * from "./loop/index.js";
export * from "./eval/index.js";
export * from "./embed/index.js";
export * from "./report/report.js";
export * from "./loop/sharded-query.js";
export * from "./loop/stream-batch.js";
