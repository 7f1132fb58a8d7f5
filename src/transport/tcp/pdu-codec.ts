// Encoders and decoders for NVMe/TCP PDUs. Encoders write in place into caller-owned buffers
// (no allocation) and return the number of bytes written.
import { CH_SIZE, DIGEST_SIZE, PduFlags, PduType, TCP_LIMITS } from './pdu-types.js';

export interface IcReq {
  pfv: number;
  /** Host PDU data alignment, 0's based dwords. */
  hpda: number;
  hdgst: boolean;
  ddgst: boolean;
  /** 0's based maximum outstanding R2Ts per command. */
  maxr2t: number;
}

export interface IcResp {
  pfv: number;
  /** Controller PDU data alignment, 0's based dwords. */
  cpda: number;
  hdgst: boolean;
  ddgst: boolean;
  maxh2cdata: number;
}

export function writeCommonHeader(dv: DataView, off: number, type: number, flags: number, hlen: number,
  pdo: number, plen: number): void {
  dv.setUint32(off, type | (flags << 8) | (hlen << 16) | (pdo << 24), true);
  dv.setUint32(off + 4, plen, true);
}

/** ICReq: PFV at 8, HPDA 10, DGST 11 (bit0 HDGST, bit1 DDGST), MAXR2T 12; 128 bytes, rest zero. */
export function encodeIcReq(u8: Uint8Array, off: number, r: IcReq): number {
  const dv = new DataView(u8.buffer, u8.byteOffset);
  u8.fill(0, off, off + 128);
  writeCommonHeader(dv, off, PduType.ICReq, 0, 128, 0, 128);
  dv.setUint16(off + 8, r.pfv, true);
  u8[off + 10] = r.hpda;
  u8[off + 11] = (r.hdgst ? 1 : 0) | (r.ddgst ? 2 : 0);
  dv.setUint32(off + 12, r.maxr2t >>> 0, true);
  return 128;
}

export function decodeIcReq(u8: Uint8Array, off: number): IcReq {
  const dv = new DataView(u8.buffer, u8.byteOffset);
  const d = u8[off + 11]!;
  return { pfv: dv.getUint16(off + 8, true), hpda: u8[off + 10]!, hdgst: (d & 1) !== 0, ddgst: (d & 2) !== 0,
    maxr2t: dv.getUint32(off + 12, true) };
}

/** ICResp: PFV at 8, CPDA 10, DGST 11, MAXH2CDATA 12; 128 bytes. */
export function encodeIcResp(u8: Uint8Array, off: number, r: IcResp): number {
  const dv = new DataView(u8.buffer, u8.byteOffset);
  u8.fill(0, off, off + 128);
  writeCommonHeader(dv, off, PduType.ICResp, 0, 128, 0, 128);
  dv.setUint16(off + 8, r.pfv, true);
  u8[off + 10] = r.cpda;
  u8[off + 11] = (r.hdgst ? 1 : 0) | (r.ddgst ? 2 : 0);
  dv.setUint32(off + 12, r.maxh2cdata >>> 0, true);
  return 128;
}

export function decodeIcResp(u8: Uint8Array, off: number): IcResp {
  const dv = new DataView(u8.buffer, u8.byteOffset);
  const d = u8[off + 11]!;
  return { pfv: dv.getUint16(off + 8, true), cpda: u8[off + 10]!, hdgst: (d & 1) !== 0, ddgst: (d & 2) !== 0,
    maxh2cdata: dv.getUint32(off + 12, true) };
}

/**
 * H2CTermReq / C2HTermReq: FES at 8 (u16), FEI at 10 (u32, unaligned), 10 reserved bytes, then a copy
 * of the offending PDU header (at most 128 bytes). PDO 0.
 */
export function encodeTermReq(u8: Uint8Array, off: number, type: number, fes: number, fei: number,
  offending: Uint8Array | null): number {
  const dv = new DataView(u8.buffer, u8.byteOffset);
  const copy = offending ? Math.min(offending.length, TCP_LIMITS.TERM_REQ_MAX_COPY) : 0;
  u8.fill(0, off, off + 24);
  writeCommonHeader(dv, off, type, 0, 24, 0, 24 + copy);
  dv.setUint16(off + 8, fes, true);
  dv.setUint32(off + 10, fei >>> 0, true);
  if (offending && copy > 0) u8.set(offending.subarray(0, copy), off + 24);
  return 24 + copy;
}

/** Alignment in bytes from a 0's based dword PDA value. */
function pdaAlignment(pda: number): number {
  return (pda + 1) * 4;
}

/**
 * PDO for a PDU with data: the smallest multiple of the receiver's alignment that is at least
 * HLEN + HDGST. With PDA 0 (4-byte alignment) this is simply HLEN + HDGST.
 */
export function dataOffsetFor(hlen: number, hdgst: boolean, pda: number): number {
  const min = hlen + (hdgst ? DIGEST_SIZE : 0);
  const a = pdaAlignment(pda);
  return Math.ceil(min / a) * a;
}

/** CapsuleResp: CH (HLEN 24, PDO 0) + 16-byte CQE at 8; header digest optional. Returns PLEN. */
export function encodeCapsuleRespHeader(dv: DataView, off: number, hdgst: boolean): number {
  const plen = 24 + (hdgst ? DIGEST_SIZE : 0);
  writeCommonHeader(dv, off, PduType.CapsuleResp, hdgst ? PduFlags.HDGSTF : 0, 24, 0, plen);
  return plen;
}

/**
 * Data PDU header (H2CData, C2HData, R2T share the layout): CCCID 8, TTAG 10, DATAO/R2TO 12, DATAL/R2TL 16.
 * For R2T pass dataLen 0 in the CH sense: PLEN = 24 (+4).
 */
export function encodeDataPduHeader(dv: DataView, off: number, type: number, flags: number, pdo: number,
  plen: number, cccid: number, ttag: number, offset: number, length: number): void {
  writeCommonHeader(dv, off, type, flags, 24, pdo, plen);
  dv.setUint16(off + 8, cccid, true);
  dv.setUint16(off + 10, ttag, true);
  dv.setUint32(off + 12, offset, true);
  dv.setUint32(off + 16, length, true);
  dv.setUint32(off + 20, 0, true);
}

export { CH_SIZE, DIGEST_SIZE };
