export * from "./metrics.js";
export * from "./penalty.js";
export * from "./student-t.js";
export * from "./summary.js";
export * from "./format.js";
export * from "./agreement.js";
export * from "./accuracy-estimate.js";
