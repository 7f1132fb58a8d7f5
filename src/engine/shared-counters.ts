// Live counters workers publish for the progress line: one row of Float64 fields per worker in a
// SharedArrayBuffer (single writer per row, read by the main thread once a second), plus a small
// control block (start barrier, stop flag, phase deadlines). No message per I/O, ever.

export const Field = {
  ReadIos: 0,
  WriteIos: 1,
  ReadBytes: 2,
  WriteBytes: 3,
  LatSumNs: 4,
  BusyNs: 5,
  IdleNs: 6,
  CpuNs: 7,
  Phase: 8,
  Errors: 9,
  Outstanding: 10,
  /** Interrupt mode: time spinning (empty passes while awake) / blocked in epoll_wait, and sleeps. */
  SpinNs: 11,
  SleepNs: 12,
  Sleeps: 13,
  /** I/Os resubmitted after a reconnect (--ctrl-loss-tmo). */
  Retries: 14,
} as const;
const FIELDS = 16;

export const Phase = { Connecting: 0, Ready: 1, Warmup: 2, Measuring: 3, Draining: 4, Done: 5, Failed: 6 } as const;

/** Int32 slots of the control block. */
const GO = 0, STOP = 1, READY = 2;
/** Float64 slots (after 8 Int32s): warm-up end and run end, CLOCK_MONOTONIC ns. */
const WARM_END = 0, END = 1;

export class SharedCounters {
  readonly rows: Float64Array;
  private readonly ctl: Int32Array;
  private readonly times: Float64Array;

  constructor(readonly workers: number, readonly countersSab: SharedArrayBuffer, readonly controlSab: SharedArrayBuffer) {
    this.rows = new Float64Array(countersSab);
    this.ctl = new Int32Array(controlSab, 0, 8);
    this.times = new Float64Array(controlSab, 32, 4);
  }

  static create(workers: number): SharedCounters {
    return new SharedCounters(workers, new SharedArrayBuffer(workers * FIELDS * 8), new SharedArrayBuffer(64));
  }

  static attach(workers: number, countersSab: SharedArrayBuffer, controlSab: SharedArrayBuffer): SharedCounters {
    return new SharedCounters(workers, countersSab, controlSab);
  }

  base(worker: number): number { return worker * FIELDS; }
  get(worker: number, field: number): number { return this.rows[worker * FIELDS + field]!; }
  set(worker: number, field: number, v: number): void { this.rows[worker * FIELDS + field] = v; }

  markReady(): void { Atomics.add(this.ctl, READY, 1); }
  readyCount(): number { return Atomics.load(this.ctl, READY); }

  /** Main thread: publish the deadlines and release the workers. */
  start(warmupEndNs: number, endNs: number): void {
    this.times[WARM_END] = warmupEndNs;
    this.times[END] = endNs;
    Atomics.store(this.ctl, GO, 1);
    Atomics.notify(this.ctl, GO);
  }
  get warmupEndNs(): number { return this.times[WARM_END]!; }
  get endNs(): number { return this.times[END]!; }

  /** Worker: block until start() or stop() (bounded by timeoutMs). Returns true when released to run. */
  waitForStart(timeoutMs: number): boolean {
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.ctl, GO) === 0 && Atomics.load(this.ctl, STOP) === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(this.ctl, GO, 0, Math.min(left, 50));
    }
    return Atomics.load(this.ctl, STOP) === 0;
  }

  stop(): void {
    Atomics.store(this.ctl, STOP, 1);
    Atomics.notify(this.ctl, GO);
  }
  stopRequested(): boolean { return Atomics.load(this.ctl, STOP) !== 0; }
}
