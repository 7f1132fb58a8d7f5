// PduReceiver: the receive state machine of one NVMe/TCP connection, shared by host and target.
//
//   common header → PDU header (+ header digest) → [pad] → data → [data digest] → next PDU
//
// Bytes arrive in one fixed receive buffer. Headers are copied out (≤ 132 bytes) into `hdr`, so a
// handler reads the current PDU's fields at hdr[0..] whatever happens to the buffer. For a PDU with
// data, the role's handler (onHeader) may name a destination with into(): the data then goes
// straight there, partly copied out of the receive buffer and the rest received into it with one
// readv (native.recv2) that also fills the receive buffer with what follows. Data without a
// destination (in-capsule data, TermReq) is gathered in the receive buffer, which never grows: such
// a PDU may not be larger than the buffer. The data digest is computed over the data where it lands.
// Nothing is allocated per PDU.
import { native } from '../../native/index.js';
import { crc32c } from '../../util/crc32c.js';
import {
  CH_SIZE, DIGEST_SIZE, DataPduOffset, Fes, PduFlags, PduType, dataDigestEligible, headerDigestEligible,
  pduHeaderLength, pduTypeName,
} from './pdu-types.js';
import { DOUBLE_ZERO } from '../../util/double-zero.js';

/** Which end is receiving: a host receives C2H PDUs, a controller H2C PDUs. */
export type PduRole = 'host' | 'controller';

/** The role's handler table: called for each PDU by type. */
export interface PduHandler {
  /** Header of a PDU that carries data checked; call r.into() to land the data in place. */
  onHeader(r: PduReceiver): void;
  /** The whole PDU is in (r.ddgstOk says whether its data digest matched). */
  onPdu(r: PduReceiver): void;
}

/** process() results. */
export const RX_OK = 0;
export const RX_PAUSED = 1;
export const RX_ERROR = -1;

const S_CH = 0, S_HDR = 1, S_INLINE = 2, S_PAD = 3, S_DATA = 4, S_DDGST = 5, S_ERROR = 6;

/** At most this much of a readv into a data destination goes into the receive buffer. */
const RECV_TAIL = 16 * 1024;
/**
 * While payloads are large (at least LARGE_PAYLOAD), the next one probably is too: a receive into the
 * buffer then asks for at most SMALL_RECV bytes, enough for the next headers, so that the bulk of the
 * next payload is read straight into its destination instead of into the buffer and copied from there.
 */
const LARGE_PAYLOAD = 32 * 1024;
const SMALL_RECV = 2048;
/** Copy short pieces in JS (an addon call costs more below this). */
const JS_COPY_MAX = 64;

function allowedFor(role: PduRole, type: number): boolean {
  if (role === 'host') {
    return type === PduType.ICResp || type === PduType.C2HTermReq || type === PduType.CapsuleResp
      || type === PduType.C2HData || type === PduType.R2T;
  }
  return type === PduType.ICReq || type === PduType.H2CTermReq || type === PduType.CapsuleCmd
    || type === PduType.H2CData;
}

export class PduReceiver {
  readonly buf: Uint8Array;
  readonly dv: DataView;
  private rd = 0;
  private wr = 0;
  private state = S_CH;
  private paused = false;

  /** Negotiated digests (set after the IC exchange). */
  hdgst = false;
  ddgst = false;
  /** Largest PLEN accepted. */
  maxPlen: number;

  /** Header of the current PDU (CH at 0). */
  readonly hdr = new Uint8Array(160);
  readonly hdv = new DataView(this.hdr.buffer);
  type = 0;
  flags = 0;
  hlen = 0;
  pdo = 0;
  plen = 0;
  private hd = 0;
  private pad = 0;
  /** Data bytes of the current PDU (0 when none). */
  dataLen = 0;
  /** In-buffer data (no destination): offset of the data in `buf`, valid during onPdu. */
  dataOff = 0;
  /** False when a data digest was present and did not match (the handler decides what that means). */
  ddgstOk = true;

  private dest: Uint8Array | null = null;
  private destOff = 0;
  private got = 0;
  private crc = 0;

  // Error (after RX_ERROR): a TermReq should carry FES/FEI and the offending header.
  fes = 0;
  fei = 0;
  error = '';
  private offending: Uint8Array = new Uint8Array(0);

  constructor(readonly role: PduRole, private readonly handler: PduHandler, bufferSize = 128 * 1024,
    maxPlen = 8 * 1024 * 1024 + 256) {
    this.buf = new Uint8Array(bufferSize);
    this.dv = new DataView(this.buf.buffer);
    this.maxPlen = maxPlen;
  }

  /** Bytes received but not yet processed. */
  get pending(): number { return this.wr - this.rd; }
  /** The last receive() got less than it asked for: the socket is (probably) empty. */
  drained = false;
  /** The last payload landed in place was large (see SMALL_RECV). */
  private largePayloads = false;
  /** Diagnostics: payload bytes that reached their destination through the buffer (copied once more). */
  bufferedPayloadBytes = DOUBLE_ZERO;
  /** A malformed PDU stopped processing (fes/fei/error/offendingHeader say why), or abort() was called. */
  get failed(): boolean { return this.state === S_ERROR; }
  /** In the middle of a payload that lands in a destination given with into(). */
  get landingInPlace(): boolean { return this.state === S_DATA && this.dest !== null; }
  /** Between PDUs (nothing of a PDU received yet). */
  get atBoundary(): boolean { return this.state === S_CH && this.wr === this.rd; }

  /** Lands the current PDU's data at dest[off, off + dataLen) (call from onHeader). */
  into(dest: Uint8Array, off: number): void {
    this.dest = dest;
    this.destOff = off;
  }

  /** The owner gave up on the connection (fatal error in a handler): process() stops for good. */
  abort(): void { this.state = S_ERROR; }

  /** Stops process() after the current PDU (back-pressure); resume() continues. */
  pause(): void { this.paused = true; }
  resume(): number {
    this.paused = false;
    return this.process();
  }

  /**
   * One receive from fd into the buffer (or into the current data destination and the buffer), then
   * process(). Returns what recv returns: bytes (> 0), 0 when the peer closed, or -errno (-11 EAGAIN).
   */
  receive(fd: number): number {
    if (this.state === S_DATA && this.rd === this.wr && this.dest !== null) {
      this.rd = this.wr = 0;
      const left = this.dataLen - this.got;
      const tail = Math.min(this.buf.length, this.largePayloads ? SMALL_RECV : RECV_TAIL);
      const n = native.recv2(fd, this.dest, this.destOff + this.got, left, this.buf, 0, tail);
      if (n <= 0) return n;
      this.drained = n < left + tail;
      const direct = n < left ? n : left;
      this.landed(direct);
      this.wr = n - direct;
      this.process();
      return n;
    }
    this.makeRoom();
    const free = this.buf.length - this.wr;
    const space = this.largePayloads && this.state === S_CH && free > SMALL_RECV ? SMALL_RECV : free;
    const n = native.recv(fd, this.buf, this.wr, space);
    if (n <= 0) return n;
    this.drained = n < space;
    this.wr += n;
    this.process();
    return n;
  }

  /** Appends bytes (tests, and bytes a blocking exchange read ahead), processing as the buffer fills. */
  push(src: Uint8Array): number {
    let o = 0;
    let rc = RX_OK;
    while (o < src.length) {
      this.makeRoom();
      const n = Math.min(src.length - o, this.buf.length - this.wr);
      if (n === 0) return RX_ERROR;
      this.buf.set(src.subarray(o, o + n), this.wr);
      this.wr += n;
      o += n;
      rc = this.process();
      if (rc !== RX_OK) return rc;
    }
    return rc;
  }

  /** Copies out and drops the unprocessed bytes (hand-over after a blocking exchange; allocates). */
  takePending(): Uint8Array {
    const out = this.buf.slice(this.rd, this.wr);
    this.rd = this.wr = 0;
    return out;
  }

  private makeRoom(): void {
    if (this.rd === this.wr) { this.rd = this.wr = 0; return; }
    // Keep room for a whole header or in-buffer PDU: move the unprocessed bytes to the front.
    if (this.rd > 0 && this.buf.length - this.wr < this.buf.length / 4) {
      this.buf.copyWithin(0, this.rd, this.wr);
      this.wr -= this.rd;
      this.rd = 0;
    }
  }

  private landed(n: number): void {
    if (this.ddgst) this.crc = native.crc32c(this.dest!, this.destOff + this.got, n, this.crc);
    this.got += n;
  }

  private fail(fes: number, fei: number, msg: string, fromBuffer: boolean): number {
    this.fes = fes;
    this.fei = fei;
    this.error = msg;
    if (fromBuffer) {
      const avail = this.wr - this.rd;
      const h = this.buf[this.rd + 2] ?? CH_SIZE;
      this.offending = this.buf.slice(this.rd, this.rd + Math.min(avail, Math.max(CH_SIZE, h), 128));
    } else {
      this.offending = this.hdr.slice(0, Math.min(Math.max(CH_SIZE, this.hlen), 128));
    }
    this.state = S_ERROR;
    return RX_ERROR;
  }

  /** Copy of the offending PDU header after an error (at most 128 bytes), for a TermReq. */
  offendingHeader(): Uint8Array {
    return this.offending;
  }

  /** Handles every complete piece in the buffer. */
  process(): number {
    const b = this.buf;
    for (;;) {
      if (this.paused) return RX_PAUSED;
      const avail = this.wr - this.rd;
      switch (this.state) {
        case S_CH: {
          if (avail < CH_SIZE) return RX_OK;
          const s = this.rd;
          const type = b[s]!, flags = b[s + 1]!, hlen = b[s + 2]!;
          const plen = this.dv.getUint32(s + 4, true);
          if (!allowedFor(this.role, type)) {
            return this.fail(Fes.InvalidHeaderField, 0, `unexpected PDU type 0x${type.toString(16)} (${pduTypeName(type)})`, true);
          }
          if (hlen !== pduHeaderLength(type)) return this.fail(Fes.InvalidHeaderField, 2, `${pduTypeName(type)} with HLEN ${hlen}`, true);
          const hd = this.hdgst && headerDigestEligible(type) ? DIGEST_SIZE : 0;
          if (plen < hlen + hd) return this.fail(Fes.InvalidHeaderField, 4, `${pduTypeName(type)} with PLEN ${plen}`, true);
          if (plen > this.maxPlen) {
            return this.fail(Fes.DataTransferLimitExceeded, 0, `${pduTypeName(type)} with PLEN ${plen} above ${this.maxPlen}`, true);
          }
          if ((type === PduType.ICReq || type === PduType.ICResp) && plen !== 128) {
            return this.fail(Fes.InvalidHeaderField, 4, `${pduTypeName(type)} with PLEN ${plen}`, true);
          }
          if (hd && (flags & PduFlags.HDGSTF) === 0) {
            return this.fail(Fes.InvalidHeaderField, 1, `${pduTypeName(type)} without HDGSTF although header digests are on`, true);
          }
          this.type = type;
          this.flags = flags;
          this.hlen = hlen;
          this.pdo = b[s + 3]!;
          this.plen = plen;
          this.hd = hd;
          this.state = S_HDR;
          continue;
        }
        case S_HDR: {
          const hlen = this.hlen, hd = this.hd;
          if (avail < hlen + hd) return RX_OK;
          const s = this.rd;
          // Copy the header out four bytes at a time (every NVMe/TCP HLEN is a multiple of 4).
          const h = this.hdr, hv = this.hdv, bv = this.dv;
          const words = hlen & ~3;
          for (let i = 0; i < words; i += 4) hv.setUint32(i, bv.getUint32(s + i, true), true);
          for (let i = words; i < hlen; i++) h[i] = b[s + i]!;
          const type = this.type, plen = this.plen, pdo = this.pdo;
          if (hd) {
            const want = this.dv.getUint32(s + hlen, true);
            if (crc32c(b, s, hlen) !== want) return this.fail(Fes.HeaderDigestError, want, `${pduTypeName(type)} header digest mismatch`, false);
          }
          this.rd = s + hlen + hd;
          const rest = plen - hlen - hd;
          this.dest = null;
          this.ddgstOk = true;
          this.dataLen = 0;
          this.pad = 0;
          if (rest === 0) {
            if (type === PduType.H2CData || type === PduType.C2HData) {
              return this.fail(Fes.InvalidHeaderField, 4, `${pduTypeName(type)} without data`, false);
            }
            this.state = S_CH;
            this.handler.onPdu(this);
            if (this.failed) return RX_ERROR;
            continue;
          }
          if (type === PduType.H2CTermReq || type === PduType.C2HTermReq) {
            this.dataLen = rest;
          } else {
            let start = hlen + hd;
            if (pdo !== 0) {
              if (pdo < hlen + hd || pdo > plen) return this.fail(Fes.InvalidHeaderField, 3, `${pduTypeName(type)} with PDO ${pdo}`, false);
              start = pdo;
            }
            if (!dataDigestEligible(type)) {
              return this.fail(Fes.InvalidHeaderField, 4, `${pduTypeName(type)} with PLEN ${plen} (no data allowed)`, false);
            }
            const dd = this.ddgst ? DIGEST_SIZE : 0;
            const dataLen = plen - start - dd;
            if (dataLen <= 0) return this.fail(Fes.InvalidHeaderField, 4, `${pduTypeName(type)} with PLEN ${plen}`, false);
            if (dd && (this.flags & PduFlags.DDGSTF) === 0) {
              return this.fail(Fes.InvalidHeaderField, 1, `${pduTypeName(type)} without DDGSTF although data digests are on`, false);
            }
            if ((type === PduType.H2CData || type === PduType.C2HData) && this.hdv.getUint32(DataPduOffset.DATAL, true) !== dataLen) {
              return this.fail(Fes.InvalidHeaderField, DataPduOffset.DATAL,
                `${pduTypeName(type)} DATAL ${this.hdv.getUint32(DataPduOffset.DATAL, true)} but ${dataLen} data bytes`, false);
            }
            this.dataLen = dataLen;
            this.pad = start - hlen - hd;
          }
          this.handler.onHeader(this);
          if (this.failed) return RX_ERROR;
          if (this.dest !== null) {
            this.got = 0;
            this.crc = 0;
            this.largePayloads = this.dataLen >= LARGE_PAYLOAD;
            this.state = S_PAD;
          } else {
            if (rest > this.buf.length) {
              return this.fail(Fes.DataTransferLimitExceeded, 0,
                `${pduTypeName(type)} with ${this.dataLen} data bytes, more than can be taken here`, false);
            }
            this.state = S_INLINE;
          }
          continue;
        }
        case S_INLINE: {
          const rest = this.plen - this.hlen - this.hd;
          if (avail < rest) {
            // Make sure the whole PDU fits behind rd.
            if (this.buf.length - this.rd < rest) {
              b.copyWithin(0, this.rd, this.wr);
              this.wr -= this.rd;
              this.rd = 0;
            }
            return RX_OK;
          }
          const off = this.rd + this.pad;
          const len = this.dataLen;
          this.dataOff = off;
          if (this.ddgst && this.type !== PduType.H2CTermReq && this.type !== PduType.C2HTermReq) {
            this.ddgstOk = crc32c(b, off, len) === this.dv.getUint32(off + len, true);
          }
          this.state = S_CH;
          this.handler.onPdu(this);
          this.rd += rest;
          if (this.failed) return RX_ERROR;
          continue;
        }
        case S_PAD: {
          const n = avail < this.pad ? avail : this.pad;
          this.rd += n;
          this.pad -= n;
          if (this.pad > 0) return RX_OK;
          this.state = S_DATA;
          continue;
        }
        case S_DATA: {
          const left = this.dataLen - this.got;
          const n = avail < left ? avail : left;
          if (n > 0) {
            const d = this.dest!, o = this.destOff + this.got;
            if (n <= JS_COPY_MAX) for (let i = 0; i < n; i++) d[o + i] = b[this.rd + i]!;
            else native.copy(d, o, b, this.rd, n);
            this.bufferedPayloadBytes += n;
            this.rd += n;
            this.landed(n);
          }
          if (this.got < this.dataLen) return RX_OK;
          this.state = this.ddgst ? S_DDGST : S_CH;
          if (this.state === S_CH) this.deliver();
          continue;
        }
        case S_DDGST: {
          if (avail < DIGEST_SIZE) return RX_OK;
          this.ddgstOk = this.dv.getUint32(this.rd, true) === this.crc;
          this.rd += DIGEST_SIZE;
          this.state = S_CH;
          this.deliver();
          continue;
        }
        default:
          return RX_ERROR;
      }
    }
  }

  private deliver(): void {
    this.dest = null;
    this.handler.onPdu(this);
  }
}
