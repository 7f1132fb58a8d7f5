// 16-byte completion queue entry.

export const CQE_SIZE = 16;

export const CqeOffset = { DW0: 0, DW1: 4, SQHD: 8, SQID: 10, CID: 12, STATUS: 14 } as const;

export interface Cqe {
  dw0: number;
  dw1: number;
  sqhd: number;
  sqid: number;
  cid: number;
  /** Raw 16-bit status field; see status.ts. */
  status: number;
}

export function encodeCqe(dv: DataView, base: number, dw0: number, dw1: number, sqhd: number, sqid: number,
  cid: number, status: number): void {
  dv.setUint32(base, dw0 >>> 0, true);
  dv.setUint32(base + 4, dw1 >>> 0, true);
  dv.setUint16(base + 8, sqhd, true);
  dv.setUint16(base + 10, sqid, true);
  dv.setUint16(base + 12, cid, true);
  dv.setUint16(base + 14, status, true);
}

export function decodeCqe(dv: DataView, base: number): Cqe {
  return {
    dw0: dv.getUint32(base, true),
    dw1: dv.getUint32(base + 4, true),
    sqhd: dv.getUint16(base + 8, true),
    sqid: dv.getUint16(base + 10, true),
    cid: dv.getUint16(base + 12, true),
    status: dv.getUint16(base + 14, true),
  };
}
