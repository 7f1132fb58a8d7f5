// Discovery log page (LID 0x70): 1024-byte header, then 1024-byte entries.
import { readFixedString, writeNulPadded } from './strings.js';

export const DISCOVERY_HEADER_SIZE = 1024;
export const DISCOVERY_ENTRY_SIZE = 1024;

export const TrType = { RDMA: 1, FC: 2, TCP: 3, Loop: 254 } as const;
export const AdrFam = { IPv4: 1, IPv6: 2, IB: 3, FC: 4 } as const;
export const SubType = { Referral: 1, Nvme: 2, CurrentDiscovery: 3 } as const;

export interface DiscoveryLogEntry {
  trtype: number;
  adrfam: number;
  subtype: number;
  treq: number;
  portid: number;
  cntlid: number;
  asqsz: number;
  eflags: number;
  trsvcid: string;
  subnqn: string;
  traddr: string;
  /** TCP: byte 0 of TSAS is SECTYPE (0 none). */
  sectype: number;
}

export interface DiscoveryLogHeader {
  genctr: bigint;
  numrec: bigint;
  recfmt: number;
}

export function discoveryLogSize(entries: number): number {
  return DISCOVERY_HEADER_SIZE + entries * DISCOVERY_ENTRY_SIZE;
}

/** Encodes the whole log into `u8` (which must hold discoveryLogSize(entries.length) bytes). */
export function encodeDiscoveryLog(u8: Uint8Array, genctr: bigint, entries: DiscoveryLogEntry[]): void {
  const size = discoveryLogSize(entries.length);
  u8.fill(0, 0, size);
  const dv = new DataView(u8.buffer, u8.byteOffset, size);
  dv.setBigUint64(0, genctr, true);
  dv.setBigUint64(8, BigInt(entries.length), true);
  dv.setUint16(16, 0, true);
  entries.forEach((e, i) => {
    const b = DISCOVERY_HEADER_SIZE + i * DISCOVERY_ENTRY_SIZE;
    u8[b] = e.trtype; u8[b + 1] = e.adrfam; u8[b + 2] = e.subtype; u8[b + 3] = e.treq;
    dv.setUint16(b + 4, e.portid, true);
    dv.setUint16(b + 6, e.cntlid, true);
    dv.setUint16(b + 8, e.asqsz, true);
    dv.setUint16(b + 10, e.eflags, true);
    writeNulPadded(u8, b + 32, 32, e.trsvcid);
    writeNulPadded(u8, b + 256, 256, e.subnqn);
    writeNulPadded(u8, b + 512, 256, e.traddr);
    u8[b + 768] = e.sectype;
  });
}

export function decodeDiscoveryLogHeader(u8: Uint8Array): DiscoveryLogHeader {
  const dv = new DataView(u8.buffer, u8.byteOffset, 20);
  return { genctr: dv.getBigUint64(0, true), numrec: dv.getBigUint64(8, true), recfmt: dv.getUint16(16, true) };
}

export function decodeDiscoveryLogEntry(u8: Uint8Array, off: number): DiscoveryLogEntry {
  const dv = new DataView(u8.buffer, u8.byteOffset + off, DISCOVERY_ENTRY_SIZE);
  return {
    trtype: dv.getUint8(0), adrfam: dv.getUint8(1), subtype: dv.getUint8(2), treq: dv.getUint8(3),
    portid: dv.getUint16(4, true), cntlid: dv.getUint16(6, true), asqsz: dv.getUint16(8, true),
    eflags: dv.getUint16(10, true),
    trsvcid: readFixedString(u8, off + 32, 32).trim(),
    subnqn: readFixedString(u8, off + 256, 256),
    traddr: readFixedString(u8, off + 512, 256).trim(),
    sectype: dv.getUint8(768),
  };
}

export function trtypeName(t: number): string {
  return t === 3 ? 'tcp' : t === 1 ? 'rdma' : t === 2 ? 'fc' : t === 254 ? 'loop' : `unknown(${t})`;
}
export function adrfamName(a: number): string {
  return a === 1 ? 'ipv4' : a === 2 ? 'ipv6' : a === 3 ? 'ib' : a === 4 ? 'fc' : `unknown(${a})`;
}
export function subtypeName(s: number): string {
  return s === 1 ? 'referral' : s === 2 ? 'nvme subsystem' : s === 3 ? 'current discovery subsystem' : `unknown(${s})`;
}
