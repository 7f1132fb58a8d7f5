// TcpConnection: one NVMe/TCP queue (one socket) on the target side: the transport half of the
// target core (it implements TargetQueue; the handlers see TargetRequest objects only).
//
// State machine: WaitIc → (ICReq/ICResp) → WaitConnect → (Fabrics Connect) → Active → Closing/Closed.
// poll() receives with the shared PduReceiver (this class is the controller role's handler table),
// queues every answer (ICResp, CapsuleResp, C2HData, R2T, C2HTermReq) on the shared PduSendQueue and
// flushes it with one sendmsg at the end of the pass. Writes that do not fit in the capsule get ONE
// R2T for the whole length (what Linux and SPDK targets do) and their H2CData lands straight in the
// namespace's memory. Null reads are sent from one shared zero buffer by reference; RAM reads are
// copied into the send queue when handled: sent by reference, a write landing in the same blocks (in
// this pass or while the socket is full) would tear the read's blocks, which a drive's atomic unit
// (one block, AWUN 0) forbids, and break its data digest (found by --verify with 64 KiB randrw). Protocol
// violations get a C2HTermReq with the offending header, then the socket is shut down and closed;
// nothing here throws out of poll().
import { EAGAIN, errnoName, native } from '../native/index.js';
import { PduReceiver, type PduHandler } from '../transport/tcp/pdu-receiver.js';
import { PduSendQueue } from '../transport/tcp/pdu-send-queue.js';
import { DataPduOffset, Fes, PduFlags, PduType, TCP_LIMITS, TermReqOffset } from '../transport/tcp/pdu-types.js';
import { dataOffsetFor, decodeIcReq } from '../transport/tcp/pdu-codec.js';
import { AdminOpcode, NvmOpcode } from '../nvme/opcodes.js';
import {
  SglId, sqeCid, sqeFctype, sqeFlags, sqeOpc, sqeSglAddrHi, sqeSglAddrLo, sqeSglId, sqeSglLen, SQE_FLAGS_PSDT_SGL,
} from '../nvme/sqe.js';
import type { TargetController } from './controller.js';
import { ADMIN_ICD_BYTES } from './identify-data.js';
import { READ_LENT, READ_STABLE, type FileNamespace, type NamespaceBackend, type ReadMemory } from './namespace.js';
import { LEND_MIN_BYTES } from './lent-reads.js';
import type { ReactorContext, SubsystemRuntime } from './reactor-context.js';
import { TargetRequest, type TargetQueue } from './request.js';
import { ST } from './status-codes.js';
import { ConnState } from './conn-state.js';
import { handleFabrics } from './fabrics-handlers.js';
import { handleAdmin } from './admin-handlers.js';
import { handleIo } from './io-handlers.js';

export { ConnState };

/** Send what has accumulated once the pending output reaches this (mid-pass). */
const FLUSH_THRESHOLD = 256 * 1024;
/** Stop reading new commands while this much output is waiting for the socket. */
const BACKPRESSURE_BYTES = 8 * 1024 * 1024;
/** How long a connection that sent a C2HTermReq lingers (draining input) before it is closed. */
const LINGER_NS = 1e9;

/** Largest data a non-Write command may have us fetch by R2T. */
const MAX_STAGED_BYTES = 8192;

/** What an R2T of a request is fetching (per slot). */
const X_NONE = 0;
/** Write data landing in the namespace (its memory, or the slot's stage then ns.write). */
const X_WRITE = 1;
/** Data of another command (Connect, Dataset Management): staged, then the command runs. */
const X_COMMAND = 2;
/** Held unanswered by the test knob (ControlBlock.setHoldIo); an Abort may complete it / may not. */
const X_HELD = 3;
const X_HELD_NO_ABORT = 4;

const SQE_IN_HDR = 8;

export class TcpConnection implements TargetQueue, PduHandler {
  state: number = ConnState.WaitIc;
  readonly rx: PduReceiver;
  readonly sq: PduSendQueue;

  hdgst = false;
  ddgst = false;

  /** -1 until Connect. */
  qid = -1;
  /** Queue entries (SQSIZE + 1), 0 before Connect. */
  sqEntries = 0;
  sqhd = 0;
  /** Connect CATTR bit 2: the host disabled SQ flow control (reads may end with C2HData SUCCESS). */
  sqFlowOff = false;
  /** Admin queue: the controller it carries. */
  ctrl: TargetController | null = null;
  /** I/O queue: registry slot/epoch/CNTLID of its controller. */
  ioSlot = -1;
  ioEpoch = 0;
  cntlid = 0;
  /** NVM subsystem of an I/O controller (null on discovery controllers and before Connect). */
  subsys: SubsystemRuntime | null = null;
  discovery = false;
  hostnqn = '';

  // Request slots (TTAG of an R2T = slot index).
  private readonly nslots: number;
  private readonly reqs: TargetRequest[];
  private readonly sqeWords: Int32Array;
  private readonly hdrWords: Int32Array;
  private readonly freeSlots: Int32Array;
  private freeTop: number;
  private readonly xKind: Uint8Array;
  private readonly xLen: Float64Array;
  private readonly xGot: Float64Array;
  private readonly xStatus: Uint16Array;
  /** Where H2CData lands: namespace memory, a discard buffer, the slot's stage (commands); null: the PDU stage, then ns.write. */
  private readonly xDest: Array<Uint8Array | null>;
  private readonly xBase: Float64Array;
  /** Staged writes: the namespace and the byte offset of the transfer. */
  private readonly xNs: Array<NamespaceBackend | null>;
  private readonly xByteOff: Float64Array;
  /** Write data landing in a slot of the reactor's file io_uring (written by one SQE when all is in); -1: none. */
  private readonly xRing: Int32Array;
  private readonly stage: Array<Uint8Array | null>;

  /** Interrupt mode: EPOLLOUT currently requested. */
  epollOut = false;
  /** PDU processing stopped on back-pressure; PDUs wait in the receiver. */
  private stalled = false;
  /** Consecutive polls that found nothing to read (poll mode polls long-idle queues less often). */
  idlePasses = 0;
  /**
   * The last poll() left nothing behind: the socket read short or would block, no PDU waits on
   * back-pressure and every response went out. Only epoll can bring more work (level-triggered).
   */
  quiet = false;
  private lingerUntilNs = 0;
  private shutDown = false;
  private closeReason = '';
  readonly peer: string;

  constructor(readonly fd: number, readonly id: number, readonly listener: number, readonly ctx: ReactorContext) {
    const lim = ctx.params.limits;
    // In-capsule data is gathered in the receive buffer: it holds the largest capsule; H2CData goes
    // to its destination and never needs the buffer to grow.
    const icd = Math.max(lim.inCapsuleDataSize, ADMIN_ICD_BYTES);
    this.rx = new PduReceiver('controller', this, Math.max(128 * 1024, icd + 72 + 8 + 128 + 8),
      Math.max(lim.maxIoSize, icd) + 72 + 8 + 128 + 8);
    this.sq = new PduSendQueue(64 * 1024, 256);
    this.nslots = Math.max(lim.maxQueueDepth, 32) + 1;
    const n = this.nslots;
    const sqeMem = new ArrayBuffer(64 * n);
    this.sqeWords = new Int32Array(sqeMem);
    this.hdrWords = new Int32Array(this.rx.hdr.buffer, SQE_IN_HDR, 16);
    this.reqs = [];
    for (let i = 0; i < n; i++) this.reqs.push(new TargetRequest(this, i, sqeMem));
    this.freeSlots = new Int32Array(n);
    for (let i = 0; i < n; i++) this.freeSlots[i] = n - 1 - i;
    this.freeTop = n;
    this.xKind = new Uint8Array(n);
    this.xLen = new Float64Array(n);
    this.xGot = new Float64Array(n);
    this.xStatus = new Uint16Array(n);
    this.xDest = new Array<Uint8Array | null>(n).fill(null);
    this.xBase = new Float64Array(n);
    this.xNs = new Array<NamespaceBackend | null>(n).fill(null);
    this.xByteOff = new Float64Array(n);
    this.xRing = new Int32Array(n).fill(-1);
    this.stage = new Array<Uint8Array | null>(n).fill(null);
    let peer = '?';
    try { peer = native.peerAddress(fd); } catch { /* already gone */ }
    this.peer = peer;
  }

  get closed(): boolean { return this.state === ConnState.Closed; }
  get outPending(): number { return this.sq.pendingBytes; }
  /** Bytes the host has taken so far (a host that stops reading stops moving it). */
  get outHead(): number { return this.sq.sentBytes; }
  /** Receive buffer plus send arena: what this connection holds in memory. */
  get bufferBytes(): number { return this.rx.buf.length + this.sq.arena.length; }
  /** For logs: "qid 1 cntlid 3 from 127.0.0.1:5555". */
  describe(): string {
    const q = this.qid < 0 ? 'unconnected queue' : `qid ${this.qid}${this.cntlid ? ` cntlid ${this.cntlid}` : ''}`;
    return `${q} from ${this.peer}`;
  }

  // ------------------------------------------------------------------------------ loop entry

  /** One pass: receive, handle PDUs, send. Returns > 0 when something was done. */
  poll(): number {
    this.quiet = false;
    if (this.state >= ConnState.Closing) return this.pollClosing();
    let work = 0;
    const r = this.rx;
    if (this.sq.pendingBytes > 0) {
      work += this.flush();
      if (this.sq.pendingBytes > BACKPRESSURE_BYTES) return work;
    }
    if (this.stalled) {
      // PDUs left over from a pass that stopped on back-pressure.
      this.stalled = false;
      work++;
      r.resume();
      if (this.afterReceive()) return work;
      if (this.stalled) return work + this.flush();
    }
    for (let round = 0; round < 8; round++) {
      if (r.landingInPlace) this.beforeLanding(); // the rest of an H2CData payload goes into namespace memory
      const n = r.receive(this.fd);
      if (n > 0) {
        this.idlePasses = 0;
        work++;
        if (this.afterReceive()) return work;
        if (this.stalled) break;
        if (r.drained) { this.quiet = true; break; }
        continue;
      }
      if (n === 0) {
        this.close('closed by the host');
        return work + 1;
      }
      if (n === EAGAIN) {
        if (round === 0) this.idlePasses++;
        this.quiet = true;
        break;
      }
      this.close(`recv: ${errnoName(n)}`);
      return work + 1;
    }
    if (this.sq.pendingBytes > 0) work += this.flush();
    if (this.sq.pendingBytes > 0) this.quiet = false;
    return work;
  }

  /** Data is about to land in namespace memory: reads lent from it take their copies first. */
  private beforeLanding(): void {
    const l = this.ctx.lentReads;
    if (l !== null && l.count > 0) l.keepAll();
  }

  /** After the receiver ran: a malformed PDU → TermReq. True when the connection is closing. */
  private afterReceive(): boolean {
    if (this.state >= ConnState.Closing) return true;
    const r = this.rx;
    if (r.failed) {
      this.fatal(r.fes, r.fei, r.offendingHeader(), r.error);
      return true;
    }
    return false;
  }

  /** Periodic checks (every few ms): keep-alive expiry, controller gone, linger deadline. */
  tick(nowNs: number): void {
    if (this.state === ConnState.Closed) return;
    if (this.state === ConnState.Closing) {
      if (nowNs >= this.lingerUntilNs) this.finalClose();
      return;
    }
    const ctrl = this.ctrl;
    if (ctrl) {
      if (ctrl.kaDeadlineNs !== 0 && nowNs > ctrl.kaDeadlineNs) {
        this.ctx.log('warn', `controller ${ctrl.cntlid} (${ctrl.hostnqn}): keep-alive timeout (${ctrl.kato} ms) expired; dropping the association`);
        ctrl.dead = true;
        this.close('keep-alive timeout');
      }
      return;
    }
    if (this.ioSlot >= 0 && this.ctx.registry.epoch(this.ioSlot) !== this.ioEpoch) {
      this.close(`controller ${this.cntlid} was disabled or went away`);
    }
  }

  /** Next time tick() has something to check (interrupt-mode sleep bound); 0 = none. */
  nextDeadlineNs(): number {
    if (this.state === ConnState.Closing) return this.lingerUntilNs;
    return this.ctrl ? this.ctrl.kaDeadlineNs : 0;
  }

  // ------------------------------------------------------------------------------ PDUs (controller handler table)

  /** A PDU with data: H2CData lands where its R2T said; in-capsule data and TermReq stay in the receive buffer. */
  onHeader(r: PduReceiver): void {
    if (r.type !== PduType.H2CData) return;
    if (this.state !== ConnState.Active && this.state !== ConnState.WaitConnect) {
      this.fatalCurrent(Fes.PduSequenceError, 0, 'H2CData before ICReq');
      return;
    }
    const dv = r.hdv;
    const cccid = dv.getUint16(DataPduOffset.CCCID, true);
    const ttag = dv.getUint16(DataPduOffset.TTAG, true);
    const datao = dv.getUint32(DataPduOffset.DATAO, true);
    const datal = r.dataLen;
    if (ttag >= this.nslots || this.xKind[ttag] === X_NONE || this.reqs[ttag]!.cid !== cccid) {
      this.fatalCurrent(Fes.PduSequenceError, 0, `H2CData for unknown TTAG ${ttag} / CCCID ${cccid}`);
      return;
    }
    const got = this.xGot[ttag]!;
    const len = this.xLen[ttag]!;
    if (datao !== got || datao + datal > len) {
      this.fatalCurrent(Fes.DataTransferOutOfRange, 0, `H2CData DATAO ${datao} DATAL ${datal}, expected offset ${got} of ${len}`);
      return;
    }
    const dest = this.xDest[ttag];
    if (dest !== null) {
      this.beforeLanding();
      r.into(dest, this.xBase[ttag]! + datao);
    }
    else r.into(this.pduStageFor(datal), 0);
  }

  onPdu(r: PduReceiver): void {
    try {
      switch (r.type) {
        case PduType.CapsuleCmd:
          if (this.state === ConnState.WaitIc) { this.fatalCurrent(Fes.PduSequenceError, 0, 'CapsuleCmd before ICReq'); return; }
          this.handleCapsule();
          break;
        case PduType.H2CData:
          this.h2cDataIn();
          break;
        case PduType.ICReq:
          if (this.state !== ConnState.WaitIc) { this.fatalCurrent(Fes.PduSequenceError, 0, 'second ICReq'); return; }
          this.handleIcReq();
          break;
        case PduType.H2CTermReq: {
          const dv = r.hdv;
          this.close(`host sent H2CTermReq FES 0x${dv.getUint16(TermReqOffset.FES, true).toString(16)} FEI ${dv.getUint32(TermReqOffset.FEI, true)}`);
          return;
        }
        default:
          this.fatalCurrent(Fes.InvalidHeaderField, 0, `unexpected PDU type ${r.type}`);
          return;
      }
    } catch (e) {
      this.ctx.log('warn', `${this.describe()}: internal error: ${(e as Error)?.stack ?? String(e)}`);
      this.close('internal error');
      return;
    }
    if (this.state >= ConnState.Closing) return;
    if (this.sq.pendingBytes >= FLUSH_THRESHOLD) {
      this.flush();
      // The host does not read its responses: leave the rest of its PDUs for a later pass.
      if (this.sq.pendingBytes > BACKPRESSURE_BYTES) { this.stalled = true; r.pause(); }
    }
  }

  private handleIcReq(): void {
    const ic = decodeIcReq(this.rx.hdr, 0);
    // PFV ≠ 0: FES 0x01 (Invalid PDU Header Field) with FEI = 8, the offset of PFV, as SPDK does (notes §2.3).
    if (ic.pfv !== 0) { this.fatalCurrent(Fes.InvalidHeaderField, 8, `ICReq PFV ${ic.pfv}`); return; }
    if (ic.hpda > TCP_LIMITS.MAX_PDA) { this.fatalCurrent(Fes.InvalidHeaderField, 10, `ICReq HPDA ${ic.hpda}`); return; }
    this.hdgst = ic.hdgst;
    this.ddgst = ic.ddgst;
    this.sq.putIcResp({
      pfv: 0, cpda: 0, hdgst: this.hdgst, ddgst: this.ddgst, maxh2cdata: this.ctx.params.limits.maxIoSize,
    });
    // Our C2HData honours the host's HPDA; we never send capsules.
    this.sq.configure(this.hdgst, this.ddgst, 72, dataOffsetFor(24, this.hdgst, ic.hpda));
    this.rx.hdgst = this.hdgst;
    this.rx.ddgst = this.ddgst;
    this.state = ConnState.WaitConnect;
  }

  private handleCapsule(): void {
    const r = this.rx, dv = r.hdv, s = SQE_IN_HDR;
    const opc = sqeOpc(dv, s);
    const cid = sqeCid(dv, s);
    const sglLen = sqeSglLen(dv, s);
    const sglId = sqeSglId(dv, s);
    const icd = r.dataLen;
    this.ctx.counters.commands++;
    if (this.sqEntries !== 0) this.sqhd = this.sqhd + 1 === this.sqEntries ? 0 : this.sqhd + 1;

    // Transport-level SGL checks (SPDK's rules, notes §2.4 / §3.2).
    if (icd > 0) {
      // Admin queue and Fabrics commands: 8 KiB (transport binding); I/O queues: what IOCCSZ advertises.
      const limit = this.qid <= 0 || opc === AdminOpcode.Fabrics ? ADMIN_ICD_BYTES : this.ctx.params.limits.inCapsuleDataSize;
      if (icd > limit) { this.fatalCurrent(Fes.DataTransferLimitExceeded, 0, `${icd} bytes of in-capsule data (limit ${limit})`); return; }
      if (sglId !== SglId.DataBlockOffset || sglLen !== icd) {
        this.fatalCurrent(Fes.InvalidHeaderField, 4, `in-capsule data of ${icd} bytes but SGL 0x${sglId.toString(16)} length ${sglLen}`);
        return;
      }
      if (sqeSglAddrLo(dv, s) !== 0 || sqeSglAddrHi(dv, s) !== 0) {
        this.fatalCurrent(Fes.UnsupportedParameter, 8 + 24, 'in-capsule SGL with a non-zero offset');
        return;
      }
      if (!r.ddgstOk) { this.respondRaw(cid, ST.TRANSIENT_TRANSPORT); return; }
    } else if (sglLen !== 0) {
      if (sglId === SglId.DataBlockOffset) {
        this.fatalCurrent(Fes.InvalidHeaderField, 4, `SGL announces ${sglLen} bytes of in-capsule data but the capsule has none`);
        return;
      }
      if (sglId !== SglId.TransportDataBlock) {
        this.fatalCurrent(Fes.UnsupportedParameter, 8 + 39, `SGL descriptor type 0x${sglId.toString(16)}`);
        return;
      }
      if (sglLen > this.ctx.params.limits.maxIoSize) {
        this.fatalCurrent(Fes.DataTransferLimitExceeded, 0, `SGL length ${sglLen} above the maximum I/O size ${this.ctx.params.limits.maxIoSize}`);
        return;
      }
    }
    // PSDT must be 01b (SGL), FUSE 00b (Linux target: Invalid Field + DNR).
    if (sqeFlags(dv, s) !== SQE_FLAGS_PSDT_SGL) { this.respondRaw(cid, ST.INVALID_FIELD); return; }

    const dir = (opc === AdminOpcode.Fabrics ? sqeFctype(dv, s) : opc) & 3;
    if (icd > 0 && dir !== 1) { this.respondRaw(cid, ST.SGL_TYPE_INVALID); return; }

    // A request for the command: its SQE copied into the slot.
    if (this.freeTop === 0) { this.respondRaw(cid, ST.COMMAND_INTERRUPTED); return; }
    const t = this.freeSlots[--this.freeTop]!;
    const w = this.sqeWords, h = this.hdrWords, o = t * 16;
    for (let i = 0; i < 16; i++) w[o + i] = h[i]!;
    const req = this.reqs[t]!;

    if (icd === 0 && sglLen > 0 && dir === 1) {
      // Data comes with H2CData after our R2T.
      if (this.qid > 0 && opc === NvmOpcode.Write && this.state === ConnState.Active) {
        req.data = null;
        req.dataLen = 0;
        handleIo(req);
      } else {
        this.stageCommand(req, sglLen);
      }
      return;
    }
    req.data = icd > 0 ? r.buf : null;
    req.dataOff = r.dataOff;
    req.dataLen = icd;
    this.dispatch(req);
  }

  private dispatch(req: TargetRequest): void {
    const opc = sqeOpc(req.sqv, 0);
    if (opc === AdminOpcode.Fabrics) { handleFabrics(req); return; }
    if (this.state !== ConnState.Active) {
      // Any non-Connect command on an unconnected queue: Invalid Opcode + DNR, as Linux (notes §5.3).
      req.complete(ST.INVALID_OPCODE);
      return;
    }
    if (this.qid === 0) handleAdmin(req);
    else handleIo(req);
  }

  // ------------------------------------------------------------------------------ R2T / H2CData

  /** One H2CData's data on its way to ns.write (one PDU is received at a time). */
  private pduStage = new Uint8Array(0);
  private pduStageFor(len: number): Uint8Array {
    if (this.pduStage.length < len) this.pduStage = new Uint8Array(Math.max(len, 128 * 1024));
    return this.pduStage;
  }

  private stageFor(t: number, len: number): Uint8Array {
    let b = this.stage[t];
    if (!b || b.length < len) { b = new Uint8Array(len); this.stage[t] = b; }
    return b;
  }

  /** Write command validated by the I/O handler: ask for all its data with one R2T. */
  receiveWrite(req: TargetRequest, ns: NamespaceBackend, byteOff: number, len: number): void {
    const t = req.slot;
    this.xKind[t] = X_WRITE;
    this.xLen[t] = len;
    this.xGot[t] = 0;
    this.xStatus[t] = 0;
    this.xNs[t] = null;
    const ring = this.ctx.fileRing;
    if (ring !== null && ns.kind === 'file' && len <= ring.slotBytes) {
      const s = ring.take();
      if (s >= 0) {
        // Into a ring slot's buffer (data digests are checked before its one write SQE goes out).
        this.xRing[t] = s;
        this.xDest[t] = ring.buffer(s);
        this.xBase[t] = ring.bufferOffset(s);
        this.xNs[t] = ns;
        this.xByteOff[t] = byteOff;
        this.sq.putR2T(req.cid, t, 0, len);
        return;
      }
    }
    // With data digests the data is checked before it reaches the namespace (staged per PDU).
    const mem = this.ddgst ? null : ns.locateWrite(byteOff, len);
    if (mem !== null) {
      // Straight into the namespace's memory (or the null namespace's discard buffer).
      this.xDest[t] = mem;
      this.xBase[t] = ns.refOff;
    } else {
      // Each H2CData lands in the PDU stage, then goes through ns.write (file namespaces, a RAM range
      // across chunks, data digests).
      this.xDest[t] = null;
      this.xBase[t] = 0;
      this.xNs[t] = ns;
      this.xByteOff[t] = byteOff;
    }
    this.sq.putR2T(req.cid, t, 0, len);
  }

  /** Any other command whose data comes by R2T: stage the data, run the command when it is in. */
  private stageCommand(req: TargetRequest, len: number): void {
    // Commands other than Write carry little data (Connect 1 KiB, DSM ≤ 4 KiB): refuse more
    // before asking for it, so a host cannot make us buffer megabytes per slot.
    if (len > MAX_STAGED_BYTES) { req.complete(ST.SGL_LENGTH_INVALID); return; }
    const t = req.slot;
    this.xKind[t] = X_COMMAND;
    this.xLen[t] = len;
    this.xGot[t] = 0;
    this.xStatus[t] = 0;
    this.xDest[t] = this.stageFor(t, len);
    this.xBase[t] = 0;
    this.xNs[t] = null;
    this.sq.putR2T(req.cid, t, 0, len);
  }

  /** An H2CData checked in onHeader has landed. */
  private h2cDataIn(): void {
    const r = this.rx;
    const t = r.hdv.getUint16(DataPduOffset.TTAG, true);
    if (!r.ddgstOk) this.xStatus[t] = ST.TRANSIENT_TRANSPORT;
    const ns = this.xNs[t];
    const rs = this.xRing[t]!;
    if (ns !== null && rs < 0 && this.xStatus[t] === 0) {
      try {
        ns.write(this.pduStage, 0, this.xByteOff[t]! + r.hdv.getUint32(DataPduOffset.DATAO, true), r.dataLen);
      } catch (e) {
        this.ctx.log('warn', `${this.describe()}: write failed: ${(e as Error).message}`);
        this.xStatus[t] = ST.WRITE_FAULT;
      }
    }
    const got = this.xGot[t]! + r.dataLen;
    this.xGot[t] = got;
    const len = this.xLen[t]!;
    if (got < len) return;

    const req = this.reqs[t]!;
    const status = this.xStatus[t]!;
    const kind = this.xKind[t]!;
    this.xKind[t] = X_NONE;
    if (kind === X_COMMAND) {
      if (status !== 0) { req.complete(status); return; }
      req.data = this.xDest[t]!;
      req.dataOff = 0;
      req.dataLen = len;
      this.xDest[t] = null;
      this.dispatch(req);
      return;
    }
    this.xDest[t] = null;
    this.xNs[t] = null;
    if (rs >= 0) {
      this.xRing[t] = -1;
      const ring = this.ctx.fileRing!;
      if (status !== 0) { ring.give(rs); req.complete(status); return; }
      ring.write(rs, req, (ns as FileNamespace).fileDescriptor, this.xByteOff[t]!, len); // answered on its CQE
      return;
    }
    if (status === 0) {
      const c = this.ctx.counters;
      c.writeCmds++;
      c.writeUnits += len / 512;
    }
    req.complete(status);
  }

  // ------------------------------------------------------------------------------ answers (TargetQueue)

  complete(req: TargetRequest, status: number, dw0: number, dw1: number, sqhd: number): void {
    this.respondRaw(req.cid, status, dw0, dw1, sqhd);
    this.release(req);
  }

  park(req: TargetRequest): void {
    this.release(req);
  }

  answerParked(cid: number, dw0: number): void {
    this.respondRaw(cid, ST.OK, dw0);
  }

  hold(req: TargetRequest, abortable: boolean): void {
    this.xKind[req.slot] = abortable ? X_HELD : X_HELD_NO_ABORT;
  }

  abortHeld(cid: number): boolean {
    for (let t = 0; t < this.nslots; t++) {
      if (this.xKind[t] !== X_HELD || this.reqs[t]!.cid !== cid) continue;
      this.xKind[t] = X_NONE;
      this.reqs[t]!.complete(ST.ABORT_REQUESTED);
      return true;
    }
    return false;
  }

  private release(req: TargetRequest): void {
    req.data = null;
    req.gen++;
    this.freeSlots[this.freeTop++] = req.slot;
  }

  /** CapsuleResp for a command that has no request (refused before one was allocated). */
  private respondRaw(cid: number, status: number, dw0 = 0, dw1 = 0, sqhd = -1): void {
    this.sq.putCapsuleResp(cid, status, dw0, dw1, sqhd >= 0 ? sqhd : this.sqFlowOff ? 0 : this.sqhd, this.qid > 0 ? this.qid : 0);
  }

  sendData(req: TargetRequest, buf: Uint8Array, off: number, len: number, stable: boolean): void {
    const sq = this.sq;
    sq.beginDataPdu(PduType.C2HData, PduFlags.LAST_PDU, req.cid, 0, 0, len);
    if (stable) sq.payload(buf, off, len);
    else sq.payloadCopy(buf, off, len);
    sq.endDataPdu();
  }

  /**
   * A successful read: its data by reference when it never changes (null), else a snapshot, ending
   * with C2HData SUCCESS when the host turned SQ flow control off, else followed by a CapsuleResp.
   */
  completeRead(req: TargetRequest, buf: Uint8Array, off: number, len: number, memory: ReadMemory): void {
    const sq = this.sq;
    const success = this.sqFlowOff;
    sq.beginDataPdu(PduType.C2HData, success ? PduFlags.LAST_PDU | PduFlags.SUCCESS : PduFlags.LAST_PDU, req.cid, 0, 0, len);
    if (memory === READ_STABLE) sq.payload(buf, off, len);
    else if (memory === READ_LENT && len >= LEND_MIN_BYTES) {
      if (sq.payloadLent(buf, off, len)) this.ctx.lentReads!.list(sq);
    } else sq.payloadCopy(buf, off, len);
    sq.endDataPdu();
    if (success) this.release(req);
    else this.complete(req, ST.OK, 0, 0, -1);
  }

  /** Sends pending output; returns 1 when bytes left. */
  flush(): number {
    if (this.sq.pendingBytes === 0) return 0;
    const n = this.sq.flush(this.fd);
    if (n > 0) return 1;
    if (n === 0) return 0;
    if (this.state < ConnState.Closing) this.close(`send: ${errnoName(n)}`);
    else this.sq.discard();
    return 0;
  }

  // ------------------------------------------------------------------------------ association

  /** Admin Connect succeeded. */
  becomeAdmin(ctrl: TargetController, sqEntries: number, flowOff: boolean, subsys: SubsystemRuntime | null): void {
    this.ctrl = ctrl;
    this.qid = 0;
    this.cntlid = ctrl.cntlid;
    this.sqEntries = sqEntries;
    this.sqFlowOff = flowOff;
    this.subsys = subsys;
    this.discovery = ctrl.discovery;
    this.hostnqn = ctrl.hostnqn;
    this.sqhd = 1; // the Connect command itself was consumed
    this.state = ConnState.Active;
    this.ctx.counters.adminQpairs++;
  }

  /** I/O Connect succeeded. */
  becomeIo(qid: number, cntlid: number, slot: number, epoch: number, sqEntries: number, flowOff: boolean,
    subsys: SubsystemRuntime, hostnqn: string): void {
    this.qid = qid;
    this.cntlid = cntlid;
    this.ioSlot = slot;
    this.ioEpoch = epoch;
    this.sqEntries = sqEntries;
    this.sqFlowOff = flowOff;
    this.subsys = subsys;
    this.hostnqn = hostnqn;
    this.sqhd = 1;
    this.state = ConnState.Active;
    this.ctx.counters.ioQpairs++;
  }

  /** Ring slots held for write data that will now never come go back to the reactor's ring. */
  private releaseFileSlots(): void {
    const ring = this.ctx.fileRing;
    if (ring === null) return;
    const x = this.xRing;
    for (let t = 0; t < this.nslots; t++) {
      if (x[t]! >= 0) { ring.give(x[t]!); x[t] = -1; }
    }
  }

  /** Releases the association's registry state (controller or QID) and the file ring slots it holds. */
  private releaseAssociation(): void {
    this.releaseFileSlots();
    const ctrl = this.ctrl;
    if (ctrl) {
      this.ctrl = null;
      this.ctx.registry.free(ctrl.slot);
      this.ctx.wakeAll();
      this.ctx.log('info', `controller ${ctrl.cntlid} (${ctrl.hostnqn}) removed: ${this.closeReason}`);
    } else if (this.ioSlot >= 0) {
      this.ctx.registry.releaseQid(this.ioSlot, this.ioEpoch, this.qid);
      this.ioSlot = -1;
    }
  }

  // ------------------------------------------------------------------------------ errors / close

  /** Fatal error on the PDU just framed: C2HTermReq with a copy of its header. */
  private fatalCurrent(fes: number, fei: number, why: string): void {
    const r = this.rx;
    const hdr = r.hdr.subarray(0, Math.min(Math.max(8, r.hlen), 128));
    this.fatal(fes, fei, hdr, why);
  }

  /** Sends C2HTermReq (FES, FEI, offending header), then shuts the socket down and closes it. */
  fatal(fes: number, fei: number, hdr: Uint8Array | null, why: string): void {
    if (this.state >= ConnState.Closing) return;
    this.ctx.log('warn', `${this.describe()}: ${why}: sending C2HTermReq (FES 0x${fes.toString(16)}, FEI ${fei}) and closing`);
    this.closeReason = why;
    this.rx.abort();
    this.sq.putTermReq(PduType.C2HTermReq, fes, fei, hdr);
    this.releaseAssociation();
    this.state = ConnState.Closing;
    this.lingerUntilNs = this.ctx.nowNs + LINGER_NS;
    this.pollClosing();
  }

  /** Closing: send what is left, then shut down; discard input until EOF or the linger deadline. */
  private pollClosing(): number {
    if (this.state === ConnState.Closed) return 0;
    if (this.sq.pendingBytes > 0) {
      this.flush();
      if (this.sq.pendingBytes > 0) return 0;
    }
    if (!this.shutDown) {
      // Drain what the host already sent so the close is a FIN, not a RST that could discard the TermReq.
      this.drainInput();
      native.shutdown(this.fd);
      this.shutDown = true;
    }
    if (this.state === ConnState.Closed) return 0;
    if (this.drainInput()) this.finalClose();
    return 0;
  }

  /** Reads and discards input; true when the peer closed (or the socket failed). */
  private drainInput(): boolean {
    const r = this.rx;
    for (let i = 0; i < 16; i++) {
      const n = native.recv(this.fd, r.buf, 0, r.buf.length);
      if (n > 0) continue;
      return n !== EAGAIN;
    }
    return false;
  }

  /** Sends what is pending, then shuts down and closes (Disconnect). */
  gracefulClose(reason: string): void {
    if (this.state >= ConnState.Closing) return;
    this.rx.abort();
    this.closeReason = reason;
    this.releaseAssociation();
    this.state = ConnState.Closing;
    this.lingerUntilNs = this.ctx.nowNs + LINGER_NS;
    this.pollClosing();
  }

  /** Closes the connection now (no TermReq): host closed, keep-alive expiry, controller gone. */
  close(reason: string): void {
    if (this.state === ConnState.Closed) return;
    this.rx.abort();
    if (!this.closeReason) this.closeReason = reason;
    this.releaseAssociation();
    this.finalClose();
  }

  private finalClose(): void {
    if (this.state === ConnState.Closed) return;
    this.releaseAssociation();
    this.state = ConnState.Closed;
    if (this.sq.lentListed) this.ctx.lentReads?.forget(this.sq);
    this.ctx.log('info', `${this.describe()}: closed (${this.closeReason || 'done'})`);
    try { native.close(this.fd); } catch { /* already closed */ }
  }
}
