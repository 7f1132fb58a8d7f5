import { describe, expect, it } from 'vitest';
import { LbaGenerator, RwMix } from '../../src/engine/lba-generator.js';
import { Prng } from '../../src/engine/prng.js';
import { assignNamespaces, qpairsPerTarget } from '../../src/engine/planner.js';

describe('LBA generator', () => {
  it('sequential: I/O-size steps that wrap at the last whole I/O of the namespace', () => {
    // 100 blocks of 512 B, 4 KiB I/O = 8 blocks → 12 slots (blocks 96..99 never used).
    const g = new LbaGenerator(false, 100, 512, 4096, new Prng(1));
    expect(g.slots).toBe(12);
    const seq = Array.from({ length: 26 }, () => g.next());
    expect(seq.slice(0, 13)).toEqual([0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 0]);
    expect(seq[25]).toBe(8);
  });
  it('random: aligned to the I/O size, inside the namespace, covering it', () => {
    const g = new LbaGenerator(true, 1000, 512, 4096, new Prng(42));
    const seen = new Set<number>();
    for (let i = 0; i < 20_000; i++) {
      const lba = g.next();
      expect(lba % 8).toBe(0);
      expect(lba + 8).toBeLessThanOrEqual(1000);
      seen.add(lba);
    }
    expect(seen.size).toBe(125);
  });
  it('random over a namespace larger than 2^32 blocks stays in range', () => {
    const blocks = 2 ** 40;
    const g = new LbaGenerator(true, blocks, 4096, 4096, new Prng(3));
    let max = 0;
    for (let i = 0; i < 10_000; i++) max = Math.max(max, g.next());
    expect(max).toBeLessThan(blocks);
    expect(max).toBeGreaterThan(2 ** 39); // uses the upper half too
  });
  it('rejects an I/O size that is not a multiple of the block size', () => {
    expect(() => new LbaGenerator(true, 100, 4096, 512, new Prng(1))).toThrow(/not a multiple of the block size 4096/);
  });
  it('the same seed gives the same sequence', () => {
    const a = new LbaGenerator(true, 1 << 20, 512, 4096, new Prng(7));
    const b = new LbaGenerator(true, 1 << 20, 512, 4096, new Prng(7));
    for (let i = 0; i < 100; i++) expect(a.next()).toBe(b.next());
  });
});

describe('read/write mix', () => {
  it('-M 70 gives 70 % reads ± 2 % over 100 000 draws', () => {
    const m = new RwMix(70, new Prng(12345));
    let reads = 0;
    for (let i = 0; i < 100_000; i++) if (m.isRead()) reads++;
    expect(Math.abs(reads / 100_000 - 0.7)).toBeLessThan(0.02);
  });
  it('0 and 100 are exact', () => {
    const r = new RwMix(100, new Prng(1)), w = new RwMix(0, new Prng(1));
    for (let i = 0; i < 1000; i++) { expect(r.isRead()).toBe(true); expect(w.isRead()).toBe(false); }
  });
});

describe('namespace ↔ worker association (spdk_nvme_perf style)', () => {
  it('one namespace, two workers: both drive it', () => {
    expect(assignNamespaces(1, 2)).toEqual([[0], [0]]);
  });
  it('three namespaces, two workers: round-robin', () => {
    expect(assignNamespaces(3, 2)).toEqual([[0, 2], [1]]);
  });
  it('counts qpairs per target', () => {
    expect(qpairsPerTarget([[0, 2], [1]], [0, 0, 1], 2, 2)).toEqual([4, 2]);
  });
});
