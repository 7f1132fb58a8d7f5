// Identify data structures (4096 bytes each): Controller (CNS 1), Namespace (CNS 0),
// active namespace list (CNS 2), namespace identification descriptors (CNS 3).
import { readFixedString, writeNulPadded, writeSpacePadded } from './strings.js';

export const IDENTIFY_SIZE = 4096;

export interface IdentifyController {
  vid: number;
  ssvid: number;
  sn: string;
  mn: string;
  fr: string;
  rab: number;
  ieee: number;
  cmic: number;
  /** Max data transfer size: 2^mdts pages of 2^(12+CAP.MPSMIN); 0 = no limit. */
  mdts: number;
  cntlid: number;
  ver: number;
  rtd3r: number;
  rtd3e: number;
  oaes: number;
  ctratt: number;
  /** 1 I/O controller, 2 discovery controller, 3 administrative. */
  cntrltype: number;
  oacs: number;
  acl: number;
  aerl: number;
  frmw: number;
  lpa: number;
  elpe: number;
  npss: number;
  /** Keep-alive support granularity in 100 ms units. */
  kas: number;
  sqes: number;
  cqes: number;
  maxcmd: number;
  nn: number;
  oncs: number;
  fuses: number;
  fna: number;
  vwc: number;
  awun: number;
  awupf: number;
  sgls: number;
  subnqn: string;
  /** I/O command capsule size in 16-byte units (incl. the 64-byte SQE). */
  ioccsz: number;
  ioresz: number;
  icdoff: number;
  fcatt: number;
  msdbd: number;
  ofcs: number;
}

export const IdCtrlOffset = {
  VID: 0, SSVID: 2, SN: 4, MN: 24, FR: 64, RAB: 72, IEEE: 73, CMIC: 76, MDTS: 77, CNTLID: 78, VER: 80,
  RTD3R: 84, RTD3E: 88, OAES: 92, CTRATT: 96, CNTRLTYPE: 111, OACS: 256, ACL: 258, AERL: 259, FRMW: 260,
  LPA: 261, ELPE: 262, NPSS: 263, KAS: 320, SQES: 512, CQES: 513, MAXCMD: 514, NN: 516, ONCS: 520,
  FUSES: 522, FNA: 524, VWC: 525, AWUN: 526, AWUPF: 528, SGLS: 536, SUBNQN: 768, IOCCSZ: 1792,
  IORCSZ: 1796, ICDOFF: 1800, FCATT: 1802, MSDBD: 1803, OFCS: 1804,
} as const;

/** ONCS bits. */
export const Oncs = { Compare: 1 << 0, WriteUncorrectable: 1 << 1, Dsm: 1 << 2, WriteZeroes: 1 << 3 } as const;

export function encodeIdentifyController(u8: Uint8Array, c: IdentifyController): void {
  u8.fill(0, 0, IDENTIFY_SIZE);
  const dv = new DataView(u8.buffer, u8.byteOffset, IDENTIFY_SIZE);
  const O = IdCtrlOffset;
  dv.setUint16(O.VID, c.vid, true);
  dv.setUint16(O.SSVID, c.ssvid, true);
  writeSpacePadded(u8, O.SN, 20, c.sn);
  writeSpacePadded(u8, O.MN, 40, c.mn);
  writeSpacePadded(u8, O.FR, 8, c.fr);
  u8[O.RAB] = c.rab;
  u8[O.IEEE] = c.ieee & 0xff; u8[O.IEEE + 1] = (c.ieee >>> 8) & 0xff; u8[O.IEEE + 2] = (c.ieee >>> 16) & 0xff;
  u8[O.CMIC] = c.cmic;
  u8[O.MDTS] = c.mdts;
  dv.setUint16(O.CNTLID, c.cntlid, true);
  dv.setUint32(O.VER, c.ver, true);
  dv.setUint32(O.RTD3R, c.rtd3r, true);
  dv.setUint32(O.RTD3E, c.rtd3e, true);
  dv.setUint32(O.OAES, c.oaes >>> 0, true);
  dv.setUint32(O.CTRATT, c.ctratt >>> 0, true);
  u8[O.CNTRLTYPE] = c.cntrltype;
  dv.setUint16(O.OACS, c.oacs, true);
  u8[O.ACL] = c.acl; u8[O.AERL] = c.aerl; u8[O.FRMW] = c.frmw; u8[O.LPA] = c.lpa;
  u8[O.ELPE] = c.elpe; u8[O.NPSS] = c.npss;
  dv.setUint16(O.KAS, c.kas, true);
  u8[O.SQES] = c.sqes; u8[O.CQES] = c.cqes;
  dv.setUint16(O.MAXCMD, c.maxcmd, true);
  dv.setUint32(O.NN, c.nn, true);
  dv.setUint16(O.ONCS, c.oncs, true);
  dv.setUint16(O.FUSES, c.fuses, true);
  u8[O.FNA] = c.fna; u8[O.VWC] = c.vwc;
  dv.setUint16(O.AWUN, c.awun, true);
  dv.setUint16(O.AWUPF, c.awupf, true);
  dv.setUint32(O.SGLS, c.sgls >>> 0, true);
  writeNulPadded(u8, O.SUBNQN, 256, c.subnqn);
  dv.setUint32(O.IOCCSZ, c.ioccsz, true);
  dv.setUint32(O.IORCSZ, c.ioresz, true);
  dv.setUint16(O.ICDOFF, c.icdoff, true);
  u8[O.FCATT] = c.fcatt; u8[O.MSDBD] = c.msdbd;
  dv.setUint16(O.OFCS, c.ofcs, true);
}

export function decodeIdentifyController(u8: Uint8Array): IdentifyController {
  const dv = new DataView(u8.buffer, u8.byteOffset, IDENTIFY_SIZE);
  const O = IdCtrlOffset;
  return {
    vid: dv.getUint16(O.VID, true),
    ssvid: dv.getUint16(O.SSVID, true),
    sn: readFixedString(u8, O.SN, 20).trim(),
    mn: readFixedString(u8, O.MN, 40).trim(),
    fr: readFixedString(u8, O.FR, 8).trim(),
    rab: u8[O.RAB]!,
    ieee: u8[O.IEEE]! | (u8[O.IEEE + 1]! << 8) | (u8[O.IEEE + 2]! << 16),
    cmic: u8[O.CMIC]!,
    mdts: u8[O.MDTS]!,
    cntlid: dv.getUint16(O.CNTLID, true),
    ver: dv.getUint32(O.VER, true),
    rtd3r: dv.getUint32(O.RTD3R, true),
    rtd3e: dv.getUint32(O.RTD3E, true),
    oaes: dv.getUint32(O.OAES, true),
    ctratt: dv.getUint32(O.CTRATT, true),
    cntrltype: u8[O.CNTRLTYPE]!,
    oacs: dv.getUint16(O.OACS, true),
    acl: u8[O.ACL]!, aerl: u8[O.AERL]!, frmw: u8[O.FRMW]!, lpa: u8[O.LPA]!, elpe: u8[O.ELPE]!, npss: u8[O.NPSS]!,
    kas: dv.getUint16(O.KAS, true),
    sqes: u8[O.SQES]!, cqes: u8[O.CQES]!,
    maxcmd: dv.getUint16(O.MAXCMD, true),
    nn: dv.getUint32(O.NN, true),
    oncs: dv.getUint16(O.ONCS, true),
    fuses: dv.getUint16(O.FUSES, true),
    fna: u8[O.FNA]!, vwc: u8[O.VWC]!,
    awun: dv.getUint16(O.AWUN, true),
    awupf: dv.getUint16(O.AWUPF, true),
    sgls: dv.getUint32(O.SGLS, true),
    subnqn: readFixedString(u8, O.SUBNQN, 256),
    ioccsz: dv.getUint32(O.IOCCSZ, true),
    ioresz: dv.getUint32(O.IORCSZ, true),
    icdoff: dv.getUint16(O.ICDOFF, true),
    fcatt: u8[O.FCATT]!, msdbd: u8[O.MSDBD]!,
    ofcs: dv.getUint16(O.OFCS, true),
  };
}

export interface LbaFormat {
  /** Metadata bytes per block. */
  ms: number;
  /** log2 of the block size (9 = 512, 12 = 4096). */
  lbads: number;
  rp: number;
}

export interface IdentifyNamespace {
  nsze: bigint;
  ncap: bigint;
  nuse: bigint;
  nsfeat: number;
  /** 0's based number of LBA formats. */
  nlbaf: number;
  flbas: number;
  mc: number;
  dpc: number;
  dps: number;
  nmic: number;
  dlfeat: number;
  nsattr: number;
  nguid: Uint8Array; // 16
  eui64: Uint8Array; // 8
  lbaf: LbaFormat[];
}

export const IdNsOffset = {
  NSZE: 0, NCAP: 8, NUSE: 16, NSFEAT: 24, NLBAF: 25, FLBAS: 26, MC: 27, DPC: 28, DPS: 29, NMIC: 30,
  DLFEAT: 33, NSATTR: 99, NGUID: 104, EUI64: 120, LBAF: 128,
} as const;

export function encodeIdentifyNamespace(u8: Uint8Array, n: IdentifyNamespace): void {
  u8.fill(0, 0, IDENTIFY_SIZE);
  const dv = new DataView(u8.buffer, u8.byteOffset, IDENTIFY_SIZE);
  const O = IdNsOffset;
  dv.setBigUint64(O.NSZE, n.nsze, true);
  dv.setBigUint64(O.NCAP, n.ncap, true);
  dv.setBigUint64(O.NUSE, n.nuse, true);
  u8[O.NSFEAT] = n.nsfeat; u8[O.NLBAF] = n.nlbaf; u8[O.FLBAS] = n.flbas; u8[O.MC] = n.mc;
  u8[O.DPC] = n.dpc; u8[O.DPS] = n.dps; u8[O.NMIC] = n.nmic; u8[O.DLFEAT] = n.dlfeat; u8[O.NSATTR] = n.nsattr;
  u8.set(n.nguid.subarray(0, 16), O.NGUID);
  u8.set(n.eui64.subarray(0, 8), O.EUI64);
  n.lbaf.forEach((f, i) => {
    const b = O.LBAF + 4 * i;
    dv.setUint16(b, f.ms, true);
    u8[b + 2] = f.lbads;
    u8[b + 3] = f.rp & 3;
  });
}

export function decodeIdentifyNamespace(u8: Uint8Array): IdentifyNamespace {
  const dv = new DataView(u8.buffer, u8.byteOffset, IDENTIFY_SIZE);
  const O = IdNsOffset;
  const nlbaf = u8[O.NLBAF]!;
  const lbaf: LbaFormat[] = [];
  for (let i = 0; i <= nlbaf && i < 64; i++) {
    const b = O.LBAF + 4 * i;
    lbaf.push({ ms: dv.getUint16(b, true), lbads: u8[b + 2]!, rp: u8[b + 3]! & 3 });
  }
  return {
    nsze: dv.getBigUint64(O.NSZE, true),
    ncap: dv.getBigUint64(O.NCAP, true),
    nuse: dv.getBigUint64(O.NUSE, true),
    nsfeat: u8[O.NSFEAT]!, nlbaf, flbas: u8[O.FLBAS]!, mc: u8[O.MC]!, dpc: u8[O.DPC]!, dps: u8[O.DPS]!,
    nmic: u8[O.NMIC]!, dlfeat: u8[O.DLFEAT]!, nsattr: u8[O.NSATTR]!,
    nguid: u8.slice(O.NGUID, O.NGUID + 16),
    eui64: u8.slice(O.EUI64, O.EUI64 + 8),
    lbaf,
  };
}

/** FLBAS bits 3:0 plus bits 6:5 (index bits 5:4) select the LBA format in use. */
export function formatIndex(flbas: number): number {
  return (flbas & 0xf) | (((flbas >>> 5) & 3) << 4);
}

/** Block size in bytes of the namespace's current LBA format. */
export function namespaceBlockSize(n: IdentifyNamespace): number {
  const f = n.lbaf[formatIndex(n.flbas)];
  if (!f || f.lbads < 9) throw new Error(`namespace reports an invalid LBA format (LBADS ${f?.lbads ?? 'missing'})`);
  return 2 ** f.lbads;
}

/** CNS 2: up to 1024 NSIDs, ascending, zero-terminated. */
export function encodeActiveNsList(u8: Uint8Array, nsids: number[]): void {
  u8.fill(0, 0, IDENTIFY_SIZE);
  const dv = new DataView(u8.buffer, u8.byteOffset, IDENTIFY_SIZE);
  nsids.slice(0, 1024).forEach((id, i) => dv.setUint32(4 * i, id, true));
}

export function decodeActiveNsList(u8: Uint8Array): number[] {
  const dv = new DataView(u8.buffer, u8.byteOffset, IDENTIFY_SIZE);
  const out: number[] = [];
  for (let i = 0; i < 1024; i++) {
    const id = dv.getUint32(4 * i, true);
    if (id === 0) break;
    out.push(id);
  }
  return out;
}

/** NS identification descriptor types (NIDT). */
export const Nidt = { Eui64: 1, Nguid: 2, Uuid: 3, Csi: 4 } as const;

export interface NsDescriptor { nidt: number; nid: Uint8Array }

/** CNS 3: {NIDT, NIDL, 2 reserved, NID}..., terminated by NIDT 0. */
export function encodeNsDescriptors(u8: Uint8Array, descs: NsDescriptor[]): void {
  u8.fill(0, 0, IDENTIFY_SIZE);
  let o = 0;
  for (const d of descs) {
    u8[o] = d.nidt; u8[o + 1] = d.nid.length;
    u8.set(d.nid, o + 4);
    o += 4 + d.nid.length;
  }
}

export function decodeNsDescriptors(u8: Uint8Array): NsDescriptor[] {
  const out: NsDescriptor[] = [];
  let o = 0;
  while (o + 4 <= IDENTIFY_SIZE && u8[o] !== 0) {
    const len = u8[o + 1]!;
    out.push({ nidt: u8[o]!, nid: u8.slice(o + 4, o + 4 + len) });
    o += 4 + len;
  }
  return out;
}
