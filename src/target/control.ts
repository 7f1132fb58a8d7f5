// Shared control block between the main thread and the reactors (one SharedArrayBuffer):
//   - a stop flag;
//   - per reactor, a single-producer (main) / single-consumer (reactor) ring of accepted sockets;
//   - per reactor, statistics the reactor writes and the main thread reads (busy/idle ns the SPDK
//     way, thread CPU ns, passes, connections);
//   - subsystem-wide SMART counters (host read/write commands, 512-byte units read/written);
//   - a test-only fault knob: hold the next N I/O commands unanswered (tests of host I/O timeouts).
import { native } from '../native/index.js';

const CTL_STOP = 0;
/** Test knob: I/O commands still to hold, and whether an Abort may release them (1) or not (0). */
const CTL_HOLD_IO = 1, CTL_HOLD_ABORTABLE = 2;
const CTL_HEADER = 8;
/** Accepted sockets a reactor may have waiting before the main thread refuses more. */
export const CONN_QUEUE_CAP = 256;
const Q_HEAD = 0, Q_TAIL = 1, Q_RING = 2;
const Q_WORDS = Q_RING + CONN_QUEUE_CAP * 2;

export const STATS_FIELDS = {
  BUSY_NS: 0, IDLE_NS: 1, CPU_NS: 2, PASSES: 3, CONNECTIONS: 4, UPDATED_NS: 5, COMMANDS: 6, RUNNING: 7,
  ADMIN_QPAIRS: 8, IO_QPAIRS: 9, ADMIN_QPAIRS_TOTAL: 10, IO_QPAIRS_TOTAL: 11, IO_COMMANDS: 12,
  SPIN_NS: 13, SLEEP_NS: 14, SLEEPS: 15, WAKEUPS: 16, SPIN_WINDOWS: 17, SPIN_HITS: 18,
  /** monoNs when the reactor went to sleep, 0 while awake: readers add the sleep so far. */
  SLEEPING_SINCE: 19,
  /** Wake-ups through the reactor's eventfd (another reactor or the main thread), sleeps ended by a socket. */
  EVENTFD_WAKEUPS: 20, SOCKET_WAKEUPS: 21,
  /** Largest unsent output of one connection (bytes): what a host that stops reading makes us hold. */
  CONN_BUFFER_MAX: 22,
  /** File namespaces on io_uring: 1 while the reactor has its ring; CQEs reaped; CQEs of requests whose connection had gone. */
  FILE_RING: 23, FILE_RING_COMPLETIONS: 24, FILE_RING_ORPHANED: 25,
  /** Ring slots taken (in the kernel, or holding write data still arriving). */
  FILE_RING_SLOTS_USED: 26,
  /** --coalesce-us: timed sleeps taken after a busy pass instead of spinning or waiting for a socket. */
  COALESCED_SLEEPS: 27,
  /** --coalesce-us: pauses after windows that gathered at most one command each (CoalescePolicy). */
  COALESCE_BACKOFFS: 28,
} as const;
const STATS_STRIDE = 32;

export const SMART_FIELDS = { READ_CMDS: 0, WRITE_CMDS: 1, READ_UNITS: 2, WRITE_UNITS: 3 } as const;
const SMART_WORDS = 8;

export interface ReactorStats {
  index: number;
  cpu: number;
  /** Time in loop passes that did work. */
  busyNs: number;
  /** Time in passes that did nothing (spinNs) plus time blocked in epoll_wait (sleepNs). */
  idleNs: number;
  spinNs: number;
  sleepNs: number;
  /** Interrupt mode: sleeps (poll → interrupt switches), those ended by a ready fd, idle periods
   *  entered (spin windows) and spin windows that ended in work rather than a sleep. */
  sleeps: number;
  wakeups: number;
  spinWindows: number;
  spinHits: number;
  /** CPU time the reactor thread used (CLOCK_THREAD_CPUTIME_ID). */
  cpuNs: number;
  passes: number;
  /** Sockets the reactor owns (connected or not). */
  connections: number;
  /** Connected admin / I/O queues now, and since the start. */
  adminQpairs: number;
  ioQpairs: number;
  adminQpairsTotal: number;
  ioQpairsTotal: number;
  /** Commands (capsules) processed, all queues. */
  commands: number;
  /** Reads and writes completed. */
  ioCommands: number;
  /** Interrupt mode: wake-ups by another thread through the eventfd (new socket, controller gone, stop). */
  eventfdWakeups: number;
  /** Interrupt mode: sleeps ended by socket readiness. */
  socketWakeups: number;
  /** Largest receive + send buffer one connection held (bytes): bounded even when a host stops reading. */
  connBufferMax: number;
  /** File namespaces go through this reactor's io_uring (false: none open, --file-io sync, or setup failed). */
  fileRing: boolean;
  /** io_uring completions of file I/O, and those that found their connection gone (answered nobody). */
  fileRingCompletions: number;
  fileRingOrphaned: number;
  /** Ring slots taken now (0 when no file I/O is in flight: nothing leaked). */
  fileRingSlotsUsed: number;
  /** --coalesce-us: timed sleeps after busy passes (interrupt coalescing). */
  coalescedSleeps: number;
  /** --coalesce-us: pauses of coalescing after a streak of windows that gathered at most one command. */
  coalesceBackoffs: number;
}

export class ControlBlock {
  readonly sab: SharedArrayBuffer;
  private readonly i32: Int32Array;
  private readonly stats: Float64Array;
  readonly smart: BigInt64Array;

  constructor(readonly reactors: number, sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer(ControlBlock.byteLength(reactors));
    const qBytes = (CTL_HEADER + reactors * Q_WORDS) * 4;
    const statsOff = Math.ceil(qBytes / 8) * 8;
    this.i32 = new Int32Array(this.sab, 0, CTL_HEADER + reactors * Q_WORDS);
    this.stats = new Float64Array(this.sab, statsOff, reactors * STATS_STRIDE);
    this.smart = new BigInt64Array(this.sab, statsOff + reactors * STATS_STRIDE * 8, SMART_WORDS);
  }

  static byteLength(reactors: number): number {
    const qBytes = (CTL_HEADER + reactors * Q_WORDS) * 4;
    return Math.ceil(qBytes / 8) * 8 + reactors * STATS_STRIDE * 8 + SMART_WORDS * 8;
  }

  get stopRequested(): boolean { return Atomics.load(this.i32, CTL_STOP) !== 0; }
  requestStop(): void { Atomics.store(this.i32, CTL_STOP, 1); }

  /**
   * Test only (RunningTarget.holdIo, RPC nvmf_perf_test_hold_io): the next `count` I/O commands, on
   * any queue, are held without an answer; an Abort naming one completes it with Command Abort
   * Requested when `abortable`, else the Abort reports "not aborted". count 0 ends holding.
   */
  setHoldIo(count: number, abortable: boolean): void {
    Atomics.store(this.i32, CTL_HOLD_ABORTABLE, abortable ? 1 : 0);
    Atomics.store(this.i32, CTL_HOLD_IO, count);
  }

  /** Reactor, per I/O command: should this one be held? (One atomic load while the knob is off.) */
  takeHold(): boolean {
    const i = this.i32;
    for (;;) {
      const n = Atomics.load(i, CTL_HOLD_IO);
      if (n <= 0) return false;
      if (Atomics.compareExchange(i, CTL_HOLD_IO, n, n - 1) === n) return true;
    }
  }

  get holdAbortable(): boolean { return Atomics.load(this.i32, CTL_HOLD_ABORTABLE) !== 0; }

  private qbase(r: number): number { return CTL_HEADER + r * Q_WORDS; }

  /** Main thread: hands an accepted socket to reactor r. False when its queue is full. */
  push(r: number, fd: number, listener: number): boolean {
    const b = this.qbase(r);
    const head = Atomics.load(this.i32, b + Q_HEAD);
    const tail = Atomics.load(this.i32, b + Q_TAIL);
    if (tail - head >= CONN_QUEUE_CAP) return false;
    const i = b + Q_RING + (tail % CONN_QUEUE_CAP) * 2;
    this.i32[i] = fd;
    this.i32[i + 1] = listener;
    Atomics.store(this.i32, b + Q_TAIL, tail + 1);
    return true;
  }

  /** Reactor r: true when sockets are waiting (one atomic load). */
  pending(r: number): boolean {
    const b = this.qbase(r);
    return Atomics.load(this.i32, b + Q_TAIL) !== this.i32[b + Q_HEAD];
  }

  /** Reactor r: takes the next socket; returns [fd, listener] in out, false when empty. */
  pop(r: number, out: Int32Array): boolean {
    const b = this.qbase(r);
    const head = this.i32[b + Q_HEAD]!;
    if (Atomics.load(this.i32, b + Q_TAIL) === head) return false;
    const i = b + Q_RING + (head % CONN_QUEUE_CAP) * 2;
    out[0] = this.i32[i]!;
    out[1] = this.i32[i + 1]!;
    Atomics.store(this.i32, b + Q_HEAD, head + 1);
    return true;
  }

  /** Reactor r's statistics row (the reactor writes it in place). */
  statsRow(r: number): Float64Array {
    return this.stats.subarray(r * STATS_STRIDE, (r + 1) * STATS_STRIDE);
  }

  readStats(r: number, cpu: number): ReactorStats {
    const s = this.statsRow(r);
    const F = STATS_FIELDS;
    // A sleeping reactor is not woken to publish: the sleep so far is added here.
    const since = s[F.SLEEPING_SINCE]!;
    const asleep = since > 0 ? Math.max(0, native.monoNs() - since) : 0;
    return { index: r, cpu, busyNs: s[F.BUSY_NS]!, idleNs: s[F.IDLE_NS]! + asleep, spinNs: s[F.SPIN_NS]!,
      sleepNs: s[F.SLEEP_NS]! + asleep, sleeps: s[F.SLEEPS]!, wakeups: s[F.WAKEUPS]!, spinWindows: s[F.SPIN_WINDOWS]!,
      spinHits: s[F.SPIN_HITS]!, cpuNs: s[F.CPU_NS]!, passes: s[F.PASSES]!,
      connections: s[F.CONNECTIONS]!, adminQpairs: s[F.ADMIN_QPAIRS]!, ioQpairs: s[F.IO_QPAIRS]!,
      adminQpairsTotal: s[F.ADMIN_QPAIRS_TOTAL]!, ioQpairsTotal: s[F.IO_QPAIRS_TOTAL]!, commands: s[F.COMMANDS]!,
      ioCommands: s[F.IO_COMMANDS]!, eventfdWakeups: s[F.EVENTFD_WAKEUPS]!, socketWakeups: s[F.SOCKET_WAKEUPS]!,
      connBufferMax: s[F.CONN_BUFFER_MAX]!, fileRing: s[F.FILE_RING] === 1,
      fileRingCompletions: s[F.FILE_RING_COMPLETIONS]!, fileRingOrphaned: s[F.FILE_RING_ORPHANED]!,
      fileRingSlotsUsed: s[F.FILE_RING_SLOTS_USED]!, coalescedSleeps: s[F.COALESCED_SLEEPS]!,
      coalesceBackoffs: s[F.COALESCE_BACKOFFS]! };
  }

  /** Reactors add their SMART deltas every few ms (BigInt conversion there, not per I/O). */
  addSmart(field: number, delta: number): void {
    if (delta !== 0) Atomics.add(this.smart, field, BigInt(delta));
  }

  smartValue(field: number): bigint {
    return Atomics.load(this.smart, field);
  }
}
