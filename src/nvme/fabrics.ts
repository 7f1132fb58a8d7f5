// Fabrics commands: Connect (FCTYPE 0x01) and Property Get/Set (0x04/0x00).
import { AdminOpcode, FabricsType } from './opcodes.js';
import { SglId, SQE_FLAGS_PSDT_SGL, emptySqe, type Sqe } from './sqe.js';
import { readFixedString, writeNulPadded } from './strings.js';

export const CONNECT_DATA_SIZE = 1024;
/** Admin Connect uses CNTLID 0xFFFF (dynamic controller model). */
export const CNTLID_DYNAMIC = 0xffff;

export const ConnectDataOffset = { HOSTID: 0, CNTLID: 16, SUBNQN: 256, HOSTNQN: 512 } as const;

export interface ConnectCommand {
  /** RECFMT, CDW10 bits 15:0: must be 0. */
  recfmt: number;
  qid: number;
  /** 0's based queue depth. */
  sqsize: number;
  /** CATTR bit 2: disable SQ flow control. */
  cattr: number;
  /** Keep-alive timeout in ms (admin queue only). */
  kato: number;
}

export interface ConnectData {
  hostId: Uint8Array; // 16 bytes
  cntlid: number;
  subnqn: string;
  hostnqn: string;
}

/** Connect SQE: RECFMT at byte 40, QID 42, SQSIZE 44, CATTR 46, KATO 48; SGL 0x01 ICD of 1024 bytes. */
export function connectSqe(cid: number, c: ConnectCommand): Sqe {
  const s = emptySqe();
  s.opc = AdminOpcode.Fabrics;
  s.flags = SQE_FLAGS_PSDT_SGL;
  s.cid = cid;
  s.nsid = FabricsType.Connect; // FCTYPE lives in byte 4
  s.sglId = SglId.DataBlockOffset;
  s.sglLen = CONNECT_DATA_SIZE;
  s.cdw10 = (c.recfmt & 0xffff) | ((c.qid & 0xffff) << 16);
  s.cdw11 = (c.sqsize & 0xffff) | ((c.cattr & 0xff) << 16);
  s.cdw12 = c.kato >>> 0;
  return s;
}

export function parseConnectCommand(s: Sqe): ConnectCommand {
  return {
    recfmt: s.cdw10 & 0xffff,
    qid: s.cdw10 >>> 16,
    sqsize: s.cdw11 & 0xffff,
    cattr: (s.cdw11 >>> 16) & 0xff,
    kato: s.cdw12 >>> 0,
  };
}

export function encodeConnectData(u8: Uint8Array, off: number, d: ConnectData): void {
  u8.fill(0, off, off + CONNECT_DATA_SIZE);
  u8.set(d.hostId.subarray(0, 16), off + ConnectDataOffset.HOSTID);
  u8[off + ConnectDataOffset.CNTLID] = d.cntlid & 0xff;
  u8[off + ConnectDataOffset.CNTLID + 1] = d.cntlid >>> 8;
  writeNulPadded(u8, off + ConnectDataOffset.SUBNQN, 256, d.subnqn);
  writeNulPadded(u8, off + ConnectDataOffset.HOSTNQN, 256, d.hostnqn);
}

export function decodeConnectData(u8: Uint8Array, off: number): ConnectData {
  return {
    hostId: u8.slice(off, off + 16),
    cntlid: u8[off + 16]! | (u8[off + 17]! << 8),
    subnqn: readFixedString(u8, off + ConnectDataOffset.SUBNQN, 256),
    hostnqn: readFixedString(u8, off + ConnectDataOffset.HOSTNQN, 256),
  };
}

/** Property Get: ATTRIB (byte 40) bits 2:0 = size (0: 4 bytes, 1: 8 bytes), OFST at byte 44. */
export function propertyGetSqe(cid: number, offset: number, size: 4 | 8): Sqe {
  const s = emptySqe();
  s.opc = AdminOpcode.Fabrics;
  s.cid = cid;
  s.nsid = FabricsType.PropertyGet;
  s.sglLen = 0;
  s.cdw10 = size === 8 ? 1 : 0;
  s.cdw11 = offset;
  return s;
}

/** Property Set: ATTRIB byte 40, OFST byte 44, VALUE bytes 48..55. */
export function propertySetSqe(cid: number, offset: number, size: 4 | 8, value: bigint): Sqe {
  const s = propertyGetSqe(cid, offset, size);
  s.nsid = FabricsType.PropertySet;
  s.cdw12 = Number(value & 0xffffffffn);
  s.cdw13 = Number((value >> 32n) & 0xffffffffn);
  return s;
}

/** Connect Invalid Parameters DW0: IPO (bits 15:0) = byte offset, IATTR bit 16: offset is in the Connect data. */
export function connectInvalidParamDw0(offset: number, inData: boolean): number {
  return ((offset & 0xffff) | ((inData ? 1 : 0) << 16)) >>> 0;
}

export function fabricsTypeName(fctype: number): string {
  switch (fctype) {
    case FabricsType.PropertySet: return 'Property Set';
    case FabricsType.Connect: return 'Connect';
    case FabricsType.PropertyGet: return 'Property Get';
    case FabricsType.AuthSend: return 'Authentication Send';
    case FabricsType.AuthReceive: return 'Authentication Receive';
    case FabricsType.Disconnect: return 'Disconnect';
    default: return `Fabrics 0x${fctype.toString(16)}`;
  }
}
