import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { estimateGain } from "../src/eval/stopping.js";
import { createProject } from "../src/serve/projects.js";
import { LabelServer } from "../src/serve/server.js";
import type { StopSignal } from "../src/serve/stopping-watch.js";
import { Store } from "../src/serve/store/store.js";
import { client, eventually, newToken, writePool, type Served } from "./serve-helpers.js";
import { tempDir } from "./helpers.js";

test("the estimate-gain criterion by hand: Newcombe's interval from two Wilson intervals, one-sided at 95%", () => {
  const run = (correct: number, n = 100) => ({ n, correct });
  assert.deepEqual(estimateGain([run(80), run(80), run(80), run(80), run(80)]), { stop: false, gain: null, upper: null, n: 500 });
  // 240/300 then 243/300: +1 point, at most +6.32 (worked out apart): more labels may still pay.
  const rising = estimateGain([run(80), run(80), run(80), run(81), run(81), run(81)]);
  assert.ok(Math.abs(rising.gain! - 0.01) < 1e-12);
  assert.ok(Math.abs(rising.upper! - 0.06322636682544336) < 1e-12);
  assert.equal(rising.stop, false);
  // 2,400/3,000 then 2,340/3,000: −2 points, at most −0.27: confidently below +3, stop.
  const flat = estimateGain([run(800, 1000), run(800, 1000), run(800, 1000), run(780, 1000), run(780, 1000), run(780, 1000)]);
  assert.ok(Math.abs(flat.upper! - -0.0026989212816730043) < 1e-12);
  assert.equal(flat.stop, true);
});

test("serve: the project's status says which stopping criteria fire and why, and a restart replays them the same", async () => {
  const dir = tempDir();
  const db = join(dir, "serve.db");
  const { pool, labeled, truth } = writePool(dir, 400, 4);
  const store = new Store(db);
  await createProject(store, { name: "stop", pool, labeled, batch: 20, retrainEvery: 10, randomShare: 0.3, seed: 5 });
  const annotator = newToken(store, "ann", "annotator", null);
  store.close();
  let server = await LabelServer.start({ db, port: 0, log: () => undefined });
  after(() => server.close());
  const status = () =>
    client(server.url, annotator)
      .get<{ modelVersion: number | null; retraining: boolean; stopping: StopSignal[] }>("/api/projects/stop/status")
      .then((r) => r.body);
  await eventually("the first model", status, (s) => s.modelVersion !== null && !s.retraining);
  for (let i = 0; i < 80; i++) {
    const served = (await client(server.url, annotator).get<Served>("/api/projects/stop/next")).body;
    const reply = await client(server.url, annotator).post("/api/projects/stop/labels", {
      item: served.item!.id,
      label: truth.get(served.item!.id)!,
      lease: served.lease,
    });
    assert.equal(reply.status, 200);
  }
  const settled = await eventually("retrains", status, (s) => s.modelVersion! >= 5 && !s.retraining);
  assert.deepEqual(
    settled.stopping.map((s) => s.name),
    ["kappa-average", "classification-change", "overall-uncertainty", "estimate-gain"],
  );
  const byName = Object.fromEntries(settled.stopping.map((s) => [s.name, s]));
  assert.match(byName["kappa-average"].why, /mean Cohen's κ between the last 3 models' predictions: [01]\.\d{3}/);
  assert.match(byName["classification-change"].why, /\d+ of 400 sampled items changed class with the last model/);
  assert.match(byName["overall-uncertainty"].why, /mean normalised entropy 0\.\d{3}/);
  assert.match(byName["estimate-gain"].why, /estimate/);
  for (const s of settled.stopping) {
    assert.equal(typeof s.stop, "boolean");
    if (s.stop) assert.ok(s.firstStop && s.firstStop.labels > 0, `${s.name} says when it first fired`);
  }
  await server.close();
  server = await LabelServer.start({ db, port: 0, log: () => undefined });
  const again = await eventually("the reopened project", status, (s) => s.modelVersion === settled.modelVersion && !s.retraining);
  assert.deepEqual(again.stopping, settled.stopping, "the stored models replayed give the same signals");
});
