// When a reactor loop (an initiator worker or a target reactor) may sleep, and where its time went.
//
// Poll mode never sleeps. Interrupt mode sleeps in epoll_wait once a pass did nothing, but not at
// once: it keeps polling for a short, bounded spin window after the last pass that did work (NAPI /
// net.core.busy_poll style), because a sleep and the wake-up that ends it cost more than a few
// empty passes while the peer's answer is already on its way. Spin window 0 = sleep after the
// first empty pass.
//
// The window is also paid for by work: every I/O handled earns spin credit (a token bucket holding
// at most one window), and spinning spends it. Under load (batches of many I/Os between short
// gaps) the bucket stays full and the loop never sleeps; at a low rate (one I/O per gap) it spins
// only briefly and sleeps, so spinning never costs more than `creditPerIoNs` of CPU per I/O on average.
//
// Every pass is charged from the end of the previous one to exactly one bucket, so
// busy + spin + sleep covers the loop's time: busy = passes that did work, spin = empty passes
// while awake (CPU spent waiting), sleep = blocked in epoll_wait (no CPU). SPDK's busy/idle is
// busy / (spin + sleep). The counters say how the loop behaved (tests check those, never time).
import { native } from '../native/index.js';
import { DOUBLE_ZERO } from './double-zero.js';

/** Default spin window in µs (chosen from sleeps-per-I/O measurements at QD 32; see the README). */
export const DEFAULT_SPIN_US = 50;
/**
 * Timer slack (ns) of a thread whose loop may sleep: the kernel's default (50 µs) would let it end a
 * timed sleep (a --coalesce-us window, the next --rate-iops arrival) up to 50 µs late.
 */
export const SLEEPER_TIMER_SLACK_NS = 1000;
/** Upper bound for --spin-us: beyond this it is poll mode with extra steps. */
export const MAX_SPIN_US = 100_000;
/** Spin credit earned per I/O handled, as a fraction of the window: a batch of this many I/Os refills it. */
export const SPIN_REFILL_IOS = 16;

/** This thread's clock cell: native.monoClock() writes CLOCK_MONOTONIC ns into it. */
const CLOCK_CELL = native.monoClockCell();

/** Counters and time split of one loop (all cumulative since the last reset). */
export interface WaitStats {
  /** Time in passes that did work. */
  busyNs: number;
  /** Time in empty passes while awake (spinning). */
  spinNs: number;
  /** Time blocked in epoll_wait. */
  sleepNs: number;
  passes: number;
  /** Passes that did work. */
  busyPasses: number;
  /** Idle periods entered (an empty pass after a busy one): each starts a spin window. */
  spinWindows: number;
  /** Spin windows that ended with work instead of a sleep (a sleep and wake-up saved). */
  spinHits: number;
  /** Switches from polling to sleeping (epoll armed, thread blocked). */
  sleeps: number;
  /** Sleeps ended by a ready file descriptor (socket or eventfd). */
  wakeups: number;
  /** Sleeps ended by their timeout (a deadline, the next scheduled I/O). */
  timeouts: number;
}

export class AdaptiveWait implements WaitStats {
  busyNs = DOUBLE_ZERO;
  spinNs = DOUBLE_ZERO;
  sleepNs = DOUBLE_ZERO;
  passes = 0;
  busyPasses = 0;
  spinWindows = 0;
  spinHits = 0;
  sleeps = 0;
  wakeups = 0;
  timeouts = 0;
  readonly spinWindowNs: number;
  /** Spin credit one I/O earns. */
  readonly creditPerIoNs: number;
  private passStart = 0;
  /** Start of the current idle period; -1 while the last pass did work (or right after a sleep). */
  private idleSince = -1;
  /** Spin time available (ns, at most one window); the current idle period spins min(window, credit). */
  private credit = 0;
  private limit = 0;

  /**
   * interrupt: sleeping allowed at all; spinUs: the longest spin after the last busy pass;
   * creditPerIoNs: spin credit per I/O (default: a window per SPIN_REFILL_IOS I/Os).
   */
  constructor(readonly interrupt: boolean, spinUs: number, creditPerIoNs?: number) {
    this.spinWindowNs = Math.max(0, spinUs) * 1000;
    this.creditPerIoNs = creditPerIoNs ?? this.spinWindowNs / SPIN_REFILL_IOS;
    this.passStart = this.now();
  }

  /** CLOCK_MONOTONIC in ns without allocating (the value comes through this thread's clock cell). */
  now(): number {
    native.monoClock();
    return CLOCK_CELL[0]!;
  }

  /** Forget everything measured so far; accounting restarts at `now` (end of a warm-up). */
  reset(now: number): void {
    this.busyNs = 0; this.spinNs = 0; this.sleepNs = 0;
    this.passes = 0; this.busyPasses = 0; this.spinWindows = 0; this.spinHits = 0;
    this.sleeps = 0; this.wakeups = 0; this.timeouts = 0;
    this.passStart = now;
    this.idleSince = -1;
    this.credit = 0;
  }

  /**
   * Charges the pass that ended at `now` (work > 0: busy, else spin); `ios` = I/Os it handled (they
   * earn spin credit; default `work`). Returns true when the caller should sleep now: interrupt mode,
   * this pass did nothing, and the spin since the last busy pass used up the window or the credit —
   * or `nothingDue` (the caller knows no answer can arrive, e.g. nothing in flight).
   */
  endPass(work: number, now: number, nothingDue = false, ios = work): boolean {
    const dt = now - this.passStart;
    this.passStart = now;
    this.passes++;
    if (work > 0) {
      this.busyNs += dt;
      this.busyPasses++;
      if (this.idleSince >= 0) {
        this.spinHits++;
        this.credit -= now - dt - this.idleSince;
        this.idleSince = -1;
      }
      this.credit = Math.min(this.spinWindowNs, Math.max(0, this.credit) + ios * this.creditPerIoNs);
      return false;
    }
    this.spinNs += dt;
    if (this.idleSince < 0) {
      this.idleSince = now - dt;
      this.spinWindows++;
      this.limit = Math.min(this.spinWindowNs, this.credit);
    }
    if (!this.interrupt) return false;
    const spun = now - this.idleSince;
    if (nothingDue || spun >= this.limit) {
      this.credit -= spun;
      return true;
    }
    return false;
  }

  /** Charges a sleep from `from` (the end of the last pass) to `now`; `ready` = fds epoll returned. */
  slept(from: number, now: number, ready: number): void {
    this.sleepNs += now - from;
    this.sleeps++;
    if (ready > 0) this.wakeups++;
    else this.timeouts++;
    this.passStart = now;
    // The next empty pass opens a new spin window (as long as the credit left allows).
    this.idleSince = -1;
  }

  /** A plain copy of the counters (for results). */
  snapshot(): WaitStats {
    // + 0: a counter never added to is still DOUBLE_ZERO (-0).
    return { busyNs: this.busyNs + 0, spinNs: this.spinNs + 0, sleepNs: this.sleepNs + 0, passes: this.passes,
      busyPasses: this.busyPasses, spinWindows: this.spinWindows, spinHits: this.spinHits, sleeps: this.sleeps,
      wakeups: this.wakeups, timeouts: this.timeouts };
  }
}
