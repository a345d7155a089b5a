// Writes the reference pages generated from the code (src/cli/reference.ts); run after a build.
import { writeFileSync } from "node:fs";
import { cliReference, strategiesReference } from "../dist/src/cli/reference.js";

for (const [file, text] of [
  ["docs/reference/cli.md", cliReference()],
  ["docs/reference/strategies.md", strategiesReference()],
]) {
  writeFileSync(new URL(`../${file}`, import.meta.url), text);
  console.log(`wrote ${file}`);
}
