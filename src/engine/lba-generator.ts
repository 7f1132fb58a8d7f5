// Where the next I/O goes: sequential (per context, wrapping at the namespace end) or uniform random,
// aligned to the I/O size, like spdk_nvme_perf's offset_in_ios.
import { Prng } from './prng.js';

export class LbaGenerator {
  /** Number of whole I/O-sized slots in the namespace. */
  readonly slots: number;
  readonly blocksPerIo: number;
  private nextSlot = 0;

  constructor(readonly random: boolean, namespaceBlocks: number, blockSize: number, ioSize: number,
    private readonly prng: Prng) {
    if (ioSize % blockSize !== 0) throw new RangeError(`I/O size ${ioSize} is not a multiple of the block size ${blockSize}`);
    this.blocksPerIo = ioSize / blockSize;
    this.slots = Math.floor(namespaceBlocks / this.blocksPerIo);
    if (this.slots < 1) throw new RangeError(`I/O size ${ioSize} is larger than the namespace`);
  }

  /** Starting LBA of the next I/O. */
  next(): number {
    if (this.random) return this.prng.below(this.slots) * this.blocksPerIo;
    const s = this.nextSlot;
    this.nextSlot = s + 1 === this.slots ? 0 : s + 1;
    return s * this.blocksPerIo;
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
