import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cliReference, strategiesReference } from "../src/cli/reference.js";
import { tempDir } from "./helpers.js";

const page = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");

test("the generated reference pages are up to date (npm run docs rewrites them)", () => {
  assert.equal(page("docs/reference/cli.md"), cliReference(), "docs/reference/cli.md is stale: run npm run docs");
  assert.equal(page("docs/reference/strategies.md"), strategiesReference(), "docs/reference/strategies.md is stale: run npm run docs");
});

test("the README's query recipe runs from the clone, prints what the README shows, and its library example gives the same CSV", async () => {
  const readme = page("README.md");
  const command = /^npx alfamix (query --pool data\/example\/pool\.csv [^\n]*)$/m.exec(readme)![1];
  const dir = tempDir();
  const args = command.split(" ").map((a) => (a === "next.csv" ? join(dir, "next.csv") : a));
  const root = new URL("../../", import.meta.url).pathname;
  const run = spawnSync(process.execPath, [join(root, "bin/alfamix.js"), ...args], { cwd: root, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const csv = readFileSync(join(dir, "next.csv"), "utf8");
  const shown = /```\n(id,rank,score,predicted_label,confidence\n(?:vehicle-[^\n]*\n)+)…\n```/.exec(readme)![1];
  assert.ok(csv.startsWith(shown), `the README shows the first rows:\n${shown}\ngot:\n${csv}`);
  // The library example, with its import pointed at this checkout.
  const example = /```js\n(import \{[^}]*\} from "alfamix";[\s\S]*?)```/.exec(readme)![1].replace('"alfamix"', JSON.stringify(join(root, "dist/src/index.js")));
  const code = spawnSync(process.execPath, ["--input-type=module", "-e", example], { cwd: root, encoding: "utf8" });
  assert.equal(code.status, 0, code.stderr);
  assert.ok(code.stdout.endsWith(csv), "the library writes the CLI's CSV");
});

test("every relative link in the README and docs/ points at a file that exists", () => {
  const root = new URL("../../", import.meta.url).pathname;
  const pages = [
    "README.md",
    ...readdirSync(join(root, "docs"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".md"))
      .map((f) => join("docs", f)),
  ];
  const broken: string[] = [];
  for (const file of pages) {
    for (const m of page(file).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (!/^https?:/.test(m[1]) && !existsSync(join(root, dirname(file), m[1]))) broken.push(`${file}: ${m[1]}`);
    }
  }
  assert.deepEqual(broken, []);
});
