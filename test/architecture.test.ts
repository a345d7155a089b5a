import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

const script = new URL("../../scripts/floors.mjs", import.meta.url).pathname;

test("src/ has no import circles and no import from a lower floor to a higher one", () => {
  const run = spawnSync(process.execPath, [script], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /import circles in src\/: 0; upward imports: 0/);
});
