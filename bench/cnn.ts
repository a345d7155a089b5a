import { gemmBackend } from "../src/linalg/gemm.js";
import { matrix } from "../src/linalg/matrix.js";
import { ConvClassifier } from "../src/models/convnet.js";
import type { ConvKind } from "../src/models/layers/architectures.js";
import { Rng } from "../src/random.js";
import { emit } from "./timing.js";

/**
 * The work of `bench/torch_cnn.py`: a conv net on 5,000 random 3×32×32 images with 10 classes,
 * Adam 1e-3, batch 64, no early stop; seconds per training epoch (median of epochs 2..E), one
 * eval-mode forward pass (probabilities) over 50,000 images, and the process's peak RSS. With
 * `forwardImages` below 50,000 the forward pass runs over that many and is scaled to 50,000 (it is
 * linear: chunks of 256), since ResNet-18 takes minutes over all of them.
 */
export function benchCnn(
  json: boolean,
  kind: ConvKind,
  epochs: number,
  stem: "cifar" | "imagenet",
  forwardImages: number,
  onProgress?: (line: string) => void,
): void {
  const rng = new Rng("bench-cnn");
  const n = 5000,
    dim = 3 * 32 * 32;
  const x = matrix(n, dim);
  for (let i = 0; i < x.data.length; i++) x.data[i] = rng.normal();
  const y = Int32Array.from({ length: n }, () => rng.int(10));
  const model = new ConvClassifier({ kind, input: { c: 3, h: 32, w: 32 }, numClasses: 10, seed: 0, stem });
  const times: number[] = [];
  let last = performance.now();
  model.fit(x, y, {
    epochs,
    targetAccuracy: 2,
    onEpoch: (epoch) => {
      const now = performance.now();
      times.push((now - last) / 1000);
      last = now;
      onProgress?.(`epoch ${epoch}/${epochs}: ${times[times.length - 1].toFixed(2)} s`);
    },
  });
  const steady = times.slice(1).sort((a, b) => a - b);
  const secPerEpoch = steady[Math.floor(steady.length / 2)] ?? times[0];
  const pool = matrix(forwardImages, dim);
  for (let i = 0; i < pool.data.length; i++) pool.data[i] = rng.normal();
  const start = performance.now();
  model.predictProbs(pool);
  const forward50kSec = ((performance.now() - start) / 1000) * (50000 / forwardImages);
  const record = {
    model: kind,
    stem,
    backend: gemmBackend().name,
    secPerEpoch: round(secPerEpoch),
    forward50kSec: round(forward50kSec),
    forwardImages,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  emit(
    json,
    record,
    `${kind}${kind === "resnet18" ? ` (${stem} stem)` : ""}, 5,000 images 3×32×32, batch 64, Adam (${gemmBackend().name}): ${secPerEpoch.toFixed(2)} s/epoch; forward over 50,000 images ${forward50kSec.toFixed(2)} s${forwardImages < 50000 ? ` (timed over ${forwardImages})` : ""}; peak RSS ${record.peakRssMB} MB`,
  );
}

const round = (v: number) => Number(v.toFixed(3));
