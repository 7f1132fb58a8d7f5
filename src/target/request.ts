// The target core's view of one command: its SQE (read through src/nvme accessors), its host-to-
// controller data, and how to answer it. Request objects are preallocated per queue slot and reused;
// nothing is allocated per command. The queue that carries the command (TcpConnection for NVMe/TCP)
// implements TargetQueue; the admin, Fabrics and I/O handlers see only these two types.
import { sqeCid } from '../nvme/sqe.js';
import type { TargetController } from './controller.js';
import type { NamespaceBackend, ReadMemory } from './namespace.js';
import type { ReactorContext, SubsystemRuntime } from './reactor-context.js';

/** The transport side of a queue, as the handlers use it. */
export interface TargetQueue {
  readonly ctx: ReactorContext;
  /** ConnState value. */
  readonly state: number;
  /** -1 until Connect. */
  readonly qid: number;
  readonly ctrl: TargetController | null;
  readonly subsys: SubsystemRuntime | null;
  /** The host disabled SQ flow control (a read may end with its data, without a CapsuleResp). */
  readonly sqFlowOff: boolean;
  describe(): string;
  /** Completion queue entry for req (status, DW0, DW1; SQHD -1: the queue's current head); frees req. */
  complete(req: TargetRequest, status: number, dw0: number, dw1: number, sqhd: number): void;
  /** Sends data to the host for req: by reference when `stable` (buf stays unchanged until sent), else copied. */
  sendData(req: TargetRequest, buf: Uint8Array, off: number, len: number, stable: boolean): void;
  /**
   * A successful read: buf[off, off+len), then the completion (merged into the data when the transport
   * allows); frees req. memory: READ_STABLE, buf never changes and is sent by reference; READ_LENT, sent
   * by reference until this thread changes it (lent-reads.ts); READ_COPY, the data is taken now. A write
   * landing in those blocks before the socket takes them must not tear the read: one block is the
   * atomic unit, Identify AWUN/NAWUN = 0.
   */
  completeRead(req: TargetRequest, buf: Uint8Array, off: number, len: number, memory: ReadMemory): void;
  /** Asks the host for req's `len` bytes of data to land in ns at byteOff (a Write without in-capsule data). */
  receiveWrite(req: TargetRequest, ns: NamespaceBackend, byteOff: number, len: number): void;
  /** Frees req without an answer (an Asynchronous Event Request parked until the association ends). */
  park(req: TargetRequest): void;
  /** Completes a parked Asynchronous Event Request `cid` (an event to report) with success and `dw0`. */
  answerParked(cid: number, dw0: number): void;
  /** Test knob (ControlBlock.setHoldIo): keeps req unanswered; `abortable`: an Abort may complete it. */
  hold(req: TargetRequest, abortable: boolean): void;
  /**
   * Abort (base spec): completes the held command `cid` of this queue with Command Abort Requested.
   * False when no such command is held or it may not be aborted (commands being executed or moving
   * data are never aborted: their completion is on its way).
   */
  abortHeld(cid: number): boolean;
  becomeAdmin(ctrl: TargetController, sqEntries: number, flowOff: boolean, subsys: SubsystemRuntime | null): void;
  becomeIo(qid: number, cntlid: number, slot: number, epoch: number, sqEntries: number, flowOff: boolean,
    subsys: SubsystemRuntime, hostnqn: string): void;
  /** Sends what is pending, then closes (Disconnect). */
  gracefulClose(reason: string): void;
}

export class TargetRequest {
  /** The 64-byte SQE (a view of this slot's part of the queue's SQE memory); read with sqe.ts accessors at 0. */
  readonly sqe: Uint8Array;
  readonly sqv: DataView;
  /** Host-to-controller data that came with the command (in-capsule, or fetched by R2T before dispatch). */
  data: Uint8Array | null = null;
  dataOff = 0;
  dataLen = 0;
  /** Bumped each time the slot is freed: an asynchronous completion (file I/O) checks it is still its command. */
  gen = 0;

  constructor(readonly queue: TargetQueue, readonly slot: number, sqeMemory: ArrayBuffer) {
    this.sqe = new Uint8Array(sqeMemory, slot * 64, 64);
    this.sqv = new DataView(sqeMemory, slot * 64, 64);
  }

  get cid(): number { return sqeCid(this.sqv, 0); }

  /** Completes the command (CapsuleResp for NVMe/TCP) and frees the request. */
  complete(status: number, dw0 = 0, dw1 = 0, sqhd = -1): void {
    this.queue.complete(this, status, dw0, dw1, sqhd);
  }

  /** Controller-to-host data copied out of buf (admin data built in scratch memory), then success. */
  sendDataAndComplete(buf: Uint8Array, off: number, len: number, dw0 = 0): void {
    if (len > 0) this.queue.sendData(this, buf, off, len, false);
    this.complete(0, dw0);
  }
}
