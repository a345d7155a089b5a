// Issue 23, items 1–16: one test per item, each a way the service could be abused or could
// mislead, as an outsider with a live server would try it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { linkSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { link, rename, writeFile } from "node:fs/promises";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import { encodeNpy } from "../src/data/npy.js";
import { encodePng } from "../src/data/images/png.js";
import { databaseFiles, readMedia } from "../src/serve/media.js";
import { createProject } from "../src/serve/projects.js";
import { LabelServer } from "../src/serve/server.js";
import { Store } from "../src/serve/store/store.js";
import { CLASSES, client, eventually, loginCookie, newToken, writePool, type Served, type Session } from "./serve-helpers.js";
import { tempDir } from "./helpers.js";

const dir = tempDir();
const db = join(dir, "serve.db");
const { pool, labeled, truth } = writePool(dir, 300);

// A media folder: an image per item for most items, and the traps an attacker would plant.
const media = join(dir, "media");
mkdirSync(media);
const png = encodePng(2, 2, 1, [0, 255, 255, 0]);
for (let i = 0; i < 200; i++) writeFileSync(join(media, `item-${i}.png`), png);
writeFileSync(join(dir, "outside.png"), png);

const store = new Store(db);
const base = { pool, labeled, batch: 10, retrainEvery: 5, randomShare: 0.2, seed: 1 };
await createProject(store, { ...base, name: "main" });
await createProject(store, { ...base, name: "secret" });
await createProject(store, { ...base, name: "pics", media });
await createProject(store, { ...base, name: "lease", leaseSeconds: 3600 });
symlinkSync("/etc/passwd", join(media, "item-200.png"));
symlinkSync(db, join(media, "item-201.png"));
linkSync(db, join(media, "item-202.png"));
writeFileSync(join(media, "item-203.svg"), '<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("/api/tokens",{method:"POST"})</script></svg>');
writeFileSync(join(media, "item-204.txt"), "a text item");
writeFileSync(join(media, "item-205.png"), "not an image at all");
symlinkSync("../outside.png", join(media, "item-206.png"));
const admin = newToken(store, "root", "admin");
const alice = newToken(store, "alice");
const bob = newToken(store, "bob");
const secretOnly = newToken(store, "sam", "annotator", store.project("secret")!.id);
const importer = newToken(store, "import"); // the name initial labels carry
store.close();

const logged: string[] = [];
const server = await LabelServer.start({ db, port: 0, log: (line) => logged.push(line), maxLeases: 3 });
after(() => server.close());
const api = (token?: string) => client(server.url, token);
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
const exported = async (project = "main") => (await api(admin).get<string>(`/api/projects/${project}/export?format=csv`)).body;
const exportedRow = async (id: string, project = "main") => (await exported(project)).split("\n").find((l) => l.startsWith(`${id},`));
const code = (link: string) => new URL(link).searchParams.get("code")!;
const linkFor = async (name: string) => code((await api(admin).post<{ login: string }>(`/api/tokens/${name}/link`)).body.login);
/** A request with headers fetch will not send (Host). */
function rawRequest(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = "",
): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url + path, { method, headers: { ...headers, "content-length": Buffer.byteLength(body) } }, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers }));
    });
    request.on("error", reject);
    request.end(body);
  });
}
/** A cookie-authenticated request as a page of `origin` would send it. */
const fromPage = (session: Session, origin: string | undefined, method: string, path: string, body: string, type = "application/json") =>
  fetch(server.url + path, { method, headers: { ...session, "content-type": type, ...(origin ? { origin } : {}) }, body });
const me = (headers: Record<string, string>) => fetch(`${server.url}/api/me`, { headers });

test("1. import is an admin action; the annotator on a label is the token, never a field of the body", async () => {
  await ready("main");
  const refused = await api(alice).raw("/api/projects/main/import?format=csv", "id,label,annotator\nitem-0,bee,mallory\n", "text/csv");
  assert.equal(refused.status, 403);
  assert.match((await exportedRow("item-0")) ?? "", /^item-0,ant,import,/, "the refused import wrote nothing");
  const served = await next(alice);
  const labelled = await api(alice).post("/api/projects/main/labels", { item: served.item!.id, label: "cat", lease: served.lease, annotator: "mallory" });
  assert.equal(labelled.status, 200);
  assert.match((await exportedRow(served.item!.id)) ?? "", new RegExp(`^${served.item!.id},cat,alice,`), "the body's annotator field is ignored");
  // An admin's import may name annotators; its labels are nobody's to undo but an admin's.
  assert.equal((await api(admin).raw("/api/projects/main/import?format=csv", `id,label,annotator\n${served.item!.id},bee,ext-team\n`, "text/csv")).status, 200);
  assert.match((await exportedRow(served.item!.id)) ?? "", new RegExp(`^${served.item!.id},bee,ext-team,`));
  assert.equal((await api(alice).delete(`/api/projects/main/labels/${served.item!.id}`)).status, 409, "the label is no longer alice's");
});

test("2. identity is the token: names are unique, and a token named like someone cannot undo their labels", async () => {
  const again = await api(admin).post("/api/tokens", { name: "bob", role: "annotator" });
  assert.equal(again.status, 409);
  assert.match(String(again.body.error), /a token named "bob" already exists/);
  // Initial labels carry the annotator "import"; a token of that name is still not their author.
  assert.equal((await api(importer).delete("/api/projects/main/labels/item-0")).status, 409);
  const served = await next(bob);
  assert.equal((await label(bob, served, "ant")).status, 200);
  assert.equal((await api(alice).delete(`/api/projects/main/labels/${served.item!.id}`)).status, 409, "alice cannot undo bob's label");
  assert.equal((await api(bob).delete(`/api/projects/main/labels/${served.item!.id}`)).status, 200, "bob can");
  assert.equal((await api(admin).post("/api/tokens", { name: "<script>", role: "annotator" })).status, 400, "names are plain");
});

test("3. token lifecycle: list without secrets, revoke (bearer and sessions die at once), expiry, logout ends the session on the server", async () => {
  const listed = (await api(admin).get<Record<string, unknown>[]>("/api/tokens")).body;
  const row = listed.find((t) => t.name === "alice")!;
  assert.deepEqual(Object.keys(row).sort(), ["createdAt", "expiresAt", "lastUsedAt", "name", "project", "projectId", "revokedAt", "role"]);
  assert.ok(typeof row.lastUsedAt === "number", "last use is recorded");
  assert.doesNotMatch(JSON.stringify(listed), /alf_|hash/, "never a secret or a hash");

  const made = await api(admin).post<{ token: string; login: string }>("/api/tokens", { name: "temp", role: "annotator", expires: "30d" });
  assert.equal(made.status, 201);
  const session = await loginCookie(server.url, code(made.body.login));
  assert.equal((await me({ ...session })).status, 200);
  assert.equal((await api(made.body.token).get("/api/me")).status, 200);
  assert.equal((await api(admin).delete("/api/tokens/temp")).status, 200);
  assert.equal((await api(made.body.token).get("/api/me")).status, 401, "a revoked token stops at once");
  assert.equal((await me({ ...session })).status, 401, "and so does every session made from it");
  assert.equal((await api(admin).delete("/api/tokens/temp")).status, 404, "revoking twice says so");
  assert.equal((await api(admin).post("/api/tokens", { name: "x", role: "annotator", expires: "soon" })).status, 400);

  // Expiry, and the purge of expired sessions (the store's clock is passed in).
  const store = new Store(db);
  try {
    const soon = store.tokens.create("brief", "annotator", null, Date.now() + 60_000);
    const session = store.tokens.createSession(soon.id);
    assert.ok(session.expiresAt <= Date.now() + 60_000, "a session ends with its token");
    const later = Date.now() + 120_000;
    assert.equal(store.tokens.bySecret(soon.secret, later), undefined);
    assert.equal(store.tokens.bySession(session.secret, later), undefined);
    assert.ok(store.tokens.purgeExpired(later).sessions >= 1);
  } finally {
    store.close();
  }

  const bobs = await loginCookie(server.url, await linkFor("bob"));
  const out = await fetch(`${server.url}/logout`, { method: "POST", redirect: "manual", headers: { cookie: bobs.cookie, origin: server.url } });
  assert.equal(out.status, 303);
  assert.match(out.headers.get("set-cookie") ?? "", /Max-Age=0/);
  assert.equal((await me({ ...bobs })).status, 401, "the old cookie is refused after logout");
});

test("4. login links hold a single-use code, not the token; another page cannot switch a browser's session", async () => {
  const link = (await api(admin).post<{ login: string }>("/api/tokens/alice/link")).body.login;
  assert.doesNotMatch(link, new RegExp(alice), "the permanent token is never in a URL");
  const page = await fetch(link);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Log in as alice/);
  assert.equal((await fetch(link)).status, 200, "looking at the link does not use it up (link scanners)");
  // Login CSRF: a page on another origin posts its own code to switch the victim's session.
  const victim = await loginCookie(server.url, await linkFor("bob"));
  const attack = await fetch(`${server.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie: victim.cookie, origin: "http://127.0.0.1:1", "content-type": "application/x-www-form-urlencoded" },
    body: `code=${code(link)}`,
  });
  assert.equal(attack.status, 403);
  assert.equal(((await (await me({ ...victim })).json()) as { name: string }).name, "bob", "the victim is still bob");
  // Cookie tossing: a page on another port pushes its own session cookie into the victim's
  // browser (cookies are not kept apart by port). Without that session's page key, which only
  // pages of this origin hold, the cookie opens nothing.
  const planted = await loginCookie(server.url, code(link));
  assert.equal((await me({ cookie: planted.cookie, "x-alfamix-page": victim["x-alfamix-page"] })).status, 401);
  assert.equal((await me({ cookie: planted.cookie })).status, 401, "nor without a key");
  assert.equal((await me({ ...planted })).status, 200, "with its own key it is a session");
  // A request another origin's page makes (an <img> of /next would lease items) is refused.
  assert.equal((await me({ ...victim, "sec-fetch-site": "same-site" })).status, 403);
  assert.equal((await fetch(link)).status, 401, "a used code is refused");
  const store = new Store(db);
  const expired = store.tokens.createLoginCode(store.tokens.byName("alice")!.id, -1);
  store.close();
  assert.equal((await fetch(`${server.url}/login?code=${expired}`)).status, 401, "an expired code is refused");
});

test("5. CSRF from the same site: a cookie-authenticated change needs this origin and JSON", async () => {
  const cookie = await loginCookie(server.url, await linkFor("alice"));
  const served = await next(alice);
  assert.equal(
    (await fetch(`${server.url}/api/projects/main/next`, { headers: { cookie: cookie.cookie, "sec-fetch-site": "same-site" } })).status,
    403,
    "an <img> on another port cannot lease",
  );
  const body = JSON.stringify({ item: served.item!.id, label: "ant", lease: served.lease });
  const port = Number(new URL(server.url).port);
  const sibling = `http://127.0.0.1:${port === 65535 ? port - 1 : port + 1}`;
  const labelled = async () => (await exportedRow(served.item!.id)) !== undefined;
  assert.equal((await fromPage(cookie, sibling, "POST", "/api/projects/main/labels", body, "text/plain")).status, 403, "another port's form post");
  assert.equal((await fromPage(cookie, sibling, "POST", "/api/projects/main/labels", body)).status, 403);
  assert.equal((await fromPage(cookie, undefined, "POST", "/api/projects/main/labels", body)).status, 403, "no Origin and no Sec-Fetch-Site");
  assert.equal((await fromPage(cookie, "null", "POST", "/api/projects/main/labels", body)).status, 403, "a sandboxed page's null origin");
  assert.equal(
    (await fromPage(cookie, server.url, "POST", "/api/projects/main/labels", body, "text/plain")).status,
    415,
    "JSON endpoints take only application/json",
  );
  assert.equal((await fromPage(cookie, server.url, "DELETE", "/api/tokens/bob", "")).status, 403, "not an admin anyway");
  assert.equal(await labelled(), false, "nothing was written");
  assert.equal((await fromPage(cookie, server.url, "POST", "/api/projects/main/labels", body)).status, 200, "from this origin it works");
  assert.equal(await labelled(), true);
});

test("6. media are contained by real path: a symlink out of the folder, or a path column leaving its root, is refused", async () => {
  const get = (item: string, project = "pics") => api(alice).get(`/api/projects/${project}/items/${item}/media`);
  assert.equal((await get("item-0")).status, 200);
  assert.equal((await get("item-200")).status, 404, "link.png -> /etc/passwd");
  assert.equal((await get("item-206")).status, 404, "a symlink to an image outside the folder");
  // A media column's paths: absolute and ../ are refused when the project is created.
  const table = (rows: string[]) => {
    const file = join(dir, `paths-${rows.length}-${rows[0].length}.csv`);
    writeFileSync(file, "id,path,f0,f1\n" + rows.map((r, i) => `p${i},${r},${i % 2},${i % 3}`).join("\n") + "\n");
    return file;
  };
  const store = new Store(db);
  try {
    await assert.rejects(
      createProject(store, { name: "abs", pool: table(["media/item-0.png", "/etc/passwd"]), classes: CLASSES, mediaColumn: "path" }),
      /item 2\): the media path "\/etc\/passwd" must be relative/,
    );
    await assert.rejects(
      createProject(store, { name: "up", pool: table(["media/item-0.png", "media/../../x.png"]), classes: CLASSES, mediaColumn: "path" }),
      /must not use "\.\."/,
    );
    const notes: string[] = [];
    await createProject(store, {
      name: "paths",
      pool: table(["media/item-0.png", "media/item-200.png", "media/item-1.png"]),
      classes: CLASSES,
      mediaColumn: "path",
      onNote: (l) => notes.push(l),
    });
    assert.ok(
      notes.some((n) => /1 of 3 items have no file/.test(n)),
      notes.join("; "),
    );
  } finally {
    store.close();
  }
  assert.equal((await get("p0", "paths")).status, 200);
  assert.equal((await get("p1", "paths")).status, 404, "inside the root by name, outside by real path");
});

test("7. the database is never read through the media path (by symlink or hard link), and only images and text are served", async () => {
  assert.equal((await api(alice).get("/api/projects/pics/items/item-201/media")).status, 404, "a symlink to the database");
  assert.equal((await api(alice).get("/api/projects/pics/items/item-202/media")).status, 404, "a hard link to the database");
  assert.equal((await api(alice).get("/api/projects/pics/items/item-205/media")).status, 404, "a .png that holds no image");
  // The refusal is by identity, before any open: a valid PNG with the database's identity is refused too.
  const decoy = join(dir, "decoy.png");
  writeFileSync(decoy, png);
  const s = statSync(decoy);
  assert.equal(await readMedia(decoy, new Set([`${s.dev}:${s.ino}`])), undefined);
  assert.ok((await readMedia(decoy, databaseFiles(db)))?.type === "image/png");
  assert.ok(databaseFiles(db).size >= 2, "the database and its WAL are known by identity");
  // The race: a hard link to the database renamed over an image between the server's check and
  // its open. The server reads media in another process, so its own lock on the database holds.
  const ino = statSync(db).ino;
  const locked = () =>
    readFileSync("/proc/locks", "utf8")
      .split("\n")
      .some((l) => l.includes(` ${process.pid} `) && l.includes(`:${ino} `));
  assert.ok(locked(), "the server holds its SQLite lock on the database");
  const target = join(media, "item-150.png");
  for (let i = 0; i < 100; i++) {
    const swap = join(media, `swap-${i}`);
    if (i % 2 === 0) await link(db, swap);
    else await writeFile(swap, png);
    await Promise.all([
      rename(swap, target),
      api(alice).get("/api/projects/pics/items/item-150/media"),
      api(alice).get("/api/projects/pics/items/item-150/media"),
    ]);
  }
  await writeFile(target, png);
  assert.ok(locked(), "and still holds it after 200 raced reads");
  // Labels still commit and survive a reopen.
  const served = await next(alice, "pics");
  assert.equal((await label(alice, served, truth.get(served.item!.id)!, "pics")).status, 200);
  const check = new Store(db, { readonly: true });
  try {
    assert.ok(check.exportLabels(check.project("pics")!.id).some((l) => l.id === served.item!.id));
  } finally {
    check.close();
  }
});

test("8. SVG is sent sandboxed as an attachment; every answer carries nosniff, and pages a CSP, frame-ancestors 'none' and no referrer", async () => {
  const svg = await fetch(`${server.url}/api/projects/pics/items/item-203/media`, { headers: { authorization: `Bearer ${alice}` } });
  assert.equal(svg.status, 200);
  assert.equal(svg.headers.get("content-type"), "image/svg+xml");
  assert.equal(svg.headers.get("content-disposition"), "attachment");
  assert.match(svg.headers.get("content-security-policy") ?? "", /sandbox/);
  assert.match(svg.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  assert.equal(svg.headers.get("x-content-type-options"), "nosniff");
  const page = await fetch(`${server.url}/`);
  assert.match(page.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
  assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
  assert.equal(page.headers.get("referrer-policy"), "no-referrer");
  assert.equal(page.headers.get("x-content-type-options"), "nosniff");
  const text = await fetch(`${server.url}/api/projects/pics/items/item-204/media`, { headers: { authorization: `Bearer ${alice}` } });
  assert.equal(text.status, 404, "a text item is shown as text on the page, not served as a file");
});

test("9. projects over the API read only inside the data root, never echo a file, and are no oracle for files outside", async () => {
  const create = (body: Record<string, unknown>) => api(admin).post("/api/projects", { name: "probe", classes: CLASSES, ...body });
  const shadow = await create({ pool: "/etc/shadow" });
  const passwd = await create({ pool: "/etc/passwd" });
  const missing = await create({ pool: "/no/such/file.csv" });
  for (const reply of [shadow, passwd, missing]) {
    assert.equal(reply.status, 400);
    assert.doesNotMatch(JSON.stringify(reply.body), /root:/);
  }
  assert.equal(
    String(passwd.body.error).replace("/etc/passwd", "X"),
    String(missing.body.error).replace("/no/such/file.csv", "X"),
    "the same answer whether the file exists or not",
  );
  symlinkSync("/etc", join(dir, "etc-link"));
  assert.match(String((await create({ pool: "etc-link/passwd" })).body.error), /inside the server's data root/, "a symlink out of the root");
  assert.match(String((await create({ pool: "pool.npy", media: "/" })).body.error), /inside the server's data root|root of the file system/);
  assert.equal((await create({ pool: "pool.npy", leaseSeconds: 1e9 })).status, 400, "a lease has an upper bound");
  // A manifest of images may name any file: over the API a pool is numbers only.
  writeFileSync(join(dir, "manifest.csv"), "path,label\n/etc/passwd,ant\n/etc/shadow,bee\n");
  const manifest = await create({ pool: "manifest.csv" });
  assert.equal(manifest.status, 400);
  assert.match(String(manifest.body.error), /a pool is a file of numbers/);
  assert.equal((await create({ pool: "media" })).status, 400, "nor a folder of images");
  // Not the server's own database (read in the server's process, it would drop SQLite's locks), and no file's contents in an error.
  assert.match(String((await create({ pool: "serve.db" })).body.error), /names the server's own database/);
  writeFileSync(join(dir, "secrets.csv"), "user,password\ndb_user,hunter2\n");
  const echo = await create({ pool: "pool.npy", labeled: "secrets.csv" });
  assert.equal(echo.status, 400);
  assert.match(String(echo.body.error), /expected a header with an "id" and a "label" column, found "…", "…"/);
  assert.doesNotMatch(JSON.stringify(echo.body), /hunter2|db_user|password/);
  // A strategy's parameter is checked at the edge, and the answer names the field at fault.
  const badCap = await create({ pool: "pool.npy", strategy: "alfamix", strategyParams: { cap: 2 } });
  assert.deepEqual([badCap.status, badCap.body.field], [400, "strategyParams.cap"]);
  assert.match(String(badCap.body.error), /^alfamix: cap expects a number in \(0, 1\], got 2$/);
  const inEntry = await create({ pool: "pool.npy", strategy: "alfamix[select=best]" });
  assert.deepEqual([inEntry.status, inEntry.body.field], [400, "strategy"]);
  const unknown = await create({ pool: "pool.npy", strategyParams: { colour: "red" } });
  assert.deepEqual([unknown.status, unknown.body.field], [400, "strategyParams.colour"]);
  assert.match(String(unknown.body.error), /unknown setting "colour"; known: alpha, cap/);
  assert.equal((await create({ pool: "pool.npy", batch: 0 })).body.field, "batch");
  assert.equal((await create({ pool: "pool.npy", labeled: "labeled.csv" })).status, 201, "a relative path inside the root works");
});

test("10. --text-column and --media-column projects import and show their items (text escaped by the page)", async () => {
  const file = join(dir, "texts.csv");
  const texts = ['a "quoted" review, with commas', "two\nlines", "<img src=x onerror=alert(1)>"];
  writeFileSync(
    file,
    "id,text,f0,f1\n" + Array.from({ length: 30 }, (_, i) => `t${i},"${texts[i % 3].replace(/"/g, '""')}",${i % 3},${(i * 7) % 5}`).join("\n") + "\n",
  );
  const store = new Store(db);
  try {
    const project = await createProject(store, { name: "texts", pool: file, classes: CLASSES, textColumn: "text", batch: 5 });
    assert.equal(project.dim, 2, "the text column is not a feature");
    assert.equal(store.item(project.id, 2).display, texts[2]);
  } finally {
    store.close();
  }
  await ready("texts");
  const served = await next(alice, "texts");
  assert.equal((served as unknown as { display: { kind: string; text: string } }).display.kind, "text");
  assert.ok(texts.includes((served as unknown as { display: { text: string } }).display.text));
  const pic = await next(alice, "pics");
  assert.equal((pic as unknown as { display: { kind: string } }).display.kind, "image");
});

test("11. no hoarding: an annotator holds at most --max-leases items; past that /next gives back what they hold", async () => {
  await ready("lease");
  const held = new Set<string>();
  for (let i = 0; i < 300; i++) held.add((await next(alice, "lease")).item!.id);
  assert.equal(held.size, 3);
  const others = await next(bob, "lease");
  assert.ok(others.item && !held.has(others.item.id), "the others still get items");
});

test("12. a 1 MB import and a project created over the API run off the event loop: the server answers meanwhile", async () => {
  const whileRunning = async (work: Promise<Response | unknown>) => {
    let answered = 0,
      done = false;
    const poll = (async () => {
      while (!done) {
        await fetch(`${server.url}/api/health`);
        if (!done) answered++;
      }
    })();
    await work;
    done = true;
    await poll;
    return answered;
  };
  // A pool big enough that its import takes a while: 120,000 × 64.
  const n = 120000,
    d = 64;
  const x = new Float32Array(n * d).map((_, i) => (i % 97) / 97);
  writeFileSync(join(dir, "big.npy"), encodeNpy(x, [n, d]));
  const created = api(admin).post("/api/projects", { name: "big", pool: "big.npy", classes: CLASSES });
  assert.ok((await whileRunning(created)) >= 3, "health answered while the project was created");
  assert.equal((await created).status, 201);
  let csv = "id,label\n";
  for (let i = 0; csv.length < 1_000_000; i++) csv += `${i},${CLASSES[i % 3]}\n`;
  const imported = api(admin).raw("/api/projects/big/import?format=csv", csv, "text/csv");
  assert.ok((await whileRunning(imported)) >= 1, "health answered during the import");
  assert.equal((await imported).status, 200);
});

test("13. bad input is a 4xx with one line, never a 500 or a stack in the log", async () => {
  const expect = async (reply: Promise<Response>, status: number) => {
    const r = await reply;
    assert.equal(r.status, status, `${r.url}: ${await r.clone().text()}`);
    assert.ok(!(await r.text()).includes("\n    at "));
  };
  await expect(fetch(`${server.url}/api/projects/%zz/status`, { headers: { authorization: `Bearer ${alice}` } }), 400);
  await expect(fetch(`${server.url}/api/projects/main/status`, { headers: { cookie: "alfamix_session=%zz" } }), 400);
  await expect(fetch(`${server.url}/api/me`, { headers: { cookie: "other=%E0%A4%A" } }), 400);
  for (const body of ["null", "[]", '"text"', "17"]) {
    assert.equal((await api(alice).raw("/api/projects/main/labels", body)).status, 400, body);
  }
  const badStudio = [
    '{"not": "a list"}',
    "[null]",
    '[{"data": {"item": "item-5"}, "annotations": 5}]',
    '[{"data": 1}]',
    '[{"data": {"item": {}}}]',
    '[{"data": {"item": "item-5"}, "annotations": [{"result": [{"value": {"choices": [7]}}]}]}]',
  ];
  for (const body of badStudio) {
    const r = await api(admin).raw("/api/projects/main/import?format=labelstudio", body);
    assert.ok(r.status === 400 || (r.status === 200 && (r.body as { imported: number }).imported === 0), `${body}: ${r.status}`);
  }
  assert.equal((await api(alice).post("/api/projects/main/labels", { item: 5, label: "ant", lease: "x" })).status, 400);
  assert.deepEqual(logged, [], "nothing was logged as a server error");
});

test("14. a CSV import row with missing fields is an error naming its line, never the previous row's values", async () => {
  const reply = await api(admin).raw("/api/projects/secret/import?format=csv", "id,label,annotator\nitem-10,bee,ext\nitem-11\n", "text/csv");
  assert.equal(reply.status, 400);
  assert.match(String(reply.body.error), /csv \(line 3\): expected 3 fields like the header, found 1/);
  assert.equal(await exportedRow("item-11", "secret"), undefined);
});

test("15. exports are safe to open in a spreadsheet, and import back to the same labels", async () => {
  const store = new Store(db);
  try {
    writeFileSync(
      join(dir, "formula.npy"),
      encodeNpy(
        new Float32Array(8).map((_, i) => i),
        [4, 2],
      ),
    );
    writeFileSync(join(dir, "formula.ids"), '=HYPERLINK("http://evil")\n+1\n-2\n@SUM(A1)\n');
    await createProject(store, { name: "formula", pool: join(dir, "formula.npy"), classes: CLASSES });
  } finally {
    store.close();
  }
  assert.equal(
    (
      await api(admin).raw(
        "/api/projects/formula/import?format=jsonl",
        ['=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)"].map((id) => JSON.stringify({ id, label: "ant" })).join("\n"),
      )
    ).status,
    200,
  );
  const csv = await exported("formula");
  for (const line of csv.trim().split("\n").slice(1)) assert.match(line, /^"?'[=+\-@]/, line);
  await api(admin).post("/api/projects", { name: "formula-copy", pool: "formula.npy", classes: CLASSES });
  assert.equal((await api(admin).raw("/api/projects/formula-copy/import?format=csv", csv, "text/csv")).status, 200);
  const ids = (await exported("formula-copy"))
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.replace(/,ant,.*$/, ""));
  assert.deepEqual(
    ids,
    csv
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.replace(/,ant,.*$/, "")),
    "the export of the import is the same",
  );
});

test("16. files and defaults: the database is 0600, scoped tokens cannot probe project names, Secure cookies behind HTTPS, and the Host is checked", async () => {
  assert.equal(statSync(db).mode & 0o777, 0o600);
  const exists = await api(secretOnly).get("/api/projects/main/status");
  const absent = await api(secretOnly).get("/api/projects/no-such-project/status");
  assert.equal(exists.status, 404);
  assert.deepEqual(String(exists.body.error).replace("main", "X"), String(absent.body.error).replace("no-such-project", "X"));
  assert.equal((await rawRequest(server.url, "GET", "/api/health", { host: "evil.example" })).status, 400, "a DNS-rebinding page's Host");
  assert.equal((await rawRequest(server.url, "GET", "/api/health", { host: new URL(server.url).host })).status, 200);
  const proxied = await LabelServer.start({ db, port: 0, log: () => undefined, trustProxy: true, publicUrl: "https://label.example.org" });
  try {
    const link = (await client(proxied.url, admin).post<{ login: string }>("/api/tokens/alice/link")).body.login;
    assert.ok(link.startsWith("https://label.example.org/login?code="), link);
    const login = await rawRequest(
      proxied.url,
      "POST",
      "/login",
      { host: "label.example.org", "x-forwarded-proto": "https", origin: "https://label.example.org", "content-type": "application/x-www-form-urlencoded" },
      `code=${code(link)}`,
    );
    assert.equal(login.status, 303);
    assert.match(String(login.headers["set-cookie"]), /; Secure/);
    const plain = await rawRequest(
      proxied.url,
      "POST",
      "/login",
      { host: "label.example.org", origin: "http://label.example.org", "content-type": "application/x-www-form-urlencoded" },
      `code=${await linkFor("alice")}`,
    );
    assert.doesNotMatch(String(plain.headers["set-cookie"]), /; Secure/, "over plain HTTP the cookie is not Secure");
  } finally {
    await proxied.close();
  }
});

test("17. what an outside review found: scoped admins, absurd expiries, lookalike names, undo past --max-leases, quotes in exports, cut-off bodies", async () => {
  assert.equal(
    (await api(admin).post("/api/tokens", { name: "scoped-admin", role: "admin", project: "main" })).status,
    400,
    "an admin token is for every project",
  );
  const absurd = await api(admin).post("/api/tokens", { name: "forever", role: "annotator", expires: "99999999999999w" });
  assert.equal(absurd.status, 400);
  assert.ok(!(await api(admin).get<{ name: string }[]>("/api/tokens")).body.some((t) => t.name === "forever"), "nothing was written");
  assert.equal((await api(admin).post("/api/tokens", { name: "ALICE", role: "annotator" })).status, 409, "a name differing only in case");
  assert.equal((await api(admin).post("/api/tokens", { name: "alice ", role: "annotator" })).status, 400, "a trailing space");
  // Undo gives the item back within the limit: the lease served longest ago goes back to the queue.
  const held = async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await next(bob, "lease")).item!.id);
    return ids.size;
  };
  for (let i = 0; i < 4; i++) {
    const served = await next(bob, "lease");
    assert.equal((await label(bob, served, "ant", "lease")).status, 200);
    assert.equal((await api(bob).delete(`/api/projects/lease/labels/${served.item!.id}`)).status, 200);
  }
  assert.ok((await held()) <= 3, "still at most --max-leases");
  // An import over an item someone holds ends that lease: it is not served to them again (with
  // --max-leases held, it would be served forever and refused forever).
  const heldItem = await next(bob, "lease");
  assert.equal((await api(admin).raw("/api/projects/lease/import?format=csv", `id,label\n${heldItem.item!.id},bee\n`, "text/csv")).status, 200);
  for (let i = 0; i < 5; i++) assert.notEqual((await next(bob, "lease")).item!.id, heldItem.item!.id);
  const { csvCell, uncsvCell } = await import("../src/serve/exchange.js");
  for (const id of ["=A", "'=A", "''+1", "plain", "'quoted"]) assert.equal(uncsvCell(csvCell(id).replace(/^"(.*)"$/, "$1")), id, id);
  // A client that sends half a body and hangs up is not a server error.
  await new Promise<void>((resolve) => {
    const request = httpRequest(`${server.url}/api/projects/main/labels`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice}`, "content-type": "application/json", "content-length": 1000 },
    });
    request.on("error", () => resolve());
    request.write('{"item": "item-1"');
    setTimeout(() => {
      request.destroy();
      setTimeout(resolve, 100);
    }, 100);
  });
  assert.deepEqual(logged, [], "nothing logged");
});
