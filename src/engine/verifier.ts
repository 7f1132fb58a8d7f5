// Data verification. Every written block carries a self-describing header and pattern:
//
//   word 0  magic 0x3146564e ("NVF1" little-endian)
//   word 1  CRC32C of bytes 8 .. blockSize-1 (everything after this word)
//   word 2,3  LBA (low, high 32 bits)
//   word 4  write generation of this block (1 for the first write, +1 per write)
//   word 5  run seed
//   word 6… pattern words derived from (LBA, generation, seed)
//
// The verifier keeps each block's current generation. A read of a written block is accepted when
// every field matches and the generation is one the block can hold: from the generation at read
// submission minus the writes still in flight then, up to the generation at read completion (a write
// racing the read may or may not have landed). Overlapping writes are never in flight together (the
// loop draws another LBA), so after a write completes the block's content is known exactly.
// Tables are typed arrays sized once; the per-I/O path allocates nothing (a mismatch record does,
// but a mismatch is not the hot path).
import { crc32c } from '../util/crc32c.js';

export const VERIFY_MAGIC = 0x3146564e;
const HEADER_WORDS = 6;
/** Largest range one verifier tracks (a 4-byte generation and a 1-byte in-flight count per block). */
export const MAX_VERIFY_BLOCKS = 2 ** 25;
const MAX_DETAILS = 20;
/** --verify writes the range before the start barrier; the runner waits this much longer for readiness. */
export const VERIFY_PREFILL_TIMEOUT_MS = 600_000;
/** Bound of the read-back pass after the measured run. */
export const VERIFY_SWEEP_TIMEOUT_MS = 600_000;

export interface VerifyMismatch {
  lba: number;
  /** What differed, e.g. "generation 3, expected 5..5" or "magic 0x00000000". */
  what: string;
}

export interface VerifyTotals {
  /** Blocks written with the pattern (prefill included). */
  blocksWritten: number;
  /** Blocks read back and checked. */
  blocksChecked: number;
  mismatches: number;
  /** The first mismatches, in the order found. */
  details: VerifyMismatch[];
}

export class Verifier {
  private readonly gen: Uint32Array;
  private readonly writesInFlight: Uint8Array;
  /** Per (qpair slot, block of the I/O): the lowest generation a read may see. */
  private lowGen = new Uint32Array(0);
  private blocksWritten = 0;
  private blocksChecked = 0;
  private mismatches = 0;
  private readonly details: VerifyMismatch[] = [];
  private readonly words: number;

  constructor(readonly startBlock: number, readonly rangeBlocks: number, readonly blockSize: number, readonly seed: number) {
    if (rangeBlocks > MAX_VERIFY_BLOCKS) throw new RangeError(`verify range of ${rangeBlocks} blocks exceeds ${MAX_VERIFY_BLOCKS}`);
    this.gen = new Uint32Array(rangeBlocks);
    this.writesInFlight = new Uint8Array(rangeBlocks);
    this.words = blockSize >>> 2;
  }

  /** Reserves per-slot read state for `slots` slots of up to `maxBlocks` blocks; returns the base key. */
  reserveSlots(slots: number, maxBlocks: number): number {
    const base = this.lowGen.length;
    const next = new Uint32Array(base + slots * maxBlocks);
    next.set(this.lowGen);
    this.lowGen = next;
    return base;
  }

  /** False when a write to any of these blocks is still in flight (two writes must not overlap). */
  canWrite(lba: number, blocks: number): boolean {
    const b0 = lba - this.startBlock;
    for (let i = 0; i < blocks; i++) if (this.writesInFlight[b0 + i] !== 0) return false;
    return true;
  }

  /** Stamps the next generation of each block into the write buffer (words at `wordOff`). */
  beginWrite(lba: number, blocks: number, u8: Uint8Array, u32: Uint32Array, byteOff: number): void {
    const b0 = lba - this.startBlock;
    const bs = this.blockSize;
    for (let i = 0; i < blocks; i++) {
      const b = b0 + i;
      const g = (this.gen[b]! + 1) >>> 0 || 1;
      this.gen[b] = g;
      this.writesInFlight[b]!++;
      fillBlock(u8, u32, byteOff + i * bs, this.words, lba + i, g, this.seed);
    }
    this.blocksWritten += blocks;
  }

  endWrite(lba: number, blocks: number): void {
    const b0 = lba - this.startBlock;
    for (let i = 0; i < blocks; i++) this.writesInFlight[b0 + i]!--;
  }

  /** Undoes beginWrite for a write that could not be submitted. */
  abortWrite(lba: number, blocks: number): void {
    const b0 = lba - this.startBlock;
    for (let i = 0; i < blocks; i++) {
      this.gen[b0 + i]!--;
      this.writesInFlight[b0 + i]!--;
    }
    this.blocksWritten -= blocks;
  }

  beginRead(slotKey: number, lba: number, blocks: number): void {
    const b0 = lba - this.startBlock;
    for (let i = 0; i < blocks; i++) {
      const b = b0 + i;
      this.lowGen[slotKey + i] = this.gen[b]! - this.writesInFlight[b]!;
    }
  }

  /** Checks each block of a completed read; counts and records mismatches. */
  endRead(slotKey: number, lba: number, blocks: number, u8: Uint8Array, u32: Uint32Array, byteOff: number): void {
    const b0 = lba - this.startBlock;
    const bs = this.blockSize;
    for (let i = 0; i < blocks; i++) {
      const high = this.gen[b0 + i]!;
      if (high === 0) continue; // never written by us: nothing to expect
      const low = this.lowGen[slotKey + i]!;
      this.blocksChecked++;
      const why = checkBlock(u8, u32, byteOff + i * bs, this.words, lba + i, low, high, this.seed);
      if (why !== undefined) this.record(lba + i, why);
    }
  }

  private record(lba: number, what: string): void {
    this.mismatches++;
    if (this.details.length < MAX_DETAILS) this.details.push({ lba, what });
  }

  totals(): VerifyTotals {
    return { blocksWritten: this.blocksWritten, blocksChecked: this.blocksChecked, mismatches: this.mismatches, details: this.details.slice() };
  }
}

/** Writes the header and pattern of one block at byte offset `off` (4-byte aligned). */
export function fillBlock(u8: Uint8Array, u32: Uint32Array, off: number, words: number, lba: number, gen: number, seed: number): void {
  const w = off >>> 2;
  const lbaHi = Math.floor(lba / 4294967296);
  const lbaLo = lba >>> 0;
  u32[w] = VERIFY_MAGIC;
  u32[w + 2] = lbaLo;
  u32[w + 3] = lbaHi;
  u32[w + 4] = gen;
  u32[w + 5] = seed;
  let x = patternSeed(lbaLo, lbaHi, gen, seed);
  for (let i = HEADER_WORDS; i < words; i++) {
    // xorshift32
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    u32[w + i] = x >>> 0;
  }
  u32[w + 1] = crc32c(u8, off + 8, words * 4 - 8);
}

/** Undefined when the block is what a write of generation low..high at `lba` put there; else why not. */
export function checkBlock(u8: Uint8Array, u32: Uint32Array, off: number, words: number, lba: number,
  low: number, high: number, seed: number): string | undefined {
  const w = off >>> 2;
  const magic = u32[w]!;
  if (magic !== VERIFY_MAGIC) return `magic 0x${hex(magic)}, expected 0x${hex(VERIFY_MAGIC)} (block not written by this run, or overwritten)`;
  const lbaLo = u32[w + 2]!, lbaHi = u32[w + 3]!;
  const gotLba = lbaHi * 4294967296 + lbaLo;
  if (gotLba !== lba) return `header LBA ${gotLba}, expected ${lba} (misplaced data)`;
  const seedGot = u32[w + 5]!;
  if (seedGot !== seed) return `seed 0x${hex(seedGot)}, expected 0x${hex(seed)} (data from another run)`;
  const crcGot = u32[w + 1]!;
  const crc = crc32c(u8, off + 8, words * 4 - 8);
  if (crc !== crcGot) return `checksum 0x${hex(crc)}, header says 0x${hex(crcGot)} (block contents corrupted)`;
  const g = u32[w + 4]!;
  if (g < low || g > high) return `generation ${g}, expected ${low === high ? high : `${low}..${high}`} (stale or lost write)`;
  return undefined;
}

function patternSeed(lbaLo: number, lbaHi: number, gen: number, seed: number): number {
  let z = (lbaLo ^ Math.imul(lbaHi, 0x27d4eb2f) ^ Math.imul(gen, 0x9e3779b9) ^ Math.imul(seed, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z = (z ^ (z >>> 16)) >>> 0;
  return z === 0 ? 0x6d2b79f5 : z;
}

function hex(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}
