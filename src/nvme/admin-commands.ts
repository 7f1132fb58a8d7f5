// SQE builders for the admin commands the host issues.
import { AdminOpcode } from './opcodes.js';
import { emptySqe, SglId, type Sqe } from './sqe.js';

/** Identify: CNS in CDW10 bits 7:0, CNTID bits 31:16; 4096 bytes C→H. */
export function identifySqe(cid: number, cns: number, nsid = 0): Sqe {
  const s = emptySqe();
  s.opc = AdminOpcode.Identify;
  s.cid = cid;
  s.nsid = nsid;
  s.sglId = SglId.TransportDataBlock;
  s.sglLen = 4096;
  s.cdw10 = cns & 0xff;
  return s;
}

/** Get Log Page: LID CDW10 7:0, RAE bit 15, NUMDL 31:16; NUMDU CDW11 15:0; LPOL/LPOU CDW12/13. */
export function getLogPageSqe(cid: number, lid: number, bytes: number, offset = 0, nsid = 0, rae = false): Sqe {
  if (bytes <= 0 || bytes % 4 !== 0) throw new RangeError(`log page length ${bytes} is not a positive multiple of 4`);
  const numd = bytes / 4 - 1;
  const s = emptySqe();
  s.opc = AdminOpcode.GetLogPage;
  s.cid = cid;
  s.nsid = nsid;
  s.sglLen = bytes;
  s.cdw10 = (lid & 0xff) | (rae ? 1 << 15 : 0) | ((numd & 0xffff) << 16);
  s.cdw11 = (numd >>> 16) & 0xffff;
  s.cdw12 = offset % 0x1_0000_0000;
  s.cdw13 = Math.floor(offset / 0x1_0000_0000);
  return s;
}

export function getLogPageLength(s: Sqe): number {
  const numd = ((s.cdw10 >>> 16) & 0xffff) | ((s.cdw11 & 0xffff) << 16);
  return (numd + 1) * 4;
}
export function getLogPageOffset(s: Sqe): number {
  return s.cdw12 + s.cdw13 * 0x1_0000_0000;
}

export function setFeaturesSqe(cid: number, fid: number, cdw11: number, nsid = 0): Sqe {
  const s = emptySqe();
  s.opc = AdminOpcode.SetFeatures;
  s.cid = cid;
  s.nsid = nsid;
  s.cdw10 = fid & 0xff;
  s.cdw11 = cdw11 >>> 0;
  return s;
}

/** Get Features: FID CDW10 7:0, SEL bits 10:8. */
export function getFeaturesSqe(cid: number, fid: number, sel = 0, nsid = 0): Sqe {
  const s = emptySqe();
  s.opc = AdminOpcode.GetFeatures;
  s.cid = cid;
  s.nsid = nsid;
  s.cdw10 = (fid & 0xff) | ((sel & 7) << 8);
  return s;
}

export function keepAliveSqe(cid: number): Sqe {
  const s = emptySqe();
  s.opc = AdminOpcode.KeepAlive;
  s.cid = cid;
  return s;
}

/** Abort (base spec, Abort command): SQID in CDW10 bits 15:0, CID of the command to abort in bits 31:16. */
export function abortSqe(cid: number, sqid: number, abortCid: number): Sqe {
  const s = emptySqe();
  s.opc = AdminOpcode.Abort;
  s.cid = cid;
  s.cdw10 = ((sqid & 0xffff) | ((abortCid & 0xffff) << 16)) >>> 0;
  return s;
}

/** Number of Queues (FID 0x07) value: NSQR bits 15:0, NCQR bits 31:16, both 0's based. */
export function numberOfQueuesValue(nsq: number, ncq: number): number {
  return (((ncq - 1) & 0xffff) << 16 | ((nsq - 1) & 0xffff)) >>> 0;
}
