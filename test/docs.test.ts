import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { cliReference, strategiesReference } from "../src/cli/reference.js";

const page = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");

test("the generated reference pages are up to date (npm run docs rewrites them)", () => {
  assert.equal(page("docs/reference/cli.md"), cliReference(), "docs/reference/cli.md is stale: run npm run docs");
  assert.equal(page("docs/reference/strategies.md"), strategiesReference(), "docs/reference/strategies.md is stale: run npm run docs");
});
