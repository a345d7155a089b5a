import { test, after } from "node:test";
import assert from "node:assert/strict";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createProject, projectTextModelPath } from "../src/serve/projects.js";
import { LabelServer } from "../src/serve/server.js";
import { Store } from "../src/serve/store/store.js";
import { logIn, openBrowser } from "./browser-helpers.js";
import { client, eventually, newToken } from "./serve-helpers.js";
import { tempDir } from "./helpers.js";

// Two topics with words of their own, and words both share.
const dir = tempDir();
process.env.ALFAMIX_CACHE_DIR = join(dir, "cache");
const topics = {
  sport: ["match", "goal", "team", "league", "coach", "striker"],
  money: ["bank", "rates", "shares", "market", "loan", "investors"],
};
const shared = ["the", "today", "again", "news", "report"];
let state = 7;
const pick = (words: string[]) => words[(state = (state * 1103515245 + 12345) % 2147483648) % words.length];
const rows = ["id,text"];
const truth = new Map<string, string>();
for (let i = 0; i < 80; i++) {
  const topic = i % 2 ? "sport" : "money";
  const words = topics[topic];
  rows.push(`t${i},"${pick(shared)} ${pick(words)} ${pick(words)}, ${pick(shared)} ${pick(words)} ${pick(shared)}"`);
  truth.set(`t${i}`, topic);
}
const pool = join(dir, "news.csv"),
  labeled = join(dir, "labeled.csv");
writeFileSync(pool, `${rows.join("\n")}\n`);
// 20 labels: enough for the linear head to tell the topics apart.
writeFileSync(labeled, `id,label\n${Array.from({ length: 20 }, (_, i) => `t${i},${truth.get(`t${i}`)}`).join("\n")}\n`);

const db = join(dir, "serve.db");
const store = new Store(db);
await createProject(store, { name: "news", pool, labeled, textColumn: "text", textModel: "tfidf", batch: 10, seed: 1 });
const admin = newToken(store, "root", "admin", null);
newToken(store, "ann", "annotator", null);
const annCode = store.tokens.createLoginCode(store.tokens.byName("ann")!.id, 24);
store.close();
const server = await LabelServer.start({ db, port: 0, log: () => undefined });
after(() => server.close());

type TextItem = {
  item: { id: string } | null;
  suggestion: { label: string } | null;
  display: { kind: string; text: string; guessTerms?: { against: string; terms: { term: string; weight: number; spans: [number, number][] }[] } };
};

test("a text project on TF-IDF with a linear head shows the n-grams that pushed each guess, where they are", async () => {
  const file = projectTextModelPath(db, "news");
  assert.equal(statSync(file).mode & 0o777, 0o600, "the project's text model is as private as the database");
  const api = client(server.url, admin);
  const served = await eventually(
    "a guess with its terms",
    async () => (await api.get<TextItem>("/api/projects/news/next")).body,
    (s) => s.suggestion !== null && (s.display.guessTerms?.terms.length ?? 0) > 0,
  );
  const { text, guessTerms } = served.display;
  const guess = served.suggestion!.label;
  assert.equal(guessTerms!.against, guess === "sport" ? "money" : "sport");
  const weights = guessTerms!.terms.map((t) => t.weight);
  assert.ok(weights.every((w) => w > 0));
  assert.deepEqual(
    weights,
    [...weights].sort((a, b) => b - a),
    "strongest first",
  );
  for (const { term, spans } of guessTerms!.terms) {
    for (const [start, end] of spans)
      assert.equal(
        text
          .slice(start, end)
          .toLowerCase()
          .match(/[\p{L}\p{N}_]{2,}/gu)!
          .join(" "),
        term,
      );
  }
  // The strongest push is a word of the guessed topic, not one the topics share.
  assert.ok(topics[guess as "sport" | "money"].includes(guessTerms!.terms[0].term.split(" ")[0]), JSON.stringify(guessTerms));
});

test("in the browser: the n-grams are marked in the text and listed under the guess, and a key labels the text", async () => {
  const { page, errors } = await logIn(await openBrowser(), server.url, annCode);
  await page.goto(`${server.url}/p/news/label`);
  await page.waitForSelector(".stage .text mark", { timeout: 20000 });
  const shown = await page.$eval(".stage", (stage) => ({
    id: stage.querySelector(".item-id")?.textContent ?? "",
    marks: [...stage.querySelectorAll("mark")].map((m) => m.textContent ?? ""),
    // The marks split the text but do not change it.
    text: stage.querySelector(".text")?.textContent ?? "",
  }));
  const chips = await page.$$eval(".guess-terms .term", (terms) => terms.map((t) => t.textContent ?? ""));
  assert.ok(shown.marks.length > 0 && chips.length > 0);
  const row = rows.find((r) => r.startsWith(`${shown.id},`))!;
  assert.equal(shown.text, row.slice(row.indexOf(",") + 2, -1), "the whole text, unchanged");
  // The strongest n-gram, first under the guess, is marked where it occurs.
  const words = (text: string) => (text.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu) ?? []).join(" ");
  assert.ok(shown.marks.map(words).includes(chips[0]), `${chips[0]} among the marks ${shown.marks}`);
  // Its class's key (money 1, sport 2: the classes in order) labels it and brings the next text.
  await page.keyboard.press(truth.get(shown.id) === "money" ? "1" : "2");
  await page.waitForFunction((was) => document.querySelector(".item-id")?.textContent !== was, shown.id);
  const labels = (await client(server.url, admin).get<string>("/api/projects/news/export?format=csv")).body;
  assert.match(labels, new RegExp(`^${shown.id},${truth.get(shown.id)},ann,`, "m"));
  assert.deepEqual(errors, []);
});
