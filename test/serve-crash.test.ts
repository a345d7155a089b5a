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
  const child = spawn(process.execPath, [bin, "serve", "--db", db, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_NO_WARNINGS: "1" } });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /^url: (\S+)/.exec(line);
      if (m) resolve({ child, url: m[1] });
    });
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before printing its url`)));
  });
}

test("kill -9 at 20 random moments while labels pour in: every acknowledged label survives", async () => {
  const dir = tempDir();
  const db = join(dir, "crash.db");
  const { pool, labeled, truth } = writePool(dir, 3000, 5);
  const store = new Store(db);
  await createProject(store, { name: "crash", pool, labeled, batch: 20, retrainEvery: 10, randomShare: 0.1, seed: 3 });
  const token = newToken(store, "fast", "annotator", null);
  store.close();

  const rng = new Rng(20);
  const acknowledged = new Map<string, string>();
  let refusedAfterRestart = 0;
  for (let round = 0; round < 20; round++) {
    const { child, url } = await startServer(db);
    const api = client(url, token);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    let killed = false;
    // Label at full speed until the process dies under us.
    const labeller = (async () => {
      while (!killed) {
        try {
          const served = (await api.get<Served>("/api/projects/crash/next")).body;
          if (!served.item) continue;
          const value = truth.get(served.item.id)!;
          const reply = await api.post("/api/projects/crash/labels", { item: served.item.id, label: value, lease: served.lease });
          if (reply.status === 200) acknowledged.set(served.item.id, value);
          else refusedAfterRestart++;
        } catch {
          // the connection died with the server: that label was not acknowledged
        }
      }
    })();
    // Once this server has acknowledged a label (so every round counts, however slow the machine),
    // kill it at a random moment of the next few hundred milliseconds.
    const before = acknowledged.size;
    const deadline = Date.now() + 30000;
    while (acknowledged.size === before) {
      assert.ok(Date.now() < deadline, `round ${round}: no label acknowledged in 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, rng.int(300)));
    child.kill("SIGKILL");
    await exited;
    killed = true;
    await labeller;
  }
  assert.ok(acknowledged.size >= 20, `labels acknowledged across the crashes: ${acknowledged.size}`);

  const { child, url } = await startServer(db);
  try {
    const exported = (await client(url, token).get<string>("/api/projects/crash/export?format=csv")).body;
    const labels = new Map(exported.trim().split("\n").slice(1).map((line) => line.split(",").slice(0, 2) as [string, string]));
    for (const [id, value] of acknowledged) assert.equal(labels.get(id), value, `acknowledged label of ${id} is in the export`);
    assert.equal(refusedAfterRestart, 0, "no label was refused");
  } finally {
    child.kill("SIGKILL");
  }
});
