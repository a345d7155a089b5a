import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { UserError } from "../src/errors.js";
import { Rng } from "../src/random.js";
import { alignClasses, classCounts, encodeLabels } from "../src/data/dataset.js";
import { readCsvTable, sniffDelimiter } from "../src/data/csv.js";
import { readPool } from "../src/data/pool.js";
import { IdIndex, IdList } from "../src/data/ids.js";
import { readIdx, readIdxDirectory } from "../src/data/idx.js";
import { encodeNpy, readNpy } from "../src/data/npy.js";
import { loadDataset } from "../src/embed/load-dataset.js";
import { fitStandardizer, randomSplit, standardizeInPlace, stratifiedSplit } from "../src/data/transform.js";
import { fromRows } from "../src/linalg/matrix.js";
import { assertClose, tempDir } from "./helpers.js";

const dir = tempDir();
const file = (name: string, content: string | Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

function idxBytes(type: number, dims: number[], values: number[]): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(values)]);
}

async function rejects(promise: Promise<unknown> | (() => unknown), pattern: RegExp): Promise<void> {
  await assert.rejects(
    async () => (typeof promise === "function" ? promise() : promise),
    (e: Error) => {
      assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes("\n"), "the message is one line");
      return true;
    },
  );
}

test("IDX: a directory in the MNIST layout, raw and gzipped, scaled to [0, 1]", () => {
  const sub = join(dir, "idx");
  mkdirSync(sub);
  writeFileSync(join(sub, "train-images-idx3-ubyte"), idxBytes(8, [2, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4]));
  writeFileSync(join(sub, "train-labels-idx1-ubyte.gz"), gzipSync(idxBytes(8, [2], [3, 1])));
  const { train, test: testPart } = readIdxDirectory(sub);
  assert.equal(testPart, undefined);
  assert.deepEqual([train.x.rows, train.x.cols], [2, 4]);
  assertClose(train.x.data, [0, 1, 0.2, 0.4, 1 / 255, 2 / 255, 3 / 255, 4 / 255], 1e-7);
  assert.deepEqual(Array.from(train.y), [3, 1]);
  assert.deepEqual(train.classNames, ["0", "1", "2", "3"]);
  assert.deepEqual(train.imageShape, [2, 2]);
});

test("IDX: a wrong magic number and a truncated file give one-line errors with the byte offset", async () => {
  await rejects(() => readIdx(file("bad-magic", Buffer.from([1, 2, 8, 1, 0, 0, 0, 1, 5]))), /bad-magic \(byte 0\): expected an IDX magic number/);
  await rejects(() => readIdx(file("short", idxBytes(8, [3], [1, 2]))), /short \(byte 8\): expected 3 bytes of unsigned byte data for dimensions 3, found 2/);
  await rejects(() => readIdx(join(dir, "missing")), /missing: no such file/);
});

test("CSV: header, quoted fields, string labels, id column and gzip", async () => {
  const text = 'id,"a, b",label,c\nx1,1.5,cat,"2"\nx2,-3e2,dog,4\n\n"x3",0,cat,5\n';
  for (const path of [file("t.csv", text), file("t.csv.gz", gzipSync(text))]) {
    const t = await readCsvTable(path);
    assert.deepEqual(t.featureNames, ["a, b", "c"]);
    assert.deepEqual(Array.from(t.x.data), [1.5, 2, -300, 4, 0, 5]);
    assert.deepEqual(t.labels, ["cat", "dog", "cat"]);
    assert.deepEqual(t.ids, ["x1", "x2", "x3"]);
  }
});

test("CSV: no header, label by default the last column, or chosen by index or name", async () => {
  const path = file("nohead.csv", "1,2,b\r\n3,4,a\r\n");
  const t = await readCsvTable(path);
  assert.deepEqual(Array.from(t.x.data), [1, 2, 3, 4]);
  assert.deepEqual(t.labels, ["b", "a"]);
  const first = await readCsvTable(file("num.csv", "0,2,3\n1,5,6\n"), { labelColumn: 0 });
  assert.deepEqual(first.labels, ["0", "1"]);
  assert.deepEqual(Array.from(first.x.data), [2, 3, 5, 6]);
  const named = await readCsvTable(file("named.csv", "f,target\n1,a\n"), { labelColumn: "target" });
  assert.deepEqual(named.labels, ["a"]);
});

test("CSV: every kind of bad input names the file, the line and what was expected", async () => {
  await rejects(readCsvTable(file("ragged.csv", "a,b,label\n1,2,x\n3,y\n")), /ragged\.csv \(line 3\): expected 3 fields like the header, found 2/);
  await rejects(readCsvTable(file("text.csv", "a,b,label\n1,2,x\n3,oops,y\n")), /text\.csv \(line 3, column "b"\): expected a finite number, found "oops"/);
  await rejects(readCsvTable(file("nan.csv", "a,b,label\n1,NaN,x\n")), /nan\.csv \(line 2, column "b"\): expected a finite number, found "NaN"/);
  await rejects(readCsvTable(file("blank.csv", "a,b,label\n1,,x\n")), /blank\.csv \(line 2, column "b"\): expected a finite number, found an empty field/);
  await rejects(
    readCsvTable(file("nolabel.csv", "a,b\n1,2\n"), { labelColumn: "class" }),
    /nolabel\.csv \(line 1\): expected a label column named "class", found columns "a", "b"/,
  );
  await rejects(readCsvTable(file("empty.csv", "")), /empty\.csv: the file is empty/);
  await rejects(readCsvTable(file("header-only.csv", "a,b,label\n")), /header-only\.csv: expected at least one data row, found none/);
  await rejects(readCsvTable(file("quote.csv", 'a,label\n"1,x\n')), /quote\.csv \(line 2\): a quoted field is not closed/);
  await rejects(readCsvTable(file("gz.csv.gz", Buffer.from([0x1f, 0x8b, 1, 2, 3]))), /gz\.csv\.gz: not a valid gzip file/);
});

test("NPY: float32, float64 and uint8 features, int64 labels; Fortran order is refused", async () => {
  const f32 = await readNpy(file("f32.npy", encodeNpy(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3])), "float32");
  assert.deepEqual(f32.shape, [2, 3]);
  assert.deepEqual(Array.from(f32.data), [1, 2, 3, 4, 5, 6]);
  const npy = (descr: string, shape: string, body: Buffer, fortran = "False") => {
    let header = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
    header += " ".repeat((64 - ((10 + header.length + 1) % 64)) % 64) + "\n";
    const pre = Buffer.from([0x93, ...Buffer.from("NUMPY"), 1, 0, header.length & 255, header.length >> 8]);
    return Buffer.concat([pre, Buffer.from(header, "latin1"), body]);
  };
  const f64 = Buffer.alloc(16);
  f64.writeDoubleLE(0.5, 0);
  f64.writeDoubleLE(-2.25, 8);
  assert.deepEqual(Array.from((await readNpy(file("f64.npy", npy("<f8", "(1, 2)", f64)), "float32")).data), [0.5, -2.25]);
  assert.deepEqual(Array.from((await readNpy(file("u8.npy", npy("|u1", "(3,)", Buffer.from([0, 7, 255]))), "float32")).data), [0, 7, 255]);
  const i64 = Buffer.alloc(24);
  [2, 0, 1].forEach((v, i) => i64.writeBigInt64LE(BigInt(v), i * 8));
  assert.deepEqual(Array.from((await readNpy(file("i64.npy", npy("<i8", "(3,)", i64)), "int32")).data), [2, 0, 1]);
  await rejects(() => readNpy(file("fortran.npy", npy("<f4", "(1, 1)", Buffer.alloc(4), "True")), "float32"), /expected C \(row-major\) order/);
  await rejects(
    () => readNpy(file("short.npy", npy("<f4", "(2, 2)", Buffer.alloc(8))), "float32"),
    /short\.npy \(byte \d+\): expected 16 bytes of float32 data for shape \(2, 2\), the file ends early/,
  );
  await rejects(() => readNpy(file("notnpy.npy", "hello world"), "float32"), /notnpy\.npy \(byte 0\): expected the \.npy magic/);
  await rejects(() => readNpy(file("c8.npy", npy("<c8", "(1,)", Buffer.alloc(8))), "float32"), /expected dtype float32, float64, uint8, int32 or int64/);
});

test("an NPY dataset with its labels; NaN features are refused", async () => {
  const x = file("x.npy", encodeNpy(Float32Array.from([0, 1, 2, 3, 4, 5]), [3, 2]));
  const y = file("y.npy", encodeNpy(Int32Array.from([1, 0, 1]), [3]));
  const { train } = await loadDataset(x, { labels: y });
  assert.deepEqual(Array.from(train.y), [1, 0, 1]);
  assert.deepEqual(train.classNames, ["0", "1"]);
  await rejects(loadDataset(x), /needs its labels: pass --labels/);
  const bad = file("nanx.npy", encodeNpy(Float32Array.from([0, NaN]), [1, 2]));
  await rejects(loadDataset(bad, { labels: y }), /nanx\.npy \(row 0, column 1\): expected a finite number, found NaN/);
  await rejects(loadDataset(join(dir, "nothing.csv")), /nothing\.csv: no such file/);
  await rejects(loadDataset("no-such-dataset"), /unknown dataset "no-such-dataset": expected a built-in name \(mnist, optdigits, vowel, vehicle, imdb, spam\)/);
});

test("text tables of any shape: the delimiter is sniffed, padded numbers and a missing header are fine", async () => {
  assert.equal(sniffDelimiter("a,b,c\n1,2,3\n"), ",");
  assert.equal(sniffDelimiter("a\tb c\n1\t2\n"), "\t");
  assert.equal(sniffDelimiter("x;y;label\n1.5;2;a\n3;4;b"), ";");
  assert.equal(sniffDelimiter("1|2|a\n3|4|b\n"), "|");
  assert.equal(sniffDelimiter("  1.0   2.5  a\n 10.25 3    b\n"), "whitespace");
  assert.equal(sniffDelimiter('"a,b",1\n"c,d",2\n'), ",", "quoted delimiters do not count");
  assert.equal(sniffDelimiter("only\none\ncolumn\n"), ",");
  // A UCI-style .data file: runs of spaces, padded numbers, no header, the label last.
  const uci = await loadDataset(file("uci.data", "  5.1  3.5 setosa\n 4.9   3.0 setosa\n 6.3  3.3 virginica\n"));
  assert.deepEqual([uci.train.x.rows, uci.train.x.cols, uci.train.classNames], [3, 2, ["setosa", "virginica"]]);
  assertClose(uci.train.x.data, [5.1, 3.5, 4.9, 3, 6.3, 3.3], 1e-6);
  const tab = await loadDataset(file("tab.txt", "f1\tf2\tclass\n1\t2\tx\n3\t4\ty\n"));
  assert.deepEqual([tab.train.x.cols, tab.train.classNames], [2, ["x", "y"]]);
  const semi = await loadDataset(file("semi.dat", "a; b; y\n 1 ; 2 ; p\n 3 ; 4 ; q\n"));
  assertClose(semi.train.x.data, [1, 2, 3, 4], 0);
  const forced = await loadDataset(file("forced.txt", "a 1 2\nb 3 4\n"), { delimiter: "whitespace", labelColumn: 0 });
  assert.deepEqual([forced.train.x.cols, forced.train.classNames], [2, ["a", "b"]]);
  await rejects(loadDataset(file("semi.txt", "1;2;a\n3;4;b\n"), { delimiter: "," }), /semi\.txt \(line 1\): expected at least one feature column/);
  await rejects(
    loadDataset(file("headed.data", "f1,f2,label\n1,2,x\n"), { header: false }),
    /headed\.data \(line 1, column "column 0"\): expected a finite number, found "f1"/,
  );
  await rejects(loadDataset(file("binary.bin", Buffer.from([1, 0, 2, 3]))), /binary\.bin: unrecognised file type/);
});

test("X.npy finds its labels and ids in X.labels and X.ids beside it", async () => {
  const x = file("emb.npy", encodeNpy(Float32Array.from([0, 1, 2, 3, 4, 5]), [3, 2]));
  file("emb.labels", "cat\ndog\ncat\n");
  file("emb.ids", "a/1\nb/2\nc/3\n");
  const { train } = await loadDataset(x);
  assert.deepEqual(
    [Array.from(train.y), train.classNames, train.ids],
    [
      [0, 1, 0],
      ["cat", "dog"],
      ["a/1", "b/2", "c/3"],
    ],
  );
  assert.deepEqual([...(await readPool(x)).ids], ["a/1", "b/2", "c/3"]);
  file("short.npy", encodeNpy(Float32Array.from([0, 1]), [1, 2]));
  file("short.labels", "cat\ndog\n");
  await rejects(loadDataset(join(dir, "short.npy")), /short\.labels: expected 1 labels, one per line, to match .*short\.npy; found 2/);
});

test("built-in mnist has 60,000 training and 10,000 test images of 784 pixels in 10 classes", async () => {
  const { train, test: testPart } = await loadDataset("mnist");
  assert.deepEqual([train.x.rows, train.x.cols, testPart!.x.rows, train.classNames.length], [60000, 784, 10000, 10]);
  assert.deepEqual(Array.from(classCounts(train)).slice(0, 3), [5923, 6742, 5958]);
  assert.deepEqual(train.normalization, { mean: 0.1307, std: 0.3081 });
  let max = 0;
  for (const v of train.x.data) if (v > max) max = v;
  assert.equal(max, 1);
});

test("the built-in tabular sets load with their string and numeric classes, by name or by path", async () => {
  const vowel = (await loadDataset("vowel")).train;
  assert.deepEqual([vowel.x.rows, vowel.x.cols, vowel.classNames.length], [990, 10, 11]);
  assert.deepEqual(vowel.classNames.slice(0, 3), ["hAd", "hEd", "hId"]);
  const vehicle = (await loadDataset("vehicle")).train;
  assert.deepEqual([vehicle.x.rows, vehicle.x.cols, vehicle.classNames], [846, 18, ["bus", "opel", "saab", "van"]]);
  const optdigits = await loadDataset("optdigits");
  assert.deepEqual([optdigits.train.x.rows, optdigits.train.x.cols, optdigits.test!.x.rows, optdigits.test!.classNames.length], [3823, 64, 1797, 10]);
  // The same files by path, the test file aligned to the training classes.
  const path = (f: string) => new URL(`../../data/${f}`, import.meta.url).pathname;
  const train = (await loadDataset(path("optdigits-train.csv.gz"))).train;
  const testPart = alignClasses(train, (await loadDataset(path("optdigits-test.csv.gz"))).train);
  assert.deepEqual(Array.from(testPart.y.subarray(0, 50)), Array.from(optdigits.test!.y.subarray(0, 50)));
});

test("class names sort numerically when numeric, and test classes align to training ids", () => {
  assert.deepEqual(encodeLabels(["10", "2", "2", "1"]), { y: Int32Array.from([2, 1, 1, 0]), classNames: ["1", "2", "10"] });
  const train = { name: "a", x: fromRows([[0]]), y: Int32Array.from([0]), classNames: ["cat", "dog", "emu"] };
  const other = { name: "b", x: fromRows([[0], [1]]), y: Int32Array.from([0, 1]), classNames: ["dog", "emu"] };
  assert.deepEqual(Array.from(alignClasses(train, other).y), [1, 2]);
  assert.throws(() => alignClasses(other, train), /a: class "cat" does not occur in b \(its classes: dog, emu\)/);
});

test("standardisation and seeded splits", () => {
  const x = fromRows([
    [1, 5],
    [3, 5],
    [5, 5],
  ]);
  const s = fitStandardizer(x);
  standardizeInPlace(x, s);
  assertClose(x.data, [-Math.sqrt(1.5), 0, 0, 0, Math.sqrt(1.5), 0], 1e-6);
  const y = Int32Array.from({ length: 100 }, (_, i) => (i < 80 ? 0 : 1));
  const split = stratifiedSplit(y, 0.2, new Rng(1));
  assert.equal(split.test.length, 20);
  assert.equal(Array.from(split.test).filter((i) => y[i] === 1).length, 4);
  assert.deepEqual(new Set([...split.train, ...split.test]).size, 100);
  assert.deepEqual(stratifiedSplit(y, 0.2, new Rng(1)), split);
  assert.notDeepEqual(stratifiedSplit(y, 0.2, new Rng(2)).test, split.test);
  const r = randomSplit(10, 0.3, new Rng(1));
  assert.deepEqual([r.train.length, r.test.length], [7, 3]);
});

test("a large .npy pool read two chunks at a time: every row in place, its ids beside it, and a non-finite value reported at the first chunk holding one", async () => {
  const rows = 1_250_000,
    cols = 8; // 40 MB: three 16 MB chunks
  const values = new Float32Array(rows * cols);
  for (let i = 0; i < values.length; i++) values[i] = (i % 9973) - 4000.5;
  const ids = Array.from({ length: rows }, (_, i) => `item-${i}`).join("\n") + "\n";
  writeFileSync(join(dir, "big.ids"), ids);
  const pool = await readPool(file("big.npy", encodeNpy(values, [rows, cols])));
  const read = IdList.of(pool.ids);
  assert.deepEqual(
    [pool.x.rows, pool.x.cols, read.length, read.get(0), read.get(777_777), read.get(rows - 1)],
    [rows, cols, rows, "item-0", "item-777777", `item-${rows - 1}`],
  );
  assert.ok(pool.x.data.every((v, i) => v === values[i]));
  // Bad values in the third and the second chunk: the second chunk's is named, whichever arrives first.
  values[9_000_000] = Infinity;
  values[5_000_003] = NaN;
  await rejects(() => readPool(file("bad.npy", encodeNpy(values, [rows, cols]))), /bad\.npy \(row 625000, column 3\): expected a finite number, found NaN/);
});

test("IdIndex finds every id's row, nothing for an absent id, and names both rows of a repeated id", () => {
  const rng = new Rng(5);
  const ids = Array.from({ length: 5000 }, (_, i) =>
    i % 3 === 0
      ? `p${i}`
      : `${rng
          .uniform()
          .toString(36)
          .slice(2, 2 + (i % 9))}-${i}`,
  );
  const index = new IdIndex(ids, "pool.csv");
  ids.forEach((id, row) => assert.equal(index.get(id), row));
  for (const absent of ["", "p1", "p5001", "x-0"]) assert.equal(index.get(absent), undefined);
  assert.throws(
    () => new IdIndex([...ids, "p300"], "pool.csv"),
    /^UserError: pool\.csv \(row 5000\): duplicate id "p300" \(first at row 300\); ids must be unique$/,
  );
  assert.equal(new IdIndex([], "empty").get("a"), undefined);
});

test("IdList reads one id per line (\\r\\n, gzip, UTF-8, blank lines at the end), numbers rows, and joins shards", async () => {
  const lines = ["α/1", "", "b 2", "naïve-3", "p4"];
  const plain = await IdList.read(file("u.ids", lines.join("\r\n") + "\r\n\n"), 5, "u.npy");
  const zipped = await IdList.read(file("u.ids.gz", gzipSync(lines.join("\n"))), 5, "u.npy");
  assert.deepEqual([[...plain], zipped.toArray(), plain.toArray(2, 4)], [lines, lines, ["b 2", "naïve-3"]]);
  await rejects(IdList.read(join(dir, "u.ids"), 6, "u.npy"), /u\.ids: expected 6 ids, one per line, to match u\.npy; found 5/);
  assert.deepEqual(
    [...IdList.rowNumbers(12)],
    Array.from({ length: 12 }, (_, i) => String(i)),
  );
  assert.deepEqual(IdList.rowNumbers(0).length, 0);
  const joined = IdList.concat([plain, IdList.of(["x", "ÿ"]), IdList.rowNumbers(2)]);
  assert.deepEqual([...joined], [...lines, "x", "ÿ", "0", "1"]);
  const index = new IdIndex(joined, "joined");
  assert.deepEqual(
    [...lines, "x", "ÿ", "0", "1"].map((id) => index.get(id)),
    [0, 1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.equal(index.get("naive-3"), undefined);
});
