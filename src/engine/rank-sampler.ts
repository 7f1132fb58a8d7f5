// Rank samplers: draw a rank in [0, n) from a distribution (rank 0 hottest for the skewed ones).
import type { Prng } from './prng.js';
import type { RandomDistribution } from './workload-spec.js';
import { ZipfSampler } from './zipf.js';
import { ParetoSampler } from './pareto.js';
import { NormalSampler } from './normal.js';

export interface RankSampler {
  readonly n: number;
  next(): number;
}

export class UniformSampler implements RankSampler {
  constructor(readonly n: number, private readonly prng: Prng) {}
  next(): number {
    return this.prng.below(this.n);
  }
}

export function createRankSampler(d: RandomDistribution, n: number, prng: Prng): RankSampler {
  switch (d.kind) {
    case 'random': return new UniformSampler(n, prng);
    case 'zipf': return new ZipfSampler(n, d.param, prng);
    case 'pareto': return new ParetoSampler(n, d.param, prng);
    case 'normal': return new NormalSampler(n, d.param, d.center ?? 0.5, prng);
  }
}

/** Zipf and pareto ranks are spread over the range by a permutation; uniform and normal are not. */
export function needsScramble(d: RandomDistribution): boolean {
  return d.kind === 'zipf' || d.kind === 'pareto';
}
