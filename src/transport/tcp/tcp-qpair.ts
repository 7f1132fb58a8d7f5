// TcpQpair: one NVMe/TCP queue pair (one TCP connection) on the host side.
//
// Hot path layout (no allocation per I/O):
// - Request slots in struct-of-arrays form; CID = slot index; a stack of free slots.
// - An I/O larger than maxTransferBytes is split into child commands; the first child's slot is the
//   "head" that holds the I/O's tag, the number of children still running and the first error.
// - One PduSendQueue: every PDU of a pass (capsules, H2CData answering R2Ts) is queued as iovec
//   segments, headers built in its arena, write data referenced in the caller's buffer (not copied),
//   and flushed with one sendmsg. The caller's buffer is not touched before the I/O completes, and an
//   I/O completes only after the controller has received its data, so a referenced buffer is never
//   reused before it was sent.
// - One PduReceiver: C2HData payloads land straight in the caller's buffer (readv), the receive
//   buffer never grows.
import { EAGAIN, errnoName, native, POLLIN, POLLOUT } from '../../native/index.js';
import { NvmOpcode } from '../../nvme/opcodes.js';
import { CqeOffset } from '../../nvme/cqe.js';
import { SglId, SqeOffset, SQE_FLAGS_PSDT_SGL, encodeRwSqe } from '../../nvme/sqe.js';
import { encodeStatus, GenericStatus } from '../../nvme/status.js';
import { TransportError, type TransportErrorCode } from '../errors.js';
import type { IoCompletionCallback, IoQpair, LbaRange, RawCompletion } from '../transport.js';
import { dataOffsetFor } from './pdu-codec.js';
import { PduReceiver, RX_ERROR, type PduHandler } from './pdu-receiver.js';
import { PduSendQueue } from './pdu-send-queue.js';
import { DataPduOffset, fesName, PduFlags, PduType, TCP_LIMITS, TermReqOffset } from './pdu-types.js';


/** Slot states. */
const FREE = 0;
const INFLIGHT = 1;
/** Head slot whose own command finished while split siblings still run. */
const WAITING = 2;

/** What moves data for a slot. */
const K_NONE = 0;
/** Controller to host (C2HData). */
const K_READ = 1;
/** Host to controller, in-capsule. */
const K_WRITE_ICD = 2;
/** Host to controller, R2T + H2CData. */
const K_WRITE_R2T = 3;

/** ioSync values on a head slot. */
const SYNC_NONE = 0;
const SYNC_WAITING = 1;
/** A blocking wait timed out: drop the late completion. */
const SYNC_ABANDONED = 2;

/** Max blocks one Read/Write/Write Zeroes can carry (NLB is a 16-bit 0's based field). */
const MAX_NLB = 0x10000;
/** Max Dataset Management ranges per command. */
const MAX_DSM_RANGES = 256;
/** Receive buffer: never grows (C2HData lands in the caller's buffer). */
const RECV_BUFFER = 128 * 1024;
const RECV_LOOPS = 4;
const TWO32 = 0x1_0000_0000;

/** Status a host reports for a C2HData whose data digest did not match (Linux host behaviour). */
export const DATA_TRANSFER_ERROR_STATUS = encodeStatus(0, GenericStatus.DataTransferError);

export interface TcpQpairOptions {
  fd: number;
  /** "addr:port" for messages. */
  peer: string;
  qid: number;
  /** Max outstanding commands (SQSIZE+1). */
  depth: number;
  hdgst: boolean;
  ddgst: boolean;
  /** Controller PDU data alignment from ICResp (0's based dwords). */
  cpda: number;
  maxh2cdata: number;
  /** In-capsule data limit for non-Fabrics commands: IOCCSZ*16-64 on I/O queues, 8192 on the admin queue. */
  icdLimit: number;
  maxTransferBytes: number;
  /** Bytes received after the ICResp during the IC exchange (processed first). */
  leftover: Uint8Array | null;
}

export type { RawCompletion } from '../transport.js';


export class TcpQpair implements IoQpair, PduHandler {
  readonly qid: number;
  readonly depth: number;
  readonly maxTransferBytes: number;
  readonly peer: string;
  readonly hdgst: boolean;
  readonly ddgst: boolean;
  readonly cpda: number;
  readonly maxh2cdata: number;
  readonly icdLimit: number;
  /** CNTLID returned by the Fabrics Connect (set by the connect helper). */
  cntlid = 0;
  /** PDU counters (diagnostics): CapsuleResps, C2HData PDUs, reads finished by C2HData SUCCESS, R2Ts. */
  rxCapsuleResp = 0;
  rxC2HData = 0;
  rxC2HSuccess = 0;
  rxR2T = 0;
  onComplete: IoCompletionCallback = () => undefined;
  submitClock = 0;

  private sock: number;
  private failure: Error | null = null;

  // ---- request slots (struct of arrays, index = CID)
  private readonly state: Uint8Array;
  private readonly kind: Uint8Array;
  private readonly head: Int32Array;
  private readonly bufs: Array<Uint8Array | null>;
  private readonly bufOff: Float64Array;
  private readonly len: Float64Array;
  /** Bytes received (reads) or requested by R2Ts so far (writes). */
  private readonly xfer: Float64Array;
  /** Non-zero when a data digest failed: overrides the CQE status. */
  private readonly xferStatus: Uint16Array;
  /** submitClock when the slot's command was queued (I/O timeouts). */
  private readonly submitAt: Float64Array;
  // head-only fields
  private readonly ioTag: Float64Array;
  private readonly ioRemaining: Int32Array;
  private readonly ioStatus: Uint16Array;
  private readonly ioSync: Uint8Array;
  /** Lazily allocated 4 KiB range buffers for Dataset Management. */
  private readonly dsmBufs: Array<Uint8Array | null>;
  private readonly freeStack: Int32Array;
  private freeTop: number;

  // ---- send side
  private readonly sq: PduSendQueue;

  // ---- receive side
  private readonly rx: PduReceiver;
  private completedInPass = 0;
  private leftover: Uint8Array | null;
  private cqeDw0 = 0;
  private cqeDw1 = 0;

  // ---- blocking waits
  private lastHead = -1;
  private syncDone = false;
  private syncStatus = 0;
  private syncDw0 = 0;
  private syncDw1 = 0;

  // ---- split bookkeeping cache
  private cachedBlockSize = 0;
  private cachedMaxBlocks = 0;

  constructor(o: TcpQpairOptions) {
    if (!(o.depth >= 1 && o.depth <= 0x10000)) throw new RangeError(`queue depth ${o.depth} is out of range 1..65536`);
    this.sock = o.fd;
    this.peer = o.peer;
    this.qid = o.qid;
    this.depth = o.depth;
    this.hdgst = o.hdgst;
    this.ddgst = o.ddgst;
    this.cpda = o.cpda;
    this.maxh2cdata = o.maxh2cdata;
    this.icdLimit = Math.max(0, o.icdLimit);
    this.maxTransferBytes = o.maxTransferBytes;
    // A C2HData may carry a whole command's data (it lands in the caller's buffer, not in ours).
    this.rx = new PduReceiver('host', this, RECV_BUFFER, o.maxTransferBytes + 256);
    this.rx.hdgst = o.hdgst;
    this.rx.ddgst = o.ddgst;
    this.leftover = o.leftover && o.leftover.length > 0 ? o.leftover : null;

    const d = o.depth;
    this.state = new Uint8Array(d);
    this.kind = new Uint8Array(d);
    this.head = new Int32Array(d);
    this.bufs = new Array<Uint8Array | null>(d).fill(null);
    this.bufOff = new Float64Array(d);
    this.len = new Float64Array(d);
    this.xfer = new Float64Array(d);
    this.xferStatus = new Uint16Array(d);
    this.submitAt = new Float64Array(d);
    this.ioTag = new Float64Array(d);
    this.ioRemaining = new Int32Array(d);
    this.ioStatus = new Uint16Array(d);
    this.ioSync = new Uint8Array(d);
    this.dsmBufs = new Array<Uint8Array | null>(d).fill(null);
    this.freeStack = new Int32Array(d);
    // Pop order 0, 1, 2...: slot 0 on top.
    for (let i = 0; i < d; i++) this.freeStack[i] = d - 1 - i;
    this.freeTop = d;

    this.sq = new PduSendQueue(Math.max(64 * 1024, d * 80), Math.max(256, 4 * d));
    this.sq.configure(o.hdgst, o.ddgst, dataOffsetFor(72, o.hdgst, o.cpda), dataOffsetFor(24, o.hdgst, o.cpda));
  }

  get fd(): number { return this.sock; }
  get outstanding(): number { return this.depth - this.freeTop; }
  /** Free command slots. */
  get freeSlots(): number { return this.freeTop; }
  /** Bytes queued but not yet accepted by the socket. */
  get pendingSendBytes(): number { return this.sq.pendingBytes; }
  /** The error that killed this qpair, if any. */
  get error(): Error | null { return this.failure; }
  get connected(): boolean { return this.sock >= 0 && this.failure === null; }

  // ------------------------------------------------------------------ submission

  submitRead(nsid: number, slba: number, nblocks: number, blockSize: number, buf: Uint8Array, off: number, tag: number): boolean {
    return this.submitRw(NvmOpcode.Read, nsid, slba, nblocks, blockSize, buf, off, tag);
  }

  submitWrite(nsid: number, slba: number, nblocks: number, blockSize: number, buf: Uint8Array, off: number, tag: number): boolean {
    return this.submitRw(NvmOpcode.Write, nsid, slba, nblocks, blockSize, buf, off, tag);
  }

  submitFlush(nsid: number, tag: number): boolean {
    if (this.freeTop === 0) return false;
    this.checkUsable();
    const s = this.allocHead(tag, 1);
    this.kind[s] = K_NONE;
    const q = this.sq.beginCapsuleCmd(0);
    encodeRwSqe(this.sq.adv, q, NvmOpcode.Flush, s, nsid >>> 0, 0, 0, SglId.TransportDataBlock, 0);
    this.sq.endCapsuleCmd(q, null, 0, 0);
    return true;
  }

  submitWriteZeroes(nsid: number, slba: number, nblocks: number, tag: number): boolean {
    if (!(nblocks >= 1) || !Number.isInteger(nblocks)) throw new RangeError(`Write Zeroes of ${nblocks} blocks`);
    const n = Math.ceil(nblocks / MAX_NLB);
    if (n > this.freeTop) {
      if (n > this.depth) this.tooManyChildren(n, `${nblocks} blocks`);
      return false;
    }
    this.checkUsable();
    const h = this.allocHead(tag, n);
    let lba = slba, left = nblocks;
    for (let i = 0; i < n; i++) {
      const s = i === 0 ? h : this.allocChild(h);
      const nb = left < MAX_NLB ? left : MAX_NLB;
      this.kind[s] = K_NONE;
      const q = this.sq.beginCapsuleCmd(0);
      encodeRwSqe(this.sq.adv, q, NvmOpcode.WriteZeroes, s, nsid >>> 0, lba, nb - 1, SglId.TransportDataBlock, 0);
      this.sq.endCapsuleCmd(q, null, 0, 0);
      lba += nb;
      left -= nb;
    }
    return true;
  }

  submitDeallocate(nsid: number, ranges: ReadonlyArray<LbaRange>, tag: number): boolean {
    const total = ranges.length;
    if (total === 0) throw new RangeError('Deallocate without ranges');
    const n = Math.ceil(total / MAX_DSM_RANGES);
    if (n > this.freeTop) {
      if (n > this.depth) this.tooManyChildren(n, `${total} ranges`);
      return false;
    }
    this.checkUsable();
    const h = this.allocHead(tag, n);
    for (let i = 0; i < n; i++) {
      const s = i === 0 ? h : this.allocChild(h);
      const first = i * MAX_DSM_RANGES;
      const nr = Math.min(MAX_DSM_RANGES, total - first);
      let rb = this.dsmBufs[s];
      if (!rb) { rb = new Uint8Array(MAX_DSM_RANGES * 16); this.dsmBufs[s] = rb; }
      const rdv = new DataView(rb.buffer);
      for (let j = 0; j < nr; j++) {
        const r = ranges[first + j]!;
        const o = j * 16;
        rdv.setUint32(o, 0, true);
        rdv.setUint32(o + 4, r.nblocks >>> 0, true);
        rdv.setUint32(o + 8, r.slba % TWO32, true);
        rdv.setUint32(o + 12, Math.floor(r.slba / TWO32), true);
      }
      const bytes = nr * 16;
      this.setData(s, rb, 0, bytes, bytes <= this.icdLimit ? K_WRITE_ICD : K_WRITE_R2T);
      // encodeRwSqe puts "slba" into CDW10 (low 32 bits) and CDW11 (high): NR (0's based) and AD (bit 2).
      this.putDataCommand(s, NvmOpcode.DatasetManagement, nsid, (nr - 1) + (1 << 2) * TWO32, 0, 0);
    }
    return true;
  }

  /**
   * Queue any command given as 64 SQE bytes at sqe[sqeOff]. CID and SGL1 are filled in here: SGL 0x01
   * with in-capsule data when dataOut fits the ICD limit (8 KiB for Fabrics commands and the admin
   * queue), else SGL 0x5A (R2T for dataOut, C2HData for dataIn). Not split. false = no free slot.
   */
  submitRaw(sqe: Uint8Array, sqeOff: number, dataOut: Uint8Array | null, dataIn: Uint8Array | null, tag: number,
    fabrics = false): boolean {
    if (this.freeTop === 0) return false;
    this.checkUsable();
    if (dataOut && dataIn) throw new RangeError('bidirectional commands are not supported');
    const s = this.allocHead(tag, 1);
    const limit = fabrics ? Math.max(this.icdLimit, TCP_LIMITS.ADMIN_ICD_BYTES) : this.icdLimit;
    let icd = 0;
    if (dataOut && dataOut.length > 0) {
      const k = dataOut.length <= limit ? K_WRITE_ICD : K_WRITE_R2T;
      this.setData(s, dataOut, 0, dataOut.length, k);
      if (k === K_WRITE_ICD) icd = dataOut.length;
    } else if (dataIn && dataIn.length > 0) {
      this.setData(s, dataIn, 0, dataIn.length, K_READ);
    } else {
      this.kind[s] = K_NONE;
      this.len[s] = 0;
    }
    const sq = this.sq;
    const q = sq.beginCapsuleCmd(icd);
    sq.arena.set(sqe.subarray(sqeOff, sqeOff + 64), q);
    sq.arena[q + SqeOffset.FLAGS] = (sq.arena[q + SqeOffset.FLAGS]! & 0x3f) | SQE_FLAGS_PSDT_SGL;
    sq.adv.setUint16(q + SqeOffset.CID, s, true);
    sq.adv.setBigUint64(q + SqeOffset.SGL_ADDR, 0n, true);
    sq.adv.setUint32(q + SqeOffset.SGL_LEN, this.len[s]!, true);
    sq.adv.setUint32(q + SqeOffset.SGL_LEN + 4, (icd > 0 ? SglId.DataBlockOffset : SglId.TransportDataBlock) << 24, true);
    sq.endCapsuleCmd(q, dataOut, 0, icd);
    return true;
  }

  /** Head slot of the I/O submitted last (for blocking waits). */
  get lastSubmittedSlot(): number { return this.lastHead; }

  // ------------------------------------------------------------------ blocking helpers (not hot path)

  /**
   * Blocks until the I/O submitted last finishes (its completion is NOT passed to onComplete).
   * Throws TransportError('TIMEOUT') after timeoutMs; the command is then abandoned (its slot stays
   * busy until the controller answers).
   */
  waitLast(timeoutMs: number): RawCompletion {
    const h = this.lastHead;
    if (h < 0 || this.state[h] === FREE) throw new Error('waitLast: nothing was submitted');
    this.ioSync[h] = SYNC_WAITING;
    this.syncDone = false;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.processCompletions();
      if (this.syncDone) {
        this.syncDone = false;
        return { status: this.syncStatus, dw0: this.syncDw0, dw1: this.syncDw1 };
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        this.ioSync[h] = SYNC_ABANDONED;
        throw new TransportError(`command (CID ${h}) on ${this.peer} qid ${this.qid} did not complete within ${timeoutMs} ms`, 'TIMEOUT');
      }
      this.waitReadable(Math.min(left, 1000));
    }
  }

  /** submitRaw + waitLast. Throws TransportError when no slot is free. */
  execute(sqe: Uint8Array, dataOut: Uint8Array | null, dataIn: Uint8Array | null, timeoutMs: number,
    fabrics = false): RawCompletion {
    if (!this.submitRaw(sqe, 0, dataOut, dataIn, -1, fabrics)) {
      throw new TransportError(`no free command slot on ${this.peer} qid ${this.qid}`, 'TIMEOUT');
    }
    return this.waitLast(timeoutMs);
  }

  /** Blocks in poll() until the socket is readable (or writable while bytes are queued), at most ms. */
  waitReadable(ms: number): void {
    if (this.sock < 0) return;
    const ev = POLLIN | (this.sq.pendingBytes > 0 ? POLLOUT : 0);
    native.pollFd(this.sock, ev, Math.max(0, Math.ceil(ms)));
  }

  // ------------------------------------------------------------------ progress

  flush(): void {
    if (this.failure) throw this.failure;
    if (this.sq.pendingBytes === 0) return;
    const n = this.sq.flush(this.sock);
    if (n >= 0) return;
    this.fatal(n === -104 ? 'ECONNRESET' : 'CLOSED',
      `send to ${this.peer} (qid ${this.qid}) failed: ${errnoName(n)}`);
  }

  processCompletions(): number {
    if (this.failure) throw this.failure;
    if (this.sq.pendingBytes > 0) this.flush();
    this.completedInPass = 0;
    const r = this.rx;
    if (this.leftover) {
      // Bytes that arrived together with the ICResp.
      const l = this.leftover;
      this.leftover = null;
      if (r.push(l) === RX_ERROR) this.receiveError();
    }
    for (let i = 0; i < RECV_LOOPS; i++) {
      const n = r.receive(this.sock);
      if (n > 0) {
        if (r.failed) this.receiveError();
        if (r.drained) break;
        continue;
      }
      if (n === EAGAIN) break;
      if (n === 0) this.fatal('CLOSED', `${this.peer} closed the connection (qid ${this.qid})`);
      this.fatal(n === -104 ? 'ECONNRESET' : 'CLOSED', `receive from ${this.peer} (qid ${this.qid}) failed: ${errnoName(n)}`);
    }
    if (this.sq.pendingBytes > 0) this.flush();
    return this.completedInPass;
  }

  oldestCommand(): number {
    let best = -1, bestAt = Infinity;
    const st = this.state, at = this.submitAt;
    for (let s = 0; s < this.depth; s++) {
      // A WAITING head has answered; its split siblings are INFLIGHT and carry their own stamps.
      if (st[s] === INFLIGHT && at[s]! < bestAt) { best = s; bestAt = at[s]!; }
    }
    return best;
  }

  commandSubmitTime(cid: number): number {
    return cid >= 0 && cid < this.depth && this.state[cid] === INFLIGHT ? this.submitAt[cid]! : -1;
  }

  disconnect(): void {
    if (this.sock >= 0) {
      native.close(this.sock);
      this.sock = -1;
    }
    if (!this.failure) this.failure = new TransportError(`qpair ${this.qid} to ${this.peer} is disconnected`, 'CLOSED');
  }

  // ------------------------------------------------------------------ internals: slots

  private checkUsable(): void {
    if (this.failure) throw this.failure;
  }

  private allocHead(tag: number, children: number): number {
    const s = this.freeStack[--this.freeTop]!;
    this.state[s] = INFLIGHT;
    this.head[s] = s;
    this.ioTag[s] = tag;
    this.ioRemaining[s] = children;
    this.ioStatus[s] = 0;
    this.ioSync[s] = SYNC_NONE;
    this.xfer[s] = 0;
    this.xferStatus[s] = 0;
    this.submitAt[s] = this.submitClock;
    this.lastHead = s;
    return s;
  }

  private allocChild(h: number): number {
    const s = this.freeStack[--this.freeTop]!;
    this.state[s] = INFLIGHT;
    this.head[s] = h;
    this.xfer[s] = 0;
    this.xferStatus[s] = 0;
    this.submitAt[s] = this.submitClock;
    return s;
  }

  private release(s: number): void {
    this.state[s] = FREE;
    this.bufs[s] = null;
    this.freeStack[this.freeTop++] = s;
  }

  private setData(s: number, buf: Uint8Array, off: number, len: number, k: number): void {
    this.kind[s] = k;
    this.bufs[s] = buf;
    this.bufOff[s] = off;
    this.len[s] = len;
  }

  /** One command of slot s finished with `status`. */
  private completeSlot(s: number, status: number): void {
    const h = this.head[s]!;
    if (status !== 0 && this.ioStatus[h] === 0) this.ioStatus[h] = status;
    if (s !== h) this.release(s);
    else this.state[s] = WAITING;
    if (--this.ioRemaining[h]! !== 0) return;
    const st = this.ioStatus[h]!;
    const tag = this.ioTag[h]!;
    const sync = this.ioSync[h]!;
    this.ioSync[h] = SYNC_NONE;
    this.release(h);
    if (sync === SYNC_NONE) {
      this.completedInPass++;
      this.onComplete(tag, st);
    } else if (sync === SYNC_WAITING) {
      this.syncDone = true;
      this.syncStatus = st;
      this.syncDw0 = this.cqeDw0;
      this.syncDw1 = this.cqeDw1;
    }
  }

  // ------------------------------------------------------------------ internals: send queue

  /** Queues a data command for slot s (kind/buf/len already set): CapsuleCmd + SQE, in-capsule data by reference. */
  private putDataCommand(s: number, opc: number, nsid: number, slba: number, nlb0: number, cdw12High: number): void {
    const k = this.kind[s]!;
    const len = this.len[s]!;
    const icd = k === K_WRITE_ICD ? len : 0;
    const sq = this.sq;
    const q = sq.beginCapsuleCmd(icd);
    encodeRwSqe(sq.adv, q, opc, s, nsid >>> 0, slba, nlb0,
      icd > 0 ? SglId.DataBlockOffset : SglId.TransportDataBlock, len, cdw12High);
    sq.endCapsuleCmd(q, this.bufs[s]!, this.bufOff[s]!, icd);
  }

  /** An I/O that needs more commands than the queue has entries could never be submitted. */
  private tooManyChildren(n: number, amount: string): never {
    throw new RangeError(`an I/O of ${amount} needs ${n} commands (max ${this.maxTransferBytes} bytes, 65536 blocks or 256 ranges each) but qid ${this.qid} has only ${this.depth} entries`);
  }

  private maxBlocksFor(blockSize: number): number {
    if (blockSize === this.cachedBlockSize) return this.cachedMaxBlocks;
    if (!(blockSize > 0) || !Number.isInteger(blockSize)) throw new RangeError(`block size ${blockSize}`);
    const m = Math.min(MAX_NLB, Math.floor(this.maxTransferBytes / blockSize));
    if (m < 1) throw new RangeError(`block size ${blockSize} exceeds the max transfer size ${this.maxTransferBytes}`);
    this.cachedBlockSize = blockSize;
    this.cachedMaxBlocks = m;
    return m;
  }

  private submitRw(opc: number, nsid: number, slba: number, nblocks: number, blockSize: number, buf: Uint8Array,
    off: number, tag: number): boolean {
    const maxBlocks = this.maxBlocksFor(blockSize);
    const bytes = nblocks * blockSize;
    if (!(nblocks >= 1) || off < 0 || off + bytes > buf.length) {
      throw new RangeError(`I/O of ${nblocks} blocks of ${blockSize} B at buffer offset ${off} does not fit a ${buf.length}-byte buffer`);
    }
    const isWrite = opc === NvmOpcode.Write;
    if (nblocks <= maxBlocks) {
      if (this.freeTop === 0) return false;
      if (this.failure) throw this.failure;
      const s = this.allocHead(tag, 1);
      this.setData(s, buf, off, bytes, isWrite ? (bytes <= this.icdLimit ? K_WRITE_ICD : K_WRITE_R2T) : K_READ);
      this.putDataCommand(s, opc, nsid, slba, nblocks - 1, 0);
      return true;
    }
    const n = Math.ceil(nblocks / maxBlocks);
    if (n > this.freeTop) {
      if (n > this.depth) this.tooManyChildren(n, `${bytes} bytes`);
      return false;
    }
    if (this.failure) throw this.failure;
    const h = this.allocHead(tag, n);
    let lba = slba, left = nblocks, o = off;
    for (let i = 0; i < n; i++) {
      const s = i === 0 ? h : this.allocChild(h);
      const nb = left < maxBlocks ? left : maxBlocks;
      const b = nb * blockSize;
      this.setData(s, buf, o, b, isWrite ? (b <= this.icdLimit ? K_WRITE_ICD : K_WRITE_R2T) : K_READ);
      this.putDataCommand(s, opc, nsid, lba, nb - 1, 0);
      lba += nb;
      left -= nb;
      o += b;
    }
    return true;
  }

  /** Queues H2CData PDUs for bytes [from, from+count) of slot s, answering R2T `ttag` (data by reference). */
  private putH2CData(s: number, ttag: number, from: number, count: number): void {
    const src = this.bufs[s]!;
    const srcOff = this.bufOff[s]!;
    const sq = this.sq;
    let pos = from;
    const end = from + count;
    while (pos < end) {
      const chunk = Math.min(this.maxh2cdata, end - pos);
      const last = pos + chunk === end;
      sq.beginDataPdu(PduType.H2CData, last ? PduFlags.LAST_PDU : 0, s, ttag, pos, chunk);
      sq.payload(src, srcOff + pos, chunk);
      sq.endDataPdu();
      pos += chunk;
    }
  }

  // ------------------------------------------------------------------ internals: receive (host handler table)

  /** A C2HData's header is in: check it and land its data in the caller's buffer. */
  onHeader(r: PduReceiver): void {
    if (r.type !== PduType.C2HData) return; // C2HTermReq: its data stays in the receive buffer
    const dv = r.hdv;
    const cid = dv.getUint16(DataPduOffset.CCCID, true);
    const datao = dv.getUint32(DataPduOffset.DATAO, true);
    const datal = r.dataLen;
    if (cid >= this.depth || this.state[cid] !== INFLIGHT) this.badCid('C2HData', cid);
    if (this.kind[cid] !== K_READ) this.protocolError(`C2HData for CID ${cid}, which is not a read`);
    const got = this.xfer[cid]!;
    const len = this.len[cid]!;
    if (datao !== got) this.protocolError(`C2HData for CID ${cid} at offset ${datao}, expected ${got}`);
    if (datao + datal > len) this.protocolError(`C2HData for CID ${cid} carries bytes ${datao}..${datao + datal} of a ${len}-byte transfer`);
    const flags = r.flags;
    if ((flags & PduFlags.SUCCESS) !== 0 && (flags & PduFlags.LAST_PDU) === 0) {
      this.protocolError(`C2HData for CID ${cid} with SUCCESS but without LAST_PDU`);
    }
    if ((flags & PduFlags.LAST_PDU) !== 0 && got + datal !== len) {
      this.protocolError(`C2HData for CID ${cid} marked last after ${got + datal} of ${len} bytes`);
    }
    r.into(this.bufs[cid]!, this.bufOff[cid]! + datao);
  }

  onPdu(r: PduReceiver): void {
    switch (r.type) {
      case PduType.CapsuleResp: this.onCapsuleResp(); return;
      case PduType.C2HData: this.onC2HData(); return;
      case PduType.R2T: this.onR2T(); return;
      case PduType.C2HTermReq: this.onTermReq(); return;
      default:
        this.protocolError(`unexpected ${r.type === PduType.ICResp ? 'ICResp' : `PDU type 0x${r.type.toString(16)}`} on an established connection`);
    }
  }

  /** The receiver found a malformed PDU. */
  private receiveError(): never {
    const r = this.rx;
    this.sendTermReq(r.fes, r.fei, r.offendingHeader());
    return this.fatal('PROTOCOL', `protocol error from ${this.peer} (qid ${this.qid}): ${r.error}`);
  }

  private badCid(what: string, cid: number): never {
    return this.protocolError(`${what} for CID ${cid}, which has no command in flight`);
  }

  private onCapsuleResp(): void {
    this.rxCapsuleResp++;
    const dv = this.rx.hdv;
    const b = 8;
    const cid = dv.getUint16(b + CqeOffset.CID, true);
    const status = dv.getUint16(b + CqeOffset.STATUS, true) & 0xfffe;
    if (cid >= this.depth || this.state[cid] !== INFLIGHT) this.badCid('CapsuleResp', cid);
    if (status === 0 && this.kind[cid] === K_READ && this.xfer[cid] !== this.len[cid]) {
      this.protocolError(`CapsuleResp with success for CID ${cid} after ${this.xfer[cid]} of ${this.len[cid]} data bytes`);
    }
    this.cqeDw0 = dv.getUint32(b + CqeOffset.DW0, true);
    this.cqeDw1 = dv.getUint32(b + CqeOffset.DW1, true);
    const xs = this.xferStatus[cid]!;
    this.completeSlot(cid, xs !== 0 ? xs : status);
  }

  /** The C2HData checked in onHeader has landed. */
  private onC2HData(): void {
    this.rxC2HData++;
    const r = this.rx;
    const cid = r.hdv.getUint16(DataPduOffset.CCCID, true);
    if (!r.ddgstOk) this.xferStatus[cid] = DATA_TRANSFER_ERROR_STATUS;
    this.xfer[cid] = this.xfer[cid]! + r.dataLen;
    if ((r.flags & (PduFlags.LAST_PDU | PduFlags.SUCCESS)) === (PduFlags.LAST_PDU | PduFlags.SUCCESS)) {
      this.rxC2HSuccess++;
      this.cqeDw0 = 0;
      this.cqeDw1 = 0;
      this.completeSlot(cid, this.xferStatus[cid]!);
    }
  }

  private onR2T(): void {
    this.rxR2T++;
    const dv = this.rx.hdv;
    const cid = dv.getUint16(DataPduOffset.CCCID, true);
    const ttag = dv.getUint16(DataPduOffset.TTAG, true);
    const r2to = dv.getUint32(DataPduOffset.DATAO, true);
    const r2tl = dv.getUint32(DataPduOffset.DATAL, true);
    if (cid >= this.depth || this.state[cid] !== INFLIGHT) this.badCid('R2T', cid);
    if (this.kind[cid] !== K_WRITE_R2T) this.protocolError(`R2T for CID ${cid}, which has no data to send on request`);
    const sent = this.xfer[cid]!;
    const len = this.len[cid]!;
    if (r2tl === 0) this.protocolError(`R2T for CID ${cid} with length 0`);
    if (r2to < sent) this.protocolError(`R2T for CID ${cid} at offset ${r2to}, but ${sent} bytes were already requested`);
    if (r2to + r2tl > len) this.protocolError(`R2T for CID ${cid} asks for bytes ${r2to}..${r2to + r2tl} of a ${len}-byte transfer`);
    this.xfer[cid] = r2to + r2tl;
    this.putH2CData(cid, ttag, r2to, r2tl);
  }

  private onTermReq(): void {
    const dv = this.rx.hdv;
    const fes = dv.getUint16(TermReqOffset.FES, true);
    const fei = dv.getUint32(TermReqOffset.FEI, true);
    this.fatal('TERMINATED',
      `${this.peer} terminated the connection (qid ${this.qid}): C2HTermReq ${fesName(fes)} (FES 0x${fes.toString(16)}, FEI 0x${fei.toString(16)})`);
  }

  private protocolError(msg: string): never {
    const r = this.rx;
    this.sendTermReq(0x01, 0, r.hdr.slice(0, Math.min(r.hlen || 24, 128)));
    return this.fatal('PROTOCOL', `protocol error from ${this.peer} (qid ${this.qid}): ${msg}`);
  }

  /** Best effort: one non-blocking send of an H2CTermReq when the stream is at a PDU boundary. */
  private sendTermReq(fes: number, fei: number, hdr: Uint8Array): void {
    if (this.sock < 0 || this.sq.midPdu) return;
    // Queued PDUs that did not go out yet are dropped: the connection is going away.
    this.sq.discard();
    this.sq.putTermReq(PduType.H2CTermReq, fes, fei, hdr);
    this.sq.flush(this.sock);
  }

  private fatal(code: TransportErrorCode, message: string): never {
    const e = new TransportError(message, code);
    this.failure = e;
    this.rx.abort();
    if (this.sock >= 0) {
      native.close(this.sock);
      this.sock = -1;
    }
    throw e;
  }
}
