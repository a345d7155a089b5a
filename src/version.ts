import { createRequire } from "node:module";

/** alfamix's version, from its package.json: jobs carry it, and workers of another version refuse them. */
export const VERSION: string = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;
