import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { gemmBackend } from "../src/linalg/gemm.js";
import { createProject } from "../src/serve/projects.js";
import { LabelServer } from "../src/serve/server.js";
import { Store } from "../src/serve/store/store.js";
import { CLASSES, client, eventually, loginCookie, newToken, writePool, type Served } from "./serve-helpers.js";
import { tempDir } from "./helpers.js";

const dir = tempDir();
const db = join(dir, "serve.db");
const { pool, labeled, truth } = writePool(dir, 600);

// Projects and tokens are made as the CLI makes them, then a real server on 127.0.0.1 serves them.
const store = new Store(db);
const base = { pool, labeled, batch: 10, retrainEvery: 5, randomShare: 0.2, seed: 1 };
await createProject(store, { ...base, name: "main" });
await createProject(store, { ...base, name: "other" });
await createProject(store, { ...base, name: "short", leaseSeconds: 1 });
await createProject(store, { ...base, name: "team", batch: 40, retrainEvery: 20 });
await createProject(store, { name: "cold", pool, classes: CLASSES, batch: 6, seed: 2 });
const admin = newToken(store, "root", "admin", null);
const alice = newToken(store, "alice", "annotator", null);
const bob = newToken(store, "bob", "annotator", null);
const otherOnly = newToken(store, "olga", "annotator", store.project("other")!.id);
store.close();

const server = await LabelServer.start({ db, port: 0, log: () => undefined });
after(() => server.close());
const api = (token?: string) => client(server.url, token);
/** Wait for a project's first batch (planned in its retrain thread when the project first opens). */
const ready = (project: string) =>
  eventually(
    `${project}'s first batch`,
    () =>
      api(admin)
        .get<{ queued: number; retraining: boolean }>(`/api/projects/${project}/status`)
        .then((r) => r.body),
    (s) => s.queued > 0 && !s.retraining,
  );
const next = async (token: string, project = "main") => (await api(token).get<Served>(`/api/projects/${project}/next`)).body;
const label = (token: string, served: Served, value: string, project = "main") =>
  api(token).post(`/api/projects/${project}/labels`, { item: served.item!.id, label: value, lease: served.lease });

test("auth: health is open, everything else needs a token of the right role and project", async () => {
  assert.equal(server.url.startsWith("http://127.0.0.1:"), true);
  assert.deepEqual((await api().get("/api/health")).body, { ok: true });
  assert.equal((await api().get("/api/projects")).status, 401);
  assert.equal((await api("alf_not-a-token").get("/api/projects/main/status")).status, 401);
  assert.match(String((await api().get("/api/projects/main/next")).body.error), /needs a token/);
  assert.equal((await api(otherOnly).get("/api/projects/main/status")).status, 404, "a project-scoped token sees other projects as absent");
  assert.equal((await api(otherOnly).get("/api/projects/other/status")).status, 200);
  assert.deepEqual((await api(otherOnly).get("/api/projects")).body, [
    { name: "other", pool: 600, classes: CLASSES, strategy: "alfamix", batch: 10, labeled: 3, display: "features" },
  ]);
  assert.equal((await api(alice).post("/api/tokens", { name: "x", role: "admin" })).status, 403);
  assert.equal((await api(alice).post("/api/projects", { name: "x", pool })).status, 403);
  const made = await api(admin).post<{ token: string; login: string }>("/api/tokens", { name: "carol", role: "annotator", project: "main" });
  assert.equal(made.status, 201);
  assert.equal((await api(made.body.token).get("/api/projects/main/status")).status, 200);
  assert.equal((await api(made.body.token).get("/api/projects/team/status")).status, 404);
  // The browser's way in: the login link's single-use code, traded (by a POST from this origin) for an HttpOnly session cookie.
  const code = (link: string) => new URL(link).searchParams.get("code")!;
  const aliceLink = (await api(admin).post<{ login: string }>("/api/tokens/alice/link")).body.login;
  assert.ok(!aliceLink.includes(alice), "a login link never holds the token");
  const session = await loginCookie(server.url, code(aliceLink));
  assert.match(session.cookie, /^alfamix_session=ses_/);
  const me = await fetch(`${server.url}/api/me`, { headers: { ...session } });
  assert.deepEqual(((await me.json()) as { name: string }).name, "alice");
  assert.equal((await fetch(`${server.url}/login?code=${code(aliceLink)}`)).status, 401, "a code works once");
  assert.equal((await fetch(`${server.url}/login?token=${alice}`)).status, 401, "the permanent token is no login link");
  const onwards = async (next: string) => {
    const link = (await api(admin).post<{ login: string }>("/api/tokens/alice/link")).body.login;
    const r = await fetch(`${server.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { origin: server.url, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ code: code(link), next }).toString(),
    });
    return r.headers.get("location")?.replace(/#k=[\w-]+$/, "");
  };
  assert.equal(await onwards("/p/main"), "/p/main");
  assert.equal(await onwards("//evil.example/"), "/", "never to another site");
  assert.equal(await onwards("https://evil.example/"), "/");
});

test("leases: two annotators never hold the same item; labels are idempotent; bad input is refused with one line", async () => {
  await ready("main");
  const a = await next(alice),
    b = await next(bob);
  assert.ok(a.item && b.item && a.item.id !== b.item.id);
  assert.equal(typeof a.why.strategy, "string");
  assert.deepEqual((await label(alice, a, "ant")).body, { ok: true, labeled: 4, repeated: false });
  assert.deepEqual((await label(alice, a, "ant")).body, { ok: true, labeled: 4, repeated: true }, "the same label again is a no-op");
  const conflicting = await label(alice, a, "bee");
  assert.equal(conflicting.status, 409);
  assert.match(String(conflicting.body.error), /already labelled "ant" by alice; undo that label first/);
  // Bob's lease is his: Alice cannot use it.
  const stolen = await api(alice).post("/api/projects/main/labels", { item: b.item!.id, label: "ant", lease: b.lease });
  assert.equal(stolen.status, 409);
  assert.match(String(stolen.body.error), /belongs to someone else/);
  const bad = async (body: unknown, status: number, pattern: RegExp, raw?: string) => {
    const reply = raw === undefined ? await api(bob).post("/api/projects/main/labels", body) : await api(bob).raw("/api/projects/main/labels", raw);
    assert.equal(reply.status, status, JSON.stringify(reply.body));
    assert.match(String(reply.body.error), pattern);
    assert.ok(!String(reply.body.error).includes("\n"));
  };
  await bad({ item: b.item!.id, label: "emu", lease: b.lease }, 400, /unknown label "emu"; the project's classes are "ant", "bee", "cat"/);
  await bad({ item: "no-such-item", label: "ant", lease: b.lease }, 404, /no item "no-such-item" in project "main"/);
  await bad(undefined, 400, /malformed JSON/, "{not json");
  await bad(undefined, 400, /expected a JSON object/, "null");
  await bad(undefined, 413, /over 1048576 bytes/, "x".repeat(1100000));
  await bad({ item: b.item!.id, label: "ant" }, 400, /expected "lease"/);
  assert.equal((await api(bob).get("/api/projects/nope/next")).status, 404);
  assert.equal((await api(admin).post("/api/projects", { name: "main", pool })).status, 409);
  assert.match(String((await api(admin).post("/api/projects", { name: "main", pool })).body.error), /a project named "main" already exists/);
  // Nothing of the refused requests was written.
  assert.equal((await api(bob).get<{ labeled: number }>("/api/projects/main/status")).body.labeled, 4);
  assert.equal((await label(bob, b, truth.get(b.item!.id)!)).status, 200);
});

test("an expired lease is refused, and the item goes to the next annotator", async () => {
  await ready("short");
  const held = await next(alice, "short");
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const late = await label(alice, held, "ant", "short");
  assert.equal(late.status, 409);
  assert.match(String(late.body.error), /expired/);
  assert.equal((await next(bob, "short")).item!.id, held.item!.id, "the expired item is the next one served");
});

test("skip, heartbeat, release and undo", async () => {
  await ready("other");
  const first = await next(alice, "other");
  const beat = await api(alice).post<{ expiresAt: string }>("/api/projects/other/heartbeat", { item: first.item!.id, lease: first.lease });
  assert.equal(beat.status, 200);
  assert.ok(Date.parse(beat.body.expiresAt) > Date.now() + 100000);
  assert.equal((await api(alice).post("/api/projects/other/skip", { item: first.item!.id, lease: first.lease })).status, 200);
  const second = await next(alice, "other");
  assert.notEqual(second.item!.id, first.item!.id, "a skipped item does not come back to the one who skipped it");
  assert.equal((await next(otherOnly, "other")).item!.id, first.item!.id, "but goes to someone else");
  assert.equal((await api(alice).post("/api/projects/other/release", { item: second.item!.id, lease: second.lease })).status, 200);
  const again = await next(alice, "other");
  assert.equal(again.item!.id, second.item!.id, "a released item is free again");
  assert.equal((await label(alice, again, "cat", "other")).status, 200);
  // Undo: the label goes, and the item comes back leased to the one who undid it.
  const undone = await api(alice).delete<Served>(`/api/projects/other/labels/${again.item!.id}`);
  assert.equal(undone.status, 200);
  assert.equal(undone.body.item!.id, again.item!.id);
  assert.equal((await api(admin).get<string>("/api/projects/other/export?format=csv")).body.includes(`${again.item!.id},`), false);
  assert.equal((await api(bob).delete(`/api/projects/other/labels/item-0`)).status, 409, "only the labeller (or an admin) undoes");
  assert.equal((await label(alice, undone.body, "bee", "other")).status, 200);
  assert.match((await api(admin).get<string>("/api/projects/other/export?format=csv")).body, new RegExp(`\\n${again.item!.id},bee,alice,`));
});

test("export and import round trips: CSV, JSONL and Label Studio", async () => {
  const exported = (format: string, project = "other") => api(admin).get<string>(`/api/projects/${project}/export?format=${format}`);
  const csv = (await exported("csv")).body;
  assert.match(csv, /^id,label,annotator,time\nitem-0,ant,import,\d{4}-/);
  const rows = (text: string) =>
    text
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(",").slice(0, 3).join(","))
      .sort();
  // Into a fresh project, then out again: the same labels.
  for (const [format, name] of [
    ["csv", "copy-csv"],
    ["jsonl", "copy-jsonl"],
    ["labelstudio", "copy-ls"],
  ] as const) {
    assert.equal((await api(admin).post("/api/projects", { name, pool, classes: CLASSES })).status, 201);
    const body = (await exported(format)).body;
    const imported = await api(admin).raw(`/api/projects/${name}/import?format=${format}`, typeof body === "string" ? body : JSON.stringify(body));
    assert.equal(imported.status, 200, JSON.stringify(imported.body));
    assert.deepEqual(rows((await exported("csv", name)).body), rows(csv), format);
  }
  assert.equal((await api(alice).get("/api/projects/other/export?format=csv")).status, 403, "annotators do not see others' labels");
  const tasks = (
    await api(admin).get<{ data: { item: string }; predictions: { model_version: string; score: number }[] }[]>("/api/projects/other/export?format=labelstudio")
  ).body;
  const predicted = tasks.find((t) => t.predictions.length > 0)!;
  assert.match(predicted.predictions[0].model_version, /^other@\d+$/);
  assert.ok(predicted.predictions[0].score > 0 && predicted.predictions[0].score <= 1);
  const refused = await api(admin).raw("/api/projects/copy-csv/import?format=csv", "id,label\nitem-5,ant\nitem-6,emu\n");
  assert.equal(refused.status, 400);
  assert.match(String(refused.body.error), /csv \(line 3\): unknown label "emu"/);
  assert.doesNotMatch((await exported("csv", "copy-csv")).body, /item-5,/, "a refused import writes nothing");
});

test("retrain and refill: enough labels start a retrain in the background, and a new batch replaces the queue", async () => {
  const status = () =>
    api(alice)
      .get<{ modelVersion: number | null; queued: number; labeled: number; retraining: boolean }>("/api/projects/team/status")
      .then((r) => r.body);
  const first = await eventually("the first batch", status, (s) => s.modelVersion !== null && !s.retraining);
  assert.equal(first.queued, 40);
  for (let i = 0; i < 20; i++) {
    const served = await next(alice, "team");
    assert.equal((await label(alice, served, truth.get(served.item!.id)!, "team")).status, 200);
  }
  const refilled = await eventually("a retrain", status, (s) => s.modelVersion! > first.modelVersion! && !s.retraining);
  assert.equal(refilled.queued, 40, "the new batch replaces what was left of the old one");
  const served = await next(alice, "team");
  assert.ok(served.suggestion && CLASSES.includes(served.suggestion.label));
  assert.equal(served.why.modelVersion, refilled.modelVersion);
  // Projects plan in threads of their own, so OpenBLAS runs on its callers' threads: its thread
  // server deadlocked when two projects' plans called it at once.
  assert.equal(gemmBackend().threads?.get() ?? 1, 1);
});

test("cold start: until every class has a label, the queue is TypiClust's, with typicality scores", async () => {
  await ready("cold");
  const served = await next(alice, "cold");
  assert.equal(served.why.coldStart, true);
  assert.equal(served.why.strategy, "typiclust");
  assert.ok(typeof served.why.score === "number" && served.why.score > 0, JSON.stringify(served.why));
  assert.equal(served.suggestion, null);
});

test("8 annotators, 500 labels: no item is held twice at once, and no label is lost", async () => {
  const tokens = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      api(admin)
        .post<{ token: string }>("/api/tokens", { name: `worker-${i}`, role: "annotator" })
        .then((r) => r.body.token),
    ),
  );
  const held = new Map<string, string>(); // item → annotator holding it now
  const acknowledged: string[] = [];
  let remaining = 500,
    overlaps = 0;
  await Promise.all(
    tokens.map(async (token, w) => {
      while (remaining > 0) {
        remaining--;
        const served = await next(token, "team");
        const id = served.item!.id;
        if (held.has(id)) overlaps++;
        held.set(id, `worker-${w}`);
        const reply = await label(token, served, truth.get(id)!, "team");
        held.delete(id);
        assert.equal(reply.status, 200, JSON.stringify(reply.body));
        acknowledged.push(id);
      }
    }),
  );
  assert.equal(overlaps, 0);
  assert.equal(new Set(acknowledged).size, acknowledged.length, "every label is on a different item");
  const exported = new Set(
    (await api(admin).get<string>("/api/projects/team/export?format=csv")).body
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(",")[0]),
  );
  for (const id of acknowledged) assert.ok(exported.has(id), `${id} is in the export`);
});
