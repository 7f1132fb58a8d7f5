// PduReader: frames NVMe/TCP PDUs out of a byte stream received into one reusable buffer.
// The caller receives into `buf` at `writeOffset` (see prepareRecv), commits the byte count, then
// calls next() until it returns 0. Fields of the current PDU stay valid until the next call to
// next() or prepareRecv(). Nothing is allocated per PDU.
import { crc32c } from '../../util/crc32c.js';
import {
  CH_SIZE, DIGEST_SIZE, DataPduOffset, Fes, PduFlags, PduType, dataDigestEligible, headerDigestEligible,
  pduHeaderLength, pduTypeName,
} from './pdu-types.js';

/** Which end is receiving: a host receives C2H PDUs, a controller H2C PDUs. */
export type PduRole = 'host' | 'controller';

export const PDU_READY = 1;
export const PDU_NEED_MORE = 0;
export const PDU_ERROR = -1;

function allowedFor(role: PduRole, type: number): boolean {
  if (role === 'host') {
    return type === PduType.ICResp || type === PduType.C2HTermReq || type === PduType.CapsuleResp
      || type === PduType.C2HData || type === PduType.R2T;
  }
  return type === PduType.ICReq || type === PduType.H2CTermReq || type === PduType.CapsuleCmd
    || type === PduType.H2CData;
}

export class PduReader {
  buf: Uint8Array;
  dv: DataView;
  private rd = 0;
  private wr = 0;
  /** Bytes the PDU at rd needs in total (0 when unknown). */
  private needed = 0;

  /** Negotiated digests (set after the IC exchange). */
  hdgst = false;
  ddgst = false;

  // Current PDU (valid after next() returned PDU_READY).
  type = 0;
  flags = 0;
  hlen = 0;
  pdo = 0;
  plen = 0;
  /** Offset of the PDU's first byte in buf. */
  start = 0;
  /** Offset of the first data byte in buf, and the data length (0 when none). */
  dataOff = 0;
  dataLen = 0;
  /** False when a data digest was present and did not match (the caller decides what that means). */
  ddgstOk = true;

  // Error (valid after next() returned PDU_ERROR): a TermReq should carry FES/FEI and the header.
  fes = 0;
  fei = 0;
  error = '';

  constructor(readonly role: PduRole, initialSize = 256 * 1024, public maxPlen = 8 * 1024 * 1024 + 256) {
    this.buf = new Uint8Array(initialSize);
    this.dv = new DataView(this.buf.buffer);
  }

  /** Bytes received but not yet consumed. */
  get pending(): number { return this.wr - this.rd; }
  get writeOffset(): number { return this.wr; }
  get writeSpace(): number { return this.buf.length - this.wr; }

  /**
   * Make room for a receive of at least `minSpace` bytes (and for the whole PDU being assembled):
   * rewinds when empty, compacts, grows only when a PDU is larger than the buffer.
   */
  prepareRecv(minSpace = 16 * 1024): void {
    if (this.rd === this.wr) { this.rd = 0; this.wr = 0; }
    const want = Math.max(minSpace, this.needed - this.pending);
    if (this.buf.length - this.wr >= want) return;
    if (this.rd > 0) {
      this.buf.copyWithin(0, this.rd, this.wr);
      this.wr -= this.rd;
      this.rd = 0;
      if (this.buf.length - this.wr >= want) return;
    }
    let size = this.buf.length * 2;
    while (size - this.wr < want) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.wr));
    this.buf = nb;
    this.dv = new DataView(nb.buffer);
  }

  /** Account for `n` bytes written at writeOffset. */
  commit(n: number): void {
    this.wr += n;
  }

  /** Copy bytes in (tests and non-native sockets). */
  push(src: Uint8Array): void {
    this.prepareRecv(src.length);
    this.buf.set(src, this.wr);
    this.wr += src.length;
  }

  private fail(fes: number, fei: number, msg: string): number {
    this.fes = fes;
    this.fei = fei;
    this.error = msg;
    this.start = this.rd;
    return PDU_ERROR;
  }

  /** Copy of the offending PDU header after an error (at most 128 bytes), for a TermReq. */
  offendingHeader(): Uint8Array {
    const avail = this.wr - this.start;
    const h = this.buf[this.start + 2] ?? CH_SIZE;
    return this.buf.slice(this.start, this.start + Math.min(avail, Math.max(CH_SIZE, h), 128));
  }

  next(): number {
    const avail = this.wr - this.rd;
    if (avail < CH_SIZE) { this.needed = 0; return PDU_NEED_MORE; }
    const b = this.buf, dv = this.dv, s = this.rd;
    const type = b[s]!, flags = b[s + 1]!, hlen = b[s + 2]!, pdo = b[s + 3]!;
    const plen = dv.getUint32(s + 4, true);
    if (!allowedFor(this.role, type)) {
      return this.fail(Fes.InvalidHeaderField, 0, `unexpected PDU type 0x${type.toString(16)} (${pduTypeName(type)})`);
    }
    if (hlen !== pduHeaderLength(type)) {
      return this.fail(Fes.InvalidHeaderField, 2, `${pduTypeName(type)} with HLEN ${hlen}`);
    }
    const hd = this.hdgst && headerDigestEligible(type) ? DIGEST_SIZE : 0;
    if (plen < hlen + hd) return this.fail(Fes.InvalidHeaderField, 4, `${pduTypeName(type)} with PLEN ${plen}`);
    if (plen > this.maxPlen) {
      return this.fail(Fes.DataTransferLimitExceeded, 0, `${pduTypeName(type)} with PLEN ${plen} above ${this.maxPlen}`);
    }
    if ((type === PduType.ICReq || type === PduType.ICResp) && plen !== 128) {
      return this.fail(Fes.InvalidHeaderField, 4, `${pduTypeName(type)} with PLEN ${plen}`);
    }
    if (hd && (flags & PduFlags.HDGSTF) === 0) {
      return this.fail(Fes.InvalidHeaderField, 1, `${pduTypeName(type)} without HDGSTF although header digests are on`);
    }
    if (avail < plen) { this.needed = plen; return PDU_NEED_MORE; }
    this.needed = 0;

    if (hd) {
      const got = dv.getUint32(s + hlen, true);
      if (crc32c(b, s, hlen) !== got) {
        return this.fail(Fes.HeaderDigestError, got, `${pduTypeName(type)} header digest mismatch`);
      }
    }

    let dataStart = hlen + hd;
    let dataLen = 0;
    let ddOk = true;
    if (type === PduType.H2CTermReq || type === PduType.C2HTermReq) {
      dataStart = 24;
      dataLen = plen - 24;
    } else if (plen > hlen + hd) {
      if (pdo !== 0) {
        if (pdo < hlen + hd || pdo > plen) return this.fail(Fes.InvalidHeaderField, 3, `${pduTypeName(type)} with PDO ${pdo}`);
        dataStart = pdo;
      }
      if (!dataDigestEligible(type)) {
        return this.fail(Fes.InvalidHeaderField, 4, `${pduTypeName(type)} with PLEN ${plen} (no data allowed)`);
      }
      const raw = plen - dataStart;
      const dd = this.ddgst ? DIGEST_SIZE : 0;
      dataLen = raw - dd;
      if (dataLen <= 0) return this.fail(Fes.InvalidHeaderField, 4, `${pduTypeName(type)} with PLEN ${plen}`);
      if (dd) {
        if ((flags & PduFlags.DDGSTF) === 0) {
          return this.fail(Fes.InvalidHeaderField, 1, `${pduTypeName(type)} without DDGSTF although data digests are on`);
        }
        ddOk = crc32c(b, s + dataStart, dataLen) === dv.getUint32(s + plen - DIGEST_SIZE, true);
      }
    }
    if (type === PduType.H2CData || type === PduType.C2HData) {
      if (dataLen === 0) return this.fail(Fes.InvalidHeaderField, 4, `${pduTypeName(type)} without data`);
      if (dv.getUint32(s + DataPduOffset.DATAL, true) !== dataLen) {
        return this.fail(Fes.InvalidHeaderField, DataPduOffset.DATAL,
          `${pduTypeName(type)} DATAL ${dv.getUint32(s + DataPduOffset.DATAL, true)} but ${dataLen} data bytes`);
      }
    }

    this.type = type;
    this.flags = flags;
    this.hlen = hlen;
    this.pdo = pdo;
    this.plen = plen;
    this.start = s;
    this.dataOff = s + dataStart;
    this.dataLen = dataLen;
    this.ddgstOk = ddOk;
    this.rd = s + plen;
    return PDU_READY;
  }
}
