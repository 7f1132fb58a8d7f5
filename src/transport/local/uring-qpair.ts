// An IoQpair over one io_uring: a local file, block device or NVMe generic char device. submit*()
// prepare descriptors (no syscall); flush()/processCompletions() submit them all with one
// io_uring_enter and reap the CQ ring from user space. Interrupt mode: an eventfd registered with the
// ring is the qpair's fd (the poll group sleeps in epoll on it); poll mode: no eventfd signalling, the
// CQ ring is reaped in a busy loop, or with IOPOLL the kernel polls the device's queue on each enter.
// Hot path: nothing allocates per I/O (slots, tags and lengths live in typed arrays).
import { errnoName, native } from '../../native/index.js';
import { UringRing } from '../../native/uring.js';
import { TransportError } from '../errors.js';
import type { IoCompletionCallback, IoQpair, LbaRange, LocalQpairParams, RawCompletion } from '../transport.js';
import type { UringBackend } from './uring-backend.js';

const ETIME = 62;
/** Registered-buffer alignment: a page covers every O_DIRECT and NVMe PRP requirement. */
const BUFFER_ALIGN = 4096;

export class UringQpair implements IoQpair {
  readonly cntlid = 0;
  /** Commands the kernel has not taken yet (io_uring_enter said EAGAIN/EBUSY): the poll group then
   *  waits for writability, which the eventfd always has, so it retries at once instead of sleeping. */
  get pendingSendBytes(): number { return this.ring.unsubmitted; }
  /** The eventfd the ring signals (interrupt mode; never signalled in poll mode). */
  readonly fd: number;
  /** The ring writes the eventfd once per completion batch and nothing reads it: a waiter watches it
   *  edge-triggered, which saves a read() per pass (its 64-bit counter cannot overflow in practice). */
  readonly edgeTriggeredFd = true;
  onComplete: IoCompletionCallback = () => undefined;

  private readonly ring: UringRing;
  private readonly out: Int32Array;
  private readonly bufs: Uint8Array[] = [];
  private fixedOk: boolean;
  // Per slot (user_data): the caller's tag and the bytes the command moves.
  private readonly slotTag: Int32Array;
  private readonly slotLen: Float64Array;
  private readonly slotOff: Float64Array;
  private readonly slotWrite: Uint8Array;
  private readonly freeSlots_: Int32Array;
  private nfree: number;
  /** submitClock when the slot's command was prepared (I/O timeouts); -1 while the slot is free. */
  private readonly submitAt: Float64Array;
  /** The engine's pass clock, stamped into each command's slot (see IoQpair.submitClock). */
  submitClock = 0;
  private lastSlot = -1;
  /** waitLast(): the slot whose completion is kept aside (-1 = none). */
  private waitSlot = -1;
  private lastDone: RawCompletion | null = null;
  private open = true;

  constructor(readonly qid: number, readonly depth: number, readonly maxTransferBytes: number,
    private readonly devFd: number, private readonly params: LocalQpairParams, private readonly backend: UringBackend) {
    // The CQ ring holds twice the SQ entries, so `depth` in flight never overflows it.
    this.ring = new UringRing(native, { entries: depth, iopoll: params.iopoll, bigEntries: backend.bigEntries });
    this.fd = native.eventfdCreate();
    try {
      this.ring.registerFiles([devFd]);
      if (params.interrupt) this.ring.registerEventfd(this.fd);
    } catch (e) {
      this.ring.close();
      native.close(this.fd);
      throw e;
    }
    this.fixedOk = params.fixedBuffers;
    this.out = new Int32Array(3 * this.ring.cqEntries);
    this.slotTag = new Int32Array(depth);
    this.slotLen = new Float64Array(depth);
    this.slotOff = new Float64Array(depth);
    this.slotWrite = new Uint8Array(depth);
    this.freeSlots_ = new Int32Array(depth);
    for (let i = 0; i < depth; i++) this.freeSlots_[i] = depth - 1 - i;
    this.nfree = depth;
    this.submitAt = new Float64Array(depth).fill(-1);
  }

  get outstanding(): number { return this.depth - this.nfree; }
  get freeSlots(): number { return this.nfree; }
  get connected(): boolean { return this.open; }
  /** Data buffers are registered with the ring (READ_FIXED/WRITE_FIXED). */
  get fixedBuffers(): boolean { return this.fixedOk && this.bufs.length > 0; }

  allocBuffer(bytes: number): Uint8Array {
    const b = new Uint8Array(native.allocAligned(Math.max(bytes, 1), BUFFER_ALIGN));
    this.addBuffer(b);
    return b;
  }

  private addBuffer(b: Uint8Array): number {
    this.bufs.push(b);
    const r = this.ring.setBuffers(this.bufs, this.fixedOk);
    // Registration fails on locked-memory limits (ENOMEM) or buffers it cannot pin: plain READ/WRITE then.
    if (r < 0) { this.fixedOk = false; this.ring.setBuffers(this.bufs, false); }
    return this.bufs.length - 1;
  }

  private bufIndex(buf: Uint8Array): number {
    const l = this.bufs;
    for (let i = 0; i < l.length; i++) if (l[i] === buf) return i;
    return this.addBuffer(buf);
  }

  submitRead(nsid: number, slba: number, nblocks: number, blockSize: number, buf: Uint8Array, off: number, tag: number): boolean {
    return this.rw(false, nsid, slba, nblocks, blockSize, buf, off, tag);
  }

  submitWrite(nsid: number, slba: number, nblocks: number, blockSize: number, buf: Uint8Array, off: number, tag: number): boolean {
    return this.rw(true, nsid, slba, nblocks, blockSize, buf, off, tag);
  }

  private rw(write: boolean, nsid: number, slba: number, nblocks: number, bs: number, buf: Uint8Array, off: number, tag: number): boolean {
    if (this.nfree === 0 || !this.open) return false;
    const slot = this.freeSlots_[--this.nfree]!;
    const len = nblocks * bs;
    this.submitAt[slot] = this.submitClock;
    this.slotTag[slot] = tag;
    this.slotLen[slot] = len;
    this.slotOff[slot] = slba * bs;
    this.slotWrite[slot] = write ? 1 : 0;
    this.lastSlot = slot;
    this.backend.prepRw(this.ring, write, 0, nsid, slba, nblocks, bs, this.bufIndex(buf), off, len, this.fixedBuffers, slot);
    return true;
  }

  /** The slot prepared first among those in flight (its index is the "CID"), or -1. */
  oldestCommand(): number {
    let best = -1, bestAt = Infinity;
    const at = this.submitAt;
    for (let s = 0; s < this.depth; s++) if (at[s]! >= 0 && at[s]! < bestAt) { best = s; bestAt = at[s]!; }
    return best;
  }

  commandSubmitTime(cid: number): number {
    return cid >= 0 && cid < this.depth ? this.submitAt[cid]! : -1;
  }

  submitFlush(_nsid: number, tag: number): boolean {
    if (this.nfree === 0 || !this.open) return false;
    const slot = this.freeSlots_[--this.nfree]!;
    this.submitAt[slot] = this.submitClock;
    this.slotTag[slot] = tag;
    this.slotLen[slot] = 0;
    this.lastSlot = slot;
    this.ring.prepFsync(0, 1 /* IOSQE_FIXED_FILE */, true, slot);
    return true;
  }

  submitWriteZeroes(): boolean {
    throw new TransportError(`${this.params.path}: Write Zeroes is not supported on a local device`, 'EINVAL');
  }

  submitDeallocate(_nsid: number, _ranges: ReadonlyArray<LbaRange>): boolean {
    throw new TransportError(`${this.params.path}: Deallocate is not supported on a local device`, 'EINVAL');
  }

  submitRaw(): boolean {
    throw new TransportError(`${this.params.path}: raw commands are not supported on a local device`, 'EINVAL');
  }

  flush(): void {
    if (this.ring.pending === 0 || !this.open) return;
    const n = this.ring.pass(this.out, 0);
    if (n < 0) this.fail(n, 'io_uring_enter');
  }

  processCompletions(): number {
    if (!this.open) return 0;
    const n = this.ring.pass(this.out, this.ring.cqEntries);
    if (n < 0) this.fail(n, 'io_uring_enter');
    const o = this.out;
    let done = 0;
    for (let i = 0; i < n; i++) {
      const slot = o[3 * i]!;
      const res = o[3 * i + 1]!;
      const len = this.slotLen[slot]!;
      const status = len === 0 ? (res < 0 ? res : 0) : this.backend.status(res, len);
      if (status < 0) this.ioFailed(slot, status);
      const tag = this.slotTag[slot]!;
      this.submitAt[slot] = -1;
      this.freeSlots_[this.nfree++] = slot;
      if (slot === this.waitSlot) {
        this.waitSlot = -1;
        this.lastDone = { status, dw0: o[3 * i + 2]!, dw1: 0 };
        continue;
      }
      done++;
      this.onComplete(tag, status);
    }
    return done;
  }

  waitReadable(ms: number): void {
    // In the ring's own wait, not on the eventfd (never drained, so it may stay readable).
    const r = this.ring.wait(1, ms);
    if (r < 0 && r !== -ETIME) this.fail(r, 'io_uring_enter');
  }

  waitLast(timeoutMs: number): RawCompletion {
    const slot = this.lastSlot;
    if (slot < 0) throw new TransportError(`${this.params.path}: no command to wait for`, 'EINVAL');
    this.lastDone = null;
    this.waitSlot = slot;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // processCompletions() keeps the completion of lastSlot aside instead of passing it on.
      this.processCompletions();
      const d = this.lastDone as RawCompletion | null;
      if (d !== null) { this.lastDone = null; return d; }
      const left = deadline - Date.now();
      if (left <= 0) { this.waitSlot = -1; throw new TransportError(`${this.params.path}: command did not complete within ${timeoutMs} ms`, 'TIMEOUT'); }
      const r = this.ring.wait(1, Math.min(left, 100));
      if (r < 0 && r !== -ETIME) this.fail(r, 'io_uring_enter');
    }
  }

  disconnect(): void {
    if (!this.open) return;
    this.open = false;
    this.ring.close();
    native.close(this.fd);
    native.close(this.devFd);
  }

  private fail(negErrno: number, what: string): never {
    throw new TransportError(`${this.params.path}: ${what} failed: ${errnoName(negErrno)}${hint(negErrno, this.params)}`, 'EINVAL');
  }

  private ioFailed(slot: number, negErrno: number): never {
    const op = this.slotWrite[slot] ? 'write' : 'read';
    throw new TransportError(`${this.params.path}: ${op} of ${this.slotLen[slot]} bytes at offset ${this.slotOff[slot]} failed: `
      + `${errnoName(negErrno)}${hint(negErrno, this.params)}`, 'EINVAL');
  }
}

/** What an errno most likely means on a local device. */
export function hint(negErrno: number, p: Pick<LocalQpairParams, 'direct' | 'iopoll'>): string {
  switch (-negErrno) {
    case 22: return p.direct ? ' (O_DIRECT needs offsets, sizes and buffers aligned to the logical block size)' : ' (invalid argument)';
    case 95: return p.iopoll ? ' (the device does not support polled I/O: IOPOLL needs O_DIRECT and poll queues)' : ' (operation not supported)';
    case 12: return ' (out of memory: locked-memory limit too low for io_uring? see ulimit -l)';
    case 5: return ' (I/O error)';
    case 28: return ' (no space left on the device)';
    case 13: return ' (permission denied)';
    default: return '';
  }
}
