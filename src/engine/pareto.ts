// Pareto ranks with fio's parameter h (0 < h < 1): rank = ⌊n · U^q⌋ with q = max(p, 1/p),
// p = ln h / ln(1-h), so the hottest fraction f of the ranks receives f^(1/q) of the draws; in
// particular min(h, 1-h) of the range gets max(h, 1-h) of the I/O (pareto:0.2 is the 80/20 rule).
import type { Prng } from './prng.js';
import type { RankSampler } from './rank-sampler.js';

export class ParetoSampler implements RankSampler {
  readonly exponent: number;

  constructor(readonly n: number, readonly h: number, private readonly prng: Prng) {
    if (!(h > 0 && h < 1)) throw new RangeError(`pareto h must be between 0 and 1 (exclusive), got ${h}`);
    const p = Math.log(h) / Math.log(1 - h);
    this.exponent = p >= 1 ? p : 1 / p;
  }

  next(): number {
    const r = Math.floor(this.n * Math.pow(this.prng.nextFloat(), this.exponent));
    return r < this.n ? r : this.n - 1;
  }

  /** Share of draws that land in the hottest fraction f of the ranks. */
  static hotShare(h: number, f: number): number {
    const p = Math.log(h) / Math.log(1 - h);
    return Math.pow(f, 1 / (p >= 1 ? p : 1 / p));
  }
}
