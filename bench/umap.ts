import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadFeatureDataset } from "../src/data/registry.js";
import { MAP_UMAP_EPOCHS } from "../src/eval/projection.js";
import { umap2d } from "../src/eval/umap.js";
import { matrix } from "../src/linalg/matrix.js";
import { Rng } from "../src/random.js";
import { emit } from "./timing.js";

const PYTHON = "/usr/bin/python3";

/**
 * The maps' UMAP (eval/umap.ts, as the maps run it) against umap-js as the maps ran it before (15
 * neighbours, min_dist 0.1, 200 epochs from a random start), on the first `n` MNIST training
 * images, same seed, in alternating pairs; the layouts' trustworthiness (k = 5 and 15) by scikit-learn when
 * /usr/bin/python3 has it. umap-js is a devDependency: this runs from a clone.
 */
export async function benchUmap(json: boolean, n: number, pairs: number, onProgress?: (line: string) => void): Promise<void> {
  const { UMAP } = createRequire(import.meta.url)("umap-js") as {
    UMAP: new (options: object) => { fit(data: number[][]): number[][] };
  };
  const dataset = await loadFeatureDataset("mnist");
  const d = dataset.train.x.cols;
  const x = matrix(n, d, dataset.train.x.data.slice(0, n * d));
  const rows = Array.from({ length: n }, (_, i) => Array.from(x.data.subarray(i * d, (i + 1) * d)));
  const ours: number[] = [],
    theirs: number[] = [];
  let oursLayout: Float32Array = new Float32Array(0),
    theirLayout: Float32Array = new Float32Array(0);
  for (let pair = 0; pair < pairs; pair++) {
    let start = performance.now();
    oursLayout = umap2d(x, { neighbours: 15, epochs: MAP_UMAP_EPOCHS, rng: new Rng(pair) });
    ours.push((performance.now() - start) / 1000);
    const rng = new Rng(pair);
    start = performance.now();
    const fitted = new UMAP({ nComponents: 2, nNeighbors: 15, minDist: 0.1, nEpochs: 200, random: () => rng.uniform() }).fit(rows);
    theirs.push((performance.now() - start) / 1000);
    theirLayout = Float32Array.from(fitted.flat());
    onProgress?.(`pair ${pair + 1}/${pairs}: alfamix ${ours[pair].toFixed(2)} s, umap-js ${theirs[pair].toFixed(2)} s`);
  }
  const trust = trustworthiness(x.data, d, n, { alfamix: oursLayout, umapJs: theirLayout });
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const ratio = median(ours.map((t, i) => t / theirs[i]));
  emit(
    json,
    { n, alfamixSeconds: ours, umapJsSeconds: theirs, ratio, trustworthiness: trust },
    `UMAP of ${n} MNIST images (15 neighbours; ${MAP_UMAP_EPOCHS} epochs from the principal axes against umap-js's 200 from random): alfamix ${ours.map((t) => t.toFixed(2)).join(", ")} s; umap-js ${theirs.map((t) => t.toFixed(2)).join(", ")} s; alfamix / umap-js ${ratio.toFixed(3)} (median of ${pairs} pairs)` +
      (trust
        ? `; trustworthiness k=5/15: alfamix ${trust.alfamix.join("/")}, umap-js ${trust.umapJs.join("/")} (scikit-learn)`
        : "; trustworthiness: needs /usr/bin/python3 with scikit-learn"),
  );
}

/** scikit-learn's trustworthiness of each layout (k = 5 and 15), or undefined without it. */
function trustworthiness(x: Float32Array, d: number, n: number, layouts: Record<string, Float32Array>): Record<string, number[]> | undefined {
  const dir = mkdtempSync(join(tmpdir(), "alfamix-umap-"));
  try {
    writeFileSync(join(dir, "x.f32"), x.subarray(0, n * d));
    for (const [name, y] of Object.entries(layouts)) writeFileSync(join(dir, `${name}.f32`), y);
    const script = `import json, numpy as np, sys\nfrom sklearn.manifold import trustworthiness as t\nX = np.fromfile("${dir}/x.f32", dtype=np.float32).reshape(${n}, ${d})\nprint(json.dumps({k: [round(t(X, np.fromfile(f"${dir}/{k}.f32", dtype=np.float32).reshape(${n}, 2), n_neighbors=m), 4) for m in (5, 15)] for k in ${JSON.stringify(Object.keys(layouts))}}))`;
    const run = spawnSync(PYTHON, ["-c", script], { encoding: "utf8" });
    return run.status === 0 ? (JSON.parse(run.stdout) as Record<string, number[]>) : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
