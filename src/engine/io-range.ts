// --range / fio offset+size → the blocks of one namespace the I/O goes to, and its split between
// the contexts that drive that namespace when verifying (each block then has one writer).
import type { IoRange, SizeOrPercent } from './workload-spec.js';

export interface BlockRange {
  startBlock: number;
  rangeBlocks: number;
}

function toBytes(v: SizeOrPercent, nsBytes: number): number {
  return v.bytes !== undefined ? v.bytes : Math.floor((nsBytes * (v.percent ?? 0)) / 100);
}

/** The range in blocks, or a reason it does not fit this namespace. */
export function resolveRange(range: IoRange | undefined, sizeBlocks: number, blockSize: number): BlockRange | string {
  if (!range) return { startBlock: 0, rangeBlocks: sizeBlocks };
  const nsBytes = sizeBlocks * blockSize;
  const off = toBytes(range.offset, nsBytes);
  if (off % blockSize !== 0) return `offset ${off} is not a multiple of the block size ${blockSize}`;
  if (off >= nsBytes) return `offset ${off} is at or past the end of the namespace (${nsBytes} bytes)`;
  const len = range.size ? toBytes(range.size, nsBytes) : nsBytes - off;
  if (off + len > nsBytes) return `offset ${off} + size ${len} is past the end of the namespace (${nsBytes} bytes)`;
  const blocks = Math.floor(len / blockSize);
  if (blocks < 1) return `size ${len} is less than one block (${blockSize} bytes)`;
  return { startBlock: off / blockSize, rangeBlocks: blocks };
}

/** Part `index` of `parts` equal parts, each a multiple of `alignBlocks`. */
export function splitRange(r: BlockRange, parts: number, index: number, alignBlocks: number): BlockRange {
  if (parts <= 1) return r;
  const unitsTotal = Math.floor(r.rangeBlocks / alignBlocks);
  const per = Math.floor(unitsTotal / parts);
  return { startBlock: r.startBlock + index * per * alignBlocks, rangeBlocks: per * alignBlocks };
}
