export * from "./simulation.js";
export * from "./prepare.js";
export * from "./results-store.js";
export * from "./select-batch.js";
export * from "./maps.js";
