import { test } from "node:test";
import assert from "node:assert/strict";
import { allocate, arenaUsage, inArena, release, sameBlock } from "../src/models/layers/arena.js";
import { columnScalars, kernels, type KernelName } from "../src/models/layers/kernels.js";
import {
  planeStride,
  tileBufferSize,
  tiling,
  transformInput,
  transformInputGradient,
  transformOutput,
  transformOutputGradient,
  type Tiling,
} from "../src/models/layers/winograd.js";
import { transformInput4, transformInputGradient4, transformOutput4, transformOutputGradient4 } from "../src/models/layers/winograd4.js";
import { Rng } from "../src/random.js";

test("the arena hands out disjoint zeroed blocks, takes them back, merges neighbours and reuses the space", () => {
  const start = arenaUsage().used;
  const a = allocate(100)!,
    b = allocate(3)!,
    c = allocate(1000)!;
  assert.ok(inArena(a) && inArena(b) && inArena(c) && !inArena(new Float32Array(4)));
  // 64-byte blocks, one after another.
  assert.deepEqual([b.byteOffset - a.byteOffset, c.byteOffset - b.byteOffset], [448, 64]);
  a.fill(7);
  b.fill(8);
  c.fill(9);
  assert.ok(sameBlock(a, a.subarray(0, 10)) && !sameBlock(a, b));
  release(a);
  release(b); // merges with a's block: 512 bytes free before c
  const d = allocate(120)!; // 480 bytes: the merged block's start, zeroed again
  assert.equal(d.byteOffset, a.byteOffset);
  assert.ok(d.every((v) => v === 0));
  assert.ok(
    c.every((v) => v === 9),
    "a neighbour's data is untouched",
  );
  release(d);
  release(c); // everything back: the top falls to where it started
  assert.equal(arenaUsage().used, start);
  const e = allocate(130)!; // more than the 128 floats a + b held: from the top, past them
  assert.equal(e.byteOffset, a.byteOffset);
  assert.ok(
    e.every((v) => v === 0),
    "memory that went back to the top comes out zeroed too",
  );
  release(e);
});

/** A copy of `a` in the arena. */
function inArenaCopy(a: Float32Array): Float32Array {
  const b = allocate(a.length)!;
  b.set(a);
  return b;
}

/** Channel, image and position of value i of a c×n×h×w volume. */
function valueAt(i: number, { n, h, w }: { n: number; h: number; w: number }) {
  return { c: Math.floor(i / (n * h * w)), b: Math.floor(i / (h * w)) % n, y: Math.floor(i / w) % h, x: i % w };
}

/** Channel, image and tile row and column of tile t of a tiling (tiles of a channel are image by image). */
function tileAt(t: number, tl: Tiling) {
  const r = t % tl.tiles;
  return { c: Math.floor(t / tl.tiles), b: Math.floor(r / (tl.th * tl.tw)), ty: Math.floor(r / tl.tw) % tl.th, tx: r % tl.tw };
}

/** Σ|a| over rows [top, top + size) and columns [left, left + size) of image b of channel c of a c×n×h×w volume (zero outside). */
function blockSum(a: Float32Array, v: { n: number; h: number; w: number }, c: number, b: number, top: number, left: number, size: number): number {
  let s = 0;
  for (let i = top; i < top + size; i++)
    for (let j = left; j < left + size; j++) if (i >= 0 && i < v.h && j >= 0 && j < v.w) s += Math.abs(a[((c * v.n + b) * v.h + i) * v.w + j]);
  return s;
}

/** Each kernel on copies of the same inputs, once in the arena (layers.wat) and once outside it (the JavaScript twin). */
function twins(kernel: KernelName, inputs: Float32Array[], scalars: number[], units: number): { fast: Float32Array[]; literal: Float32Array[] } {
  const inArenaCopies = inputs.map(inArenaCopy);
  const plainCopies = inputs.map((a) => Float32Array.from(a));
  kernels[kernel](inArenaCopies, scalars, 0, units);
  kernels[kernel](plainCopies, scalars, 0, units);
  const fast = inArenaCopies.map((a) => Float32Array.from(a));
  inArenaCopies.forEach(release);
  return { fast, literal: plainCopies };
}

/** Values with ties at zero, negative zeros and both signs, as activations and gradients have. */
function values(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? -0 : rng.normal(0.2, 2)));
}

test("layers.wat's ReLU, its backward mask, the residual sums and a conv's bias and ReLU give their JavaScript twins' bits; batch norm's sums the same bits, its affine passes within float32's rounding", () => {
  const rng = new Rng(8);
  // Lengths around the four-lane blocks, and a long one.
  for (const n of [1, 2, 3, 4, 5, 7, 8, 13, 1000]) {
    for (const [kernel, arrays] of [
      ["relu", 1],
      ["passWherePositive", 3],
      ["add", 3],
      ["addRelu", 3],
    ] as const) {
      const { fast, literal } = twins(
        kernel,
        Array.from({ length: arrays }, () => values(n, rng)),
        [],
        n,
      );
      assert.deepEqual(fast, literal, `${kernel}, ${n} values`);
    }
  }
  // A conv's bias and ReLU after its GEMM (layers.wat's normalize with scale 1: x·1 + b is x + b).
  for (const M of [1, 3, 5, 37])
    for (const relu of [0, 1])
      for (const withBias of [true, false]) {
        const y = values(3 * M, rng),
          bias = Float32Array.from([0.5, -0.25, 0]);
        const { fast, literal } = twins("addBias", withBias ? [y, bias] : [y], [M, relu], 3);
        assert.deepEqual(fast, literal, `addBias, M ${M}, relu ${relu}, bias ${withBias}`);
      }
  for (const M of [1, 2, 3, 5, 6, 37, 4096]) {
    const C = 3;
    for (const relu of [0, 1]) {
      for (const train of [1, 0]) {
        const x = values(C * M, rng),
          affine = Float32Array.from([1.2, 0.7, -1.5, 0.1, -0.3, 0.4]);
        const stats = () => [new Float32Array(C), new Float32Array(C), Float32Array.from([0.1, -0.2, 0.3]), Float32Array.from([1, 2, 0.5])];
        // [x, out, gamma, beta, mean, invStd, runningMean, runningVar]
        const forward = twins(
          "batchNormForward",
          [x, new Float32Array(C * M), affine.subarray(0, C), affine.subarray(C), ...stats()],
          [M, train, 1e-5, 0.1, relu],
          C,
        );
        const what = `M ${M}, relu ${relu}, train ${train}`;
        assert.deepEqual(forward.fast.slice(4), forward.literal.slice(4), `forward statistics, ${what}`);
        const [mean, invStd] = forward.literal.slice(4, 6);
        assertAffine(
          forward.fast[1],
          forward.literal[1],
          (i) => {
            const c = Math.floor(i / M),
              scale = affine[c] * invStd[c];
            return Math.abs(x[i] * scale) + Math.abs(affine[C + c] - mean[c] * scale);
          },
          `forward output, ${what}`,
        );
        // [g, x, dx, gamma, mean, invStd, sumG, dotGXhat, out?]
        const g = values(C * M, rng);
        const arrays = [g, x, new Float32Array(C * M), affine.subarray(0, C), mean, invStd, new Float32Array(C), new Float32Array(C)];
        const backward = twins("batchNormBackward", relu ? [...arrays, forward.literal[1]] : arrays, [M, train], C);
        assert.deepEqual(backward.fast.slice(6, 8), backward.literal.slice(6, 8), `Σ dy and Σ dy·x̂, ${what}`);
        const [sumG, dot] = backward.literal.slice(6, 8);
        assertAffine(
          backward.fast[2],
          backward.literal[2],
          (i) => {
            const c = Math.floor(i / M),
              scale = affine[c] * invStd[c],
              s = invStd[c];
            // dx = a·g + b·x + k (see batchNormBackward): the terms' sizes bound the rounding.
            if (!train) return Math.abs(scale * g[i]);
            const b = (-scale * s * dot[c]) / M,
              k = scale * ((mean[c] * s * dot[c]) / M - sumG[c] / M);
            return Math.abs(scale * g[i]) + Math.abs(b * x[i]) + Math.abs(k);
          },
          `backward input gradient, ${what}`,
        );
      }
    }
  }
});

/**
 * fast within four float32 roundings of the terms that make up each value (`size(i)`, their
 * absolute sum) of literal: the coefficients, each product and the sum are rounded in float32,
 * where the twin rounds once from float64.
 */
function assertAffine(fast: Float32Array, literal: Float32Array, size: (i: number) => number, what: string): void {
  for (let i = 0; i < literal.length; i++) {
    const bound = 4 * 2 ** -24 * size(i) + 1e-30;
    assert.ok(Math.abs(fast[i] - literal[i]) <= bound, `${what}: value ${i} is ${fast[i]} against ${literal[i]} (bound ${bound})`);
  }
}

test("layers.wat's block transpose (a conv net's trunk output as rows per image, and back) moves every block where its twin does, in ranges of blocks, and the transposes back and forth undo each other", () => {
  const rng = new Rng(12);
  for (const [a, b, len] of [
    [1, 1, 1],
    [3, 5, 1],
    [4, 2, 7],
    [5, 3, 16],
    [64, 64, 64],
  ]) {
    const src = values(a * b * len, rng);
    const { fast, literal } = twins("transposeBlocks", [src, new Float32Array(a * b * len)], [a, b, len], a);
    assert.deepEqual(fast, literal, `${a} × ${b} blocks of ${len}`);
    const out = literal[1];
    for (let x = 0; x < a; x++)
      for (let y = 0; y < b; y++)
        for (let p = 0; p < len; p++) assert.equal(out[(y * a + x) * len + p], src[(x * b + y) * len + p], `block (${x}, ${y}), float ${p}`);
    // In two ranges of x, as the helper thread and this one share it; then back.
    const inArenaSrc = inArenaCopy(src),
      there = inArenaCopy(new Float32Array(src.length)),
      back = inArenaCopy(new Float32Array(src.length));
    const half = a >> 1;
    kernels.transposeBlocks([inArenaSrc, there], [a, b, len], half, a);
    kernels.transposeBlocks([inArenaSrc, there], [a, b, len], 0, half);
    assert.deepEqual(Float32Array.from(there), out, `${a} × ${b} blocks of ${len}, in two ranges`);
    kernels.transposeBlocks([there, back], [b, a, len], 0, b);
    assert.deepEqual(Float32Array.from(back), src, `${a} × ${b} blocks of ${len}, there and back`);
    [inArenaSrc, there, back].forEach(release);
  }
});

test("layers.wat's Winograd output transform and its adjoint, four tiles at a time, against the loops in winograd.ts: 8×8 and 16×16 outputs, with and without a bias", () => {
  const rng = new Rng(12);
  for (const size of [8, 16]) {
    const shape = { c: 3, n: 2, h: size, w: size },
      tl = tiling({ n: 2, h: size + 2, w: size + 2 }, 0); // the tiles of a 3×3 conv with no padding whose output is size × size
    assert.equal(tl.oh, size);
    const planes = tileBufferSize(shape.c * tl.tiles, 2),
      KT = planeStride(shape.c * tl.tiles);
    for (const bias of [undefined, Float32Array.from([0.5, -1.25, 3])]) {
      const M = values(planes, rng);
      const literal = new Float32Array(shape.c * shape.n * size * size),
        fast = allocate(literal.length)!;
      transformOutput(M, tl, { ...shape, data: literal }, bias);
      transformOutput(inArenaCopy(M), tl, { ...shape, data: fast }, bias);
      assertAffine(
        fast,
        literal,
        (i) => {
          // Output (k, b, y, x) sums nine of its tile's 16 values, plus the bias.
          const { c: k, b, y, x } = valueAt(i, shape);
          const t = k * tl.tiles + b * tl.th * tl.tw + (y >> 1) * tl.tw + (x >> 1);
          let terms = Math.abs(bias?.[k] ?? 0);
          for (let xi = 0; xi < 16; xi++) terms += Math.abs(M[t + xi * KT]);
          return 2 * terms; // twice as many roundings as terms at most
        },
        `output transform, ${size}×${size}, ${bias ? "bias" : "no bias"}`,
      );
    }
    const dy = values(shape.c * shape.n * size * size, rng);
    const literal = new Float32Array(planes),
      fast = allocate(planes)!;
    transformOutputGradient({ ...shape, data: dy }, tl, literal);
    transformOutputGradient({ ...shape, data: inArenaCopy(dy) }, tl, fast);
    for (let xi = 0; xi < 16; xi++) {
      const plane = (a: Float32Array) => a.subarray(xi * KT, xi * KT + shape.c * tl.tiles);
      // A e Aᵀ sums at most four values of a 2×2 block, each value of D within two roundings of them.
      assertAffine(
        plane(fast),
        plane(literal),
        (t) => {
          const { c: k, b, ty, tx } = tileAt(t, tl);
          return blockSum(dy, shape, k, b, 2 * ty, 2 * tx, 2);
        },
        `output gradient transform, ${size}×${size}, plane ${xi}`,
      );
    }
  }
});

test("layers.wat's Winograd input transform (padded rows in scratch, four tiles at a time, partial last groups) against winograd.ts's loops: odd sizes, padding 0–2", () => {
  const rng = new Rng(13);
  for (const [h, w, pad] of [
    [8, 8, 1],
    [32, 32, 1],
    [5, 7, 0],
    [6, 5, 2],
    [4, 4, 1],
    [3, 9, 2],
  ]) {
    const shape = { c: 2, n: 3, h, w },
      tl = tiling(shape, pad),
      size = tileBufferSize(shape.c * tl.tiles, 2),
      CT = planeStride(shape.c * tl.tiles);
    const x = values(shape.c * shape.n * h * w, rng);
    const inArenaX = inArenaCopy(x);
    const literal = new Float32Array(size),
      fast = allocate(size)!;
    transformInput({ ...shape, data: x }, pad, tl, literal);
    transformInput({ ...shape, data: inArenaX }, pad, tl, fast);
    for (let xi = 0; xi < 16; xi++) {
      const plane = (a: Float32Array) => a.subarray(xi * CT, xi * CT + shape.c * tl.tiles);
      assertAffine(
        plane(fast),
        plane(literal),
        (t) => {
          // Bᵀ d B adds and subtracts at most the tile's 16 inputs.
          const { c: ch, b, ty, tx } = tileAt(t, tl);
          return blockSum(x, shape, ch, b, 2 * ty - pad, 2 * tx - pad, 4);
        },
        `input transform, ${h}×${w}, pad ${pad}, plane ${xi}`,
      );
    }
    release(inArenaX);
    release(fast);
  }
});

test("layers.wat's Winograd input-gradient transform (tiles' overlaps carried across groups and tile rows, padding dropped) against winograd.ts's loops: odd sizes, padding 0–2", () => {
  const rng = new Rng(14);
  for (const [h, w, pad] of [
    [8, 8, 1],
    [32, 32, 1],
    [5, 7, 0],
    [6, 5, 2],
    [4, 4, 1],
    [3, 9, 2],
    [16, 10, 1],
    [6, 6, 0],
  ]) {
    const shape = { c: 2, n: 3, h, w },
      tl = tiling(shape, pad),
      size = tileBufferSize(shape.c * tl.tiles, 2);
    const dV = values(size, rng);
    const inArenaDV = inArenaCopy(dV);
    const literal = new Float32Array(shape.c * shape.n * h * w),
      fast = allocate(literal.length)!;
    fast.fill(Number.NaN); // every value must be written
    transformInputGradient(dV, pad, tl, { ...shape, data: literal });
    transformInputGradient(inArenaDV, pad, tl, { ...shape, data: fast });
    const CT = planeStride(shape.c * tl.tiles);
    assertAffine(
      fast,
      literal,
      (i) => {
        // ∂x at (ch, b, y, x) sums B ∂V Bᵀ of the (up to four) tiles covering it: bound by all their 16 values.
        const { c: ch, b, y, x } = valueAt(i, shape);
        let terms = 0;
        for (let ty = 0; ty < tl.th; ty++)
          for (let tx = 0; tx < tl.tw; tx++) {
            const dy = y + pad - 2 * ty,
              dx = x + pad - 2 * tx;
            if (dy < 0 || dy > 3 || dx < 0 || dx > 3) continue;
            const t = ch * tl.tiles + b * tl.th * tl.tw + ty * tl.tw + tx;
            for (let xi = 0; xi < 16; xi++) terms += Math.abs(dV[t + xi * CT]);
          }
        return 2 * terms;
      },
      `input gradient transform, ${h}×${w}, pad ${pad}`,
    );
    release(inArenaDV);
    release(fast);
  }
});

test("winograd4.wat's F(4×4, 3×3) transforms (lanes spanning tile rows and images, partial groups, padded copies in scratch, batches of images) against winograd4.ts's literal loops: odd sizes, padding 0–2", () => {
  const rng = new Rng(15);
  for (const [h, w, pad, n] of [
    [32, 32, 1, 7],
    [16, 16, 1, 5],
    [8, 8, 1, 3],
    [4, 4, 1, 5],
    [4, 4, 1, 2],
    [6, 5, 0, 3],
    [5, 7, 0, 3],
    [6, 5, 2, 2],
    [3, 9, 2, 3],
    [13, 11, 1, 2],
    [1, 1, 1, 3],
  ]) {
    const shape = { c: 2, n, h, w },
      tl = tiling(shape, pad, 4),
      out = { c: 2, n, h: tl.oh, w: tl.ow },
      size = tileBufferSize(shape.c * tl.tiles, 4),
      CT = planeStride(shape.c * tl.tiles),
      what = `${h}×${w}, pad ${pad}, ${n} images`;
    // Each value is a combination of the values of one tile (several for the input gradient), with
    // coefficients up to 64 and a few roundings: within 2⁻²⁴ · 64 · 8 of the sum of their sizes.
    const bound = (terms: number) => 2 ** -24 * 512 * terms;
    const tileSum = (a: Float32Array, t: number) => {
      let s = 0;
      for (let xi = 0; xi < 36; xi++) s += Math.abs(a[t + xi * CT]);
      return s;
    };
    const check = (fast: Float32Array, literal: Float32Array, terms: (i: number) => number, kind: string) => {
      for (let i = 0; i < literal.length; i++)
        assert.ok(Math.abs(fast[i] - literal[i]) <= bound(terms(i)), `${kind}, ${what}: value ${i} is ${fast[i]} against ${literal[i]}`);
    };
    const inPlanes = (i: number) => i % CT < shape.c * tl.tiles; // the planes' padding is not written
    const planesOf = (a: Float32Array) => a.filter((_, i) => inPlanes(i));

    const x = values(shape.c * n * h * w, rng);
    const V = new Float32Array(size),
      fastV = allocate(size)!;
    transformInput4({ ...shape, data: x }, pad, tl, V);
    transformInput4({ ...shape, data: inArenaCopy(x) }, pad, tl, fastV);
    check(
      planesOf(fastV),
      planesOf(V),
      (i) => {
        const { c, b, ty, tx } = tileAt(i % (shape.c * tl.tiles), tl);
        return blockSum(x, shape, c, b, 4 * ty - pad, 4 * tx - pad, 6);
      },
      "input",
    );

    const M = values(size, rng),
      bias = Float32Array.from([0.75, -2]);
    const y = new Float32Array(out.c * n * out.h * out.w),
      fastY = allocate(y.length)!;
    fastY.fill(Number.NaN); // every value must be written
    transformOutput4(M, tl, { ...out, data: y }, bias);
    transformOutput4(inArenaCopy(M), tl, { ...out, data: fastY }, bias);
    check(
      fastY,
      y,
      (i) => {
        const { c, b, y: oy, x: ox } = valueAt(i, out);
        return tileSum(M, c * tl.tiles + b * tl.th * tl.tw + Math.floor(oy / 4) * tl.tw + Math.floor(ox / 4)) + Math.abs(bias[c]);
      },
      "output",
    );
    // The fused ReLU: both ways, the bits of the output above through a ReLU.
    const relu = (a: Float32Array) => Array.from(a, (v) => v * Number(v > 0) + 0);
    const yRelu = new Float32Array(y.length),
      fastYRelu = allocate(y.length)!;
    transformOutput4(M, tl, { ...out, data: yRelu }, bias, 0, out.c, true);
    transformOutput4(inArenaCopy(M), tl, { ...out, data: fastYRelu }, bias, 0, out.c, true);
    assert.deepEqual(Array.from(yRelu), relu(y), `literal output with ReLU, ${what}`);
    assert.deepEqual(Array.from(fastYRelu), relu(fastY), `SIMD output with ReLU, ${what}`);
    assert.ok(yRelu.includes(0) && yRelu.some((v) => v > 0), "the ReLU both passes and stops values");

    const dy = values(y.length, rng);
    const D = new Float32Array(size),
      fastD = allocate(size)!;
    transformOutputGradient4({ ...out, data: dy }, tl, D);
    transformOutputGradient4({ ...out, data: inArenaCopy(dy) }, tl, fastD);
    check(
      planesOf(fastD),
      planesOf(D),
      (i) => {
        const { c, b, ty, tx } = tileAt(i % (shape.c * tl.tiles), tl);
        return blockSum(dy, out, c, b, 4 * ty, 4 * tx, 4);
      },
      "output gradient",
    );
    // Masked by a ReLU's output as it is read (in place, or through the padded copy): both ways, the bits of the same transform of a masked copy.
    const masked = Float32Array.from(dy, (v, i) => v * Number(yRelu[i] > 0) + 0);
    const [Dm, DmRef, fastDm, fastDmRef] = [new Float32Array(size), new Float32Array(size), allocate(size)!, allocate(size)!];
    transformOutputGradient4({ ...out, data: dy }, tl, Dm, 0, out.c, yRelu);
    transformOutputGradient4({ ...out, data: masked }, tl, DmRef);
    // y before dy in memory: a negative offset from dy to y, which a short group's empty lanes must not take from address 0.
    const yFirst = inArenaCopy(yRelu);
    transformOutputGradient4({ ...out, data: inArenaCopy(dy) }, tl, fastDm, 0, out.c, yFirst);
    transformOutputGradient4({ ...out, data: inArenaCopy(masked) }, tl, fastDmRef);
    assert.deepEqual(planesOf(Dm), planesOf(DmRef), `literal output gradient with ReLU, ${what}`);
    assert.deepEqual(planesOf(fastDm), planesOf(fastDmRef), `SIMD output gradient with ReLU, ${what}`);

    const dV = values(size, rng);
    const dx = new Float32Array(x.length),
      fastDx = allocate(x.length)!;
    fastDx.fill(Number.NaN);
    transformInputGradient4(dV, pad, tl, { ...shape, data: dx });
    transformInputGradient4(inArenaCopy(dV), pad, tl, { ...shape, data: fastDx });
    check(
      fastDx,
      dx,
      (i) => {
        // The (up to four) tiles whose 6×6 blocks cover the value.
        const { c, b, y: vy, x: vx } = valueAt(i, shape);
        let s = 0;
        for (let ty = 0; ty < tl.th; ty++)
          for (let tx = 0; tx < tl.tw; tx++) {
            const dy = vy + pad - 4 * ty,
              dx = vx + pad - 4 * tx;
            if (dy >= 0 && dy < 6 && dx >= 0 && dx < 6) s += tileSum(dV, c * tl.tiles + b * tl.th * tl.tw + ty * tl.tw + tx);
          }
        return s;
      },
      "input gradient",
    );
    // Masked by the input's sign as it is written (a ReLU before the conv): both ways, the bits above through the mask.
    const mask = (a: Float32Array) => Array.from(a, (v, i) => v * Number(x[i] > 0) + 0);
    const dxMasked = new Float32Array(x.length),
      fastDxMasked = allocate(x.length)!;
    transformInputGradient4(dV, pad, tl, { ...shape, data: dxMasked }, 0, shape.c, x);
    transformInputGradient4(inArenaCopy(dV), pad, tl, { ...shape, data: fastDxMasked }, 0, shape.c, inArenaCopy(x));
    assert.deepEqual(Array.from(dxMasked), mask(dx), `literal input gradient with the mask, ${what}`);
    assert.deepEqual(Array.from(fastDxMasked), mask(fastDx), `SIMD input gradient with the mask, ${what}`);
  }
});

test("columns.wat's im2col and col2im at stride 2 give their JavaScript twins' bits: kernels 1, 3, 6 and 7, padding 0–3, odd sizes, rows shorter than four outputs, rows inside the padding", () => {
  const rng = new Rng(16);
  for (const [c, n, h, w, k, pad] of [
    [3, 2, 32, 32, 3, 1],
    [2, 3, 16, 16, 1, 0],
    [2, 2, 9, 7, 3, 0],
    [2, 2, 13, 11, 7, 3],
    [1, 3, 5, 3, 3, 1],
    [2, 1, 2, 2, 3, 1],
    [1, 2, 16, 2, 7, 3], // ImageNet's stem on a narrow image: the padding reaches past the whole row
    [1, 2, 3, 1, 6, 3],
  ]) {
    const oh = Math.floor((h + 2 * pad - k) / 2) + 1,
      ow = Math.floor((w + 2 * pad - k) / 2) + 1,
      M = n * oh * ow,
      scalars = columnScalars({ c, n, h, w }, k, 2, pad, oh, ow),
      what = `${c}×${n}×${h}×${w}, k ${k}, pad ${pad}`;
    const cols = twins("columns", [values(c * n * h * w, rng), values(c * k * k * M, rng)], scalars, c);
    assert.deepEqual(cols.fast[1], cols.literal[1], `im2col, ${what}`);
    const adjoint = twins("columnsAdjoint", [values(c * k * k * M, rng), values(c * n * h * w, rng)], scalars, c);
    assert.deepEqual(adjoint.fast[1], adjoint.literal[1], `col2im, ${what}`);
  }
});
