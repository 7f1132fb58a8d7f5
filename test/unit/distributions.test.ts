// Access distributions and I/O size selection: the shares drawn match the formulas, zipf and pareto
// reach all of a large range (hot blocks spread by a permutation, not clustered), bssplit shares.
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/engine/prng.js';
import { RangeScramble } from '../../src/engine/scramble.js';
import { ZipfSampler } from '../../src/engine/zipf.js';
import { ParetoSampler } from '../../src/engine/pareto.js';
import { NormalSampler } from '../../src/engine/normal.js';
import { BlockSizeSplit } from '../../src/engine/bs-split.js';
import { LbaGenerator } from '../../src/engine/lba-generator.js';
import type { RandomDistribution } from '../../src/engine/workload-spec.js';

/** Σ_{k=1..n} k^-θ */
function harmonic(n: number, theta: number): number {
  let s = 0;
  for (let k = 1; k <= n; k++) s += Math.pow(k, -theta);
  return s;
}

const TIB = 2 ** 40;

describe('range permutation', () => {
  it('is a bijection of [0, n) for awkward n', () => {
    for (const n of [1, 2, 3, 7, 64, 1000, 4097, 65_537]) {
      const s = new RangeScramble(n, 12345 + n);
      const seen = new Uint8Array(n);
      for (let r = 0; r < n; r++) {
        const v = s.map(r);
        if (v >= 0 && v < n) seen[v]!++;
      }
      expect(seen.every((c) => c === 1), `n=${n}`).toBe(true);
    }
  });
  it('spreads consecutive ranks over the whole range', () => {
    const n = 2 ** 28;
    const s = new RangeScramble(n, 99);
    const slices = new Set<number>();
    for (let r = 0; r < 1000; r++) slices.add(Math.floor((s.map(r) / n) * 100));
    expect(slices.size).toBeGreaterThan(95); // 1000 ranks into 100 slices: all but a handful hit
  });
  it('different seeds give different permutations', () => {
    const a = new RangeScramble(1 << 20, 1), b = new RangeScramble(1 << 20, 2);
    let same = 0;
    for (let r = 0; r < 1000; r++) if (a.map(r) === b.map(r)) same++;
    expect(same).toBeLessThan(5);
  });
});

describe('zipf', () => {
  it.each([1.2, 0.8, 1.0])('θ=%s: hot-set shares match H(k)/H(n) (n = 100 000, 400 000 draws)', (theta) => {
    const n = 100_000, draws = 400_000;
    const z = new ZipfSampler(n, theta, new Prng(7));
    const counts = new Uint32Array(n);
    for (let i = 0; i < draws; i++) {
      counts[z.next()]!++; // out of range would leave the counts short of `draws`
    }
    expect(counts.reduce((a, b) => a + b, 0)).toBe(draws);
    const hN = harmonic(n, theta);
    for (const k of [1, 10, 100, 1000, 10_000]) {
      let got = 0;
      for (let i = 0; i < k; i++) got += counts[i]!;
      const want = harmonic(k, theta) / hN;
      expect(Math.abs(got / draws - want), `top ${k}: got ${got / draws}, formula ${want}`).toBeLessThan(0.005);
    }
  });
  it('rank 0 of a 1-item range is the only answer', () => {
    const z = new ZipfSampler(1, 1.2, new Prng(1));
    for (let i = 0; i < 100; i++) expect(z.next()).toBe(0);
  });
});

describe('pareto', () => {
  it.each([0.9, 0.2, 0.1])('h=%s: the hottest fraction f gets f^(1/q) of the draws', (h) => {
    const n = 1_000_000, draws = 200_000;
    const p = new ParetoSampler(n, h, new Prng(11));
    const fractions = [0.001, 0.01, 0.1, 0.2, 0.5];
    const hits = fractions.map(() => 0);
    let outside = 0;
    for (let i = 0; i < draws; i++) {
      const r = p.next();
      if (!(r >= 0 && r < n && Number.isInteger(r))) outside++;
      for (let j = 0; j < fractions.length; j++) if (r < fractions[j]! * n) hits[j]!++;
    }
    expect(outside).toBe(0);
    fractions.forEach((f, j) => {
      const want = ParetoSampler.hotShare(h, f);
      expect(Math.abs(hits[j]! / draws - want), `f=${f}: got ${hits[j]! / draws}, formula ${want}`).toBeLessThan(0.01);
    });
  });
  it('pareto:0.2 is the 80/20 rule and pareto:0.9 puts 90 % of the I/O on 10 % of the range', () => {
    expect(ParetoSampler.hotShare(0.2, 0.2)).toBeCloseTo(0.8, 12);
    expect(ParetoSampler.hotShare(0.9, 0.1)).toBeCloseTo(0.9, 12);
  });
});

describe('normal', () => {
  it('normal:10 has its mean at the centre and a deviation of 10 % of the range', () => {
    const n = 1_000_000, draws = 200_000;
    const g = new NormalSampler(n, 10, 0.5, new Prng(5));
    let sum = 0, sq = 0, outside = 0;
    for (let i = 0; i < draws; i++) {
      const v = g.next();
      if (!(v >= 0 && v < n)) outside++;
      sum += v; sq += v * v;
    }
    expect(outside).toBe(0);
    const mean = sum / draws, sd = Math.sqrt(sq / draws - mean * mean);
    expect(Math.abs(mean / n - 0.5)).toBeLessThan(0.002);
    expect(Math.abs(sd / n - 0.1)).toBeLessThan(0.002);
  });
});

describe('LBA generator with a distribution', () => {
  const dists: [string, RandomDistribution][] = [['zipf:1.2', { kind: 'zipf', param: 1.2 }], ['pareto:0.9', { kind: 'pareto', param: 0.9 }]];
  it.each(dists)('%s reaches every 1 percent slice of a 1 TiB range (4 KiB I/O, 2^28 slots)', (_name, d) => {
    const blocks = TIB / 4096;
    const g = new LbaGenerator(true, blocks, 4096, 4096, new Prng(3), { distribution: d });
    expect(g.slots).toBe(2 ** 28);
    const slices = new Uint32Array(100);
    let outside = 0;
    for (let i = 0; i < 300_000; i++) {
      const lba = g.next();
      if (!(lba >= 0 && lba < blocks)) outside++;
      slices[Math.floor((lba / blocks) * 100)]!++;
    }
    expect(outside).toBe(0);
    const empty = [...slices.keys()].filter((i) => slices[i] === 0);
    expect(empty, `slices never hit: ${empty.join(',')}`).toEqual([]);
  });

  it('zipf:1.2 through the generator: the most-hit 1 % of slots get the formula share (no clustering artefacts)', () => {
    const slots = 50_000, draws = 500_000;
    const g = new LbaGenerator(true, slots * 8, 512, 4096, new Prng(17), { distribution: { kind: 'zipf', param: 1.2 } });
    const counts = new Uint32Array(slots);
    for (let i = 0; i < draws; i++) counts[g.next() / 8]!++;
    const sorted = [...counts].sort((a, b) => b - a);
    const hN = harmonic(slots, 1.2);
    for (const k of [5, 50, 500]) {
      const got = sorted.slice(0, k).reduce((a, b) => a + b, 0) / draws;
      expect(Math.abs(got - harmonic(k, 1.2) / hN), `top ${k}`).toBeLessThan(0.01);
    }
    // The hottest slots are not bunched at the start of the range.
    const hot = [...counts.keys()].sort((a, b) => counts[b]! - counts[a]!).slice(0, 50);
    expect(hot.filter((s) => s < slots / 10).length).toBeLessThan(20);
  });

  it('--range: offsets stay inside [start, start + blocks)', () => {
    const g = new LbaGenerator(true, 10_000, 512, 4096, new Prng(9), { startBlock: 1000, rangeBlocks: 800, distribution: { kind: 'pareto', param: 0.9 } });
    const bad: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const lba = g.next();
      if (!(lba >= 1000 && lba + 8 <= 1800 && (lba - 1000) % 8 === 0)) bad.push(lba);
    }
    expect(bad).toEqual([]);
  });

  it('sequential with mixed sizes: each I/O follows the previous one and wraps inside the range', () => {
    const g = new LbaGenerator(false, 1000, 512, 65536, new Prng(1), { startBlock: 100, rangeBlocks: 300, alignBytes: 4096 });
    let expectNext = 100;
    const sizes = [8, 128, 32, 8, 128, 128, 8];
    for (let i = 0; i < 200; i++) {
      const b = sizes[i % sizes.length]!;
      const lba = g.next(b);
      if (lba !== expectNext) expect(lba).toBe(100); // wrapped
      expect(lba + b).toBeLessThanOrEqual(400);
      expectNext = lba + b;
    }
  });
});

describe('bssplit', () => {
  it('4k/10:64k/50:32k/40: shares within ±2 % over 100 000 draws', () => {
    const s = new BlockSizeSplit([{ bytes: 4096, percent: 10 }, { bytes: 65536, percent: 50 }, { bytes: 32768, percent: 40 }], 512, new Prng(4));
    const hits = new Map<number, number>();
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const b = s.next();
      hits.set(b, (hits.get(b) ?? 0) + 1);
    }
    expect([...hits.keys()].sort((a, b) => a - b)).toEqual([8, 64, 128]);
    expect(Math.abs(hits.get(8)! / n - 0.10)).toBeLessThan(0.02);
    expect(Math.abs(hits.get(128)! / n - 0.50)).toBeLessThan(0.02);
    expect(Math.abs(hits.get(64)! / n - 0.40)).toBeLessThan(0.02);
    expect(s.minBlocks).toBe(8);
    expect(s.maxBlocks).toBe(128);
  });
  it('a 0 % entry is never drawn; a size that is not a multiple of the block size is refused', () => {
    const s = new BlockSizeSplit([{ bytes: 4096, percent: 0 }, { bytes: 8192, percent: 100 }], 4096, new Prng(4));
    for (let i = 0; i < 1000; i++) expect(s.next()).toBe(2);
    expect(() => new BlockSizeSplit([{ bytes: 512, percent: 100 }], 4096, new Prng(1))).toThrow(/not a multiple of the block size 4096/);
  });
});
