// Normal (Gaussian) positions, fio's normal:P: the standard deviation is P % of the range, centred on
// a fraction c of it (default 0.5). Positions stay in LBA order (a hot band, not scrambled); draws
// outside the range are drawn again. Box–Muller, caching the second value; no allocation.
import type { Prng } from './prng.js';
import type { RankSampler } from './rank-sampler.js';

export class NormalSampler implements RankSampler {
  private readonly sigma: number;
  private readonly mean: number;
  private spare = 0;
  private hasSpare = false;

  constructor(readonly n: number, percent: number, center: number, private readonly prng: Prng) {
    if (!(percent > 0 && percent <= 100)) throw new RangeError(`normal deviation must be in (0, 100], got ${percent}`);
    this.sigma = (n * percent) / 100;
    this.mean = n * center;
  }

  next(): number {
    for (let tries = 0; tries < 64; tries++) {
      const v = Math.floor(this.mean + this.sigma * this.gauss());
      if (v >= 0 && v < this.n) return v;
    }
    return Math.min(this.n - 1, Math.floor(this.mean));
  }

  private gauss(): number {
    if (this.hasSpare) { this.hasSpare = false; return this.spare; }
    const u = 1 - this.prng.nextFloat(); // (0, 1]
    const v = this.prng.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    this.hasSpare = true;
    return r * Math.cos(2 * Math.PI * v);
  }
}
