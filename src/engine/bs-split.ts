// bssplit: the I/O size of each I/O drawn from weighted sizes. Cumulative 32-bit thresholds are
// precomputed; a draw is one PRNG call and a short scan, no allocation.
import type { Prng } from './prng.js';
import type { BsSplitEntry } from './workload-spec.js';

export class BlockSizeSplit {
  /** Sizes in blocks, in entry order. */
  readonly blocks: Int32Array;
  private readonly thresholds: Float64Array;
  readonly minBlocks: number;
  readonly maxBlocks: number;

  constructor(entries: readonly BsSplitEntry[], blockSize: number, private readonly prng: Prng) {
    const used = entries.filter((e) => e.percent > 0);
    if (used.length === 0) throw new RangeError('bssplit has no entry with a share above 0 %');
    this.blocks = new Int32Array(used.length);
    this.thresholds = new Float64Array(used.length);
    const total = used.reduce((s, e) => s + e.percent, 0);
    let cum = 0;
    used.forEach((e, i) => {
      if (e.bytes % blockSize !== 0) throw new RangeError(`bssplit size ${e.bytes} is not a multiple of the block size ${blockSize}`);
      this.blocks[i] = e.bytes / blockSize;
      cum += e.percent;
      this.thresholds[i] = i === used.length - 1 ? 4294967296 : Math.round((cum / total) * 4294967296);
    });
    this.minBlocks = Math.min(...this.blocks);
    this.maxBlocks = Math.max(...this.blocks);
  }

  /** Blocks of the next I/O. */
  next(): number {
    const u = this.prng.nextU32();
    const t = this.thresholds;
    let i = 0;
    while (u >= t[i]!) i++;
    return this.blocks[i]!;
  }
}
