// The labelling service in headless Chromium, as an annotator and as an attacker would use it:
// all ten CIFAR-10 classes by keyboard, keystrokes faster than the server, the cold start, text
// items, the accuracy estimate at small n, a cross-origin POST from another port, and an SVG.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdirSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { encodeNpy } from "../src/data/npy.js";
import { encodePng } from "../src/data/images/png.js";
import { Rng } from "../src/random.js";
import { createProject } from "../src/serve/projects.js";
import { LabelServer } from "../src/serve/server.js";
import { Store } from "../src/serve/store/store.js";
import { CLASSES, client, newToken, writePool } from "./serve-helpers.js";
import { logIn, openBrowser } from "./browser-helpers.js";
import { tempDir } from "./helpers.js";

const CIFAR = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

const dir = tempDir();
const db = join(dir, "ui.db");
const { pool, labeled } = writePool(dir, 400, 9);

// CIFAR-10's classes over a pool of 10 blobs, with an image per item and one label per class.
const rng = new Rng(3),
  n = 200,
  d = 10;
const x = new Float32Array(n * d);
for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = rng.normal(j === i % 10 ? 3 : 0, 1);
writeFileSync(join(dir, "cifar.npy"), encodeNpy(x, [n, d]));
writeFileSync(join(dir, "cifar.ids"), Array.from({ length: n }, (_, i) => `img-${i}`).join("\n") + "\n");
writeFileSync(join(dir, "cifar-labeled.csv"), "id,label\n" + CIFAR.map((c, k) => `img-${k},${c}`).join("\n") + "\n");
const media = join(dir, "media");
mkdirSync(media);
for (let i = 0; i < n; i++)
  writeFileSync(
    join(media, `img-${i}.png`),
    encodePng(
      4,
      4,
      3,
      Array.from({ length: 48 }, (_, j) => (i * 13 + j * 7) % 256),
    ),
  );
const evil = join(dir, "evil");
mkdirSync(evil);
writeFileSync(
  join(evil, "bad.svg"),
  '<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("/api/tokens",{method:"POST",credentials:"include",headers:{"content-type":"application/json"},body:JSON.stringify({name:"pwned",role:"admin"})})</script></svg>',
);
writeFileSync(join(dir, "evil.csv"), "id,f0,f1\nbad,0,1\ngood,1,0\n");

// Text items: one long, one that is HTML.
const textFile = join(dir, "texts.csv");
const long = Array.from({ length: 400 }, (_, i) => `Line ${i} of a long support ticket, which must scroll.`).join("\n");
writeFileSync(textFile, "id,text,f0,f1\n" + [`t0,"${long}",0,1`, `t1,"<img src=x onerror=""window.pwned=1""><b>bold?</b>",1,0`].join("\n") + "\n");

const store = new Store(db);
await createProject(store, {
  name: "cifar",
  pool: join(dir, "cifar.npy"),
  labeled: join(dir, "cifar-labeled.csv"),
  classes: CIFAR,
  media,
  batch: 30,
  retrainEvery: 100,
  randomShare: 0,
  seed: 2,
});
await createProject(store, { name: "fast", pool, labeled, batch: 40, retrainEvery: 100, randomShare: 0, seed: 4 });
await createProject(store, { name: "cold", pool, classes: CLASSES, batch: 8, seed: 5 });
await createProject(store, { name: "texts", pool: textFile, classes: CLASSES, textColumn: "text", batch: 2, seed: 6 });
await createProject(store, { name: "svg", pool: join(dir, "evil.csv"), classes: CLASSES, media: evil });
// The estimate at small n: two random-share items the model guessed right.
const estimate = await createProject(store, { name: "estimate", pool, labeled, batch: 10, seed: 7 });
for (const row of [10, 11])
  store.putLabel(estimate.id, {
    row,
    label: "ant",
    annotator: "x",
    tokenId: null,
    createdAt: 0,
    source: "annotator",
    modelVersion: 1,
    predicted: "ant",
    confidence: 0.9,
    random: true,
  });
const people = { ann: newToken(store, "ann"), root: newToken(store, "root", "admin") };
const loginCode = (name: string) => store.tokens.createLoginCode(store.tokens.byName(name)!.id, 24);
const codes = { ann: [loginCode("ann"), loginCode("ann")], root: loginCode("root") };
store.close();

const server = await LabelServer.start({ db, port: 0, log: () => undefined });
after(() => server.close());
const browser = await openBrowser();
const loggedIn = (code: string) => logIn(browser, server.url, code);
const exportedLabels = async (project: string) =>
  new Map(
    (await client(server.url, people.root).get<string>(`/api/projects/${project}/export?format=csv`)).body
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(","))
      .map(([id, label, who]) => [id, { label, who }]),
  );
const shownItem = (page: Page) => page.textContent(".item-id").then((t) => t?.trim() ?? "");

const annotator = await loggedIn(codes.ann[0]);

test("every class has a key: all ten CIFAR-10 classes labelled by keyboard (1–9, then 0 for truck)", async () => {
  const { page, errors } = annotator;
  assert.doesNotMatch((await page.textContent("#nav")) ?? "", /null/, "the nav bar of a non-admin");
  await page.goto(`${server.url}/p/cifar/label`);
  await page.waitForSelector(".item-id");
  assert.deepEqual(await page.$$eval(".classes kbd", (keys) => keys.map((k) => k.textContent)), ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"]);
  const pressed = new Map<string, string>();
  for (const [k, key] of ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"].entries()) {
    const id = await shownItem(page);
    await page.keyboard.press(key);
    await page.waitForFunction((was) => document.querySelector(".item-id")?.textContent !== was, id);
    pressed.set(id, CIFAR[k]);
  }
  const labels = await exportedLabels("cifar");
  for (const [id, cls] of pressed) assert.deepEqual(labels.get(id), { label: cls, who: "ann" }, id);
  assert.equal(pressed.size, 10);
  assert.deepEqual(errors, []);
});

test("keystrokes are never lost: ten Enters 10 ms apart label ten items with the guesses, and the counters agree", async () => {
  const { page, errors } = annotator;
  await page.goto(`${server.url}/p/fast/label`);
  await page.waitForSelector("#suggestion .guess", { timeout: 20000 });
  const before = (await exportedLabels("fast")).size;
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press("Enter");
    await page.waitForTimeout(10);
  }
  await page.waitForFunction(() => !document.querySelector(".stage .pending") && document.querySelector("#mine b")?.textContent === "10", undefined, {
    timeout: 20000,
  });
  const labels = await exportedLabels("fast");
  assert.equal(labels.size, before + 10, "every Enter labelled an item");
  assert.equal([...labels.values()].filter((l) => l.who === "ann").length, 10);
  // Right after, and after the next status poll: the same counts (no stale poll contradicts them).
  for (const wait of [0, 3500]) {
    await page.waitForTimeout(wait);
    assert.equal(await page.textContent("#labeled b"), String(before + 10));
    assert.equal(await page.textContent("#mine b"), "10");
  }
  assert.deepEqual(errors, []);
});

test("the cold start says what the queue is doing, and Enter without a guess gives a visible hint", async () => {
  const { page } = annotator;
  await page.goto(`${server.url}/p/cold/label`);
  await page.waitForSelector(".item-id");
  assert.match((await page.textContent("#phase")) ?? "", /cold start until every class has a label \(TypiClust/);
  assert.match((await page.textContent("#suggestion")) ?? "", /No model yet: the first one trains once every class has a label \(0 of 3 classes have one\)/);
  const id = await shownItem(page);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#toast:not([hidden])");
  assert.match((await page.textContent("#toast")) ?? "", /No guess for this item yet: press the key of its class/);
  assert.equal(await shownItem(page), id, "nothing was labelled");
  // One label per class (item-i is class i mod 3): the first model trains, and "No model yet" gives way to its guess.
  const classOf = (item: string) => String((Number(item.slice(5)) % 3) + 1);
  const done = new Set<string>();
  while (done.size < 3) {
    const item = await shownItem(page);
    const key = classOf(item);
    if (![...done].includes(key)) done.add(key);
    await page.keyboard.press(key);
    await page.waitForFunction((was) => document.querySelector(".item-id")?.textContent !== was, item);
  }
  await page.waitForSelector("#suggestion .guess", { timeout: 20000 });
  assert.doesNotMatch((await page.textContent("#suggestion")) ?? "", /No model yet/);
  assert.doesNotMatch((await page.textContent("#phase")) ?? "", /cold start/);
});

test("text items are shown as text (escaped, never as HTML) and a long one scrolls", async () => {
  const { page } = annotator;
  await page.goto(`${server.url}/p/texts/label`);
  await page.waitForSelector(".stage .text");
  const seen = new Set<string>();
  for (let i = 0; i < 2; i++) {
    const id = await shownItem(page);
    seen.add(id);
    const shape = await page.$eval(".stage .text", (el) => ({
      text: el.textContent ?? "",
      scrolls: el.scrollHeight > el.clientHeight,
      overflow: getComputedStyle(el).overflowY,
      tags: el.querySelectorAll("*").length,
    }));
    if (id === "t0") {
      // Layout can settle a frame after the item appears (a loaded machine): wait for it, briefly.
      const scrolls = await page
        .waitForFunction(
          () => {
            const el = document.querySelector(".stage .text");
            return el !== null && el.scrollHeight > el.clientHeight && getComputedStyle(el).overflowY === "auto";
          },
          null,
          { timeout: 5000 },
        )
        .then(() => true)
        .catch(() => shape);
      assert.equal(scrolls, true, "the long text scrolls");
    } else assert.deepEqual([shape.text, shape.tags], ['<img src=x onerror="window.pwned=1"><b>bold?</b>', 0], "the HTML is text");
    await page.keyboard.press("1");
    await page.waitForFunction((was) => document.querySelector(".item-id")?.textContent !== was, id);
  }
  assert.deepEqual(seen, new Set(["t0", "t1"]));
  assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
});

test("the accuracy estimate at n = 2 shows its n and its interval, not 100% alone", async () => {
  const { page } = annotator;
  await page.goto(`${server.url}/p/estimate`);
  await page.waitForSelector("#estimate");
  assert.equal(await page.textContent("#estimate b"), "100% (n = 2)");
  assert.match((await page.textContent("#estimate span")) ?? "", /95% 34%–100%/);
  assert.equal(await page.locator("svg line.interval").count(), 1);
  assert.match((await page.textContent("svg")) ?? "", /n = 2/);
});

test("a page on another port of the same host cannot label through the annotator's cookie (text/plain POST, form POST)", async () => {
  const { page } = annotator;
  await page.goto(`${server.url}/p/fast/label`);
  await page.waitForSelector(".item-id");
  // A third item held by the annotator (the page holds two): its id and lease, as an attacker might learn them.
  const { item, lease } = await page.evaluate(async () => {
    const served = await (await fetch("/api/projects/fast/next", { headers: { "x-alfamix-page": localStorage.getItem("alfamix.page-key") ?? "" } })).json();
    return { item: served.item.id as string, lease: served.lease as string };
  });
  const before = (await exportedLabels("fast")).size;
  const leased = async () => (await client(server.url, people.root).get<{ leased: number }>("/api/projects/fast/status")).body.leased;
  const leasedBefore = await leased();
  const target = `${server.url}/api/projects/fast/labels`;
  const attacker = createServer((_, response) => {
    response.writeHead(200, { "content-type": "text/html" });
    response.end(`<!doctype html><img src="${server.url}/api/projects/fast/next"><img src="${server.url}/api/projects/fast/next?2">
      <form id=f method=post action="${target}" enctype=text/plain><input name='{"item":"${item}","label":"ant","lease":"${lease}","x":"' value='"}'></form>
      <script>fetch(${JSON.stringify(target)}, { method: "POST", mode: "no-cors", credentials: "include", headers: { "content-type": "text/plain" }, body: JSON.stringify({ item: ${JSON.stringify(item)}, label: "ant", lease: ${JSON.stringify(lease)} }) })
        .finally(() => document.getElementById("f").submit());</script>`);
  });
  await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
  try {
    const evilPage = await page.context().newPage();
    const answers: string[] = [];
    // The form's answer is seen; the fetch's is opaque (and blocked by Cross-Origin-Resource-Policy).
    evilPage.on("requestfinished", async (r) => {
      if (r.url() === target) answers.push(`${r.resourceType()} ${(await r.response())?.status()}`);
    });
    evilPage.on("requestfailed", (r) => {
      if (r.url() === target) answers.push(`${r.resourceType()} ${r.failure()?.errorText}`);
    });
    await evilPage.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
    await evilPage.waitForURL(target);
    await evilPage.waitForTimeout(200);
    assert.deepEqual(answers.sort(), ["document 403", "fetch net::ERR_BLOCKED_BY_RESPONSE.NotSameOrigin"], "both were sent, and refused");
    assert.equal((await exportedLabels("fast")).size, before, "nothing was written");
    assert.equal(await leased(), leasedBefore, "its <img> of /next leased nothing");
    await evilPage.close();
  } finally {
    attacker.close();
  }
});

test("an SVG in the media folder cannot act as the admin who opens it", async () => {
  const admin = await loggedIn(codes.root);
  const tokensBefore = (await client(server.url, people.root).get<unknown[]>("/api/tokens")).body.length;
  const url = `${server.url}/api/projects/svg/items/bad/media`;
  // Opened directly: an attachment (a download), never a document.
  await admin.page.goto(url).catch(() => undefined);
  // Embedded in a page of the app, as an image and as a frame.
  await admin.page.goto(`${server.url}/p/svg`);
  await admin.page.evaluate((src) => {
    const img = document.createElement("img");
    img.src = src;
    const frame = document.createElement("iframe");
    frame.src = src;
    document.body.append(img, frame);
  }, url);
  await admin.page.waitForTimeout(500);
  const tokens = (await client(server.url, people.root).get<{ name: string }[]>("/api/tokens")).body;
  assert.equal(tokens.length, tokensBefore);
  assert.ok(!tokens.some((t) => t.name === "pwned"), "no token was minted");
});
