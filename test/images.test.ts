import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../src/errors.js";
import { decodeImage, parseImageHeader, readImageHeader } from "../src/data/images/decode.js";
import { listImageFolder, readImageManifest } from "../src/data/images/folder.js";
import { loadImages } from "../src/data/images/load.js";
import { coverResize, interleave, normalizingMap, Resizer, type ImageShape } from "../src/data/images/resize.js";
import { loadDataset } from "../src/embed/load-dataset.js";
import { readPool } from "../src/data/pool.js";
import { assertClose, encodePng, fixture, tempDir } from "./helpers.js";

const dir = tempDir();
process.env.ALFAMIX_CACHE_DIR = join(dir, "cache");

function write(path: string, content: Uint8Array): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content);
  return path;
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

/** A planar float image from rows of grey values (one channel). */
const grey = (rows: number[][]) => ({ width: rows[0].length, height: rows.length, channels: 1 as const, pixels: Uint8Array.from(rows.flat()) });
const resize = (image: ReturnType<typeof grey>, height: number, width: number, channels: 1 | 3 = 1) =>
  Array.from(new Resizer().resize(image, { channels, height, width }));

test("resize: hand-computed bilinear weights, as PIL's BILINEAR", () => {
  // 1×2 → 1×4: scale 1/2, triangle of support 1: [0, 25, 75, 100].
  assert.deepEqual(resize(grey([[0, 100]]), 1, 4), [0, 25, 75, 100]);
  // 4×4 → 2×2 shrinks by 2, so the filter widens to support 2: weights 3/7, 3/7, 1/7 (antialiased).
  assertClose(resize(grey(Array.from({ length: 4 }, () => [0, 10, 20, 30])), 2, 2), [50 / 7, 160 / 7, 50 / 7, 160 / 7], 1e-6);
  // 6×9 → 2×3 against PIL 9.4 (Image.resize((3, 2), BILINEAR) on the same float image).
  const ramp = Array.from({ length: 6 }, (_, y) => Array.from({ length: 9 }, (_, x) => (y * 9 + x) * 3));
  assertClose(resize(grey(ramp), 2, 3), [37.5, 45.75, 54, 105, 113.25, 121.5], 1e-5);
  // The same size is the identity.
  assert.deepEqual(resize(grey(ramp), 6, 9), ramp.flat());
});

test("resize: the shorter side fits and the centre is cropped; no resize when a side already fits", () => {
  assert.deepEqual(coverResize(4, 6, { height: 4, width: 4 }), { resizedHeight: 4, resizedWidth: 6, top: 0, left: 1 });
  assert.deepEqual(coverResize(100, 50, { height: 224, width: 224 }), { resizedHeight: 448, resizedWidth: 224, top: 112, left: 0 });
  // 4 high × 6 wide to 4×4: columns 1..4, unchanged.
  const wide = [
    [0, 1, 2, 3, 4, 5],
    [10, 11, 12, 13, 14, 15],
    [20, 21, 22, 23, 24, 25],
    [30, 31, 32, 33, 34, 35],
  ];
  assert.deepEqual(
    resize(grey(wide), 4, 4),
    wide.flatMap((r) => r.slice(1, 5)),
  );
  // 2×3 to 4×4: height doubles to 4, width to 6, then columns 1..4 of the enlarged image.
  const enlarged = resize(
    grey([
      [0, 60, 120],
      [90, 150, 210],
    ]),
    4,
    6,
  );
  assert.deepEqual(
    resize(
      grey([
        [0, 60, 120],
        [90, 150, 210],
      ]),
      4,
      4,
    ),
    [0, 1, 2, 3].flatMap((y) => enlarged.slice(y * 6 + 1, y * 6 + 5)),
  );
});

test("channels: grey is replicated to RGB, RGB becomes grey by ITU-R 601 luma, alpha is dropped", () => {
  const image = { width: 2, height: 1, channels: 4 as const, pixels: Uint8Array.from([200, 100, 50, 7, 0, 0, 255, 0]) };
  assertClose(new Resizer().resize(image, { channels: 3, height: 1, width: 2 }), [200, 0, 100, 0, 50, 255], 0);
  assertClose(new Resizer().resize(image, { channels: 1, height: 1, width: 2 }), [0.299 * 200 + 0.587 * 100 + 0.114 * 50, 0.114 * 255], 1e-5);
  assert.deepEqual(resize(grey([[9, 99]]), 1, 2, 3), [9, 99, 9, 99, 9, 99]);
});

test("normalisation: (v / 255 − mean) / std per channel, written planar or interleaved", () => {
  const shape: ImageShape = { channels: 3, height: 1, width: 2 };
  const image = { width: 2, height: 1, channels: 3 as const, pixels: Uint8Array.from([0, 51, 255, 255, 102, 0]) };
  const map = normalizingMap({ mean: [0.5, 0, 0.5], std: [0.5, 1, 0.25] });
  const nchw = new Float32Array(8);
  new Resizer().resize(image, shape, { data: nchw, offset: 2, ...map });
  assertClose(nchw, [0, 0, -1, 1, 0.2, 0.4, 2, -2], 1e-6);
  const nhwc = new Float32Array(6);
  interleave(nchw.subarray(2), shape, nhwc, 0);
  assertClose(nhwc, [-1, 0.2, 2, 1, 0.4, -2], 1e-6);
  // Through a resize: 1×2 → 1×4 of [0, 255] in grey is [0, 63.75, 191.25, 255], then mapped.
  const out = new Float32Array(4);
  new Resizer().resize(
    { width: 2, height: 1, channels: 1, pixels: Uint8Array.from([0, 255]) },
    { channels: 1, height: 1, width: 4 },
    { data: out, offset: 0, ...normalizingMap({ mean: [0.5], std: [0.5] }) },
  );
  assertClose(out, [-1, -0.5, 0.5, 1], 1e-6);
});

test("PNG and JPEG files, grey and colour, 8 and 16 bits, decode to the values written", () => {
  const rgb = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150];
  const decoded = decodeImage(encodePng(5, 1, 3, rgb));
  assert.deepEqual([decoded.width, decoded.height, decoded.channels], [5, 1, 3]);
  assert.deepEqual(Array.from(decoded.pixels), rgb);
  assert.deepEqual(Array.from(decodeImage(encodePng(3, 1, 1, [0, 128, 255])).pixels), [0, 128, 255]);
  assert.deepEqual(Array.from(decodeImage(encodePng(2, 1, 2, [5, 255, 6, 0])).pixels), [5, 255, 6, 0]);
  const wide = decodeImage(encodePng(2, 1, 1, [0, 65535], 16));
  assert.deepEqual([wide.channels, ...wide.pixels], [1, 0, 255]);
  // A one-component JPEG (made with PIL, quality 100; flat 8×8 blocks survive JPEG exactly).
  const jpeg = decodeImage(readFileSync(fixture("grey-16x8.jpg")));
  assert.deepEqual([jpeg.width, jpeg.height], [16, 8]);
  assert.equal(parseImageHeader(readFileSync(fixture("grey-16x8.jpg")))!.colors, 1);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 16; x++) assert.equal(jpeg.pixels[(y * 16 + x) * jpeg.channels], x < 8 ? 40 : 200);
});

test("a JPEG whose frame header follows 100 KB of metadata still gives its size", () => {
  const jpeg = readFileSync(fixture("grey-16x8.jpg"));
  const app = Buffer.alloc(4 + 60000);
  app[0] = 0xff;
  app[1] = 0xe1;
  app.writeUInt16BE(60000 + 2, 2);
  const padded = Buffer.concat([jpeg.subarray(0, 2), app, app, jpeg.subarray(2)]);
  const path = write(join(dir, "exif.jpg"), padded);
  assert.deepEqual([readImageHeader(path).width, readImageHeader(path).height], [16, 8]);
});

/** A class folder: cat/ has two 3×2 RGB PNGs, dog/ one grey 3×2 PNG and one 6×4 RGB PNG. */
function writeClassFolder(root: string): void {
  write(
    join(root, "cat", "a.png"),
    encodePng(
      3,
      2,
      3,
      Array.from({ length: 18 }, (_, i) => i * 10),
    ),
  );
  write(
    join(root, "cat", "b.PNG"),
    encodePng(
      3,
      2,
      3,
      Array.from({ length: 18 }, () => 77),
    ),
  );
  write(join(root, "dog", "c.png"), encodePng(3, 2, 1, [0, 50, 100, 150, 200, 250]));
  write(
    join(root, "dog", "deep", "d.png"),
    encodePng(
      6,
      4,
      3,
      Array.from({ length: 72 }, () => 33),
    ),
  );
  write(join(root, "dog", "notes.txt"), Buffer.from("not an image"));
  write(join(root, ".hidden", "x.png"), encodePng(1, 1, 1, [0]));
}

test("a folder of class folders loads with labels, ids, one channel count and the most common size", async () => {
  const root = join(dir, "classes");
  writeClassFolder(root);
  const parts = await loadDataset(root);
  const train = parts.train;
  assert.equal(parts.test, undefined);
  assert.deepEqual(train.classNames, ["cat", "dog"]);
  assert.deepEqual(Array.from(train.y), [0, 0, 1, 1]);
  assert.deepEqual(train.ids, ["cat/a", "cat/b", "dog/c", "dog/deep/d"]);
  assert.deepEqual([train.channels, ...train.imageShape!, train.x.cols], [3, 2, 3, 18]);
  assert.deepEqual(parts.images!.stats, { sizes: { "2×3": 3, "4×6": 1 }, grey: 1, colour: 3, alpha: 0 });
  // Row 0: planar C×H×W of the interleaved values written; row 2: grey replicated to RGB.
  const row = (i: number) => Array.from(train.x.data.subarray(i * 18, (i + 1) * 18), (v) => Math.round(v * 255));
  const written = Array.from({ length: 18 }, (_, i) => i * 10);
  assert.deepEqual(
    row(0),
    [0, 1, 2].flatMap((c) => [0, 1, 2, 3, 4, 5].map((p) => written[p * 3 + c])),
  );
  assert.deepEqual(row(2), [0, 50, 100, 150, 200, 250, 0, 50, 100, 150, 200, 250, 0, 50, 100, 150, 200, 250]);
  // The 4×6 image is halved to 2×3: still flat 33.
  assert.deepEqual(row(3), Array(18).fill(33));
  const bigger = await loadDataset(root, { imageSize: [4, 6] });
  assert.deepEqual([bigger.train.x.cols, bigger.images!.cached], [72, false]);
});

test("decoded images are cached by file list, sizes and mtimes", async () => {
  const root = join(dir, "cached");
  writeClassFolder(root);
  const lists = [listImageFolder(root).train];
  const first = await loadImages(lists);
  const second = await loadImages(lists);
  assert.deepEqual([first.cached, second.cached], [false, true]);
  assert.deepEqual(second.parts[0], first.parts[0]);
  assert.deepEqual(second.shape, first.shape);
  utimesSync(join(root, "cat", "a.png"), new Date(), new Date(Date.now() + 5000));
  assert.equal((await loadImages(lists)).cached, false, "a touched file invalidates the cache");
});

test("train/test folders, unlabelled folders and manifests", async () => {
  const root = join(dir, "split");
  writeClassFolder(join(root, "train"));
  write(join(root, "test", "dog", "t.png"), encodePng(3, 2, 1, [1, 2, 3, 4, 5, 6]));
  const parts = await loadDataset(root);
  assert.deepEqual(parts.train.ids, ["train/cat/a", "train/cat/b", "train/dog/c", "train/dog/deep/d"]);
  assert.deepEqual([parts.test!.ids, Array.from(parts.test!.y), parts.test!.classNames], [["test/dog/t"], [1], ["cat", "dog"]]);

  const flat = join(dir, "flat");
  write(join(flat, "one.png"), encodePng(2, 2, 1, [0, 0, 0, 0]));
  write(join(flat, "two.png"), encodePng(2, 2, 1, [255, 255, 255, 255]));
  const unlabelled = listImageFolder(flat);
  assert.deepEqual([unlabelled.train.ids, unlabelled.train.labels], [["one", "two"], undefined]);
  await rejects(loadDataset(flat), /flat: the images have no labels: put them in class folders/);
  const pool = await readPool(flat);
  assert.deepEqual([[...pool.ids], pool.x.cols, Array.from(pool.x.data.subarray(4))], [["one", "two"], 4, [1, 1, 1, 1]]);

  const manifest = write(
    join(dir, "list.csv"),
    Buffer.from(`path,label,split\nclasses/cat/a.png,cat,train\nclasses/dog/c.png,dog,train\n${join(dir, "flat", "two.png")},dog,test\n`),
  );
  const listed = await readImageManifest(manifest);
  assert.deepEqual([listed.train.ids, listed.train.labels, listed.test!.ids], [["classes/cat/a", "classes/dog/c"], ["cat", "dog"], ["flat/two"]]);
  const fromManifest = await loadDataset(manifest);
  assert.deepEqual([fromManifest.train.x.rows, fromManifest.test!.x.rows, fromManifest.train.channels], [2, 1, 3]);
});

test("bad image folders and files give one line naming the folder or file", async () => {
  const empty = join(dir, "empty");
  mkdirSync(empty);
  await rejects(loadDataset(empty), /empty: no images found/);
  const hollow = join(dir, "hollow");
  write(join(hollow, "cat", "a.png"), encodePng(1, 1, 1, [0]));
  mkdirSync(join(hollow, "dog"));
  await rejects(loadDataset(hollow), /hollow\/dog: a class folder with no images/);
  const mixed = join(dir, "mixed");
  write(join(mixed, "cat", "a.png"), encodePng(1, 1, 1, [0]));
  write(join(mixed, "stray.png"), encodePng(1, 1, 1, [0]));
  await rejects(loadDataset(mixed), /mixed: has both class folders and 1 loose file \(stray\.png\)/);
  const corrupt = join(dir, "corrupt");
  write(join(corrupt, "cat", "a.png"), encodePng(2, 2, 1, [0, 1, 2, 3]));
  write(join(corrupt, "cat", "broken.png"), encodePng(2, 2, 1, [0, 1, 2, 3]).subarray(0, 40));
  await rejects(loadDataset(corrupt), /corrupt\/cat\/broken\.png: not a readable PNG image/);
  write(join(corrupt, "dog", "text.jpg"), Buffer.from("plain text, not a JPEG"));
  await rejects(loadDataset(corrupt), /corrupt\/dog\/text\.jpg: not a readable JPEG or PNG image/);
  await rejects(
    readImageManifest(write(join(dir, "nolist.csv"), Buffer.from("file,label\na.png,x\n"))),
    /nolist\.csv \(line 1\): expected a header with a "path" column/,
  );
});
