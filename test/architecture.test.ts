import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const script = new URL("../../scripts/floors.mjs", import.meta.url).pathname;

test("src/ has no import circles and no import from a lower floor to a higher one", () => {
  const run = spawnSync(process.execPath, [script], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /import circles in src\/: 0; upward imports: 0/);
});

test("the public API is the curated list, and the README's and docs' imports from it exist", async () => {
  const api = await import("../src/index.js");
  const names = Object.keys(api).sort();
  assert.ok(names.length <= 40, `${names.length} runtime names in src/index.ts: ${names.join(", ")}`);
  const internals = await import("../src/internals.js");
  for (const name of names) assert.ok(name in internals, `${name} is in alfamix/internals too`);
  const root = new URL("../../", import.meta.url);
  for (const doc of ["README.md", "docs/guide/query.md", "docs/guide/strategies.md"]) {
    const text = readFileSync(new URL(doc, root), "utf8");
    for (const m of text.matchAll(/import \{([^}]*)\} from "alfamix"/g)) {
      for (const name of m[1]
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean))
        assert.ok(name in api, `${doc} imports ${name} from "alfamix"`);
    }
  }
});

test("the code is formatted and passes the linter (biome ci: npx biome format --write fixes the format)", () => {
  const biome = new URL("../../node_modules/@biomejs/biome/bin/biome", import.meta.url).pathname;
  const run = spawnSync(process.execPath, [biome, "ci", "--colors=off", "."], { encoding: "utf8", cwd: new URL("../../", import.meta.url).pathname });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`.split("\n").slice(0, 60).join("\n"));
});
