import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Rng } from "../src/random.js";
import { createProject } from "../src/serve/projects.js";
import { Store } from "../src/serve/store/store.js";
import { client, newToken, type Served, writePool } from "./serve-helpers.js";
import { tempDir } from "./helpers.js";

const bin = new URL("../../bin/alfamix.js", import.meta.url).pathname;

/** A server in its own process; resolves once it prints its url. */
function startServer(db: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [bin, "serve", "--db", db, "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /^url: (\S+)/.exec(line);
      if (m) resolve({ child, url: m[1] });
    });
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before printing its url`)));
  });
}

test("kill -9 at 20 random moments while labels, second looks, reviews and imports pour in: every acknowledged change survives", async () => {
  const dir = tempDir();
  const db = join(dir, "crash.db");
  const { pool, labeled, truth } = writePool(dir, 3000, 5);
  const store = new Store(db);
  await createProject(store, { name: "crash", pool, labeled, batch: 20, retrainEvery: 10, randomShare: 0.1, seed: 3, overlap: 0.3 });
  const tokens = {
    fast: newToken(store, "fast"),
    second: newToken(store, "second"),
    rita: newToken(store, "rita", "reviewer"),
    root: newToken(store, "root", "admin"),
  };
  store.close();

  const rng = new Rng(20);
  // Every change is to the item's true label (or, on a second look, sometimes not, which opens a
  // review that is resolved to the true label), so whatever order they land in, each acknowledged
  // item must end up with its true label.
  const acknowledged = new Map<string, string>();
  const resolved = new Set<string>();
  let refused = 0,
    importBatch = 0;
  const other = (value: string) => ["ant", "bee", "cat"].find((c) => c !== value)!;
  const imported = (id: string) => Number(id.slice(5)) >= 2400;
  for (let round = 0; round < 20; round++) {
    const { child, url } = await startServer(db);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    let killed = false;
    const loop = (work: () => Promise<void>) =>
      (async () => {
        while (!killed) {
          try {
            await work();
          } catch {
            // the connection died with the server: that change was not acknowledged
          }
        }
      })();
    const labeller = (token: string, wrongOnChecks: boolean) =>
      loop(async () => {
        const api = client(url, token);
        const served = (await api.get<Served>("/api/projects/crash/next")).body;
        if (!served.item) return;
        const value = truth.get(served.item.id)!;
        const reply = await api.post("/api/projects/crash/labels", {
          item: served.item.id,
          label: served.kind === "check" && wrongOnChecks ? other(value) : value,
          lease: served.lease,
        });
        if (reply.status === 200 && served.kind === "label") acknowledged.set(served.item.id, value);
        // An import may overwrite an item someone holds: that refusal is right.
        else if (reply.status !== 200 && !(reply.status === 409 && imported(served.item.id))) refused++;
      });
    const reviewer = loop(async () => {
      const api = client(url, tokens.rita);
      const open = (await api.get<{ item: string }[]>("/api/projects/crash/reviews")).body;
      for (const r of open.slice(0, 3)) {
        if ((await api.post("/api/projects/crash/reviews", { item: r.item, label: truth.get(r.item)! })).status === 200) {
          acknowledged.set(r.item, truth.get(r.item)!);
          resolved.add(r.item);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    const importer = loop(async () => {
      // Ten items from the far end of the pool, by the admin, a batch at a time.
      const ids = Array.from({ length: 10 }, (_, i) => `item-${2999 - ((importBatch * 10 + i) % 600)}`);
      const reply = await client(url, tokens.root).raw(
        "/api/projects/crash/import?format=csv",
        "id,label\n" + ids.map((id) => `${id},${truth.get(id)}`).join("\n"),
        "text/csv",
      );
      if (reply.status === 200) {
        for (const id of ids) acknowledged.set(id, truth.get(id)!);
        importBatch++;
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
    });
    const workers = [labeller(tokens.fast, false), labeller(tokens.second, true), reviewer, importer];
    // Once this server has acknowledged a change (so every round counts, however slow the
    // machine), kill it at a random moment of the next few hundred milliseconds.
    const before = acknowledged.size;
    const deadline = Date.now() + 30000;
    try {
      while (acknowledged.size === before) {
        assert.ok(Date.now() < deadline, `round ${round}: nothing acknowledged in 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setTimeout(resolve, rng.int(300)));
    } finally {
      // Also when the round fails: a server left running would keep the test run alive.
      child.kill("SIGKILL");
      await exited;
      killed = true;
      await Promise.all(workers);
    }
  }
  assert.ok(acknowledged.size >= 20, `changes acknowledged across the crashes: ${acknowledged.size}`);
  assert.ok(importBatch >= 1, "imports were in flight");

  const { child, url } = await startServer(db);
  try {
    const exported = (await client(url, tokens.root).get<string>("/api/projects/crash/export?format=csv")).body;
    const labels = new Map(
      exported
        .trim()
        .split("\n")
        .slice(1)
        .map((line) => line.split(",").slice(0, 2) as [string, string]),
    );
    for (const [id, value] of acknowledged) assert.equal(labels.get(id), value, `acknowledged label of ${id} is in the export`);
    const stillOpen = new Set((await client(url, tokens.rita).get<{ item: string }[]>("/api/projects/crash/reviews")).body.map((r) => r.item));
    for (const id of resolved) assert.ok(!stillOpen.has(id), `the acknowledged review of ${id} stays resolved`);
    assert.equal(refused, 0, "no change was refused");
  } finally {
    child.kill("SIGKILL");
  }
});
