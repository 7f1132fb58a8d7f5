// A reactor's io_uring for its file namespaces: Read, Write and Flush of a file namespace become SQEs
// and the request completes when the CQE arrives, so the reactor never blocks in pread/pwrite/fdatasync.
//
// Slots: at most SLOTS operations are in flight (the CQ ring holds twice the SQ's 128 entries, so it
// never overflows). Each slot has a data buffer of maxIoSize bytes inside one of the slabs that form
// the ring's buffer table (the addon's table holds 64 buffers); slabs are allocated on first use. A
// slot's buffer belongs to the slot, never to the request: a CQE always lands in memory that is alive.
// A request whose connection closed while its I/O was in flight (or that was released and reused:
// generation counter) is orphaned: the CQE frees the slot and answers nobody.
import { native } from '../native/index.js';
import { UringRing } from '../native/uring.js';
import type { TargetRequest } from './request.js';
import { ST } from './status-codes.js';
import { ConnState } from './conn-state.js';
import { READ_COPY } from './namespace.js';

const SLOTS = 128;
const SLABS = 64;
const SLOTS_PER_SLAB = SLOTS / SLABS;

const OP_NONE = 0, OP_READ = 1, OP_WRITE = 2, OP_FLUSH = 3;
/** Slot taken for a write whose data is still arriving (R2T): not in the kernel yet. */
const OP_FILLING = 4;

/**
 * Statuses of failed file operations (NVMe Base Specification, Generic Command Status values, SCT 0).
 * A syscall error on the backing file (EIO, ENOSPC, EBADF …) is neither the host's doing nor a report
 * about one LBA: Internal Error (06h, the command failed because of an error inside the controller).
 * A write the kernel stopped taking part-way (it returned 0 bytes before the end): Data Transfer
 * Error (04h, transferring the command's data had an error), since part of the data never got to the
 * medium. Neither sets DNR: a retry may succeed.
 */
export const FILE_IO_ERROR = ST.INTERNAL_ERROR;
export const FILE_SHORT_WRITE = ST.DATA_TRANSFER_ERROR;

export class FileIoRing {
  readonly ring: UringRing;
  /** Interrupt mode: the eventfd the ring signals (in the reactor's epoll set, edge-triggered: never drained); else -1. */
  readonly efd: number;
  private readonly out: Int32Array;
  private readonly slabs: Uint8Array[];
  private readonly slabReady: Uint8Array;
  private readonly free = new Int32Array(SLOTS);
  private nfree = SLOTS;
  private readonly op = new Uint8Array(SLOTS);
  private readonly req: Array<TargetRequest | null> = new Array<TargetRequest | null>(SLOTS).fill(null);
  private readonly gen = new Float64Array(SLOTS);
  private readonly len = new Float64Array(SLOTS);
  private readonly fd = new Int32Array(SLOTS);
  private readonly off = new Float64Array(SLOTS);
  /** Bytes of the slot's read/write done so far (short transfers are continued). */
  private readonly done = new Float64Array(SLOTS);
  /** Completions reaped since the counter was last read (reactor busy accounting). */
  completions = 0;
  /** Operations the kernel holds. */
  inFlight = 0;
  /** CQEs that arrived for requests whose connection had gone (orphaned). */
  orphaned = 0;

  /** Throws when io_uring cannot be set up (ENOSYS, EPERM in a container …). */
  constructor(readonly slotBytes: number, interrupt: boolean) {
    this.ring = new UringRing(native, { entries: SLOTS });
    let efd = -1;
    try {
      if (interrupt) {
        efd = native.eventfdCreate();
        this.ring.registerEventfd(efd);
      }
    } catch (e) {
      this.ring.close();
      if (efd >= 0) native.close(efd);
      throw e;
    }
    this.efd = efd;
    this.out = new Int32Array(3 * this.ring.cqEntries);
    const placeholder = new Uint8Array(1);
    this.slabs = new Array<Uint8Array>(SLABS).fill(placeholder);
    this.slabReady = new Uint8Array(SLABS);
    for (let i = 0; i < SLOTS; i++) this.free[i] = SLOTS - 1 - i;
    this.ring.setBuffers(this.slabs, false);
  }

  get slotsUsed(): number { return SLOTS - this.nfree; }

  /** A free slot (its buffer allocated), or -1 when all are in use (the caller goes synchronous). */
  take(): number {
    if (this.nfree === 0) return -1;
    const s = this.free[--this.nfree]!;
    const slab = (s / SLOTS_PER_SLAB) | 0;
    if (this.slabReady[slab] === 0) {
      this.slabs[slab] = new Uint8Array(native.allocAligned(this.slotBytes * SLOTS_PER_SLAB, 4096));
      this.slabReady[slab] = 1;
      this.ring.setBuffers(this.slabs, false);
    }
    this.op[s] = OP_FILLING;
    return s;
  }

  /** Returns a slot that was taken but never submitted (write data that never came). */
  give(s: number): void {
    this.op[s] = OP_NONE;
    this.req[s] = null;
    this.free[this.nfree++] = s;
  }

  /** The slot's data buffer and where its bytes start in it. */
  buffer(s: number): Uint8Array { return this.slabs[(s / SLOTS_PER_SLAB) | 0]!; }
  bufferOffset(s: number): number { return (s % SLOTS_PER_SLAB) * this.slotBytes; }

  /** Read `len` bytes at `off` of file `fd` into slot s's buffer; completes req with the data. */
  read(s: number, req: TargetRequest, fd: number, off: number, len: number): void {
    this.arm(s, OP_READ, req, fd, off, len);
    this.prep(s);
  }

  /** Write slot s's buffer [0, len) to `off` of file `fd`; completes req after the CQE. */
  write(s: number, req: TargetRequest, fd: number, off: number, len: number): void {
    this.arm(s, OP_WRITE, req, fd, off, len);
    this.prep(s);
  }

  /** fdatasync of file `fd` (Flush). */
  flush(s: number, req: TargetRequest, fd: number): void {
    this.arm(s, OP_FLUSH, req, fd, 0, 0);
    this.prep(s);
  }

  private arm(s: number, op: number, req: TargetRequest, fd: number, off: number, len: number): void {
    this.op[s] = op;
    this.req[s] = req;
    this.gen[s] = req.gen;
    this.fd[s] = fd;
    this.off[s] = off;
    this.len[s] = len;
    this.done[s] = 0;
  }

  private prep(s: number): void {
    if (this.ring.prepSpace === 0) this.submit();
    const op = this.op[s]!;
    if (op === OP_FLUSH) this.ring.prepFsync(this.fd[s]!, 0, true, s);
    else {
      const d = this.done[s]!;
      this.ring.prepRw(op === OP_WRITE, false, this.fd[s]!, 0, this.off[s]! + d, (s / SLOTS_PER_SLAB) | 0,
        this.bufferOffset(s) + d, this.len[s]! - d, s);
    }
    this.inFlight++;
  }

  /** Submits what was prepared (end of a reactor pass, before any sleep). */
  submit(): void {
    if (this.ring.pending === 0) return;
    const n = this.ring.pass(this.out, 0);
    if (n < 0) this.submitFailed(n);
  }

  /** Submits what is prepared and reaps every completion; returns how many requests it finished. */
  reap(): number {
    if (this.inFlight === 0 && this.ring.pending === 0) return 0;
    const n = this.ring.pass(this.out, this.out.length / 3);
    if (n < 0) { this.submitFailed(n); return 0; }
    const o = this.out;
    let finished = 0;
    for (let i = 0; i < n; i++) {
      this.inFlight--;
      if (this.cqe(o[3 * i]!, o[3 * i + 1]!)) finished++;
    }
    this.completions += n;
    return finished;
  }

  /** One CQE of slot s. True when it finished its request (false: continued, or orphaned). */
  private cqe(s: number, res: number): boolean {
    const op = this.op[s]!;
    const req = this.req[s]!;
    const q = req.queue;
    if (q.state >= ConnState.Closing || req.gen !== this.gen[s]) {
      // The connection went away while the kernel held the I/O: nobody to answer.
      this.orphaned++;
      this.give(s);
      return false;
    }
    if (res < 0) {
      q.ctx.log('warn', `${q.describe()}: file ${op === OP_READ ? 'read' : op === OP_WRITE ? 'write' : 'flush'} failed: errno ${-res}`);
      this.give(s);
      req.complete(FILE_IO_ERROR);
      return true;
    }
    if (op === OP_FLUSH) { this.give(s); req.complete(ST.OK); return true; }
    const len = this.len[s]!;
    const d = this.done[s]! + res;
    this.done[s] = d;
    if (op === OP_READ) {
      if (d < len) {
        if (res > 0) { this.prep(s); return false; } // short read inside the file: continue
        // End of file (the file shrank underneath us): zeroes, as the synchronous path.
        const b = this.buffer(s), bo = this.bufferOffset(s);
        b.fill(0, bo + d, bo + len);
      }
      // completeRead copies the data into the send queue: the slot may be reused at once.
      q.completeRead(req, this.buffer(s), this.bufferOffset(s), len, READ_COPY);
      this.give(s);
      const k = q.ctx.counters;
      k.readCmds++;
      k.readUnits += len / 512;
      return true;
    }
    if (d < len) {
      if (res > 0) { this.prep(s); return false; } // partial write: write the rest
      q.ctx.log('warn', `${q.describe()}: file write took 0 of ${len - d} bytes`);
      this.give(s);
      req.complete(FILE_SHORT_WRITE);
      return true;
    }
    this.give(s);
    req.complete(ST.OK);
    const k = q.ctx.counters;
    k.writeCmds++;
    k.writeUnits += len / 512;
    return true;
  }

  /**
   * io_uring_enter itself failed (the ring is unusable): every operation it held is lost, so their
   * requests get Internal Error and the slots come back.
   */
  private submitFailed(negErrno: number): void {
    for (let s = 0; s < SLOTS; s++) {
      const op = this.op[s]!;
      if (op === OP_NONE || op === OP_FILLING) continue;
      const req = this.req[s]!;
      const alive = req.queue.state < ConnState.Closing && req.gen === this.gen[s];
      if (alive) req.queue.ctx.log('warn', `${req.queue.describe()}: io_uring_enter failed: errno ${-negErrno}`);
      this.give(s);
      if (alive) req.complete(FILE_IO_ERROR);
    }
    this.inFlight = 0;
  }

  close(): void {
    this.ring.close();
    if (this.efd >= 0) {
      try { native.close(this.efd); } catch { /* gone */ }
    }
  }
}
