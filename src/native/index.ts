// Typed wrapper around the nvmf_native Node-API addon (native/src/*.c): sockets, epoll, eventfd,
// CPU affinity, clocks, CRC32C and fd watching. The addon has no protocol logic and may be loaded
// on the main thread and in worker_threads alike.
//
// Conventions: hot-path calls (send, sendv, recv, epollWait, monoNs, crc32c) never throw for
// kernel errors; they return -errno (see errnoName). Other calls throw an Error whose `code` is the
// errno name ('ECONNREFUSED', ...), with `errno` (negative) and `syscall`. Bad arguments throw
// TypeError, offsets/lengths beyond a buffer throw RangeError.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { UringAddon } from './uring.js';

export interface WatchHandle {
  /** Stops watching; safe to call twice and from inside the callback. */
  close(): void;
}

export interface NativeAddon extends UringAddon {
  /** Blocking-with-timeout IPv4 TCP connect (non-blocking connect + poll; timeoutMs < 0 = no limit).
   *  Returns a NON-BLOCKING fd with TCP_NODELAY. Throws Error{code} on refusal/timeout/bad address. */
  tcpConnect(host: string, port: number, timeoutMs: number): number;
  /** socket+SO_REUSEADDR+bind+listen on IPv4 host:port (port 0 = ephemeral; backlog <= 0 = SOMAXCONN).
   *  Non-blocking fd. Throws Error{code}. */
  tcpListen(host: string, port: number, backlog: number): number;
  /** Local port of a bound socket (getsockname). */
  localPort(fd: number): number;
  /** Peer address "a.b.c.d:port" (getpeername); for logs. */
  peerAddress(fd: number): string;
  /** accept4 non-blocking; returns a new fd (non-blocking, TCP_NODELAY) or -1 when nothing is pending. */
  accept(fd: number): number;
  /** send(MSG_NOSIGNAL|MSG_DONTWAIT). Returns bytes sent, or -errno (-11 EAGAIN). */
  send(fd: number, buf: Uint8Array, off: number, len: number): number;
  /**
   * One sendmsg over segments first..first+count-1 (count is capped at 1024), segment i being
   * bufs[i][desc[2i], desc[2i] + desc[2i+1]). bufs and desc are the caller's, reused across calls:
   * nothing is allocated. Returns bytes sent or -errno; the caller resumes a partial send.
   */
  sendv(fd: number, bufs: ReadonlyArray<Uint8Array | null>, desc: Float64Array, first: number, count: number): number;
  /** recv(MSG_DONTWAIT) into buf[off, off+len). Returns bytes (0 = peer closed), or -errno (-11 EAGAIN). */
  recv(fd: number, buf: Uint8Array, off: number, len: number): number;
  /** One readv into a[aOff, aOff+aLen) then b[bOff, bOff+bLen) (bLen may be 0). Returns bytes (0 = peer
   *  closed) or -errno (-11 EAGAIN). */
  recv2(fd: number, a: Uint8Array, aOff: number, aLen: number, b: Uint8Array, bOff: number, bLen: number): number;
  /** close(2); throws (code 'EBADF') on a bad fd so double closes are found. */
  close(fd: number): void;
  /** shutdown(fd, SHUT_RDWR), errors ignored. */
  shutdown(fd: number): void;
  /** setsockopt SO_SNDBUF / SO_RCVBUF (bytes); 0 leaves it. */
  setSocketBuffers(fd: number, sndBytes: number, rcvBytes: number): void;
  /**
   * TCP_NOTSENT_LOWAT: bytes not yet sent that may wait in the socket (a longer send returns short).
   * bytes > 0 sets it, 0 only reads it; returns the value before the call.
   */
  notSentLowat(fd: number, bytes: number): number;
  /** epoll_create1(EPOLL_CLOEXEC). */
  epollCreate(): number;
  /** op: EPOLL_CTL_ADD/DEL/MOD; events: EPOLLIN|EPOLLOUT|... (uint32); data: uint32 tag (epoll_data.u32). */
  epollCtl(epfd: number, op: number, fd: number, events: number, data: number): void;
  /** epoll_wait; fills out[2*i] = tag, out[2*i+1] = events (int32); at most min(out.length/2, 1024) events.
   *  Returns the count; EINTR -> 0; other errors -> -errno. timeoutMs -1 = forever, 0 = non-blocking. */
  /** timeoutMs may be fractional (sub-millisecond sleeps use epoll_pwait2). */
  epollWait(epfd: number, out: Int32Array, timeoutMs: number): number;
  /** eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC). */
  eventfdCreate(): number;
  /** Adds value to the counter (EAGAIN on counter overflow is ignored: a reader is due anyway). */
  eventfdWrite(fd: number, value: number): void;
  /** Reads and resets the counter; 0 when it was 0 (EAGAIN). */
  eventfdRead(fd: number): number;
  /** poll(2) one fd; returns revents (0 on timeout or EINTR). events: POLLIN=1, POLLOUT=4. */
  pollFd(fd: number, events: number, timeoutMs: number): number;
  /** Pins the CALLING thread to one CPU. Throws Error{code:'EINVAL'} "cannot pin to CPU N: ..." if not allowed. */
  pinThread(cpu: number): void;
  /** CPUs allowed to the process (its main thread's affinity when the addon was first loaded), ascending. */
  allowedCpus(): number[];
  /**
   * The calling thread's timer slack in ns (how late the kernel may end its timed sleeps; 50 µs by
   * default). ns >= 1 sets it, 0 only reads it; returns the value before the call.
   */
  timerSlackNs(ns: number): number;
  /** CPU the calling thread currently runs on (sched_getcpu). */
  currentCpu(): number;
  /** Linux thread id of the caller (gettid). */
  gettid(): number;
  /** _exit(code) at once: no exit handlers, no joining of worker threads (which process.exit does,
   *  forever if one is blocked in a system call). */
  exitNow(code: number): never;
  /** CLOCK_MONOTONIC in ns, as a double (exact below 2^53). */
  monoNs(): number;
  /**
   * A Float64Array of length 1 over this thread's clock cell (thread-local memory in the addon: every
   * call on one thread views the same cell; other threads have their own).
   */
  monoClockCell(): Float64Array;
  /** Writes CLOCK_MONOTONIC in ns into this thread's clock cell (no argument to look up, nothing allocated). */
  monoClock(): void;
  /** pread(2) into buf[off, off+len) from file offset pos. Returns bytes (0 = end of file) or -errno. */
  pread(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  /** pwrite(2) of buf[off, off+len) at file offset pos. Returns bytes written or -errno. */
  pwrite(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  /**
   * madvise(MADV_HUGEPAGE) over the whole pages of view's memory (call before touching it): a large
   * buffer gets transparent huge pages where the kernel allows. 0, or -errno when it refused.
   */
  adviseHugePages(view: Uint8Array): number;
  /** CLOCK_THREAD_CPUTIME_ID of the calling thread in ns. */
  threadCpuNs(): number;
  /** CLOCK_PROCESS_CPUTIME_ID in ns. */
  processCpuNs(): number;
  /** CPU time (user+sys, ns; clock-tick resolution) of thread `tid` of this process from /proc; -1 if gone. */
  threadCpuNsOf(tid: number): number;
  /** CRC32C (Castagnoli) of buf[off, off+len), continuing from `seed` (a previous result; default 0).
   *  Returns an unsigned 32-bit number. */
  crc32c(buf: Uint8Array, off: number, len: number, seed?: number): number;
  /** CRC32C over segments first..first+count-1 (described as for sendv, count <= 1024) as one byte
   *  string, continuing from `seed`; no copy. */
  crc32cv(bufs: ReadonlyArray<Uint8Array | null>, desc: Float64Array, first: number, count: number, seed?: number): number;
  /** Which CRC32C implementation is in use: VPCLMULQDQ folding with crc32 streams alongside it on
   *  10,752-byte chunks (hybrid), the folding alone (long buffers; the SSE4.2 instruction for the rest),
   *  the SSE4.2 instruction alone, or the portable table (NVMF_NATIVE_CRC32C=vpclmul, =sse42 or =table
   *  at first load caps it at those). */
  readonly crc32cImpl: 'hybrid' | 'vpclmul' | 'sse4.2' | 'table';
  /** memmove of src[srcOff, srcOff+len) to dst[dstOff, dstOff+len) (byte arrays; overlap allowed).
   *  Allocates nothing, unlike dst.set(src.subarray(...)) (a 96-byte view per call); about as fast
   *  at 4 KiB, slower below ~1 KiB (call overhead). RangeError when a range is out of bounds. */
  copy(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, len: number): void;
  /** Watches fd on the CALLING thread's libuv loop; cb(revents): 1 readable, 4 writable, 8 error/hang-up.
   *  events: 1 readable, 4 writable (or both). Keeps the loop alive while open unless unref() is used.
   *  One watch per fd per thread; close the watch before closing the fd. */
  watchFd(fd: number, events: number, cb: (revents: number) => void): WatchHandle & { unref(): void; ref(): void };

  // io_uring ring calls: UringAddon (src/native/uring.ts documents them with the constants and descriptor layout).
  /** Zero-filled memory starting at a multiple of `align` (O_DIRECT, registered buffers), freed with the ArrayBuffer. */
  allocAligned(size: number, align: number): ArrayBuffer;
  /** [size in bytes, logical block size] of a block device (BLKGETSIZE64, BLKSSZGET). Throws Error{code}. */
  blockDeviceInfo(fd: number): [number, number];
  /** NVME_IOCTL_ADMIN_CMD: the NVMe status (0 = success) or -errno. buf: data in or out of the command. */
  nvmeAdminCmd(fd: number, opcode: number, nsid: number, cdw10: number, cdw11: number, buf: Uint8Array | null, timeoutMs: number): number;
  /** NVME_IOCTL_ID: the namespace ID of an NVMe namespace device, or -errno. */
  nvmeNsid(fd: number): number;
}

export const EAGAIN = -11;

export const EPOLLIN = 0x1;
export const EPOLLOUT = 0x4;
export const EPOLLERR = 0x8;
export const EPOLLHUP = 0x10;
export const EPOLLRDHUP = 0x2000;
export const EPOLLET = 0x80000000;

export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;

export const POLLIN = 0x1;
export const POLLOUT = 0x4;

/** revents values passed to watchFd callbacks. */
export const WATCH_READABLE = 1;
export const WATCH_WRITABLE = 4;
export const WATCH_ERROR = 8;

const errnoNames = new Map<number, string>();
// Preferred names first (EAGAIN over EWOULDBLOCK, ...), then everything Node knows.
for (const [name, value] of [
  ['EAGAIN', 11],
  ['ECONNRESET', 104],
  ['EPIPE', 32],
  ['ENOTCONN', 107],
  ['EBADF', 9],
  ['ECONNREFUSED', 111],
  ['ETIMEDOUT', 110],
  ['ECONNABORTED', 103],
  ['EINTR', 4],
  ['EINVAL', 22],
  ['ENOBUFS', 105],
  ['EHOSTUNREACH', 113],
  ['ENETUNREACH', 101],
  ['EADDRINUSE', 98],
  ['EMFILE', 24],
  ['ENOMEM', 12],
] as const) {
  errnoNames.set(value, name);
}
for (const [name, value] of Object.entries(osConstants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** Name of an errno given as returned by hot-path calls (-104 -> 'ECONNRESET'); positive values work too. */
export function errnoName(negErrno: number): string {
  return errnoNames.get(Math.abs(negErrno)) ?? `errno ${negErrno}`;
}

const ADDON_URL = new URL('../../native/build/Release/nvmf_native.node', import.meta.url);
const REQUIRED: readonly (keyof NativeAddon)[] = [
  'tcpConnect', 'tcpListen', 'localPort', 'peerAddress', 'accept', 'send', 'sendv', 'recv', 'recv2', 'close',
  'shutdown', 'setSocketBuffers', 'notSentLowat', 'epollCreate', 'epollCtl', 'epollWait', 'eventfdCreate',
  'eventfdWrite', 'eventfdRead', 'pollFd', 'pinThread', 'allowedCpus', 'currentCpu', 'timerSlackNs', 'gettid', 'exitNow',
  'monoNs', 'monoClockCell', 'monoClock', 'pread', 'pwrite', 'threadCpuNs', 'processCpuNs', 'threadCpuNsOf', 'crc32c', 'crc32cv', 'copy', 'adviseHugePages', 'watchFd',
  'uringSetup', 'uringInfo', 'uringClose', 'uringRegisterFiles', 'uringSetBuffers', 'uringRegisterEventfd', 'uringPass',
  'uringWait', 'allocAligned', 'blockDeviceInfo', 'nvmeAdminCmd', 'nvmeNsid',
];

function loadAddon(): NativeAddon {
  const file = fileURLToPath(ADDON_URL);
  if (!existsSync(file)) {
    const repoDir = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
    throw new Error(`nvmf-perf native addon is not built: run \`npm install\` (node-gyp) in ${repoDir}`);
  }
  const mod = createRequire(import.meta.url)(file) as Record<string, unknown>;
  const missing = REQUIRED.filter((k) => typeof mod[k] !== 'function');
  if (missing.length > 0) {
    throw new Error(`nvmf-perf native addon at ${file} is stale (missing ${missing.join(', ')}): rebuild it with node-gyp`);
  }
  return mod as unknown as NativeAddon;
}

export const native: NativeAddon = loadAddon();

export * from './uring.js';
