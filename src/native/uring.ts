// Typed wrapper of the addon's io_uring calls (native/src/uring.c): a ring with its descriptor array.
// prep*() fill the next descriptor (plain numbers into a preallocated Float64Array: nothing is
// allocated per I/O); pass() turns all prepared descriptors into SQEs, submits them with one
// io_uring_enter and copies the completions out. Values of the IORING_* constants are the kernel's
// (<linux/io_uring.h>), NVME_URING_CMD_IO is _IOWR('N', 0x80, struct nvme_uring_cmd) (<linux/nvme_ioctl.h>).
/** The addon calls a ring uses (NativeAddon in ./index.ts extends this; index.ts re-exports this module). */
export interface UringAddon {
  /** io_uring_setup(entries) with IORING_SETUP_* `flags`; returns a ring handle. Throws Error{code} (syscall 'io_uring_setup' or 'mmap'). */
  uringSetup(entries: number, flags: number, sqThreadIdleMs: number): number;
  /** [sqEntries, cqEntries, features, setupFlags, ringFd]. */
  uringInfo(ring: number): [number, number, number, number, number];
  uringClose(ring: number): void;
  /** IORING_REGISTER_FILES: fds[i] becomes fixed file i. Throws Error{code}. */
  uringRegisterFiles(ring: number, fds: number[]): void;
  /** Sets the ring's buffer table (descriptors name buffers by index) and, with `register`, registers them
   *  (IORING_REGISTER_BUFFERS, for READ_FIXED/WRITE_FIXED). Returns 0 or the registration's -errno (the table is set either way).
   *  The caller keeps the arrays alive while the ring may use them. */
  uringSetBuffers(ring: number, bufs: Uint8Array[], register: boolean): number;
  /** IORING_REGISTER_EVENTFD: each completion signals efd. Throws Error{code}. */
  uringRegisterEventfd(ring: number, efd: number): void;
  /**
   * Hot path: queue desc entries 0..count-1 (URING_DESC_STRIDE numbers each) as SQEs, one io_uring_enter
   * for them (IOPOLL rings also enter to reap), then copy up to maxOut CQEs to out as (user_data, res,
   * dw0) triples. Returns CQEs copied, or -errno. Allocates nothing.
   * A registered eventfd of a deferred-task-run ring is muted during the pass's own enter (the CQEs it
   * posts are copied out by this pass) and signalled after it if work arrived meanwhile unsignalled, so
   * a waiter wakes once per completion batch, not twice.
   */
  uringPass(ring: number, desc: Float64Array, count: number, out: Int32Array, maxOut: number): number;
  /** Blocks until minComplete CQEs are ready (not reaped), at most timeoutMs. 0, or -errno (-62 ETIME on timeout). */
  uringWait(ring: number, minComplete: number, timeoutMs: number): number;
}

export const IORING_SETUP_IOPOLL = 1 << 0;
export const IORING_SETUP_SQPOLL = 1 << 1;
export const IORING_SETUP_CLAMP = 1 << 4;
export const IORING_SETUP_COOP_TASKRUN = 1 << 8;
export const IORING_SETUP_TASKRUN_FLAG = 1 << 9;
export const IORING_SETUP_SQE128 = 1 << 10;
export const IORING_SETUP_CQE32 = 1 << 11;
export const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
export const IORING_SETUP_DEFER_TASKRUN = 1 << 13;
/**
 * Completion work (an O_DIRECT read finishing in interrupt context) runs only when the ring's thread
 * asks for completions, instead of interrupting that thread (an IPI) while it runs a busy loop; the
 * kernel sets IORING_SQ_TASKRUN in the SQ ring flags while such work waits, so a pass enters the
 * kernel only when there is something to reap. fio sets the same. Linux 6.1+; the ring then belongs
 * to the thread that made it.
 */
export const IORING_SETUP_DEFERRED = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SINGLE_ISSUER
  | IORING_SETUP_DEFER_TASKRUN;

export const IORING_OP_NOP = 0;
export const IORING_OP_FSYNC = 3;
export const IORING_OP_READ_FIXED = 4;
export const IORING_OP_WRITE_FIXED = 5;
export const IORING_OP_READ = 22;
export const IORING_OP_WRITE = 23;
export const IORING_OP_URING_CMD = 46;

export const IOSQE_FIXED_FILE = 1 << 0;
export const IORING_FSYNC_DATASYNC = 1 << 0;
/** uring_cmd_flags: the data buffer is a registered one (buffer index in the SQE). */
export const IORING_URING_CMD_FIXED = 1 << 0;
/** _IOWR('N', 0x80, struct nvme_uring_cmd), 72 bytes: dir 3 << 30 | size 72 << 16 | 'N' << 8 | 0x80. */
export const NVME_URING_CMD_IO = ((3 << 30) | (72 << 16) | (0x4e << 8) | 0x80) >>> 0;

/** Numbers per descriptor and their slots (native/src/uring.c's D_* enum). */
export const URING_DESC_STRIDE = 20;
const D_OP = 0, D_FD = 1, D_SQE_FLAGS = 2, D_OFF = 3, D_BUF = 4, D_BUF_OFF = 5, D_LEN = 6, D_USER = 7, D_OP_FLAGS = 8,
  D_NVME_OPC = 9, D_NSID = 10, D_CDW10 = 11, D_TIMEOUT = 17;

export interface UringOptions {
  /** SQ entries (rounded up to a power of two by the kernel; CQ gets twice as many). */
  entries: number;
  /** IORING_SETUP_IOPOLL: completions are polled from the device (O_DIRECT / poll queues only). */
  iopoll?: boolean;
  /** IORING_SETUP_SQPOLL: a kernel thread submits (idle after sqThreadIdleMs). */
  sqpoll?: boolean;
  sqThreadIdleMs?: number;
  /** SQE128 + CQE32: required for NVMe passthrough (IORING_OP_URING_CMD). */
  bigEntries?: boolean;
}

/** One io_uring. Owned by one thread. */
export class UringRing {
  readonly handle: number;
  readonly sqEntries: number;
  readonly cqEntries: number;
  readonly flags: number;
  /** Prepared descriptors not passed to the kernel yet. */
  pending = 0;
  private readonly desc: Float64Array;
  private closed = false;

  /** Throws Error{code, syscall: 'io_uring_setup'} as the kernel refuses (EINVAL for unsupported flags, ENOMEM …). */
  constructor(private readonly n: UringAddon, opts: UringOptions) {
    let flags = IORING_SETUP_CLAMP;
    if (opts.iopoll) flags |= IORING_SETUP_IOPOLL;
    if (opts.sqpoll) flags |= IORING_SETUP_SQPOLL;
    if (opts.bigEntries) flags |= IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
    let handle = -1;
    if (!opts.sqpoll) {
      // Older kernels refuse the deferred task-run flags with EINVAL: then without them.
      try { handle = n.uringSetup(opts.entries, flags | IORING_SETUP_DEFERRED, opts.sqThreadIdleMs ?? 1000); flags |= IORING_SETUP_DEFERRED; }
      catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e; }
    }
    if (handle < 0) handle = n.uringSetup(opts.entries, flags, opts.sqThreadIdleMs ?? 1000);
    this.handle = handle;
    const [sq, cq] = n.uringInfo(this.handle);
    this.sqEntries = sq;
    this.cqEntries = cq;
    this.flags = flags;
    // One element past the descriptors: uringPass stores the SQEs the kernel has not taken there.
    this.desc = new Float64Array(sq * URING_DESC_STRIDE + 1).fill(0);
  }

  /**
   * SQEs in the ring the kernel refused for now (io_uring_enter said EAGAIN or EBUSY) as of the last
   * pass(); the next pass() offers them again. While > 0 no completion will signal them: do not sleep.
   */
  get unsubmitted(): number { return this.desc[this.desc.length - 1]!; }

  /** Room for more descriptors before pass() (never more than the SQ ring holds). */
  get prepSpace(): number { return this.sqEntries - this.pending; }

  private next(op: number, fd: number, sqeFlags: number, user: number): number {
    const i = this.pending++ * URING_DESC_STRIDE;
    const d = this.desc;
    d[i + D_OP] = op; d[i + D_FD] = fd; d[i + D_SQE_FLAGS] = sqeFlags; d[i + D_USER] = user;
    d[i + D_BUF] = -1; d[i + D_BUF_OFF] = 0; d[i + D_LEN] = 0; d[i + D_OFF] = 0; d[i + D_OP_FLAGS] = 0;
    return i;
  }

  /**
   * READ/WRITE (or READ_FIXED/WRITE_FIXED with `fixedBuf`) of buffer `buf` (index in the table given to
   * setBuffers) at [bufOff, bufOff+len) from/to file offset `off`. fd: a registered file index with IOSQE_FIXED_FILE.
   */
  prepRw(write: boolean, fixedBuf: boolean, fd: number, sqeFlags: number, off: number, buf: number, bufOff: number, len: number, user: number): void {
    const op = write ? (fixedBuf ? IORING_OP_WRITE_FIXED : IORING_OP_WRITE) : (fixedBuf ? IORING_OP_READ_FIXED : IORING_OP_READ);
    const i = this.next(op, fd, sqeFlags, user);
    const d = this.desc;
    d[i + D_OFF] = off; d[i + D_BUF] = buf; d[i + D_BUF_OFF] = bufOff; d[i + D_LEN] = len;
  }

  prepFsync(fd: number, sqeFlags: number, datasync: boolean, user: number): void {
    const i = this.next(IORING_OP_FSYNC, fd, sqeFlags, user);
    this.desc[i + D_OP_FLAGS] = datasync ? IORING_FSYNC_DATASYNC : 0;
  }

  prepNop(user: number): void { this.next(IORING_OP_NOP, -1, 0, user); }

  /**
   * IORING_OP_URING_CMD with NVME_URING_CMD_IO: one NVMe I/O command as the caller built it (opcode,
   * nsid, CDW10..15); data = buffer `buf` [bufOff, bufOff+len) (buf -1: none). The ring needs bigEntries.
   */
  prepNvmeIo(fd: number, sqeFlags: number, opc: number, nsid: number, cdw10: number, cdw11: number, cdw12: number,
    cdw13: number, cdw14: number, cdw15: number, buf: number, bufOff: number, len: number, fixedBuf: boolean, user: number): void {
    const i = this.next(IORING_OP_URING_CMD, fd, sqeFlags, user);
    const d = this.desc;
    d[i + D_OFF] = NVME_URING_CMD_IO; d[i + D_NVME_OPC] = opc; d[i + D_NSID] = nsid;
    d[i + D_CDW10] = cdw10; d[i + D_CDW10 + 1] = cdw11; d[i + D_CDW10 + 2] = cdw12; d[i + D_CDW10 + 3] = cdw13;
    d[i + D_CDW10 + 4] = cdw14; d[i + D_CDW10 + 5] = cdw15; d[i + D_TIMEOUT] = 0;
    d[i + D_BUF] = buf; d[i + D_BUF_OFF] = bufOff; d[i + D_LEN] = len; d[i + D_OP_FLAGS] = fixedBuf ? IORING_URING_CMD_FIXED : 0;
  }

  /**
   * Submits the prepared descriptors (one io_uring_enter) and copies up to maxOut completions into out
   * as (user_data, res, dw0) triples. Returns completions or -errno (then nothing prepared is kept:
   * descriptors the kernel refused are dropped with the error). A registered eventfd is never read here:
   * watch it edge-triggered.
   */
  pass(out: Int32Array, maxOut: number): number {
    const count = this.pending;
    this.pending = 0;
    return this.n.uringPass(this.handle, this.desc, count, out, maxOut);
  }

  /** Blocks until minComplete completions are waiting (not reaped), at most timeoutMs. 0 or -errno. */
  wait(minComplete: number, timeoutMs: number): number { return this.n.uringWait(this.handle, minComplete, timeoutMs); }

  registerFiles(fds: number[]): void { this.n.uringRegisterFiles(this.handle, fds); }
  /** The buffer table; with register, also IORING_REGISTER_BUFFERS. Returns 0 or the registration's -errno. */
  setBuffers(bufs: Uint8Array[], register: boolean): number { return this.n.uringSetBuffers(this.handle, bufs, register); }
  registerEventfd(efd: number): void { this.n.uringRegisterEventfd(this.handle, efd); }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.n.uringClose(this.handle);
  }
}
