// Zipf ranks over n items: P(rank k) ∝ 1/(k+1)^θ, k = 0..n-1, for any θ > 0 and any n (no table).
// Rejection-inversion sampling (W. Hörmann, G. Derflinger, "Rejection-inversion to generate variates
// from monotone discrete distributions", ACM TOMACS 6(3), 1996): invert the integral of the density
// hull and accept with a test that is almost always true; O(1) per draw, no allocation.
import type { Prng } from './prng.js';
import type { RankSampler } from './rank-sampler.js';

export class ZipfSampler implements RankSampler {
  private readonly hX1: number;
  private readonly hN: number;
  private readonly sq: number;

  constructor(readonly n: number, readonly theta: number, private readonly prng: Prng) {
    if (!(theta > 0)) throw new RangeError(`zipf θ must be > 0, got ${theta}`);
    if (!(n >= 1)) throw new RangeError(`zipf needs at least one item, got ${n}`);
    this.hX1 = this.hIntegral(1.5) - 1;
    this.hN = this.hIntegral(n + 0.5);
    this.sq = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  next(): number {
    const n = this.n;
    for (let tries = 0; tries < 64; tries++) {
      const u = this.hN + this.prng.nextFloat() * (this.hX1 - this.hN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1; else if (k > n) k = n;
      if (k - x <= this.sq || u >= this.hIntegral(k + 0.5) - this.h(k)) return k - 1;
    }
    return 0; // unreachable in practice (acceptance is ≥ 1/2 per try)
  }

  /** The density hull x^-θ. */
  private h(x: number): number {
    return Math.exp(-this.theta * Math.log(x));
  }

  /** ∫ x^-θ dx = (x^(1-θ) - 1) / (1-θ), or ln x at θ = 1 (computed stably around θ = 1). */
  private hIntegral(x: number): number {
    const lx = Math.log(x);
    return expm1OverX((1 - this.theta) * lx) * lx;
  }

  private hIntegralInverse(y: number): number {
    let t = y * (1 - this.theta);
    if (t < -1) t = -1; // rounding at the lower end
    return Math.exp(log1pOverX(t) * y);
  }
}

/** (e^x - 1) / x, 1 at 0. */
function expm1OverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x / 2 * (1 + x / 3 * (1 + x / 4));
}

/** ln(1 + x) / x, 1 at 0. */
function log1pOverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (1 / 2 - x * (1 / 3 - x / 4));
}
