import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { encodeNpy } from "../src/data/npy.js";
import { readLabeled, readPool } from "../src/data/pool.js";
import { formatSelection, selectBatch } from "../src/loop/select-batch.js";
import { Rng } from "../src/random.js";
import { tempDir } from "./helpers.js";

const bin = new URL("../../bin/alfamix.js", import.meta.url).pathname;
const dir = tempDir();
const path = (name: string) => join(dir, name);

function cli(...args: string[]) {
  const run = spawnSync(process.execPath, [bin, "query", ...args], { encoding: "utf8", env: { ...process.env, NODE_NO_WARNINGS: "1" } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function failsWith(args: string[], pattern: RegExp, out = path("never.csv")): void {
  const result = cli(...args, "--out", out);
  assert.equal(result.status, 2, `exit 2 for ${args.join(" ")}: ${result.stderr}`);
  assert.equal(result.stderr.trim().split("\n").length, 1, `one line: ${result.stderr}`);
  assert.match(result.stderr, pattern);
  assert.equal(existsSync(out), false, "no partial output file");
}

/** Three classes in 5-d; ids "a0", "a1", …; the first 24 items labelled cat/dog/emu. */
const rng = new Rng(1);
const N = 150,
  D = 5,
  names = ["cat", "dog", "emu"];
const features = Array.from({ length: N }, (_, i) => Array.from({ length: D }, (_, j) => Number((rng.normal() + (j === i % 3 ? 2 : 0)).toFixed(5))));
const ids = features.map((_, i) => `a${i}`);
const csvPool = "id," + Array.from({ length: D }, (_, j) => `f${j}`).join(",") + "\n" + features.map((f, i) => `${ids[i]},${f.join(",")}`).join("\n") + "\n";
writeFileSync(path("pool.csv"), csvPool);
writeFileSync(path("pool.csv.gz"), gzipSync(csvPool));
writeFileSync(path("pool.jsonl"), features.map((f, i) => JSON.stringify({ id: ids[i], embedding: f })).join("\n") + "\n");
writeFileSync(path("pool.npy"), encodeNpy(Float32Array.from(features.flat()), [N, D]));
writeFileSync(path("ids.txt"), ids.join("\n") + "\n");
const labeledRows = Array.from({ length: 24 }, (_, i) => [ids[i], names[i % 3]]);
writeFileSync(path("labeled.csv"), "id,label\n" + labeledRows.map((r) => r.join(",")).join("\n") + "\n");
writeFileSync(path("labeled.jsonl"), labeledRows.map(([id, label]) => JSON.stringify({ id, label })).join("\n") + "\n");

function parseCsv(text: string): string[][] {
  return text
    .trim()
    .split("\n")
    .map((l) => l.split(","));
}

test("every pool and labelled format gives the same picks, none labelled, none twice", () => {
  const reference = cli("--pool", path("pool.csv"), "--labeled", path("labeled.csv"), "--budget", "10");
  assert.equal(reference.status, 0, reference.stderr);
  const rows = parseCsv(reference.stdout);
  assert.deepEqual(rows[0], ["id", "rank", "score", "predicted_label", "confidence"]);
  const picked = rows.slice(1).map((r) => r[0]);
  assert.equal(picked.length, 10);
  assert.equal(new Set(picked).size, 10);
  const labeledIds = new Set(labeledRows.map((r) => r[0]));
  assert.ok(picked.every((id) => ids.includes(id) && !labeledIds.has(id)));
  assert.deepEqual(
    rows.slice(1).map((r) => r[1]),
    Array.from({ length: 10 }, (_, i) => String(i + 1)),
  );
  assert.ok(rows.slice(1).every((r) => names.includes(r[3]) && Number(r[4]) > 0 && Number(r[4]) <= 1));
  for (const args of [
    ["--pool", path("pool.csv.gz"), "--labeled", path("labeled.csv")],
    ["--pool", path("pool.jsonl"), "--labeled", path("labeled.jsonl")],
    ["--pool", path("pool.npy"), "--ids", path("ids.txt"), "--labeled", path("labeled.csv")],
  ]) {
    const other = cli(...args, "--budget", "10");
    assert.equal(other.status, 0, other.stderr);
    assert.equal(other.stdout, reference.stdout, args.join(" "));
  }
  assert.match(reference.stderr, /pool: 150 items × 5 features/);
  assert.match(reference.stderr, /labelled: 24 in 3 classes \(cat: 8, dog: 8, emu: 8\); unlabelled: 126/);
  assert.match(reference.stderr, /alfamix: picked 10 \(candidates \d+, cap [\d.]+/);
});

test("an .npy pool with its ids beside it is streamed a chunk at a time on threads, with the same picks as the pool read whole", () => {
  // 70,000 rows: each thread's range spans several read chunks (score.ts reads 16,384 rows at a time).
  const big = tempDir(),
    n = 70_000,
    d = 3,
    bigRng = new Rng(7);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = Math.fround(bigRng.normal() + (j === i % 3 ? 1.5 : 0));
  const bigIds = Array.from({ length: n }, (_, i) => `row-${i}`);
  writeFileSync(join(big, "emb.npy"), encodeNpy(x, [n, d]));
  writeFileSync(join(big, "emb.ids"), bigIds.join("\n") + "\n");
  const text = (v: number) => String(v); // shortest round-trip decimal: the CSV holds the same float32 values
  writeFileSync(
    join(big, "emb.csv"),
    "id,a,b,c\n" + bigIds.map((id, i) => `${id},${text(x[i * d])},${text(x[i * d + 1])},${text(x[i * d + 2])}`).join("\n") + "\n",
  );
  writeFileSync(
    join(big, "labeled.csv"),
    "id,label\n" + Array.from({ length: 30 }, (_, k) => `row-${k * 2311},${["cat", "dog", "emu"][(k * 2311) % 3]}`).join("\n") + "\n",
  );
  // An entry's own settings, too (cap and ninit were once dropped on the streamed path).
  for (const strategy of ["alfamix", "alfamix[select=uniform]", "alfamix[cap=0.05]", "alfamix[ninit=3]", "entropy", "margin", "least-confidence"]) {
    const run = (pool: string) =>
      cli("--pool", join(big, pool), "--labeled", join(big, "labeled.csv"), "--strategy", strategy, "--budget", "25", "--seed", "4");
    const streamed = run("emb.npy"),
      whole = run("emb.csv");
    assert.equal(streamed.status, 0, streamed.stderr);
    assert.match(streamed.stderr, /pool: 70000 items × 3 features \(.*emb\.npy\), read a chunk at a time/);
    assert.match(whole.stderr, /read in/);
    assert.equal(streamed.stdout, whole.stdout, strategy);
    if (strategy === "alfamix[cap=0.05]") assert.match(streamed.stderr, /cap 0\.05/);
    if (strategy === "alfamix[ninit=3]") assert.match(streamed.stderr, /nInit 3/);
  }
  // Bad rows and ids are named as when the pool is read whole, and nothing is written.
  const bad = x.slice();
  bad[40_000 * d + 2] = NaN;
  writeFileSync(join(big, "nan.npy"), encodeNpy(bad, [n, d]));
  writeFileSync(join(big, "nan.ids"), bigIds.join("\n") + "\n");
  failsWith(["--pool", join(big, "nan.npy"), "--labeled", join(big, "labeled.csv")], /nan\.npy \(row 40000, column 2\): expected a finite number, found NaN/);
  writeFileSync(join(big, "twice.npy"), encodeNpy(x, [n, d]));
  writeFileSync(join(big, "twice.ids"), [...bigIds.slice(0, 5000), "row-17", ...bigIds.slice(5001)].join("\n") + "\n");
  writeFileSync(join(big, "ghost.csv"), "id,label\nrow-1,cat\nghost,dog\n");
  failsWith(["--pool", join(big, "emb.npy"), "--labeled", join(big, "ghost.csv")], /query: the labelled id "ghost" is not in the pool/);
  failsWith(
    ["--pool", join(big, "twice.npy"), "--labeled", join(big, "labeled.csv")],
    /twice\.npy: .*duplicate id "row-17" \(first at row 17\); ids must be unique|twice\.npy \(row 5000\): duplicate id "row-17" \(first at row 17\)/,
  );
});

test("NPY without ids uses row numbers; JSONL output; --out is written whole", () => {
  writeFileSync(path("labeled-rows.csv"), "id,label\n" + labeledRows.map(([id, label]) => `${id.slice(1)},${label}`).join("\n") + "\n");
  const out = path("next.jsonl");
  const result = cli("--pool", path("pool.npy"), "--labeled", path("labeled-rows.csv"), "--budget", "4", "--out", out, "--strategy", "entropy");
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, "");
  const lines = readFileSync(out, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 4);
  assert.deepEqual(Object.keys(lines[0]), ["id", "rank", "score", "predicted_label", "confidence"]);
  assert.ok(lines.every((l) => Number(l.id) >= 24 && Number(l.id) < 150 && typeof l.score === "number"));
  assert.match(result.stderr, /wrote 4 rows to .*next\.jsonl/);
});

test("the library call and the CLI give identical output; --seed makes it repeatable", async () => {
  const pool = await readPool(path("pool.csv"));
  const labeled = await readLabeled(path("labeled.csv"));
  for (const strategy of ["alfamix", "random", "coreset"]) {
    const library = formatSelection(selectBatch({ pool, labeled, strategy, budget: 7, seed: 3 }).items, "csv");
    const command = cli("--pool", path("pool.csv"), "--labeled", path("labeled.csv"), "--strategy", strategy, "--budget", "7", "--seed", "3");
    assert.equal(command.stdout, library, strategy);
  }
  const again = () => cli("--pool", path("pool.csv"), "--labeled", path("labeled.csv"), "--strategy", "random", "--budget", "7", "--seed", "5").stdout;
  assert.equal(again(), again());
  assert.notEqual(again(), cli("--pool", path("pool.csv"), "--labeled", path("labeled.csv"), "--strategy", "random", "--budget", "7", "--seed", "6").stdout);
});

test("the library call refuses a pool with a repeated id, as the command does", async () => {
  const pool = await readPool(path("pool.csv"));
  const labeled = await readLabeled(path("labeled.csv"));
  const ids = [...pool.ids];
  ids[30] = ids[2];
  assert.throws(
    () => selectBatch({ pool: { ids, x: pool.x }, labeled, budget: 3 }),
    /^UserError: pool \(row 30\): duplicate id "a2" \(first at row 2\); ids must be unique$/,
  );
});

test("a budget beyond the unlabelled items takes them all and warns", () => {
  const result = cli("--pool", path("pool.csv"), "--labeled", path("labeled.csv"), "--budget", "500", "--strategy", "margin");
  assert.equal(result.status, 0);
  assert.equal(parseCsv(result.stdout).length - 1, 126);
  assert.match(result.stderr, /warning: the budget of 500 exceeds the 126 unlabelled items: taking all of them/);
});

test("bad input: one clear line, exit status 2 and no output file", () => {
  const pool = ["--pool", path("pool.csv")],
    labeled = ["--labeled", path("labeled.csv")];
  writeFileSync(path("ragged.jsonl"), '{"id":1,"embedding":[1,2]}\n{"id":2,"embedding":[1,2,3]}\n');
  failsWith(["--pool", path("ragged.jsonl"), ...labeled], /ragged\.jsonl \(line 2\): expected an embedding of 2 numbers like the first line, found 3/);
  writeFileSync(path("ragged.csv"), "id,a,b\nx,1,2\ny,3\n");
  failsWith(["--pool", path("ragged.csv"), ...labeled], /ragged\.csv \(line 3\): expected 3 fields like the header, found 2/);
  writeFileSync(path("dup.csv"), "id,a\nx,1\ny,2\nx,3\n");
  failsWith(["--pool", path("dup.csv"), ...labeled], /dup\.csv \(row 2\): duplicate id "x" \(first at row 0\)/);
  writeFileSync(path("empty.jsonl"), "\n");
  failsWith(["--pool", path("empty.jsonl"), ...labeled], /empty\.jsonl: the pool is empty/);
  writeFileSync(path("nan.csv"), "id,a\nx,1\ny,nan\n");
  failsWith(["--pool", path("nan.csv"), ...labeled], /nan\.csv \(line 3, column "a"\): expected a finite number, found "nan"/);
  writeFileSync(path("inf.jsonl"), '{"id":1,"embedding":[1,"Infinity"]}\n');
  failsWith(["--pool", path("inf.jsonl"), ...labeled], /inf\.jsonl \(line 1\): expected a finite number at embedding\[1\], found "Infinity"/);
  writeFileSync(path("inf.npy"), encodeNpy(Float32Array.from([1, Infinity]), [1, 2]));
  failsWith(["--pool", path("inf.npy"), ...labeled], /inf\.npy \(row 0, column 1\): expected a finite number, found Infinity/);
  failsWith(
    [...pool, ...labeled, "--strategy", "best"],
    /unknown strategy "best"; known strategies: random, least-confidence, margin, entropy, bald, coreset, badge, dfal, cdal, coregcn, typiclust, probcover, cluster-margin, dropquery, alfamix/,
  );
  writeFileSync(path("stranger.csv"), "id,label\na0,cat\nzz9,dog\n");
  failsWith([...pool, "--labeled", path("stranger.csv")], /the labelled id "zz9" is not in the pool/);
  writeFileSync(path("twice.csv"), "id,label\na0,cat\na1,dog\na0,dog\n");
  failsWith([...pool, "--labeled", path("twice.csv")], /twice\.csv \(line 4\): id "a0" is labelled twice/);
  writeFileSync(path("noheader.csv"), "a0,cat\na1,dog\n");
  failsWith([...pool, "--labeled", path("noheader.csv")], /noheader\.csv \(line 1\): expected a header with an "id" and a "label" column/);
  failsWith([...labeled], /--pool FILE is required/);
  failsWith([...pool, ...labeled, "--strategy", "bald"], /bald needs a model with dropout > 0/);
  failsWith([...pool, ...labeled, "--budget", "0"], /--budget expects an integer ≥ 1, got "0"/);
});

test("cold start: with no labels, or one class only, TypiClust picks from the rows alone and says so", () => {
  writeFileSync(path("one-class.csv"), "id,label\na0,cat\na3,cat\n");
  for (const labels of [[], ["--labeled", path("one-class.csv")]]) {
    const result = cli("--pool", path("pool.csv"), ...labels, "--budget", "6");
    assert.equal(result.status, 0, result.stderr);
    const rows = parseCsv(result.stdout);
    assert.deepEqual(rows[0], ["id", "rank", "score", "predicted_label", "confidence"]);
    assert.equal(rows.length, 7);
    assert.ok(
      rows.slice(1).every((r) => Number(r[2]) > 0 && r[3] === "" && r[4] === ""),
      "typicality scores, and no guess without a model",
    );
    if (labels.length) assert.ok(!rows.some((r) => r[0] === "a0" || r[0] === "a3"), "labelled items are never picked");
    assert.match(
      result.stderr,
      /cold start: the labelled items cover (no class|only the class "cat"), too few to train a classifier: TypiClust picked the batch/,
    );
    assert.match(result.stderr, /typiclust: picked 6/);
  }
  failsWith(["--pool", path("pool.csv"), "--labeled", path("one-class.csv"), "--map", path("cold.svg")], /a cold start has no model yet/);
  failsWith(["--pool", path("pool.csv"), "--queue", "redis://127.0.0.1:1"], /query --queue: a cold start .* run it without --queue/);
});
