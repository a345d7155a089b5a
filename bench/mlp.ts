import { argmaxRows } from "../src/linalg/rows.js";
import { matmul, gemmBackend } from "../src/linalg/gemm.js";
import { matrix } from "../src/linalg/matrix.js";
import { createMLP } from "../src/models/network.js";
import { Rng } from "../src/random.js";
import { emit } from "./timing.js";

/**
 * The work of `reference/pytorch/torch_mlp_epoch.py`: MLP 784-256-10, Adam 1e-3, batch 64, on
 * 10,000 uniform inputs labelled by a random linear map; seconds per epoch (median of epochs
 * 2..E, no early stop) and one forward pass (probabilities) over 60,000 rows.
 */
export function benchMlp(json: boolean, epochs = 5): void {
  const rng = new Rng("bench-mlp");
  const n = 10000,
    d = 784,
    k = 10;
  const x = matrix(n, d);
  for (let i = 0; i < x.data.length; i++) x.data[i] = rng.uniform();
  const projection = matrix(d, k);
  for (let i = 0; i < projection.data.length; i++) projection.data[i] = rng.normal();
  const centred = matrix(
    n,
    d,
    x.data.map((v) => v - 0.5),
  );
  const y = argmaxRows(matmul(centred, projection));
  const model = createMLP(d, k, { seed: 0 });
  const times: number[] = [];
  let last = performance.now();
  const report = model.fit(x, y, {
    epochs,
    targetAccuracy: 2,
    onEpoch: () => {
      const now = performance.now();
      times.push((now - last) / 1000);
      last = now;
    },
  });
  const steady = times.slice(1).sort((a, b) => a - b);
  const secPerEpoch = steady[Math.floor(steady.length / 2)] ?? times[0];
  const pool = matrix(60000, d);
  for (let i = 0; i < pool.data.length; i++) pool.data[i] = rng.uniform();
  model.predictProbs(pool); // warm-up
  const start = performance.now();
  model.predictProbs(pool);
  const forward60kSec = (performance.now() - start) / 1000;
  emit(
    json,
    { backend: gemmBackend().name, secPerEpoch: round(secPerEpoch), forward60kSec: round(forward60kSec), finalLoss: round(report.loss) },
    `MLP 784-256-10, batch 64, 10,000 samples (${gemmBackend().name}): ${secPerEpoch.toFixed(3)} s/epoch; forward over 60,000 rows ${forward60kSec.toFixed(3)} s; final loss ${report.loss.toFixed(4)}`,
  );
}

const round = (v: number) => Number(v.toFixed(4));
