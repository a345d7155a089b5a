export * from "./matrix.js";
export * from "./gemm.js";
export * from "./rows.js";
export * from "./distances.js";
