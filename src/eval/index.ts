export * from "./metrics.js";
export * from "./penalty.js";
export * from "./student-t.js";
