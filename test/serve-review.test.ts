// Beyond the anchors: overlap (a second, blind label), agreement, review, and the audit log; and
// the token commands of the CLI.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createProject } from "../src/serve/projects.js";
import { LabelServer } from "../src/serve/server.js";
import { Store } from "../src/serve/store/store.js";
import { CLASSES, client, eventually, newToken, writePool, type Served } from "./serve-helpers.js";
import { cli, encodePng, tempDir, userError } from "./helpers.js";

const dir = tempDir();
const db = join(dir, "review.db");
const { pool, labeled, truth } = writePool(dir, 300, 3);
const store = new Store(db);
await createProject(store, { name: "pairs", pool, labeled, batch: 20, retrainEvery: 100, randomShare: 0, seed: 5, overlap: 1 });
const admin = newToken(store, "root", "admin");
const ana = newToken(store, "ana");
const ben = newToken(store, "ben");
const rita = newToken(store, "rita", "reviewer");
store.close();

const server = await LabelServer.start({ db, port: 0, log: (line) => assert.fail(line) });
after(() => server.close());
const api = (token: string) => client(server.url, token);
const next = async (token: string) => (await api(token).get<Served>("/api/projects/pairs/next")).body;
const label = (token: string, served: Served, value: string) =>
  api(token).post("/api/projects/pairs/labels", { item: served.item!.id, label: value, lease: served.lease });
const other = (value: string) => CLASSES[(CLASSES.indexOf(value) + 1) % 3];

test("overlap: a labelled item goes to a second annotator, blind; disagreements go to review; the resolved label is exported and both are kept", async () => {
  await eventually(
    "the first batch",
    () =>
      api(admin)
        .get<{ queued: number; retraining: boolean }>("/api/projects/pairs/status")
        .then((r) => r.body),
    (s) => s.queued > 0 && !s.retraining,
  );
  // Ana labels six items (with overlap 1, every one also goes to someone else).
  const first: Served[] = [];
  for (let i = 0; i < 6; i++) {
    const served = await next(ana);
    assert.equal(served.kind, "label");
    assert.equal((await label(ana, served, truth.get(served.item!.id)!)).status, 200);
    first.push(served);
  }
  assert.equal((await next(ana)).kind, "label", "nobody gives their own item its second label");
  // Ben gets them as second looks: no guess shown, and not the first label either.
  const seconds: Served[] = [];
  for (let i = 0; i < 6; i++) {
    const served = await next(ben);
    assert.equal(served.kind, "check", JSON.stringify(served));
    assert.equal(served.suggestion, null);
    const shown = (served as unknown as { display: { neighbours: { id: string }[] } }).display.neighbours;
    assert.ok(shown.length > 0 && shown.every((n) => n.id !== served.item!.id), "the first label is not shown (the item is not its own neighbour)");
    seconds.push(served);
    // Ben agrees on four and disagrees on two.
    const truthful = truth.get(served.item!.id)!;
    assert.equal((await label(ben, served, i < 4 ? truthful : other(truthful))).status, 200);
  }
  assert.deepEqual(new Set(seconds.map((s) => s.item!.id)), new Set(first.map((s) => s.item!.id)));
  assert.equal((await label(ben, seconds[5], other(truth.get(seconds[5].item!.id)!))).body.repeated, true, "a second label again is a no-op");

  const agreement = (
    await api(ana).get<{ items: number; observed: number; alpha: number; pairs: { annotators: string[]; items: number; kappa: number }[] }>(
      "/api/projects/pairs/agreement",
    )
  ).body;
  assert.equal(agreement.items, 6);
  assert.equal(agreement.observed, 4 / 6);
  assert.deepEqual(
    agreement.pairs.map((p) => [p.annotators, p.items]),
    [[["ana", "ben"], 6]],
  );

  // Review: annotators may not; a reviewer sees both labels and settles each.
  assert.equal((await api(ben).get("/api/projects/pairs/reviews")).status, 403);
  const open = (
    await api(rita).get<{ item: string; first: { annotator: string; label: string }; second: { annotator: string; label: string } }[]>(
      "/api/projects/pairs/reviews",
    )
  ).body;
  assert.equal(open.length, 2);
  const disputed = open[0];
  assert.equal(disputed.first.annotator, "ana");
  assert.equal(disputed.second.annotator, "ben");
  assert.notEqual(disputed.first.label, disputed.second.label);
  assert.deepEqual((await api(rita).post("/api/projects/pairs/reviews", { item: disputed.item, label: disputed.second.label })).body, {
    ok: true,
    openReviews: 1,
  });
  const exported = (await api(admin).get<string>("/api/projects/pairs/export?format=csv")).body;
  assert.match(exported, new RegExp(`\\n${disputed.item},${disputed.second.label},rita,`), "the resolved label is the one exported");
  assert.equal((await api(ana).delete(`/api/projects/pairs/labels/${disputed.item}`)).status, 409, "after review the label is the reviewer's");
  const history = (
    await api(admin).get<{ action: string; actor: string; item: string; detail: Record<string, unknown> }[]>("/api/audit?project=pairs&limit=1000")
  ).body;
  const trail = history
    .filter((e) => e.item === disputed.item)
    .map((e) => `${e.actor}:${e.action}:${e.detail?.label}`)
    .reverse();
  assert.deepEqual(
    trail,
    [`ana:label:${disputed.first.label}`, `ben:check:${disputed.second.label}`, `rita:review:${disputed.second.label}`],
    "the history is kept",
  );

  // Undo of a second label puts the item back in the queue of second looks.
  const undone = await api(ben).delete<Served>(`/api/projects/pairs/labels/${seconds[0].item!.id}`);
  assert.equal(undone.status, 200);
  assert.equal(undone.body.kind, "check");
  assert.equal((await label(ben, undone.body, truth.get(seconds[0].item!.id)!)).status, 200);
});

test("audit: every change is logged with who and what, the log is append-only, and it exports as JSONL", async () => {
  const entries = (await api(admin).get<{ id: number; action: string; actor: string }[]>("/api/audit?limit=1000")).body;
  const actions = new Set(entries.map((e) => e.action));
  for (const action of ["label", "check", "review", "undo"]) assert.ok(actions.has(action), action);
  assert.equal((await api(ana).get("/api/audit")).status, 403);
  await api(admin).post("/api/tokens", { name: "temp", role: "annotator" });
  await api(admin).delete("/api/tokens/temp");
  const latest = (await api(admin).get<{ action: string; actor: string; detail: { name: string } }[]>("/api/audit?limit=2")).body;
  assert.deepEqual(
    latest.map((e) => [e.actor, e.action, e.detail.name]),
    [
      ["root", "token-revoke", "temp"],
      ["root", "token-create", "temp"],
    ],
  );
  const page = (await api(admin).get<{ id: number }[]>(`/api/audit?limit=3&before=${entries[2].id}`)).body;
  assert.deepEqual(
    page.map((e) => e.id),
    entries.slice(3, 6).map((e) => e.id),
    "paging by id",
  );
  const jsonl = await fetch(`${server.url}/api/audit?format=jsonl`, { headers: { authorization: `Bearer ${admin}` } });
  assert.match(jsonl.headers.get("content-disposition") ?? "", /attachment/);
  assert.ok(
    (await jsonl.text())
      .trim()
      .split("\n")
      .every((line) => typeof JSON.parse(line).action === "string"),
  );
  const raw = new Store(db);
  try {
    assert.throws(() => raw.db.prepare("UPDATE audit SET actor = 'nobody'").run(), /append-only/);
    assert.throws(() => raw.db.prepare("DELETE FROM audit").run(), /append-only/);
  } finally {
    raw.close();
  }
});

test("token create|list|revoke|link on the command line; the login link holds a code, never the token", () => {
  const file = join(tempDir(), "tokens.db");
  const created = cli("token", "create", "--db", file, "--name", "ana", "--role", "reviewer", "--expires", "30d", "--url", "http://127.0.0.1:9000");
  assert.equal(created.status, 0, created.stderr);
  const [tokenLine, loginLine] = created.stdout.trim().split("\n");
  assert.match(tokenLine, /^token: alf_\S+$/);
  assert.match(loginLine, /^login: http:\/\/127\.0\.0\.1:9000\/login\?code=code_\S+$/);
  assert.ok(!loginLine.includes(tokenLine.slice(7)));
  userError(cli("token", "create", "--db", file, "--name", "ana"), /a token named "ana" already exists/);
  userError(cli("token", "create", "--db", file, "--name", "x", "--expires", "soon"), /--expires takes a duration/);
  const listed = cli("token", "list", "--db", file);
  assert.equal(listed.status, 0);
  assert.match(listed.stdout, /ana\s+reviewer\s+every project\s+\S+ \S+\s+–\s+\S+ \S+\s+active/);
  assert.ok(!listed.stdout.includes("alf_"), "never a secret");
  assert.match(cli("token", "link", "--db", file, "--name", "ana").stdout, /^login: http:\/\/127\.0\.0\.1:8080\/login\?code=code_/);
  assert.equal(cli("token", "revoke", "--db", file, "--name", "ana").status, 0);
  assert.match(cli("token", "list", "--db", file).stdout, /ana .* revoked/);
  userError(cli("token", "revoke", "--db", file, "--name", "ana"), /no active token named "ana"/);
  userError(cli("token", "link", "--db", file, "--name", "ana"), /no active token named "ana"/);
});

test("project create checks --media: none found stops, some missing is a note with examples; a class without labels is named", () => {
  const work = tempDir();
  const media = join(work, "media");
  mkdirSync(media);
  const { pool: poolFile, labeled: labels } = writePool(work, 30, 2);
  const file = join(work, "p.db");
  userError(
    cli("project", "create", "--db", file, "--name", "none", "--pool", poolFile, "--labeled", labels, "--media", media),
    /none of the 30 items has a file as .*media\/<id>.*e\.g\. "item-0", "item-1", "item-2"/,
  );
  for (let i = 0; i < 20; i++) writeFileSync(join(media, `item-${i}.png`), encodePng(2, 2, 1, [0, 1, 2, 3]));
  const some = cli(
    "project",
    "create",
    "--db",
    file,
    "--name",
    "some",
    "--pool",
    poolFile,
    "--labeled",
    labels,
    "--media",
    media,
    "--classes",
    "ant,bee,cat,dog",
  );
  assert.equal(some.status, 0, some.stderr);
  assert.match(some.stderr, /note: 10 of 30 items have no file .* \(e\.g\. "item-20", "item-21", "item-22", …\)/);
  assert.match(some.stderr, /note: no labelled item yet for dog/);
  assert.match(
    cli("project", "create", "--db", file, "--name", "derived", "--pool", poolFile, "--labeled", labels).stderr,
    /note: the classes are the 3 labels found in .*labeled\.csv: ant, bee, cat\. If one is missing, delete the project/,
  );
  assert.match(cli("project", "delete", "--db", file, "--name", "derived").stderr, /deleted project derived: 30 items, 3 labels/);
  userError(cli("project", "delete", "--db", file, "--name", "derived"), /no project "derived"/);
  assert.equal(
    cli("project", "create", "--db", file, "--name", "derived", "--pool", poolFile, "--labeled", labels, "--classes", "ant,bee,cat,dog").status,
    0,
    "the name is free again",
  );
});

test("serve --demo reuses its admin token and prints a fresh single-use link each start", async () => {
  const file = join(tempDir(), "demo.db");
  const start = () =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [new URL("../../bin/alfamix.js", import.meta.url).pathname, "serve", "--demo", "--db", file, "--port", "0"], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NODE_NO_WARNINGS: "1" },
      });
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.startsWith("login: ")) {
          child.kill("SIGTERM");
          resolve(line);
        }
      });
      child.once("exit", (code) => reject(new Error(`serve --demo exited (${code}) before printing a login link`)));
    });
  const first = await start(),
    second = await start();
  assert.notEqual(first, second);
  for (const line of [first, second]) assert.match(line, /^login: http:\/\/127\.0\.0\.1:\d+\/login\?code=code_\S+&next=\/p\/mnist /);
  const store = new Store(file, { readonly: true });
  try {
    assert.deepEqual(
      store.tokens.list().map((t) => [t.name, t.role]),
      [["demo", "admin"]],
    );
  } finally {
    store.close();
  }
});

test("a database of the first schema migrates: repeated token names are told apart, labels get their author's id, sessions survive", async () => {
  const file = join(tempDir(), "v1.db");
  const { createRequire } = await import("node:module");
  const SQLite = createRequire(import.meta.url)("better-sqlite3") as typeof import("better-sqlite3");
  const { MIGRATIONS } = await import("../src/serve/store/schema.js");
  const old = new SQLite(file);
  old.exec(MIGRATIONS[0]);
  old.pragma("user_version = 1");
  old.exec(`INSERT INTO projects (id, name, config, classes, display, dim, size, ready, created_at) VALUES (1, 'p', '{}', '["a","b"]', '{"kind":"features"}', 2, 2, 1, 0);
    INSERT INTO items VALUES (1, 0, 'x', NULL), (1, 1, 'y', NULL);
    INSERT INTO tokens (id, name, role, project_id, hash, created_at) VALUES (1, 'bob', 'annotator', NULL, 'h1', 0), (2, 'bob', 'annotator', NULL, 'h2', 0), (3, 'ana', 'admin', NULL, 'h3', 0);
    INSERT INTO sessions VALUES ('s1', 2, 9999999999999);
    INSERT INTO labels (project_id, row, label, annotator, created_at, source, random, seq) VALUES (1, 0, 'a', 'bob', 0, 'annotator', 0, 1), (1, 1, 'b', 'import', 0, 'initial', 0, 2);`);
  old.close();
  const store = new Store(file);
  try {
    assert.deepEqual(
      store.tokens.list().map((t) => t.name),
      ["bob", "bob#2", "ana"],
    );
    assert.deepEqual(
      store.exportLabels(1).map((l) => [l.id, l.tokenId]),
      [
        ["x", 1],
        ["y", null],
      ],
    );
    assert.equal((store.db.prepare("SELECT COUNT(*) AS n FROM sessions").get() as { n: number }).n, 1);
    assert.equal(store.db.pragma("foreign_keys", { simple: true }), 1);
    assert.throws(() => store.tokens.create("ana", "annotator", null), /already exists/);
  } finally {
    store.close();
  }
});
