import { UserError } from "../errors.js";

export type Pooling = "none" | "mean" | "cls";

/** How a model output of some rank becomes one row per image. */
export interface OutputReducer {
  /** Values per image after pooling. */
  dim: number;
  /** Pool `batch` images of `data` (the output tensor) into `out` (batch × dim). */
  reduce(data: Float32Array, batch: number, out: Float32Array): void;
  /** What was done, for the summary: "mean over 14×14 positions". */
  description: string;
}

/**
 * Rank 2 (N×D) is taken as is. Rank 3 (N×T×D, a transformer's tokens): `mean` averages the
 * tokens, `cls` takes the first, `none` flattens. Rank 4 (feature maps, N×C×H×W, or N×H×W×C
 * for a channels-last model): `mean` is global average pooling, `none` flattens. Rank 5 (a video
 * model's feature maps, N×C×T×H×W): `mean` averages over time and space.
 */
export function outputReducer(dims: readonly number[], pool: Pooling | undefined, layout: "nchw" | "nhwc", outputName: string): OutputReducer {
  const rank = dims.length;
  const fail = (message: string): never => {
    throw new UserError(`output ${JSON.stringify(outputName)} of shape [${dims.join(", ")}]: ${message}`);
  };
  if (rank < 2 || rank > 5) fail("expected rank 2 (N×D), 3 (N×T×D), 4 or 5 (feature maps)");
  const perImage = dims.slice(1).reduce((a, b) => a * b, 1);
  const flatten: OutputReducer = {
    dim: perImage,
    reduce: (data, batch, out) => out.set(data.subarray(0, batch * perImage)),
    description: rank === 2 ? "as is" : "flattened",
  };
  if (rank === 2) {
    if (pool === "cls") fail("--pool cls needs a rank-3 output (N×T×D)");
    return flatten;
  }
  const mode = pool ?? "mean";
  if (mode === "none") return flatten;
  if (rank === 3) {
    const [, tokens, d] = dims;
    if (mode === "cls") {
      return {
        dim: d,
        description: "the first (CLS) token",
        reduce: (data, batch, out) => {
          for (let b = 0; b < batch; b++) out.set(data.subarray(b * tokens * d, b * tokens * d + d), b * d);
        },
      };
    }
    return { dim: d, description: `mean over ${tokens} tokens`, reduce: (data, batch, out) => meanOverPositions(data, batch, tokens, d, "last", out) };
  }
  if (mode === "cls") fail("--pool cls needs a rank-3 output (N×T×D); use mean or none for feature maps");
  const [c, positions, what] =
    rank === 5
      ? [dims[1], dims[2] * dims[3] * dims[4], `${dims[2]}×${dims[3]}×${dims[4]}`]
      : layout === "nchw"
        ? [dims[1], dims[2] * dims[3], `${dims[2]}×${dims[3]}`]
        : [dims[3], dims[1] * dims[2], `${dims[1]}×${dims[2]}`];
  return {
    dim: c,
    description: `mean over ${what} positions`,
    reduce: (data, batch, out) => meanOverPositions(data, batch, positions, c, rank === 5 || layout === "nchw" ? "first" : "last", out),
  };
}

/** Average over `positions` per image of `features` values; features come first (C×P) or last (P×C). */
function meanOverPositions(data: Float32Array, batch: number, positions: number, features: number, featureAxis: "first" | "last", out: Float32Array): void {
  const inv = 1 / positions;
  for (let b = 0; b < batch; b++) {
    const base = b * positions * features,
      o = b * features;
    if (featureAxis === "first") {
      for (let f = 0; f < features; f++) {
        let sum = 0;
        for (let p = 0; p < positions; p++) sum += data[base + f * positions + p];
        out[o + f] = sum * inv;
      }
    } else {
      for (let f = 0; f < features; f++) out[o + f] = 0;
      for (let p = 0; p < positions; p++) for (let f = 0; f < features; f++) out[o + f] += data[base + p * features + f];
      for (let f = 0; f < features; f++) out[o + f] *= inv;
    }
  }
}
