// 64-byte submission queue entry. Offsets are bytes from the SQE start (little-endian).

export const SQE_SIZE = 64;

export const SqeOffset = {
  OPC: 0,
  /** FUSE bits 1:0, PSDT bits 7:6 (must be 01b = SGL on fabrics: byte value 0x40). */
  FLAGS: 1,
  CID: 2,
  /** NSID, or FCTYPE (byte 4) for Fabrics commands. */
  NSID: 4,
  FCTYPE: 4,
  CDW2: 8,
  CDW3: 12,
  MPTR: 16,
  /** SGL1: address (8), length (4), reserved (3), identifier (1). */
  SGL_ADDR: 24,
  SGL_LEN: 32,
  SGL_ID: 39,
  CDW10: 40,
  CDW11: 44,
  CDW12: 48,
  CDW13: 52,
  CDW14: 56,
  CDW15: 60,
} as const;

/** PSDT = 01b (SGL for data), carried in every fabrics SQE. */
export const SQE_FLAGS_PSDT_SGL = 0x40;

/** SGL identifier byte: (type << 4) | subtype. */
export const SglId = {
  /** Data Block, Offset: data is in this capsule (ICD). */
  DataBlockOffset: 0x01,
  /** Transport Data Block, transport specific: data moves in separate PDUs. */
  TransportDataBlock: 0x5a,
} as const;

/** Plain decoded SQE, for admin paths and tests (the I/O path reads fields in place). */
export interface Sqe {
  opc: number;
  flags: number;
  cid: number;
  nsid: number;
  cdw2: number;
  cdw3: number;
  sglAddr: bigint;
  sglLen: number;
  sglId: number;
  cdw10: number;
  cdw11: number;
  cdw12: number;
  cdw13: number;
  cdw14: number;
  cdw15: number;
}

export function emptySqe(): Sqe {
  return { opc: 0, flags: SQE_FLAGS_PSDT_SGL, cid: 0, nsid: 0, cdw2: 0, cdw3: 0, sglAddr: 0n, sglLen: 0,
    sglId: SglId.TransportDataBlock, cdw10: 0, cdw11: 0, cdw12: 0, cdw13: 0, cdw14: 0, cdw15: 0 };
}

export function encodeSqe(dv: DataView, base: number, s: Sqe): void {
  dv.setUint8(base + SqeOffset.OPC, s.opc);
  dv.setUint8(base + SqeOffset.FLAGS, s.flags);
  dv.setUint16(base + SqeOffset.CID, s.cid, true);
  dv.setUint32(base + SqeOffset.NSID, s.nsid >>> 0, true);
  dv.setUint32(base + SqeOffset.CDW2, s.cdw2 >>> 0, true);
  dv.setUint32(base + SqeOffset.CDW3, s.cdw3 >>> 0, true);
  dv.setBigUint64(base + SqeOffset.MPTR, 0n, true);
  dv.setBigUint64(base + SqeOffset.SGL_ADDR, s.sglAddr, true);
  dv.setUint32(base + SqeOffset.SGL_LEN, s.sglLen >>> 0, true);
  dv.setUint16(base + 36, 0, true);
  dv.setUint8(base + 38, 0);
  dv.setUint8(base + SqeOffset.SGL_ID, s.sglId);
  dv.setUint32(base + SqeOffset.CDW10, s.cdw10 >>> 0, true);
  dv.setUint32(base + SqeOffset.CDW11, s.cdw11 >>> 0, true);
  dv.setUint32(base + SqeOffset.CDW12, s.cdw12 >>> 0, true);
  dv.setUint32(base + SqeOffset.CDW13, s.cdw13 >>> 0, true);
  dv.setUint32(base + SqeOffset.CDW14, s.cdw14 >>> 0, true);
  dv.setUint32(base + SqeOffset.CDW15, s.cdw15 >>> 0, true);
}

export function decodeSqe(dv: DataView, base: number): Sqe {
  return {
    opc: dv.getUint8(base + SqeOffset.OPC),
    flags: dv.getUint8(base + SqeOffset.FLAGS),
    cid: dv.getUint16(base + SqeOffset.CID, true),
    nsid: dv.getUint32(base + SqeOffset.NSID, true),
    cdw2: dv.getUint32(base + SqeOffset.CDW2, true),
    cdw3: dv.getUint32(base + SqeOffset.CDW3, true),
    sglAddr: dv.getBigUint64(base + SqeOffset.SGL_ADDR, true),
    sglLen: dv.getUint32(base + SqeOffset.SGL_LEN, true),
    sglId: dv.getUint8(base + SqeOffset.SGL_ID),
    cdw10: dv.getUint32(base + SqeOffset.CDW10, true),
    cdw11: dv.getUint32(base + SqeOffset.CDW11, true),
    cdw12: dv.getUint32(base + SqeOffset.CDW12, true),
    cdw13: dv.getUint32(base + SqeOffset.CDW13, true),
    cdw14: dv.getUint32(base + SqeOffset.CDW14, true),
    cdw15: dv.getUint32(base + SqeOffset.CDW15, true),
  };
}

const TWO32 = 0x1_0000_0000;

/**
 * Hot path: write a Read/Write/Write Zeroes SQE in place, no allocation.
 * SLBA at CDW10..11 (64-bit), NLB (0's based) at CDW12 bits 15:0.
 */
export function encodeRwSqe(dv: DataView, base: number, opc: number, cid: number, nsid: number,
  slba: number, nlb0: number, sglId: number, sglLen: number, cdw12High = 0): void {
  dv.setUint32(base, opc | (SQE_FLAGS_PSDT_SGL << 8) | (cid << 16), true);
  dv.setUint32(base + 4, nsid, true);
  dv.setUint32(base + 8, 0, true);
  dv.setUint32(base + 12, 0, true);
  dv.setUint32(base + 16, 0, true);
  dv.setUint32(base + 20, 0, true);
  dv.setUint32(base + 24, 0, true);
  dv.setUint32(base + 28, 0, true);
  dv.setUint32(base + 32, sglLen, true);
  dv.setUint32(base + 36, sglId << 24, true);
  dv.setUint32(base + 40, slba % TWO32, true);
  dv.setUint32(base + 44, Math.floor(slba / TWO32), true);
  dv.setUint32(base + 48, ((nlb0 & 0xffff) | (cdw12High << 16)) >>> 0, true);
  dv.setUint32(base + 52, 0, true);
  dv.setUint32(base + 56, 0, true);
  dv.setUint32(base + 60, 0, true);
}

/** SLBA (CDW10..11) as a JS number (exact up to 2^53 blocks). */
export function sqeSlba(dv: DataView, base: number): number {
  return dv.getUint32(base + 40, true) + dv.getUint32(base + 44, true) * TWO32;
}

// ---- In-place field accessors (no allocation): `dv` views the SQE at byte `b`.

export function sqeOpc(dv: DataView, b: number): number { return dv.getUint8(b + SqeOffset.OPC); }
/** FUSE (bits 1:0) and PSDT (bits 7:6). */
export function sqeFlags(dv: DataView, b: number): number { return dv.getUint8(b + SqeOffset.FLAGS); }
export function sqeCid(dv: DataView, b: number): number { return dv.getUint16(b + SqeOffset.CID, true); }
export function sqeNsid(dv: DataView, b: number): number { return dv.getUint32(b + SqeOffset.NSID, true); }
/** Fabrics command type (byte 4 of a Fabrics SQE). */
export function sqeFctype(dv: DataView, b: number): number { return dv.getUint8(b + SqeOffset.FCTYPE); }
/** SGL1 address, low and high dwords (the offset of an in-capsule Data Block descriptor). */
export function sqeSglAddrLo(dv: DataView, b: number): number { return dv.getUint32(b + SqeOffset.SGL_ADDR, true); }
export function sqeSglAddrHi(dv: DataView, b: number): number { return dv.getUint32(b + SqeOffset.SGL_ADDR + 4, true); }
export function sqeSglLen(dv: DataView, b: number): number { return dv.getUint32(b + SqeOffset.SGL_LEN, true); }
export function sqeSglId(dv: DataView, b: number): number { return dv.getUint8(b + SqeOffset.SGL_ID); }
export function sqeCdw10(dv: DataView, b: number): number { return dv.getUint32(b + SqeOffset.CDW10, true); }
export function sqeCdw11(dv: DataView, b: number): number { return dv.getUint32(b + SqeOffset.CDW11, true); }
export function sqeCdw12(dv: DataView, b: number): number { return dv.getUint32(b + SqeOffset.CDW12, true); }
export function sqeCdw13(dv: DataView, b: number): number { return dv.getUint32(b + SqeOffset.CDW13, true); }
export function sqeCdw14(dv: DataView, b: number): number { return dv.getUint32(b + SqeOffset.CDW14, true); }
export function sqeCdw15(dv: DataView, b: number): number { return dv.getUint32(b + SqeOffset.CDW15, true); }
/** Read/Write/Write Zeroes: number of logical blocks (CDW12 bits 15:0 are 0's based). */
export function sqeNlb(dv: DataView, b: number): number { return dv.getUint16(b + SqeOffset.CDW12, true) + 1; }
