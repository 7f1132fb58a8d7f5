// PduSendQueue: the send side of one NVMe/TCP connection, shared by host and target.
//
// PDUs are queued as iovec segments: headers (and digests, padding) are encoded in place in a
// preallocated header arena, payloads are referenced where they already are (the host's I/O buffer,
// the target's namespace memory, a shared zero buffer) and never copied. flush() hands every queued
// segment to the kernel with one sendmsg (native.sendv); a partial send resumes at the byte it
// stopped at. Consecutive arena pieces (e.g. 32 CapsuleResps) merge into one segment.
//
// A referenced payload must stay unchanged until flush() has sent it (pendingBytes back to 0 or the
// segment passed): callers own that guarantee (see the host's and the target's notes). A *lent*
// payload (payloadLent) is memory its owner may want to change before then: the owner calls
// keepLent() first, which copies whatever of it is still unsent into the queue's own memory.
import { native } from '../../native/index.js';
import { encodeCqe } from '../../nvme/cqe.js';
import { crc32c } from '../../util/crc32c.js';
import {
  encodeCapsuleRespHeader, encodeDataPduHeader, encodeIcReq, encodeIcResp, encodeTermReq, writeCommonHeader,
  type IcReq, type IcResp,
} from './pdu-codec.js';
import { DIGEST_SIZE, PduFlags, PduType } from './pdu-types.js';
import { DOUBLE_ZERO } from '../../util/double-zero.js';

const CAPSULE_CMD_HLEN = 72;
const DATA_HLEN = 24;
/** Segments handed to one sendmsg (IOV_MAX is 1024 on Linux). */
const IOV_BATCH = 1024;

export class PduSendQueue {
  /** Header arena: encode headers at the offsets returned by reserve(). */
  arena: Uint8Array;
  adv: DataView;
  private aPos = 0;
  /** aPos may grow up to here: the arena's end, or after a wrap the oldest arena byte not yet sent. */
  private aLimit: number;

  private bufs: Array<Uint8Array | null>;
  private desc: Float64Array;
  private head = 0;
  private tail = 0;
  /** Bytes queued and not yet accepted by the socket. */
  pendingBytes = 0;
  /** Bytes sent since the queue was made (progress of a peer that reads slowly). */
  sentBytes = DOUBLE_ZERO;
  /** A partial send left the stream inside a PDU (a TermReq can no longer be sent cleanly). */
  midPdu = false;

  /** Negotiated digests. */
  hdgst = false;
  ddgst = false;
  /** Data offset of capsules with in-capsule data and of data PDUs (from the peer's PDA). */
  capsulePdo = CAPSULE_CMD_HLEN;
  dataPdo = DATA_HLEN;

  // Data PDU being built (beginDataPdu .. endDataPdu).
  private dataFirstSeg = 0;

  /** Per segment: 1 when it is lent memory (payloadLent) not yet copied by keepLent(). */
  private lent: Uint8Array;
  /** Lent segments queued (some may be partly sent). */
  lentSegments = 0;
  /** Set by the owner of lent memory while it tracks this queue (see keepLent). */
  lentListed = false;
  /** Where keepLent() copies lent data: a bump allocator, reset when the queue drains. */
  private keep = new Uint8Array(0);
  private keepPos = 0;

  constructor(arenaBytes = 64 * 1024, segments = 256) {
    this.arena = new Uint8Array(arenaBytes);
    this.adv = new DataView(this.arena.buffer);
    this.aLimit = arenaBytes;
    this.bufs = new Array<Uint8Array | null>(segments).fill(null);
    this.desc = new Float64Array(segments * 2);
    this.lent = new Uint8Array(segments);
  }

  /** Sets the negotiated digests and the peer's PDU data alignment (0's based dwords). */
  configure(hdgst: boolean, ddgst: boolean, capsulePdo: number, dataPdo: number): void {
    this.hdgst = hdgst;
    this.ddgst = ddgst;
    this.capsulePdo = capsulePdo;
    this.dataPdo = dataPdo;
  }

  get empty(): boolean { return this.pendingBytes === 0; }

  // ------------------------------------------------------------------ segments

  /** Reserves n bytes of header arena, queued as the next segment; returns their offset in `arena`. */
  reserve(n: number): number {
    const o = this.alloc(n);
    const t = this.tail;
    // Extend the previous segment when it ends where this one starts.
    if (t > this.head && this.bufs[t - 1] === this.arena && this.desc[2 * t - 2]! + this.desc[2 * t - 1]! === o) {
      this.desc[2 * t - 1] = this.desc[2 * t - 1]! + n;
    } else {
      this.push(this.arena, o, n);
    }
    this.pendingBytes += n;
    return o;
  }

  /** Queues buf[off, off+len) by reference (not copied). */
  ref(buf: Uint8Array, off: number, len: number): void {
    if (len <= 0) return;
    this.push(buf, off, len);
    this.pendingBytes += len;
  }

  private push(buf: Uint8Array, off: number, len: number): void {
    if (this.tail === this.bufs.length) this.growSegments();
    const t = this.tail++;
    this.bufs[t] = buf;
    this.desc[2 * t] = off;
    this.desc[2 * t + 1] = len;
    this.lent[t] = 0;
  }

  private growSegments(): void {
    const live = this.tail - this.head;
    if (this.head > 0 && live < this.bufs.length / 2) {
      for (let i = 0; i < live; i++) this.bufs[i] = this.bufs[this.head + i]!;
      for (let i = live; i < this.tail; i++) this.bufs[i] = null;
      this.desc.copyWithin(0, 2 * this.head, 2 * this.tail);
      this.lent.copyWithin(0, this.head, this.tail);
    } else {
      const n = this.bufs.length * 2;
      const nb = new Array<Uint8Array | null>(n).fill(null);
      for (let i = 0; i < live; i++) nb[i] = this.bufs[this.head + i]!;
      const nd = new Float64Array(n * 2);
      nd.set(this.desc.subarray(2 * this.head, 2 * this.tail));
      const nl = new Uint8Array(n);
      nl.set(this.lent.subarray(this.head, this.tail));
      this.bufs = nb;
      this.desc = nd;
      this.lent = nl;
    }
    this.dataFirstSeg -= this.head;
    this.tail = live;
    this.head = 0;
  }

  /**
   * n bytes of arena. The arena is used as a ring: bytes are handed out in order and are free again
   * once sent, so a connection whose queue never drains completely does not need more arena.
   */
  private alloc(n: number): number {
    if (this.aPos + n > this.aLimit) this.arenaRoom(n);
    const o = this.aPos;
    this.aPos = o + n;
    return o;
  }

  private arenaRoom(n: number): void {
    const len = this.arena.length;
    // The oldest arena byte still queued (segments are in send order).
    let low = -1;
    for (let i = this.head; i < this.tail; i++) {
      if (this.bufs[i] === this.arena) { low = this.desc[2 * i]!; break; }
    }
    if (low < 0) {
      this.aPos = 0;
      this.aLimit = len;
      if (n <= len) return;
    } else if (this.aPos > low) {
      // Everything queued lies in [low, aPos): the rest of the arena is free, then its front.
      this.aLimit = len;
      if (this.aPos + n <= len) return;
      if (n <= low) { this.aPos = 0; this.aLimit = low; return; }
    } else {
      // Wrapped: more may have been sent since.
      this.aLimit = low;
      if (this.aPos + n <= low) return;
    }
    // Full: continue in a larger arena (the old one lives on in the segments that reference it).
    let size = len * 2;
    while (size < n) size *= 2;
    this.arena = new Uint8Array(size);
    this.adv = new DataView(this.arena.buffer);
    this.aPos = 0;
    this.aLimit = size;
  }

  // ------------------------------------------------------------------ sending

  /**
   * Sends what is queued with one sendmsg per up to 1024 segments. Returns the bytes sent (0 when
   * nothing was queued or the socket is full) or -errno on a socket error.
   */
  flush(fd: number): number {
    let total = 0;
    while (this.pendingBytes > 0) {
      const count = Math.min(this.tail - this.head, IOV_BATCH);
      const end = this.head + count;
      const n = native.sendv(fd, this.bufs, this.desc, this.head, count);
      if (n < 0) return total > 0 || n === -11 ? total : n;
      total += n;
      this.consume(n);
      // The socket took less than this batch: it is full.
      if (this.head < end && this.pendingBytes > 0) return total;
    }
    return total;
  }

  /** Drops n sent bytes from the front. */
  private consume(n: number): void {
    this.sentBytes += n;
    this.pendingBytes -= n;
    if (this.pendingBytes === 0) {
      this.discard();
      return;
    }
    let h = this.head;
    const d = this.desc;
    while (n > 0) {
      const l = d[2 * h + 1]!;
      if (n < l) {
        d[2 * h] = d[2 * h]! + n;
        d[2 * h + 1] = l - n;
        break;
      }
      n -= l;
      this.bufs[h] = null;
      if (this.lent[h] === 1) { this.lent[h] = 0; this.lentSegments--; }
      h++;
    }
    this.head = h;
    this.midPdu = true;
  }

  /** Forgets everything queued (the connection is going away). */
  discard(): void {
    for (let i = this.head; i < this.tail; i++) { this.bufs[i] = null; this.lent[i] = 0; }
    this.head = this.tail = 0;
    this.pendingBytes = 0;
    this.aPos = 0;
    this.aLimit = this.arena.length;
    this.midPdu = false;
    this.lentSegments = 0;
    this.keepPos = 0;
  }

  /**
   * Copies the unsent part of every lent segment into the queue's own memory, so that the lender may
   * change its memory now. The data digest, already computed over the lent bytes, stays right.
   */
  keepLent(): void {
    if (this.lentSegments === 0) return;
    for (let i = this.head; i < this.tail && this.lentSegments > 0; i++) {
      if (this.lent[i] !== 1) continue;
      const len = this.desc[2 * i + 1]!;
      const o = this.keepRoom(len);
      native.copy(this.keep, o, this.bufs[i]!, this.desc[2 * i]!, len);
      this.bufs[i] = this.keep;
      this.desc[2 * i] = o;
      this.lent[i] = 0;
      this.lentSegments--;
    }
  }

  /** len bytes of keep memory (kept copies are queued in order, so the buffer is only reused once drained). */
  private keepRoom(len: number): number {
    if (this.keepPos + len > this.keep.length) {
      let inUse = false;
      for (let i = this.head; i < this.tail; i++) if (this.bufs[i] === this.keep) { inUse = true; break; }
      if (inUse || len > this.keep.length) {
        // A new buffer; the old one lives on in the segments that still reference it.
        this.keep = new Uint8Array(Math.max(this.keep.length, 4 * len, 256 * 1024));
      }
      this.keepPos = 0;
    }
    const o = this.keepPos;
    this.keepPos = o + len;
    return o;
  }

  /** Copies out everything queued and empties the queue (tests and blocking setup paths; allocates). */
  take(): Uint8Array {
    const out = new Uint8Array(this.pendingBytes);
    let o = 0;
    for (let i = this.head; i < this.tail; i++) {
      const off = this.desc[2 * i]!, len = this.desc[2 * i + 1]!;
      out.set(this.bufs[i]!.subarray(off, off + len), o);
      o += len;
    }
    this.discard();
    return out;
  }

  // ------------------------------------------------------------------ PDUs (NVMe/TCP 1.0, section 3.6)

  private headerDigest(base: number, hlen: number): void {
    if (this.hdgst) this.adv.setUint32(base + hlen, crc32c(this.arena, base, hlen), true);
  }

  /**
   * Starts a CapsuleCmd that will carry `icd` bytes of in-capsule data; returns the arena offset of its
   * 64-byte SQE for the caller to fill. Finish with endCapsuleCmd.
   */
  beginCapsuleCmd(icd: number): number {
    const hd = this.hdgst ? DIGEST_SIZE : 0;
    const pdo = icd > 0 ? this.capsulePdo : 0;
    const hdrBytes = icd > 0 ? pdo : CAPSULE_CMD_HLEN + hd;
    const plen = icd > 0 ? pdo + icd + (this.ddgst ? DIGEST_SIZE : 0) : hdrBytes;
    const base = this.reserve(hdrBytes);
    const flags = (this.hdgst ? PduFlags.HDGSTF : 0) | (this.ddgst && icd > 0 ? PduFlags.DDGSTF : 0);
    writeCommonHeader(this.adv, base, PduType.CapsuleCmd, flags, CAPSULE_CMD_HLEN, pdo, plen);
    // Padding up to PDO must be zero.
    if (hdrBytes > CAPSULE_CMD_HLEN + hd) this.arena.fill(0, base + CAPSULE_CMD_HLEN + hd, base + hdrBytes);
    return base + 8;
  }

  /** Header digest of the capsule begun at sqeOff - 8, then its in-capsule data (by reference) and data digest. */
  endCapsuleCmd(sqeOff: number, data: Uint8Array | null, off: number, icd: number): void {
    this.headerDigest(sqeOff - 8, CAPSULE_CMD_HLEN);
    if (icd <= 0) return;
    this.ref(data!, off, icd);
    if (this.ddgst) {
      const o = this.reserve(DIGEST_SIZE);
      this.adv.setUint32(o, crc32c(data!, off, icd), true);
    }
  }

  /** CapsuleResp: CQE (DW0, DW1, SQHD, SQID, CID, status). */
  putCapsuleResp(cid: number, status: number, dw0: number, dw1: number, sqhd: number, sqid: number): void {
    const base = this.reserve(DATA_HLEN + (this.hdgst ? DIGEST_SIZE : 0));
    const dv = this.adv;
    encodeCapsuleRespHeader(dv, base, this.hdgst);
    encodeCqe(dv, base + 8, dw0, dw1, sqhd, sqid, cid, status);
    this.headerDigest(base, DATA_HLEN);
  }

  /** R2T asking for r2tl bytes at r2to. */
  putR2T(cccid: number, ttag: number, r2to: number, r2tl: number): void {
    const plen = DATA_HLEN + (this.hdgst ? DIGEST_SIZE : 0);
    const base = this.reserve(plen);
    encodeDataPduHeader(this.adv, base, PduType.R2T, this.hdgst ? PduFlags.HDGSTF : 0, 0, plen, cccid, ttag, r2to, r2tl);
    this.headerDigest(base, DATA_HLEN);
  }

  /**
   * Starts an H2CData or C2HData PDU of `len` data bytes at `datao`; add the data with payload()
   * (one or more pieces, `len` bytes in all), then endDataPdu(). `flags`: LAST_PDU / SUCCESS.
   */
  beginDataPdu(type: number, flags: number, cccid: number, ttag: number, datao: number, len: number): void {
    const pdo = this.dataPdo;
    const dd = this.ddgst ? DIGEST_SIZE : 0;
    const f = flags | (this.hdgst ? PduFlags.HDGSTF : 0) | (dd ? PduFlags.DDGSTF : 0);
    const base = this.reserve(pdo);
    encodeDataPduHeader(this.adv, base, type, f, pdo, pdo + len + dd, cccid, ttag, datao, len);
    this.headerDigest(base, DATA_HLEN);
    const hdrEnd = DATA_HLEN + (this.hdgst ? DIGEST_SIZE : 0);
    if (pdo > hdrEnd) this.arena.fill(0, base + hdrEnd, base + pdo);
    this.dataFirstSeg = this.tail;
  }

  /** Data of the PDU being built, by reference. */
  payload(buf: Uint8Array, off: number, len: number): void {
    this.ref(buf, off, len);
  }

  /**
   * Data of the PDU being built, by reference to memory its owner may change before it is sent: the
   * owner calls keepLent() before it does. Returns true when this is the queue's first lent segment
   * since it was last listed (the owner lists the queue then).
   */
  payloadLent(buf: Uint8Array, off: number, len: number): boolean {
    if (len <= 0) return false;
    this.ref(buf, off, len);
    this.lent[this.tail - 1] = 1;
    this.lentSegments++;
    return !this.lentListed;
  }

  /** Data of the PDU being built, copied into the arena (the source may change before it is sent). */
  payloadCopy(buf: Uint8Array, off: number, len: number): void {
    if (!this.ddgst) {
      // reserve() extends the header's segment: header, data and the CapsuleResp after it become one iovec.
      const at = this.reserve(len); // first: reserve() may move to a larger arena
      native.copy(this.arena, at, buf, off, len);
      return;
    }
    // With a data digest the data stays a segment of its own (endDataPdu digests its segments).
    const o = this.alloc(len);
    native.copy(this.arena, o, buf, off, len);
    this.push(this.arena, o, len);
    this.pendingBytes += len;
  }

  /** Data digest over the pieces queued since beginDataPdu (no copy). */
  endDataPdu(): void {
    if (!this.ddgst) return;
    const first = this.dataFirstSeg, count = this.tail - first;
    const crc = count === 1
      ? crc32c(this.bufs[first]!, this.desc[2 * first]!, this.desc[2 * first + 1]!)
      : native.crc32cv(this.bufs, this.desc, first, count);
    const o = this.reserve(DIGEST_SIZE);
    this.adv.setUint32(o, crc, true);
  }

  /** H2CTermReq / C2HTermReq with up to 128 bytes of the offending header. */
  putTermReq(type: number, fes: number, fei: number, offending: Uint8Array | null): void {
    const n = 24 + (offending ? Math.min(offending.length, 128) : 0);
    const base = this.reserve(n);
    encodeTermReq(this.arena, base, type, fes, fei, offending);
  }

  putIcReq(r: IcReq): void {
    encodeIcReq(this.arena, this.reserve(128), r);
  }

  putIcResp(r: IcResp): void {
    encodeIcResp(this.arena, this.reserve(128), r);
  }
}
