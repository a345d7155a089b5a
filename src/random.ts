/**
 * The library's only source of randomness: xoshiro128** seeded through a 128-bit string hash.
 * `child(name)` derives an independent stream from the seed and a name without consuming the
 * parent's state, so adding draws in one component never shifts another's.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined;
  /** The four words this generator was seeded with; children are derived from them. */
  private readonly key: readonly number[];

  constructor(seed: number | string = 0) {
    this.key = hash128(String(seed));
    [this.s0, this.s1, this.s2, this.s3] = this.key;
  }

  /** An independent stream determined by this generator's seed and `name` only. */
  child(name: string | number): Rng {
    return new Rng(`${this.key.join(",")}/${name}`);
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased; n ≤ 2^32. */
  int(n: number): number {
    if (!(n >= 1 && n <= 4294967296 && Number.isInteger(n))) throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Normal(mean, std) by Box–Muller (the spare value is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.uniform();
    this.spareNormal = r * Math.sin(theta);
    return mean + std * r * Math.cos(theta);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }

  /** k distinct integers from [0, n), in random order. */
  sample(n: number, k: number): Int32Array {
    if (!(k >= 0 && k <= n)) throw new RangeError(`Rng.sample: cannot draw ${k} distinct values from ${n}`);
    if (k * 4 < n) {
      // Sparse partial Fisher–Yates: O(k) memory for large n.
      const swapped = new Map<number, number>();
      const out = new Int32Array(k);
      for (let i = 0; i < k; i++) {
        const j = i + this.int(n - i);
        const atJ = swapped.get(j) ?? j;
        out[i] = atJ;
        swapped.set(j, swapped.get(i) ?? i);
      }
      return out;
    }
    return this.permutation(n).slice(0, k);
  }

  /** k distinct elements of `from`, in random order (sampling without replacement). */
  choice(from: Int32Array, k: number): Int32Array {
    const picks = this.sample(from.length, k);
    for (let i = 0; i < k; i++) picks[i] = from[picks[i]];
    return picks;
  }

  /** An index drawn with probability weights[i] / Σ weights (weights ≥ 0, Σ > 0). */
  weightedIndex(weights: ArrayLike<number>, total?: number): number {
    let sum = total;
    if (sum === undefined) {
      sum = 0;
      for (let i = 0; i < weights.length; i++) sum += weights[i];
    }
    if (!(sum > 0)) throw new RangeError("Rng.weightedIndex: weights must have a positive sum");
    let target = this.uniform() * sum;
    let last = -1;
    for (let i = 0; i < weights.length; i++) {
      if (weights[i] > 0) {
        last = i;
        target -= weights[i];
        if (target < 0) return i;
      }
    }
    return last; // rounding left a sliver: the last positive weight takes it
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** cyrb128: a fast 128-bit string hash whose four words seed xoshiro (never all zero). */
function hash128(text: string): number[] {
  let h1 = 1779033703,
    h2 = 3144134277,
    h3 = 1013904242,
    h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ c, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ c, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ c, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ c, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  const words: number[] = [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
  if ((h1 | h2 | h3 | h4) === 0) words[0] = 1;
  return words;
}
