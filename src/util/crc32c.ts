// CRC32C (Castagnoli) for NVMe/TCP digests. The native addon uses the CPU's crc32 instruction
// (bench/crc32c.mjs compares it with alternatives).
import { native } from '../native/index.js';

/** CRC32C of u8[off, off+len): init 0xFFFFFFFF, reflected, final xor 0xFFFFFFFF. */
export function crc32c(u8: Uint8Array, off: number, len: number): number {
  return native.crc32c(u8, off, len);
}
