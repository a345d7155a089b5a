import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import type { Rng } from "../src/random.js";
import { fromRows, matrix, type Matrix } from "../src/linalg/matrix.js";
import { jsBackend, openBlasBackend, useGemmBackend, type GemmBackend } from "../src/linalg/gemm.js";

/** Both GEMM backends when OpenBLAS is present (CI also runs everything with ALFAMIX_BLAS=off). */
export function backends(): GemmBackend[] {
  const blas = process.env.ALFAMIX_BLAS === "off" ? null : openBlasBackend();
  return blas ? [jsBackend, blas] : [jsBackend];
}

export function withBackend<T>(backend: GemmBackend, fn: () => T): T {
  const previous = useGemmBackend(backend);
  try {
    return fn();
  } finally {
    useGemmBackend(previous);
  }
}

export function randomMatrix(rows: number, cols: number, rng: Rng, scale = 1): Matrix {
  const m = matrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal(0, scale);
  return m;
}

/** Seven points with four distinct values: seeding more than four centres runs out of distance. */
export function fewDistinctPoints(): Matrix {
  return fromRows([
    [0, 0],
    [1, 0],
    [1, 0],
    [0, 2],
    [0, 2],
    [0, 2],
    [5, 5],
  ]);
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what = "values"): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0,
    at = -1;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  assert.ok(worst <= tolerance, `${what}: element ${at} is ${actual[at]}, expected ${expected[at]} (relative error ${worst} > ${tolerance})`);
}

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

/** A fresh temporary directory, removed when the test file ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "alfamix-test-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export { encodePng } from "../src/data/images/png.js";

/** A committed test fixture, from dist/test/… back to test/fixtures/. */
export function fixture(name: string): string {
  return new URL(`../../test/fixtures/${name}`, import.meta.url).pathname;
}

const BIN = new URL("../../bin/alfamix.js", import.meta.url).pathname;

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The command line in a child process, as a user runs it (Node's warnings off), with extra environment variables. */
export function cliWith(env: Record<string, string>, ...args: string[]): CliResult {
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, NODE_NO_WARNINGS: "1", ...env } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

export const cli = (...args: string[]): CliResult => cliWith({}, ...args);

/** The ids a `query` wrote as CSV (its first column, header left out), in rank order. */
export const pickedIds = (csv: string): string[] =>
  csv
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.split(",")[0]);

/** A user error as the CLI contract has it: exit status 2 and one line on stderr matching `pattern`. */
export function userError(result: CliResult, pattern: RegExp): void {
  assert.equal(result.status, 2, `exit status 2 (stderr: ${result.stderr})`);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line, no stack trace: ${result.stderr}`);
  assert.match(lines[0], pattern);
}

/**
 * The draws of the SIMD kernels' eight xoshiro128** generators (models/dropout.wat,
 * strategies/gcn.wat), written out with scalars: seeded from 32 draws of `seed` (generator g:
 * set g >> 2, lane g & 3; word w of a set at 16·set + 4·w + lane), and `next(e)` gives the next
 * draw of generator e mod 8, the one the kernels use for value e of a block.
 */
export function kernelGenerators(seed: Rng): (e: number) => number {
  const words = Array.from({ length: 32 }, () => seed.nextUint32());
  const gens = Array.from({ length: 8 }, (_, g) => [0, 1, 2, 3].map((w) => words[16 * (g >> 2) + 4 * w + (g & 3)]));
  return (e) => xoshiroNext(gens[e % 8]);
}

/** One draw of xoshiro128** (random.ts's Rng.nextUint32) from the four state words `s`, which it steps in place. */
export function xoshiroNext(s: number[] | Uint32Array): number {
  const x = Math.imul(s[1], 5);
  const r = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
  const t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 11) | (s[3] >>> 21);
  return r;
}
