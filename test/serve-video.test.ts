import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { listClipFolder } from "../src/embed/video/clips.js";
import { embedVideos } from "../src/embed/video/embed-videos.js";
import { byteRange } from "../src/serve/media.js";
import { createProject } from "../src/serve/projects.js";
import { LabelServer } from "../src/serve/server.js";
import { Store } from "../src/serve/store/store.js";
import { logIn, openBrowser } from "./browser-helpers.js";
import { tempDir } from "./helpers.js";
import { client, newToken } from "./serve-helpers.js";
import { frameMeanModel, testClip } from "./video-helpers.js";

// Six clips in two classes (H.264 in MP4, VP9 in WebM), embedded as `embed --video` would.
const dir = tempDir();
process.env.ALFAMIX_CACHE_DIR = join(dir, "cache");
const clips = join(dir, "clips");
for (let i = 0; i < 3; i++) {
  testClip(join(clips, `pattern-${i}.mp4`), { seconds: 2 + i, size: "320x240" });
  testClip(join(clips, `fractal-${i}.webm`), { seconds: 1 + i, source: "mandelbrot", codec: ["-c:v", "libvpx-vp9", "-b:v", "300k"] });
}
const out = join(dir, "emb", "clips.npy");
await embedVideos({ model: frameMeanModel(dir), clips: listClipFolder(clips).train, out, frames: 8 });
const keyFrames = readFileSync(out.replace(".npy", ".keyframes"), "utf8").trim().split("\n");
const ids = readFileSync(out.replace(".npy", ".ids"), "utf8").trim().split("\n");
// The traps: a clip name linked out of the folder, and a clip name holding a web page.
writeFileSync(join(dir, "outside.mp4"), readFileSync(join(clips, "pattern-0.mp4")));
symlinkSync("../outside.mp4", join(clips, "pattern-9.mp4"));
writeFileSync(join(clips, "fractal-9.webm"), "<html><script>alert(1)</script></html>");

const labeled = join(dir, "labeled.csv");
writeFileSync(labeled, "id,label\npattern-0,pattern\nfractal-0,fractal\n");
const db = join(dir, "serve.db");
const store = new Store(db);
const notes: string[] = [];
await createProject(store, { name: "clips", pool: out, labeled, media: clips, batch: 4, seed: 1, onNote: (line) => notes.push(line) });
const admin = newToken(store, "root", "admin", null);
newToken(store, "ann", "annotator", null);
const annCode = store.tokens.createLoginCode(store.tokens.byName("ann")!.id, 24);
store.close();
const server = await LabelServer.start({ db, port: 0, log: () => undefined });
after(() => server.close());

const media = (item: string, range?: string) =>
  fetch(`${server.url}/api/projects/clips/items/${item}/media`, { headers: { authorization: `Bearer ${admin}`, ...(range ? { range } : {}) } });

test("project create counts the ids that have a clip", () => {
  assert.ok(notes.includes(`6 of 6 items have a file in ${clips}: 6 clips`), notes.join("\n"));
});

test("byte ranges as HTTP defines them: first bytes, a middle, a suffix, past the end, and what is ignored", () => {
  assert.deepEqual(byteRange("bytes=0-99", 1000), [0, 99]);
  assert.deepEqual(byteRange("bytes=500-", 1000), [500, 999]);
  assert.deepEqual(byteRange("bytes=-300", 1000), [700, 999]);
  assert.deepEqual(byteRange("bytes=-3000", 1000), [0, 999], "a suffix longer than the file is the whole file");
  assert.deepEqual(byteRange("bytes=900-5000", 1000), [900, 999], "the end is cut to the file");
  assert.deepEqual(byteRange("bytes=0-", 1000, 256), [0, 255], "an open range stops at the limit");
  assert.equal(byteRange("bytes=1000-", 1000), "unsatisfiable");
  assert.equal(byteRange("bytes=-0", 1000), "unsatisfiable");
  for (const ignored of [undefined, "bytes=5-2", "bytes=0-1,5-9", "items=0-9", "bytes=-", "bytes=a-b"])
    assert.equal(byteRange(ignored, 1000), undefined, String(ignored));
});

test("clips are served by range (206 with Content-Range), with their type from the bytes, and 416 past the end", async () => {
  for (const [item, file, type] of [
    ["pattern-2", "pattern-2.mp4", "video/mp4"],
    ["fractal-1", "fractal-1.webm", "video/webm"],
  ]) {
    const bytes = readFileSync(join(clips, file));
    const whole = await media(item);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get("content-type"), type);
    assert.equal(whole.headers.get("accept-ranges"), "bytes");
    assert.equal(whole.headers.get("x-content-type-options"), "nosniff");
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), bytes);
    const size = bytes.length;
    const middle = Math.floor(size / 3);
    for (const [range, first, last] of [
      ["bytes=0-99", 0, 99],
      [`bytes=${middle}-${middle + 999}`, middle, middle + 999],
      ["bytes=-500", size - 500, size - 1],
      [`bytes=${size - 10}-`, size - 10, size - 1],
    ] as [string, number, number][]) {
      const part = await media(item, range);
      assert.equal(part.status, 206, `${item} ${range}`);
      assert.equal(part.headers.get("content-range"), `bytes ${first}-${last}/${size}`);
      assert.equal(part.headers.get("content-type"), type);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(first, last + 1), `${item} ${range}`);
    }
    const past = await media(item, `bytes=${size}-`);
    assert.equal(past.status, 416);
    assert.equal(past.headers.get("content-range"), `bytes */${size}`);
    assert.match(((await past.json()) as { error: string }).error, /outside the file's \d+ bytes/);
  }
});

test("the containment rules hold for clips: no symlink out, and a clip name must hold a clip", async () => {
  assert.equal((await media("pattern-9")).status, 404, "a link out of the media folder");
  assert.equal((await media("pattern-9", "bytes=0-99")).status, 404, "by range too");
  assert.equal((await media("fractal-9")).status, 404, "a .webm that holds a web page");
});

test("the labelling page gets a clip with its key frames from embed --video", async () => {
  const api = client(server.url, admin);
  const served = await api.get<{ item: { id: string }; display: { kind: string; url: string; keyFrames?: number[] } }>("/api/projects/clips/next");
  assert.equal(served.status, 200);
  assert.equal(served.body.display.kind, "video");
  assert.equal(served.body.display.url, `/api/projects/clips/items/${served.body.item.id}/media`);
  const expected = keyFrames[ids.indexOf(served.body.item.id)].split(" ").map(Number);
  assert.deepEqual(served.body.display.keyFrames, expected);
  assert.ok(expected.length >= 1 && expected.length <= 4);
});

test("in the browser: the clip plays, its key-frame strip is drawn, and a key labels it", async () => {
  const { page, errors } = await logIn(await openBrowser(), server.url, annCode);
  await page.goto(`${server.url}/p/clips/label`);
  await page.waitForSelector(".stage video");
  const id = (await page.textContent(".item-id"))!;
  // Playing: its clock moves on by itself (muted autoplay, looping).
  await page.waitForFunction(() => (document.querySelector(".stage video") as HTMLVideoElement).currentTime > 0.3, undefined, { timeout: 15000 });
  const first = await page.$eval(".stage video", (v) => (v as HTMLVideoElement).currentTime);
  await page.waitForFunction((t) => (document.querySelector(".stage video") as HTMLVideoElement).currentTime !== t, first, { timeout: 5000 });
  const video = await page.$eval(".stage video", (v) => {
    const e = v as HTMLVideoElement;
    return { muted: e.muted, loop: e.loop, controls: e.controls, width: e.videoWidth };
  });
  assert.deepEqual(video, { muted: true, loop: true, controls: true, width: id.startsWith("pattern") ? 320 : 160 });
  // The strip: one canvas per key frame, with pixels drawn from the clip.
  const expected = keyFrames[ids.indexOf(id)].split(" ").length;
  await page.waitForFunction(
    (n) => {
      const canvases = [...document.querySelectorAll(".key-frame canvas")] as HTMLCanvasElement[];
      return (
        canvases.length === n &&
        canvases.every((c) =>
          c
            .getContext("2d")!
            .getImageData(0, 0, c.width, c.height)
            .data.some((v, i) => i % 4 !== 3 && v > 0),
        )
      );
    },
    expected,
    { timeout: 15000 },
  );
  // A click on a key frame pauses the player at that frame's time.
  const time = Number(keyFrames[ids.indexOf(id)].split(" ").at(-1));
  await page.click(".key-frame:last-child");
  await page.waitForFunction((t) => {
    const v = document.querySelector(".stage video") as HTMLVideoElement;
    return v.paused && Math.abs(v.currentTime - t) < 0.01;
  }, time);
  // The keys are as for images: 1 labels it with the first class.
  await page.keyboard.press("1");
  await page.waitForFunction((was) => document.querySelector(".item-id")?.textContent !== was, id);
  const exported = await client(server.url, admin).get<string>("/api/projects/clips/export?format=csv");
  assert.match(exported.body, new RegExp(`^${id},fractal,`, "m"), "the first class (sorted) is fractal");
  assert.deepEqual(errors, []);
});
