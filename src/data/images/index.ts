export * from "./decode.js";
export * from "./folder.js";
export * from "./resize.js";
export * from "./load.js";
export * from "./dataset.js";
export { ImageDecoderPool, type BadImage, type DecodeTarget } from "./decoder-pool.js";
export * from "./png.js";
