import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readPool } from "../src/data/pool.js";
import { createProject } from "../src/serve/projects.js";
import { LabelServer } from "../src/serve/server.js";
import { Store } from "../src/serve/store/store.js";
import { CLASSES, client, newToken, writePool } from "./serve-helpers.js";
import { logIn, openBrowser } from "./browser-helpers.js";
import { tempDir } from "./helpers.js";

test("an annotator labels 20 items by keyboard, undoes one, skips one, and sees the queue refill after a retrain", async () => {
  const dir = tempDir();
  const db = join(dir, "ui.db");
  const { pool, labeled, truth } = writePool(dir, 400, 9);
  const store = new Store(db);
  // 8 features shown as a 2×4 picture: the page draws every project's items the same way.
  await createProject(store, {
    name: "birds",
    pool: await readPool(pool),
    labeled,
    batch: 12,
    retrainEvery: 6,
    randomShare: 0.1,
    seed: 4,
    pixels: { height: 2, width: 4 },
  });
  newToken(store, "tess", "annotator", null);
  const admin = newToken(store, "root", "admin");
  const code = store.tokens.createLoginCode(store.tokens.byName("tess")!.id, 24);
  store.close();
  const server = await LabelServer.start({ db, port: 0, log: () => undefined });
  after(() => server.close());

  const { page, errors } = await logIn(await openBrowser(), server.url, code);
  // One project and an annotator's token: the login lands on the project page; Enter starts labelling.
  await page.waitForSelector("#start");
  assert.match((await page.textContent("h1")) ?? "", /birds/);
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/p\/birds\/label$/);

  const shown = async () => (await page.textContent(".item-id"))?.trim() ?? "";
  const waitForChange = (from: string) => page.waitForFunction((id) => document.querySelector(".item-id")?.textContent !== id, from);
  const keyOf = (id: string) => String(CLASSES.indexOf(truth.get(id)!) + 1);
  const modelVersion = async () => Number(((await page.textContent("#model b")) ?? "").replace(/^v/, "")) || 0;

  await page.waitForSelector(".item-id");
  const firstVersion = await modelVersion();
  const labelled: string[] = [];
  for (let i = 0; i < 20; i++) {
    const id = await shown();
    await page.keyboard.press(keyOf(id));
    await waitForChange(id);
    labelled.push(id);
  }
  // Undo: the last item comes back on screen; label it again.
  const last = labelled[labelled.length - 1];
  const before = await shown();
  await page.keyboard.press("z");
  await page.waitForFunction((id) => document.querySelector(".item-id")?.textContent === id, last);
  await page.keyboard.press(keyOf(last));
  await page.waitForFunction((id) => document.querySelector(".item-id")?.textContent === id, before);
  // Skip: the item goes away unlabelled.
  const skipped = await shown();
  await page.keyboard.press("s");
  await waitForChange(skipped);

  // The retrain runs in the background; the counters show the new model and a full queue.
  await page.waitForFunction((v) => Number((document.querySelector("#model b")?.textContent ?? "").replace(/^v/, "")) > v, firstVersion, { timeout: 20000 });
  assert.ok((await modelVersion()) > firstVersion);
  assert.ok(Number(await page.textContent("#queued b")) > 0);
  await page.waitForSelector("#suggestion .guess");

  const exported = (await client(server.url, admin).get<string>("/api/projects/birds/export?format=csv")).body;
  const labels = new Map(
    exported
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(",").slice(0, 3) as [string, string, string])
      .map(([id, label, who]) => [id, { label, who }]),
  );
  for (const id of labelled) assert.deepEqual(labels.get(id), { label: truth.get(id), who: "tess" }, `${id} is labelled by keyboard`);
  assert.equal(labels.has(skipped), false, "the skipped item has no label");
  assert.equal(labels.size, 3 + 20);
  assert.deepEqual(errors, [], "no script errors on the page");
});
