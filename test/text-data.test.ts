import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../src/errors.js";
import { readNpy } from "../src/data/npy.js";
import { loadDataset } from "../src/embed/load-dataset.js";
import { readTexts } from "../src/data/text/corpus.js";
import { fitSif, sifRows } from "../src/embed/text/sif.js";
import { DEFAULT_TFIDF, fitTextModel } from "../src/embed/text/text-model.js";
import type { WordVectors } from "../src/embed/text/word-vectors.js";
import { assertClose, cli, pickedIds, tempDir, userError } from "./helpers.js";

const dir = tempDir();
process.env.ALFAMIX_CACHE_DIR = join(dir, "cache");
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
};

test("a CSV of texts: BOM, CRLF, quoted commas, quotes and newlines, emoji and CJK, default label and id columns", async () => {
  const path = write(
    "tickets.csv",
    '\uFEFFid,text,label\r\nt1,"Printer jams, again",hw\r\nt2,"Line one\r\nline two",sw\r\nt3,plain,hw\r\nt4,"Café ☕ 東京 🎉 ""quoted""",sw\r\n',
  );
  const { train, test: held } = await readTexts(path);
  assert.equal(held, undefined);
  assert.deepEqual(train.ids, ["t1", "t2", "t3", "t4"]);
  assert.deepEqual(train.texts, ["Printer jams, again", "Line one\r\nline two", "plain", 'Café ☕ 東京 🎉 "quoted"']);
  assert.deepEqual(train.labels, ["hw", "sw", "hw", "sw"]);
});

test("a TSV with named text and label columns and no id column numbers the rows", async () => {
  const path = write("reviews.tsv", "stars\tbody\tsentiment\n5\tloved it\tpos\n1\thated it\tneg\n");
  const { train } = await readTexts(path, { textColumn: "body", labelColumn: "sentiment" });
  assert.deepEqual(train.texts, ["loved it", "hated it"]);
  assert.deepEqual(train.labels, ["pos", "neg"]);
  assert.deepEqual(train.ids, ["0", "1"]);
});

test("JSONL: blank lines skipped, labels found by name, unlabelled files have no labels", async () => {
  const labelled = write("a.jsonl", '{"id": 7, "text": "first", "class": "x"}\n\n{"id": 8, "text": "second", "class": "y"}\n');
  assert.deepEqual(await readTexts(labelled), { train: { source: labelled, texts: ["first", "second"], ids: ["7", "8"], labels: ["x", "y"] } });
  const unlabelled = write("b.jsonl", '{"body": "only text"}\n');
  const { train } = await readTexts(unlabelled, { textColumn: "body" });
  assert.equal(train.labels, undefined);
  assert.deepEqual(train.ids, ["0"]);
});

test("bad text input is one error naming the file and the line", async () => {
  const cases: [string, string, RegExp][] = [
    ["empty.csv", "text,label\nfine,a\n  ,b\n", /empty\.csv.*line 3.*"text".*an empty text/],
    ["nocol.csv", "body,label\nx,a\n", /nocol\.csv.*header.*--text-column/],
    ["ragged.csv", "text,label\nx,a,extra\n", /ragged\.csv.*line 2.*expected 2 fields/],
    ["nolabel.csv", "text,label\nx,\n", /nolabel\.csv.*line 2.*expected a label/],
    ["dup.csv", "id,text\n1,a\n1,b\n", /dup\.csv.*id "1" names two texts/],
    ["bad.jsonl", '{"text": "ok"}\n{"text": \n', /bad\.jsonl.*line 2.*not JSON/],
    ["num.jsonl", '{"text": 3}\n', /num\.jsonl.*line 1.*expected a string field "text"/],
    ["headeronly.csv", "text,label\n", /headeronly\.csv.*at least one row/],
  ];
  for (const [name, content, pattern] of cases) {
    const path = write(name, content);
    await assert.rejects(readTexts(path), (error: Error) => error instanceof UserError && pattern.test(error.message), name);
  }
});

/** Two small classes of .txt files, in train/test folders; each word occurs in 2 or more texts of the train part. */
function writeTextFolder(root: string): void {
  const texts: Record<string, string[]> = {
    sport: ["the match ended in a draw", "a late goal won the match", "the team lost the final match", "fans cheered the winning goal"],
    money: ["the bank raised its rates", "rates fell and the bank gained", "shares in the bank fell", "investors sold shares as rates rose"],
  };
  for (const [label, list] of Object.entries(texts)) {
    list.forEach((text, i) => write(`${root}/${i < 3 ? "train" : "test"}/${label}/${i}.txt`, text));
  }
}

test("a folder of .txt files per class, with train and test parts, is a dataset of dense rows", async () => {
  writeTextFolder("news");
  const { train, test: held } = await loadDataset(join(dir, "news"));
  assert.equal(train.x.rows, 6);
  assert.deepEqual(train.classNames, ["money", "sport"]);
  assert.deepEqual(Array.from(train.y), [0, 0, 0, 1, 1, 1]);
  assert.equal(held!.x.rows, 2);
  assert.equal(held!.x.cols, train.x.cols);
  assert.match(train.name, /\(tfidf\)$/);
  // The LSA rows have at most as many dimensions as the training texts and are not all zero.
  assert.ok(train.x.cols >= 1 && train.x.cols <= 6);
  assert.ok(train.x.data.some((v) => v !== 0));
  // The second load reads the cached rows: the same numbers.
  const again = await loadDataset(join(dir, "news"));
  assert.deepEqual(again.train.x.data, train.x.data);
  await assert.rejects(loadDataset(join(dir, "news"), { textModel: "nope" }), /text model "nope": expected tfidf, glove-100d/);
});

test("an empty .txt file is an error naming it", async () => {
  write("broken/a/1.txt", "fine");
  write("broken/b/2.txt", " \n");
  await assert.rejects(
    readTexts(join(dir, "broken")),
    (error: Error) => error instanceof UserError && /broken\/b\/2\.txt.*empty text file/.test(error.message),
  );
});

test("SIF: a/(a + p(w)) weighted means over the words with a vector, then the first principal direction removed", () => {
  const vectors: WordVectors = {
    name: "toy",
    dim: 2,
    index: new Map([
      ["cat", 0],
      ["dog", 1],
      ["sat", 2],
    ]),
    vectors: Float32Array.from([1, 0, 0, 1, 1, 1]),
  };
  const { model, result } = fitSif(["Cat sat.", "dog DOG zebra", "42 !"], vectors, 0.1);
  // Five word tokens (zebra has no vector; "42 !" has no word): p(cat) = p(sat) = 1/5, p(dog) = 2/5.
  assert.equal(result.tokens, 5);
  assert.equal(result.outOfVocabulary, 1);
  assert.equal(result.emptyRows, 1);
  assertClose(Object.values(model.probabilities), [0.2, 0.2, 0.4].sort(), 1e-12, "p(w)");
  // Weights: cat, sat 0.1/0.3 = 1/3; dog 0.1/0.5 = 0.2. Means: [1/3, 1/6] and [0, 0.2], then [0, 0].
  const means = [
    [1 / 3, 1 / 6],
    [0, 0.2],
    [0, 0],
  ];
  // The top eigenvector of XᵀX = [[a, b], [b, c]] in closed form.
  const a = means.reduce((s, r) => s + r[0] * r[0], 0),
    b = means.reduce((s, r) => s + r[0] * r[1], 0),
    c = means.reduce((s, r) => s + r[1] * r[1], 0);
  const lambda = (a + c) / 2 + Math.sqrt(((a - c) / 2) ** 2 + b * b);
  const norm = Math.hypot(b, lambda - a);
  const u = [b / norm, (lambda - a) / norm];
  assertClose(model.component, u, 1e-6, "component");
  const removed = means.flatMap((r) => {
    const dot = r[0] * u[0] + r[1] * u[1];
    return [r[0] - dot * u[0], r[1] - dot * u[1]];
  });
  assertClose(result.rows.data, removed, 1e-6, "rows");
  // A new text under the fitted model: dog keeps its fitted weight; the same removal.
  const later = sifRows(model, vectors, ["dog"]);
  const dot = 0.2 * u[1];
  assertClose(later.rows.data, [-dot * u[0], 0.2 - dot * u[1]], 1e-6, "new text");
});

test("embed --text: rows, ids, labels and a saved model that embeds new texts the same way; a rerun resumes", async () => {
  writeTextFolder("corpus");
  const out = join(dir, "out", "news.npy");
  const run = cli("embed", "--text", join(dir, "corpus"), "--model", "tfidf", "--dim", "3", "--out", out, "--quiet");
  assert.equal(run.status, 0, run.stderr);
  const rows = await readNpy(out, "float32");
  assert.deepEqual(rows.shape, [8, 3]);
  // Train then test, each in class-folder order.
  assert.deepEqual(
    readFileSync(join(dir, "out", "news.labels"), "utf8")
      .trim()
      .split("\n"),
    ["money", "money", "money", "sport", "sport", "sport", "money", "sport"],
  );
  assert.equal(
    readFileSync(join(dir, "out", "news.ids"), "utf8")
      .trim()
      .split("\n").length,
    8,
  );
  assert.ok(existsSync(join(dir, "out", "news.text-model.json")) && existsSync(join(dir, "out", "news.text-model.npy")));
  const saved = JSON.parse(readFileSync(join(dir, "out", "news.text-model.json"), "utf8"));
  assert.equal(saved.format, "alfamix-text-model");
  assert.equal(saved.version, 1);

  // The saved model applied to the same texts gives the same rows, bit for bit.
  const reapplied = join(dir, "out", "again.npy");
  assert.equal(cli("embed", "--text", join(dir, "corpus"), "--model", join(dir, "out", "news.text-model.json"), "--out", reapplied, "--quiet").status, 0);
  assert.deepEqual((await readNpy(reapplied, "float32")).data, rows.data);
  assert.equal(existsSync(join(dir, "out", "again.text-model.json")), false, "a saved model is not saved again");

  // A rerun with the same arguments takes over the saved model and the finished rows.
  const rerun = cli("embed", "--text", join(dir, "corpus"), "--model", "tfidf", "--dim", "3", "--out", out);
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.deepEqual((await readNpy(out, "float32")).data, rows.data);
});

test("embed --text: bad input is one line and exit 2, with nothing written", () => {
  const out = join(dir, "bad", "x.npy");
  userError(cli("embed", "--text", write("e.csv", 'text\nok\n""\n'), "--out", out), /e\.csv.*line 3.*an empty text/);
  userError(cli("embed", "--text", join(dir, "corpus"), "--model", "bert", "--out", out), /text model "bert": expected tfidf, glove-100d, a .text-model.json/);
  userError(cli("embed", "--text", join(dir, "corpus"), "--ngrams", "3-1", "--out", out), /--ngrams.*A-B/);
  userError(cli("embed", "--text", join(dir, "corpus"), "--min-df", "99", "--out", out, "--quiet"), /no term occurs in 99 or more texts/);
  assert.equal(existsSync(join(dir, "bad")), false);
});

// The built-in sets' packages are devDependencies, so these run wherever the tests do.
test("the built-in spam set: a fixed stratified split of 6,046 e-mails", async () => {
  const { train, test: held } = await readTexts("spam");
  assert.equal(train.texts.length, 4837);
  assert.equal(held!.texts.length, 1209);
  assert.equal(train.labels!.filter((l) => l === "spam").length, 1517);
  assert.equal(new Set([...train.ids, ...held!.ids]).size, 6046);
  const again = await readTexts("spam");
  assert.deepEqual(again.test!.ids, held!.ids);
});

test("the built-in imdb set: 40,000 and 10,000 reviews, balanced", async () => {
  const { train, test: held } = await readTexts("imdb");
  assert.equal(train.texts.length, 40000);
  assert.equal(held!.texts.length, 10000);
  assert.equal(held!.labels!.filter((l) => l === "positive").length, 5000);
  assert.ok(!train.texts.some((t) => t.includes("<br")));
});

test("query and project create read a pool of texts, embedded on the way in", () => {
  writeTextFolder("pool");
  const labeled = write("labeled.csv", "id,label\ntrain/sport/0,sport\ntrain/money/0,money\n");
  const run = cli("query", "--pool", join(dir, "pool"), "--labeled", labeled, "--budget", "3", "--quiet");
  assert.equal(run.status, 0, run.stderr);
  const picked = pickedIds(run.stdout);
  assert.equal(picked.length, 3);
  for (const id of picked) assert.match(id, /^(train|test)\/(sport|money)\/\d$/);
  assert.ok(!picked.includes("train/sport/0") && !picked.includes("train/money/0"), "labelled items are not picked again");

  const table = write("tickets.csv", "id,text\na,the bank raised rates\nb,the match ended\nc,bank shares fell\nd,a late goal won the match\n");
  const fromTable = cli("query", "--pool", table, "--text-column", "text", "--text-model", "tfidf", "--budget", "2", "--quiet");
  assert.equal(fromTable.status, 0, fromTable.stderr);
  assert.equal(fromTable.stdout.trim().split("\n").length, 3);
  userError(cli("query", "--pool", table, labeled, "--text-column", "text"), /a pool of texts is one file or folder/);

  const db = join(dir, "team.db");
  const created = cli("project", "create", "--db", db, "--name", "news", "--pool", table, "--text-model", "tfidf", "--classes", "money,sport");
  assert.equal(created.status, 0, created.stderr);
  assert.match(created.stderr, /created project news: 4 items × \d+ features/);
  // Its TF-IDF model is kept beside the database, private, and goes with the project.
  assert.equal(statSync(`${db}.news.text-model.json`).mode & 0o777, 0o600);
  assert.equal(cli("project", "delete", "--db", db, "--name", "news").status, 0);
  assert.equal(existsSync(`${db}.news.text-model.json`) || existsSync(`${db}.news.text-model.npy`), false);
  userError(
    cli("project", "create", "--db", db, "--name", "x", "--pool", join(dir, "out", "news.npy"), "--text-model", "tfidf", "--classes", "a,b"),
    /--text-model embeds a pool of texts/,
  );
});

test("term pushes: each n-gram's TF-IDF value times the head's direction through the projection, summing to the row's score", async () => {
  const texts = ["free money now", "Free money, FREE money today", "meeting notes for today", "notes from the meeting", "money for the meeting"];
  const model = await fitTextModel({ kind: "tfidf", settings: { ...DEFAULT_TFIDF, dim: 3, minDf: 1 } }, texts);
  const direction = [0.7, -1.3, 0.4];
  const text = "Free money, FREE money today",
    other = "meeting notes for today";
  // What pushes toward the guess minus what pushes away: the row's score, up to a constant (the standardisation's mean).
  const net = (t: string) =>
    model.termPushes!(t, direction, Infinity).reduce((s, p) => s + p.weight, 0) -
    model.termPushes!(
      t,
      direction.map((v) => -v),
      Infinity,
    ).reduce((s, p) => s + p.weight, 0);
  const rows = (await model.embed([text, other])).rows.data;
  const score = (i: number) => direction.reduce((s, w, c) => s + w * rows[i * 3 + c], 0);
  assert.ok(Math.abs(net(text) - net(other) - (score(0) - score(1))) < 1e-4, `${net(text) - net(other)} against ${score(0) - score(1)}`);
  const pushes = model.termPushes!(text, direction, Infinity),
    against = model.termPushes!(
      text,
      direction.map((v) => -v),
      Infinity,
    );
  const free = [...pushes, ...against].find((p) => p.term === "free money")!;
  assert.deepEqual(free.spans, [
    [0, 10],
    [12, 22],
  ]);
});
