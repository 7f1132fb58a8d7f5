// TcpConnection: one NVMe/TCP queue (one socket) on the target side.
//
// State machine: WaitIc → (ICReq/ICResp) → WaitConnect → (Fabrics Connect) → Active → Closing/Closed.
// poll() receives everything the socket has into the PduReader's buffer, handles every complete
// PDU, appends all responses (ICResp, CapsuleResp, C2HData, R2T, C2HTermReq) to one send buffer
// and sends it with one send() at the end of the pass. Writes that do not fit in the capsule get
// ONE R2T for the whole length (what Linux and SPDK targets do) and their H2CData chunks are
// copied straight into the namespace. Protocol violations get a C2HTermReq with the offending
// header, then the socket is shut down and closed; nothing here throws out of poll().
import { EAGAIN, errnoName, native } from '../native/index.js';
import { crc32c } from '../util/crc32c.js';
import { PDU_ERROR, PDU_NEED_MORE, PduReader } from '../transport/tcp/pdu-reader.js';
import { Fes, PduFlags, PduType, TCP_LIMITS } from '../transport/tcp/pdu-types.js';
import { dataOffsetFor, encodeIcResp, encodeTermReq } from '../transport/tcp/pdu-codec.js';
import { AdminOpcode, NvmOpcode } from '../nvme/opcodes.js';
import { SglId } from '../nvme/sqe.js';
import type { TargetController } from './controller.js';
import { ADMIN_ICD_BYTES } from './identify-data.js';
import type { ReactorContext, SubsystemRuntime } from './reactor-context.js';
import { ST } from './status-codes.js';
import { ConnState } from './conn-state.js';
import { handleFabrics } from './fabrics-handlers.js';
import { handleAdmin } from './admin-handlers.js';
import { handleIo } from './io-handlers.js';

export { ConnState };

/** Receive at least this much per recv() call. */
const RECV_MIN = 64 * 1024;
/** Send what has accumulated once the pending output reaches this (mid-pass). */
const FLUSH_THRESHOLD = 256 * 1024;
/** Stop reading new commands while this much output is waiting for the socket. */
const BACKPRESSURE_BYTES = 8 * 1024 * 1024;
/** How long a connection that sent a C2HTermReq lingers (draining input) before it is closed. */
const LINGER_NS = 1e9;

/** Largest data a non-Write command may have us fetch by R2T. */
const MAX_STAGED_BYTES = 8192;

const SLOT_FREE = 0, SLOT_WRITE = 1, SLOT_STAGED = 2;

export class TcpConnection {
  state: number = ConnState.WaitIc;
  readonly reader: PduReader;
  out: Uint8Array;
  outDv: DataView;
  outHead = 0;
  outLen = 0;

  hdgst = false;
  ddgst = false;
  /** Data offset of our C2HData PDUs (honours the host's HPDA). */
  c2hPdo = 24;

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

  // Request slots for commands waiting for H2CData (TTAG = slot index).
  private readonly nslots: number;
  private readonly slotState: Uint8Array;
  private readonly slotCid: Uint16Array;
  private readonly slotNs: Int32Array;
  private readonly slotByteOff: Float64Array;
  private readonly slotLen: Int32Array;
  private readonly slotRecv: Int32Array;
  private readonly slotStatus: Uint16Array;
  private readonly slotSqe: Uint8Array;
  private readonly slotStage: (Uint8Array | null)[];
  private readonly freeSlots: Int32Array;
  private freeTop: number;

  /** Interrupt mode: EPOLLOUT currently requested. */
  epollOut = false;
  /** PDU processing stopped on back-pressure; PDUs wait in the reader. */
  private stalled = false;
  /** Consecutive polls that found nothing to read (poll mode polls long-idle queues less often). */
  idlePasses = 0;
  private lingerUntilNs = 0;
  private shutDown = false;
  private closeReason = '';
  readonly peer: string;

  constructor(readonly fd: number, readonly id: number, readonly listener: number, readonly ctx: ReactorContext) {
    const lim = ctx.params.limits;
    const maxData = Math.max(lim.maxIoSize, lim.inCapsuleDataSize, ADMIN_ICD_BYTES);
    // Both buffers grow on demand (rarely) and then stay: admin queues keep small ones.
    this.reader = new PduReader('controller', 128 * 1024, maxData + 72 + 8 + 128 + 8);
    this.out = new Uint8Array(128 * 1024);
    this.outDv = new DataView(this.out.buffer);
    this.nslots = Math.max(lim.maxQueueDepth, 32) + 1;
    const n = this.nslots;
    this.slotState = new Uint8Array(n);
    this.slotCid = new Uint16Array(n);
    this.slotNs = new Int32Array(n);
    this.slotByteOff = new Float64Array(n);
    this.slotLen = new Int32Array(n);
    this.slotRecv = new Int32Array(n);
    this.slotStatus = new Uint16Array(n);
    this.slotSqe = new Uint8Array(64 * n);
    this.slotStage = new Array<Uint8Array | null>(n).fill(null);
    this.freeSlots = new Int32Array(n);
    for (let i = 0; i < n; i++) this.freeSlots[i] = n - 1 - i;
    this.freeTop = n;
    let peer = '?';
    try { peer = native.peerAddress(fd); } catch { /* already gone */ }
    this.peer = peer;
  }

  get closed(): boolean { return this.state === ConnState.Closed; }
  get outPending(): number { return this.outLen - this.outHead; }
  /** For logs: "qid 1 cntlid 3 from 127.0.0.1:5555". */
  describe(): string {
    const q = this.qid < 0 ? 'unconnected queue' : `qid ${this.qid}${this.cntlid ? ` cntlid ${this.cntlid}` : ''}`;
    return `${q} from ${this.peer}`;
  }

  // ------------------------------------------------------------------------------ loop entry

  /** One pass: receive, handle PDUs, send. Returns > 0 when something was done. */
  poll(): number {
    if (this.state >= ConnState.Closing) return this.pollClosing();
    let work = 0;
    const r = this.reader;
    if (this.outLen > this.outHead) {
      work += this.flush();
      if (this.outLen - this.outHead > BACKPRESSURE_BYTES) return work;
    }
    if (this.stalled) {
      // PDUs left over from a pass that stopped on back-pressure.
      this.stalled = false;
      work++;
      this.processPdus();
      if (this.state >= ConnState.Closing) return work;
      if (this.stalled) return work + this.flush();
    }
    for (let round = 0; round < 8; round++) {
      r.prepareRecv(RECV_MIN);
      const space = r.writeSpace;
      const n = native.recv(this.fd, r.buf, r.writeOffset, space);
      if (n > 0) {
        r.commit(n);
        this.idlePasses = 0;
        work++;
        this.processPdus();
        if (this.state >= ConnState.Closing) return work;
        if (n < space || this.stalled) break;
        continue;
      }
      if (n === 0) {
        this.close('closed by the host');
        return work + 1;
      }
      if (n === EAGAIN) {
        if (round === 0) this.idlePasses++;
        break;
      }
      this.close(`recv: ${errnoName(n)}`);
      return work + 1;
    }
    if (this.outLen > this.outHead) work += this.flush();
    return work;
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

  // ------------------------------------------------------------------------------ PDUs

  private processPdus(): void {
    const r = this.reader;
    for (;;) {
      const st = r.next();
      if (st === PDU_NEED_MORE) return;
      if (st === PDU_ERROR) {
        this.fatal(r.fes, r.fei, r.offendingHeader(), r.error);
        return;
      }
      try {
        switch (r.type) {
          case PduType.CapsuleCmd:
            if (this.state === ConnState.WaitIc) {
              this.fatalCurrent(Fes.PduSequenceError, 0, 'CapsuleCmd before ICReq');
              return;
            }
            this.handleCapsule();
            break;
          case PduType.H2CData:
            if (this.state !== ConnState.Active && this.state !== ConnState.WaitConnect) {
              this.fatalCurrent(Fes.PduSequenceError, 0, 'H2CData before ICReq');
              return;
            }
            this.handleH2CData();
            break;
          case PduType.ICReq:
            if (this.state !== ConnState.WaitIc) {
              this.fatalCurrent(Fes.PduSequenceError, 0, 'second ICReq');
              return;
            }
            this.handleIcReq();
            break;
          case PduType.H2CTermReq: {
            const dv = r.dv, s = r.start;
            this.close(`host sent H2CTermReq FES 0x${dv.getUint16(s + 8, true).toString(16)} FEI ${dv.getUint32(s + 10, true)}`);
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
      if (this.outLen - this.outHead >= FLUSH_THRESHOLD) {
        this.flush();
        // The host does not read its responses: leave the rest of its PDUs for a later pass.
        if (this.outLen - this.outHead > BACKPRESSURE_BYTES) { this.stalled = true; return; }
      }
    }
  }

  private handleIcReq(): void {
    const r = this.reader, b = r.buf, s = r.start;
    const pfv = r.dv.getUint16(s + 8, true);
    const hpda = b[s + 10]!;
    const dgst = b[s + 11]!;
    // PFV ≠ 0: FES 0x01 (Invalid PDU Header Field) with FEI = 8, the offset of PFV, as SPDK does (notes §2.3).
    if (pfv !== 0) { this.fatalCurrent(Fes.InvalidHeaderField, 8, `ICReq PFV ${pfv}`); return; }
    if (hpda > TCP_LIMITS.MAX_PDA) { this.fatalCurrent(Fes.InvalidHeaderField, 10, `ICReq HPDA ${hpda}`); return; }
    this.hdgst = (dgst & 1) !== 0;
    this.ddgst = (dgst & 2) !== 0;
    this.c2hPdo = dataOffsetFor(24, this.hdgst, hpda);
    this.ensureOut(128);
    this.outLen += encodeIcResp(this.out, this.outLen, {
      pfv: 0, cpda: 0, hdgst: this.hdgst, ddgst: this.ddgst, maxh2cdata: this.ctx.params.limits.maxIoSize,
    });
    r.hdgst = this.hdgst;
    r.ddgst = this.ddgst;
    this.state = ConnState.WaitConnect;
  }

  private handleCapsule(): void {
    const r = this.reader, b = r.buf, dv = r.dv, s = r.start + 8;
    const opc = b[s]!;
    const cid = dv.getUint16(s + 2, true);
    const sglLen = dv.getUint32(s + 32, true);
    const sglId = b[s + 39]!;
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
      if (dv.getUint32(s + 24, true) !== 0 || dv.getUint32(s + 28, true) !== 0) {
        this.fatalCurrent(Fes.UnsupportedParameter, 8 + 24, 'in-capsule SGL with a non-zero offset');
        return;
      }
      if (!r.ddgstOk) { this.respond(cid, ST.TRANSIENT_TRANSPORT); return; }
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
    if (b[s + 1] !== 0x40) { this.respond(cid, ST.INVALID_FIELD); return; }

    const dir = (opc === AdminOpcode.Fabrics ? b[s + 4]! : opc) & 3;
    if (icd > 0 && dir !== 1) { this.respond(cid, ST.SGL_TYPE_INVALID); return; }
    if (icd === 0 && sglLen > 0 && dir === 1) {
      // Data comes with H2CData after our R2T.
      if (this.qid > 0 && opc === NvmOpcode.Write && this.state === ConnState.Active) {
        handleIo(this, b, dv, s, null, 0, 0);
      } else {
        this.stageCommand(b, s, cid, sglLen);
      }
      return;
    }
    this.dispatch(b, dv, s, icd > 0 ? b : null, r.dataOff, icd);
  }

  private dispatch(b: Uint8Array, dv: DataView, s: number, data: Uint8Array | null, dOff: number, dLen: number): void {
    const opc = b[s]!;
    if (opc === AdminOpcode.Fabrics) { handleFabrics(this, b, dv, s, data, dOff, dLen); return; }
    if (this.state !== ConnState.Active) {
      // Any non-Connect command on an unconnected queue: Invalid Opcode + DNR, as Linux (notes §5.3).
      this.respond(dv.getUint16(s + 2, true), ST.INVALID_OPCODE);
      return;
    }
    if (this.qid === 0) handleAdmin(this, b, dv, s, data, dOff, dLen);
    else handleIo(this, b, dv, s, data, dOff, dLen);
  }

  // ------------------------------------------------------------------------------ R2T / H2CData

  private allocSlot(): number {
    return this.freeTop > 0 ? this.freeSlots[--this.freeTop]! : -1;
  }

  private freeSlot(t: number): void {
    this.slotState[t] = SLOT_FREE;
    this.slotStage[t] = null;
    this.freeSlots[this.freeTop++] = t;
  }

  /** Write command validated by the I/O handler: ask for all its data with one R2T. */
  startWriteR2T(cid: number, nsIndex: number, byteOff: number, len: number): void {
    const t = this.allocSlot();
    if (t < 0) { this.respond(cid, ST.COMMAND_INTERRUPTED); return; }
    this.slotState[t] = SLOT_WRITE;
    this.slotCid[t] = cid;
    this.slotNs[t] = nsIndex;
    this.slotByteOff[t] = byteOff;
    this.slotLen[t] = len;
    this.slotRecv[t] = 0;
    this.slotStatus[t] = 0;
    this.sendR2T(cid, t, 0, len);
  }

  /** Any other command whose data comes by R2T: keep a copy of the SQE, stage the data, run it later. */
  private stageCommand(b: Uint8Array, s: number, cid: number, len: number): void {
    // Commands other than Write carry little data (Connect 1 KiB, DSM ≤ 4 KiB): refuse more
    // before asking for it, so a host cannot make us buffer megabytes per slot.
    if (len > MAX_STAGED_BYTES) { this.respond(cid, ST.SGL_LENGTH_INVALID); return; }
    const t = this.allocSlot();
    if (t < 0) { this.respond(cid, ST.COMMAND_INTERRUPTED); return; }
    this.slotState[t] = SLOT_STAGED;
    this.slotCid[t] = cid;
    this.slotLen[t] = len;
    this.slotRecv[t] = 0;
    this.slotStatus[t] = 0;
    this.slotSqe.set(b.subarray(s, s + 64), t * 64);
    this.slotStage[t] = new Uint8Array(len);
    this.sendR2T(cid, t, 0, len);
  }

  private handleH2CData(): void {
    const r = this.reader, dv = r.dv, s = r.start;
    const cccid = dv.getUint16(s + 8, true);
    const ttag = dv.getUint16(s + 10, true);
    const datao = dv.getUint32(s + 12, true);
    const datal = r.dataLen;
    if (ttag >= this.nslots || this.slotState[ttag] === SLOT_FREE || this.slotCid[ttag] !== cccid) {
      this.fatalCurrent(Fes.PduSequenceError, 0, `H2CData for unknown TTAG ${ttag} / CCCID ${cccid}`);
      return;
    }
    const recv = this.slotRecv[ttag]!;
    const len = this.slotLen[ttag]!;
    if (datao !== recv || datao + datal > len) {
      this.fatalCurrent(Fes.DataTransferOutOfRange, 0, `H2CData DATAO ${datao} DATAL ${datal}, expected offset ${recv} of ${len}`);
      return;
    }
    if (!r.ddgstOk) this.slotStatus[ttag] = ST.TRANSIENT_TRANSPORT;
    const staged = this.slotState[ttag] === SLOT_STAGED;
    if (this.slotStatus[ttag] === 0) {
      if (staged) {
        this.slotStage[ttag]!.set(r.buf.subarray(r.dataOff, r.dataOff + datal), datao);
      } else {
        const ns = this.subsys!.ns[this.slotNs[ttag]!]!;
        try {
          ns.write(r.buf, r.dataOff, this.slotByteOff[ttag]! + datao, datal);
        } catch (e) {
          this.ctx.log('warn', `${this.describe()}: write failed: ${(e as Error).message}`);
          this.slotStatus[ttag] = ST.WRITE_FAULT;
        }
      }
    }
    this.slotRecv[ttag] = recv + datal;
    if (recv + datal < len) return;

    const cid = this.slotCid[ttag]!;
    const status = this.slotStatus[ttag]!;
    if (staged) {
      const data = this.slotStage[ttag]!;
      // Run the command from the slot's SQE copy; the slot is freed first (the command may reuse it).
      const sqeOff = ttag * 64;
      const copy = this.slotSqe.slice(sqeOff, sqeOff + 64);
      this.freeSlot(ttag);
      if (status !== 0) { this.respond(cid, status); return; }
      this.dispatch(copy, new DataView(copy.buffer), 0, data, 0, data.length);
      return;
    }
    this.freeSlot(ttag);
    if (status === 0) {
      const c = this.ctx.counters;
      c.writeCmds++;
      c.writeUnits += len / 512;
    }
    this.respond(cid, status);
  }

  // ------------------------------------------------------------------------------ output

  ensureOut(n: number): void {
    if (this.outLen + n <= this.out.length) return;
    if (this.outHead > 0) {
      this.out.copyWithin(0, this.outHead, this.outLen);
      this.outLen -= this.outHead;
      this.outHead = 0;
      if (this.outLen + n <= this.out.length) return;
    }
    let size = this.out.length * 2;
    while (size < this.outLen + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.out.subarray(0, this.outLen));
    this.out = nb;
    this.outDv = new DataView(nb.buffer);
  }

  /** CapsuleResp with a 16-byte CQE. */
  respond(cid: number, status: number, dw0 = 0, dw1 = 0, sqhd = -1): void {
    this.ensureOut(28);
    const o = this.outLen, dv = this.outDv;
    const hd = this.hdgst;
    dv.setUint32(o, PduType.CapsuleResp | ((hd ? PduFlags.HDGSTF : 0) << 8) | (24 << 16), true);
    dv.setUint32(o + 4, hd ? 28 : 24, true);
    dv.setUint32(o + 8, dw0 >>> 0, true);
    dv.setUint32(o + 12, dw1 >>> 0, true);
    dv.setUint16(o + 16, sqhd >= 0 ? sqhd : this.sqFlowOff ? 0 : this.sqhd, true);
    dv.setUint16(o + 18, this.qid > 0 ? this.qid : 0, true);
    dv.setUint16(o + 20, cid, true);
    dv.setUint16(o + 22, status, true);
    if (hd) dv.setUint32(o + 24, crc32c(this.out, o, 24), true);
    this.outLen = o + (hd ? 28 : 24);
  }

  /**
   * Starts a C2HData PDU carrying `len` bytes at the PDU's data offset and returns that offset in
   * `out`; the caller fills the data, then calls endC2HData. `success`: LAST_PDU|SUCCESS (no
   * CapsuleResp follows).
   */
  beginC2HData(cid: number, len: number, success: boolean): number {
    const pdo = this.c2hPdo;
    const dd = this.ddgst ? 4 : 0;
    const plen = pdo + len + dd;
    this.ensureOut(plen);
    const o = this.outLen, dv = this.outDv;
    const flags = PduFlags.LAST_PDU | (success ? PduFlags.SUCCESS : 0)
      | (this.hdgst ? PduFlags.HDGSTF : 0) | (dd ? PduFlags.DDGSTF : 0);
    dv.setUint32(o, PduType.C2HData | (flags << 8) | (24 << 16) | (pdo << 24), true);
    dv.setUint32(o + 4, plen, true);
    dv.setUint32(o + 8, cid, true); // CCCID, TTAG 0
    dv.setUint32(o + 12, 0, true); // DATAO
    dv.setUint32(o + 16, len, true); // DATAL
    dv.setUint32(o + 20, 0, true);
    let h = o + 24;
    if (this.hdgst) { dv.setUint32(h, crc32c(this.out, o, 24), true); h += 4; }
    if (h < o + pdo) this.out.fill(0, h, o + pdo);
    return o + pdo;
  }

  /** Finishes the PDU begun by beginC2HData (data digest) and commits it to the output. */
  endC2HData(dataOff: number, len: number): void {
    let end = dataOff + len;
    if (this.ddgst) {
      this.outDv.setUint32(end, crc32c(this.out, dataOff, len), true);
      end += 4;
    }
    this.outLen = end;
  }

  /** C2HData from a buffer (admin data) followed by a CapsuleResp. */
  sendDataAndRespond(cid: number, src: Uint8Array, srcOff: number, len: number, dw0 = 0): void {
    if (len > 0) {
      const d = this.beginC2HData(cid, len, false);
      native.copy(this.out, d, src, srcOff, len);
      this.endC2HData(d, len);
    }
    this.respond(cid, ST.OK, dw0);
  }

  private sendR2T(cid: number, ttag: number, offset: number, len: number): void {
    this.ensureOut(28);
    const o = this.outLen, dv = this.outDv;
    const hd = this.hdgst;
    dv.setUint32(o, PduType.R2T | ((hd ? PduFlags.HDGSTF : 0) << 8) | (24 << 16), true);
    dv.setUint32(o + 4, hd ? 28 : 24, true);
    dv.setUint16(o + 8, cid, true);
    dv.setUint16(o + 10, ttag, true);
    dv.setUint32(o + 12, offset, true);
    dv.setUint32(o + 16, len, true);
    dv.setUint32(o + 20, 0, true);
    if (hd) dv.setUint32(o + 24, crc32c(this.out, o, 24), true);
    this.outLen = o + (hd ? 28 : 24);
  }

  /** Sends pending output; returns 1 when bytes left. */
  flush(): number {
    const len = this.outLen - this.outHead;
    if (len <= 0) return 0;
    const n = native.send(this.fd, this.out, this.outHead, len);
    if (n === len) {
      this.outHead = 0;
      this.outLen = 0;
      return 1;
    }
    if (n > 0) {
      this.outHead += n;
      return 1;
    }
    if (n === EAGAIN) return 0;
    if (this.state < ConnState.Closing) this.close(`send: ${errnoName(n)}`);
    else { this.outHead = this.outLen = 0; }
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

  /** Releases the association's registry state (controller or QID). */
  private releaseAssociation(): void {
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
    const r = this.reader;
    const hlen = r.buf[r.start + 2]!;
    const hdr = r.buf.subarray(r.start, r.start + Math.min(Math.max(8, hlen), 128));
    this.fatal(fes, fei, hdr, why);
  }

  /** Sends C2HTermReq (FES, FEI, offending header), then shuts the socket down and closes it. */
  fatal(fes: number, fei: number, hdr: Uint8Array | null, why: string): void {
    if (this.state >= ConnState.Closing) return;
    this.ctx.log('warn', `${this.describe()}: ${why}: sending C2HTermReq (FES 0x${fes.toString(16)}, FEI ${fei}) and closing`);
    this.closeReason = why;
    this.ensureOut(24 + 128);
    this.outLen += encodeTermReq(this.out, this.outLen, PduType.C2HTermReq, fes, fei, hdr);
    this.releaseAssociation();
    this.state = ConnState.Closing;
    this.lingerUntilNs = this.ctx.nowNs + LINGER_NS;
    this.pollClosing();
  }

  /** Closing: send what is left, then shut down; discard input until EOF or the linger deadline. */
  private pollClosing(): number {
    if (this.state === ConnState.Closed) return 0;
    if (this.outLen > this.outHead) {
      this.flush();
      if (this.outLen > this.outHead) return 0;
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
    const r = this.reader;
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
    this.closeReason = reason;
    this.releaseAssociation();
    this.state = ConnState.Closing;
    this.lingerUntilNs = this.ctx.nowNs + LINGER_NS;
    this.pollClosing();
  }

  /** Closes the connection now (no TermReq): host closed, keep-alive expiry, controller gone. */
  close(reason: string): void {
    if (this.state === ConnState.Closed) return;
    if (!this.closeReason) this.closeReason = reason;
    this.releaseAssociation();
    this.finalClose();
  }

  private finalClose(): void {
    if (this.state === ConnState.Closed) return;
    this.releaseAssociation();
    this.state = ConnState.Closed;
    this.ctx.log('info', `${this.describe()}: closed (${this.closeReason || 'done'})`);
    try { native.close(this.fd); } catch { /* already closed */ }
  }
}
