// Where the next I/O goes: sequential (per context, wrapping at the end of the range) or random,
// aligned to the I/O size (the smallest bssplit size), like spdk_nvme_perf's offset_in_ios. Random
// offsets follow a distribution (uniform, zipf, pareto, normal); zipf and pareto ranks go through a
// permutation of the range so the hot blocks are spread over all of it. Allocation-free.
import { Prng } from './prng.js';
import { createRankSampler, needsScramble, type RankSampler } from './rank-sampler.js';
import { RangeScramble } from './scramble.js';
import type { RandomDistribution } from './workload-spec.js';

export interface LbaRangeOptions {
  /** First block of the range (default 0). */
  startBlock?: number;
  /** Blocks in the range (default: namespace end − startBlock). */
  rangeBlocks?: number;
  /** Alignment and slot size in bytes (default: ioSize); the smallest size of a bssplit. */
  alignBytes?: number;
  distribution?: RandomDistribution;
}

export class LbaGenerator {
  /** Number of whole slots (alignment units) in the range. */
  readonly slots: number;
  /** Blocks of an I/O of `ioSize` (the largest I/O). */
  readonly blocksPerIo: number;
  readonly startBlock: number;
  readonly rangeBlocks: number;
  private readonly unitBlocks: number;
  private readonly sampler: RankSampler | undefined;
  private readonly scramble: RangeScramble | undefined;
  private nextOffset = 0;

  constructor(readonly random: boolean, namespaceBlocks: number, blockSize: number, ioSize: number,
    private readonly prng: Prng, opts: LbaRangeOptions = {}) {
    if (ioSize % blockSize !== 0) throw new RangeError(`I/O size ${ioSize} is not a multiple of the block size ${blockSize}`);
    const align = opts.alignBytes ?? ioSize;
    if (align % blockSize !== 0) throw new RangeError(`I/O size ${align} is not a multiple of the block size ${blockSize}`);
    this.blocksPerIo = ioSize / blockSize;
    this.unitBlocks = align / blockSize;
    this.startBlock = opts.startBlock ?? 0;
    this.rangeBlocks = opts.rangeBlocks ?? namespaceBlocks - this.startBlock;
    if (this.startBlock < 0 || this.startBlock + this.rangeBlocks > namespaceBlocks) {
      throw new RangeError(`range ${this.startBlock}+${this.rangeBlocks} blocks is outside the namespace (${namespaceBlocks} blocks)`);
    }
    this.slots = Math.floor(this.rangeBlocks / this.unitBlocks);
    if (this.slots < 1 || this.blocksPerIo > this.rangeBlocks) throw new RangeError(`I/O size ${ioSize} is larger than the namespace`);
    const d = opts.distribution;
    if (random && d && d.kind !== 'random') {
      this.sampler = createRankSampler(d, this.slots, prng);
      if (needsScramble(d)) this.scramble = new RangeScramble(this.slots, prng.nextU32());
    }
  }

  /** Starting LBA of the next I/O of `blocks` blocks (default: the I/O size). */
  next(blocks: number = this.blocksPerIo): number {
    const unit = this.unitBlocks;
    if (this.random) {
      let slot: number;
      if (this.sampler === undefined) slot = this.prng.below(this.slots);
      else if (this.scramble === undefined) slot = this.sampler.next();
      else slot = this.scramble.map(this.sampler.next());
      let off = slot * unit;
      // A larger bssplit size near the end moves back to the last aligned place it fits.
      if (off + blocks > this.rangeBlocks) off = Math.floor((this.rangeBlocks - blocks) / unit) * unit;
      return this.startBlock + off;
    }
    let off = this.nextOffset;
    if (off + blocks > this.rangeBlocks) off = 0;
    this.nextOffset = off + blocks;
    if (this.nextOffset + unit > this.rangeBlocks) this.nextOffset = 0;
    return this.startBlock + off;
  }
}

/** Read or write, by -M percentage. */
export class RwMix {
  private readonly threshold: number;
  constructor(readPercent: number, private readonly prng: Prng) {
    this.threshold = Math.round((readPercent / 100) * 4294967296);
  }
  isRead(): boolean {
    return this.threshold >= 4294967296 || (this.threshold > 0 && this.prng.nextU32() < this.threshold);
  }
}
