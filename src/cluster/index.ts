export * from "./kmeans.js";
export * from "./kmeans-plus-plus.js";
export * from "./kcenter.js";
export * from "./nearest.js";
export * from "./points.js";
export * from "./kmeans-scale.js";
