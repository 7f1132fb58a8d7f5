// A seeded bijection of [0, n): rank → position, so the hot ranks of a skewed distribution land all
// over the range instead of clustering at its start. A 4-round Feistel network permutes the smallest
// even-bit power-of-two domain ≥ n; values ≥ n walk the cycle until they fall inside (the domain is
// < 4n, so fewer than 4 steps on average). Every position has exactly one rank: all of the range is
// reachable. Allocation-free; n ≤ 2^52.

const ROUNDS = 4;

export class RangeScramble {
  private readonly halfBits: number;
  private readonly halfMask: number;
  private readonly halfSize: number;
  private readonly k0: number;
  private readonly k1: number;
  private readonly k2: number;
  private readonly k3: number;

  constructor(readonly n: number, seed: number) {
    if (!(Number.isSafeInteger(n) && n >= 1 && n <= 2 ** 52)) throw new RangeError(`scramble range ${n} is not in 1..2^52`);
    let bits = 1;
    while (2 ** bits < n) bits++;
    this.halfBits = Math.max(1, Math.ceil(bits / 2));
    this.halfSize = 2 ** this.halfBits;
    this.halfMask = this.halfSize - 1;
    let s = seed >>> 0;
    const key = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      return mix32(s);
    };
    this.k0 = key(); this.k1 = key(); this.k2 = key(); this.k3 = key();
  }

  /** The position of rank `r` (0 ≤ r < n). */
  map(r: number): number {
    if (this.n === 1) return 0;
    let v = r;
    do v = this.permute(v); while (v >= this.n);
    return v;
  }

  /** One pass of the Feistel network over [0, halfSize²). */
  private permute(v: number): number {
    const size = this.halfSize, mask = this.halfMask;
    let hi = Math.floor(v / size);
    let lo = v - hi * size;
    for (let i = 0; i < ROUNDS; i++) {
      const k = i === 0 ? this.k0 : i === 1 ? this.k1 : i === 2 ? this.k2 : this.k3;
      const t = lo;
      lo = (hi ^ (mix32(lo ^ k) & mask)) >>> 0;
      hi = t;
    }
    return hi * size + lo;
  }
}

/** A 32-bit avalanche mix (murmur3 finalizer constants). */
function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
