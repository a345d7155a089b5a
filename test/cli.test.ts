import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { encodeOnnxModel } from "../src/embed/onnx-writer.js";
import { Rng } from "../src/random.js";
import { cli, cliWith, encodePng, pickedIds, tempDir, userError } from "./helpers.js";

test("help, version and the command list", () => {
  const help = cli("--help");
  assert.equal(help.status, 0);
  for (const command of ["demo", "datasets", "inspect", "simulate", "report", "bench"]) assert.match(help.stdout, new RegExp(`\\n  ${command} `));
  assert.equal(cli().status, 2);
  assert.match(cli("simulate", "--help").stdout, /--alfamix-select kmeans\|norm\|symkl\|uniform/);
  userError(cli("frobnicate"), /^alfamix: unknown command "frobnicate"; expected one of/);
  userError(cli("inspect", "--bogus", "x"), /^alfamix: inspect: unknown option '--bogus'/);
  userError(cli("inspect"), /^alfamix: inspect: expected 1 argument, found 0/);
  assert.equal(cli("help", "query").stdout, cli("query", "--help").stdout);
  assert.match(cli("help", "query").stdout, /^usage: alfamix query/);
  assert.match(cli("query", "--help").stdout, /--coregcn-epochs N\s+coregcn: Adam epochs of the GCN \(the paper.s code: 200\) \(default 100\)/);
});

test("datasets and inspect", () => {
  assert.match(cli("datasets").stdout, /^name\s+description\nmnist\s+MNIST/);
  const mnist = cli("inspect", "mnist");
  assert.equal(mnist.status, 0);
  assert.match(mnist.stdout, /mnist \(train\): 60000 rows, 784 features \(28×28 images\), 10 classes/);
  assert.match(mnist.stdout, /mnist \(test\): 10000 rows, 784 features/);
  const vowel = cli("inspect", "vowel");
  assert.match(vowel.stdout, /vowel: 990 rows, 10 features, 11 classes/);
  const file = cli("inspect", new URL("../../data/vehicle.csv.gz", import.meta.url).pathname);
  assert.match(file.stdout, /vehicle\.csv\.gz: 846 rows, 18 features, 4 classes\n[\s\S]*\nbus\s+218/);
  assert.match(cli("datasets").stdout, /\noptdigits\s+UCI optical digits/);
});

test("bad input ends in one line naming the file and where, with exit status 2", () => {
  const dir = tempDir();
  const broken = join(dir, "broken.csv");
  writeFileSync(broken, "a,b,label\n1,2,x\n3,4\n");
  userError(cli("inspect", broken), /broken\.csv \(line 3\): expected 3 fields like the header, found 2$/);
  writeFileSync(join(dir, "bad.csv"), "a,b,label\n1,two,x\n");
  userError(cli("inspect", join(dir, "bad.csv")), /bad\.csv \(line 2, column "b"\): expected a finite number, found "two"$/);
  userError(cli("inspect", join(dir, "absent.csv")), /absent\.csv: no such file$/);
  userError(cli("simulate", "--dataset", "mnist", "--rounds", "ten"), /simulate: --rounds expects an integer ≥ 0, got "ten"/);
  userError(cli("query", "--pool", "x.csv", "--labeled", "y.csv", "--budget", "-3"), /query: --budget expects an integer ≥ 1, got "-3"$/);
  userError(cli("simulate", "--dataset", "vowel", "--alfamix-cap", "-0.5"), /simulate: --alfamix-cap expects a number in \(0, 1\], got "-0.5"$/);
  userError(cli("simulate", "--dataset", "vowel", "--strategies", "alfamix[cap=0]"), /strategy "alfamix\[cap=0\]": cap expects a number in \(0, 1\], got "0"$/);
  userError(cli("simulate"), /simulate: --dataset is required/);
  userError(cli("simulate", "--dataset", "mnist", "--strategies", "random,psychic"), /unknown strategy "psychic"; known strategies: random, least-confidence/);
  userError(cli("report", dir), /no results\.jsonl with results/);
  userError(cli("project", "create", "--labelled", "x.csv"), /unknown option '--labelled'; did you mean --labeled\?/);
});

test("simulate then report, end to end on a small dataset", () => {
  const dir = tempDir();
  const out = join(dir, "vowel");
  const sim = cli(
    "simulate",
    "--dataset",
    "vowel",
    "--hidden",
    "32",
    "--strategies",
    "random,margin,alfamix",
    "--seeds",
    "1,2,3",
    "--init",
    "22",
    "--query",
    "11",
    "--rounds",
    "2",
    "--epochs",
    "30",
    "--out",
    out,
  );
  assert.equal(sim.status, 0, sim.stderr);
  assert.match(sim.stderr, /simulate: done in/);
  const lines = readFileSync(join(out, "results.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 27);
  assert.deepEqual(Object.keys(lines[0]).slice(0, 9), [
    "strategy",
    "seed",
    "round",
    "labeled",
    "accuracy",
    "balancedAccuracy",
    "macroF1",
    "trainMs",
    "queryMs",
  ]);
  const report = cli("report", out, "--paper-compat");
  assert.equal(report.status, 0, report.stderr);
  assert.match(report.stdout, /strategy\s+final accuracy\s+AULC\s+beaten\s+query\/round/);
  assert.match(report.stdout, /ddof 0 \(--paper-compat\)/);
  for (const f of ["report.html", "summary.json", "penalty.csv", "curves.svg", "map.svg"]) assert.ok(existsSync(join(out, f)), f);
  const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
  assert.deepEqual(Object.keys(summary.strategies), ["random", "margin", "alfamix"]);
  assert.deepEqual(Object.keys(summary.strategies.alfamix), [
    "aulc",
    "final",
    "aulcInterval",
    "initialSlope",
    "finalBalancedAccuracy",
    "finalMacroF1",
    "meanQueryMs",
    "seeds",
  ]);
  assert.equal(summary.strategies.alfamix.seeds, 3);
  assert.deepEqual(summary.penalty.names, ["random", "margin", "alfamix"]);
  assert.equal(summary.penalty.ddof, 0);
  assert.ok(Math.abs(summary.penalty.tCritical - 4.3027) < 1e-3);
  const html = readFileSync(join(out, "report.html"), "utf8");
  assert.match(html, /<svg[^>]*aria-label="learning curves"/);
  assert.doesNotMatch(html, /Ablation of ALFA-Mix/, "no ablation ran: no ablation table");
  assert.match(
    html,
    /class="warn">Only 3 seeds in some comparisons: with so few, a good strategy can look both better and worse than random/,
    "under 5 seeds, a warning",
  );
  assert.match(html, /<h2>Where the picks fall<\/h2>/);
  assert.match(
    readFileSync(join(out, "map.svg"), "utf8"),
    /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*>random<\/text>[\s\S]*>margin<\/text>[\s\S]*>alfamix<\/text>/,
  );
  assert.doesNotMatch(html, /<script|https?:\/\//, "self-contained: no scripts, no external resources");
});

test("without OpenBLAS it still works, and says so once, before the work", () => {
  const dir = tempDir();
  const run = cliWith(
    { ALFAMIX_BLAS_LIB: join(dir, "missing", "libopenblas.so.0"), ALFAMIX_BLAS: "" },
    "simulate",
    "--dataset",
    "vehicle",
    "--hidden",
    "8",
    "--strategies",
    "random,alfamix",
    "--seeds",
    "1",
    "--init",
    "20",
    "--query",
    "10",
    "--rounds",
    "1",
    "--epochs",
    "5",
    "--out",
    join(dir, "out"),
  );
  assert.equal(run.status, 0, run.stderr);
  const warnings = run.stderr.split("\n").filter((l) => l.includes("OpenBLAS is unavailable"));
  assert.equal(warnings.length, 1);
  assert.match(run.stderr.split("\n")[0], /^alfamix: warning: OpenBLAS is unavailable .*apt-get install libopenblas0-pthread$/);
});

test("embed an image folder, then query and simulate on the embeddings without extra flags", () => {
  const dir = tempDir();
  const env = { ALFAMIX_CACHE_DIR: join(dir, "cache") };
  const rng = new Rng(3),
    images = join(dir, "photos");
  // 3 classes × 6 images of 8×8, each class a different dominant colour.
  for (const [k, name] of ["red", "green", "blue"].entries()) {
    mkdirSync(join(images, name), { recursive: true });
    for (let i = 0; i < 6; i++) {
      const pixels = Array.from({ length: 64 * 3 }, (_, j) => Math.min(255, Math.floor(rng.uniform() * 80 + (j % 3 === k ? 150 : 0))));
      writeFileSync(join(images, name, `${i}.png`), encodePng(8, 8, 3, pixels));
    }
  }
  // A 1×1 convolution 3 → 4 then global average pooling: a 4-d embedding per image.
  const model = join(dir, "tiny.onnx");
  writeFileSync(
    model,
    encodeOnnxModel({
      name: "tiny",
      inputs: [{ name: "x", shape: ["batch", 3, 8, 8] }],
      outputs: [{ name: "e", shape: ["batch", 4] }],
      nodes: [
        { op: "Conv", inputs: ["x", "W"], outputs: ["c"], attributes: { kernel_shape: [1, 1] } },
        { op: "GlobalAveragePool", inputs: ["c"], outputs: ["p"] },
        { op: "Flatten", inputs: ["p"], outputs: ["e"] },
      ],
      initializers: [{ name: "W", dims: [4, 3, 1, 1], data: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]) }],
    }),
  );
  const out = join(dir, "emb.npy");
  const embedded = cliWith(env, "embed", "--model", model, "--images", images, "--out", out);
  assert.equal(embedded.status, 0, embedded.stderr);
  assert.match(embedded.stderr, /embed: 18\/18 images · \d+ images\/s/);
  assert.match(embedded.stderr, /embedded 18 images as 4-d rows \(input 3×8×8, output "e", as is\)/);
  assert.equal(readFileSync(join(dir, "emb.ids"), "utf8").split("\n")[0], "blue/0");
  assert.equal(readFileSync(join(dir, "emb.labels"), "utf8").split("\n")[0], "blue");

  const inspect = cliWith(env, "inspect", images);
  assert.match(inspect.stdout, /image files: 18; sizes \(height×width\): 8×8 \(18\); 18 colour, 0 grey/);
  assert.match(inspect.stdout, /photos: 18 rows, 192 features \(RGB 8×8 images\), 3 classes/);

  writeFileSync(join(dir, "labeled.csv"), "id,label\nblue/0,blue\ngreen/0,green\nred/0,red\n");
  const query = cliWith(env, "query", "--pool", out, "--labeled", join(dir, "labeled.csv"), "--budget", "4", "--quiet");
  assert.equal(query.status, 0, query.stderr);
  const ids = pickedIds(query.stdout);
  assert.equal(ids.length, 4);
  for (const id of ids) assert.match(id, /^(red|green|blue)\/[1-5]$/);

  const runs = join(dir, "runs");
  const simulated = cliWith(
    env,
    "simulate",
    "--dataset",
    out,
    "--model",
    "linear",
    "--strategies",
    "random,entropy",
    "--seeds",
    "1",
    "--init",
    "3",
    "--query",
    "3",
    "--rounds",
    "2",
    "--test-fraction",
    "0.34",
    "--out",
    runs,
    "--quiet",
  );
  assert.equal(simulated.status, 0, simulated.stderr);
  assert.equal(readFileSync(join(runs, "results.jsonl"), "utf8").trim().split("\n").length, 6);

  userError(
    cliWith(env, "embed", "--model", join(dir, "labeled.csv"), "--images", images, "--out", join(dir, "x.npy")),
    /labeled\.csv: not a usable ONNX model/,
  );
  userError(
    cliWith(env, "embed", "--model", model, "--images", images, "--out", join(dir, "x.npy"), "--size", "16"),
    /takes 3×8×8 images, but --size 16x16 gives 3×16×16/,
  );
  userError(
    cliWith(env, "embed", "--model", model, "--images", join(dir, "nowhere"), "--out", join(dir, "x.npy")),
    /embed: --images .*nowhere: no such directory/,
  );
  userError(
    cliWith(env, "embed", "--model", model, "--out", join(dir, "x.npy")),
    /embed: --model, --out and one of --images DIR, --manifest FILE or --text FILE\|DIR are required/,
  );
  assert.ok(!existsSync(join(dir, "x.npy")));
});
