// Dataset Management range (NVMe base spec, "Dataset Management" command): 16 bytes each —
// context attributes (4), length in logical blocks (4), starting LBA (8).

export const DSM_RANGE_SIZE = 16;

export const DsmRangeOffset = { CATTR: 0, NLB: 4, SLBA: 8 } as const;

const TWO32 = 0x1_0000_0000;

export function dsmRangeNlb(dv: DataView, base: number): number {
  return dv.getUint32(base + DsmRangeOffset.NLB, true);
}

/** SLBA as a JS number (exact up to 2^53). */
export function dsmRangeSlba(dv: DataView, base: number): number {
  return dv.getUint32(base + DsmRangeOffset.SLBA, true) + dv.getUint32(base + DsmRangeOffset.SLBA + 4, true) * TWO32;
}
