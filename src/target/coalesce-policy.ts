// When an interrupt-mode reactor takes a coalescing sleep (--coalesce-us), and when it stops trying.
//
// A coalescing sleep after a busy pass pays off only when commands arriving during it share the next
// wake-up: two or more in the pass after it. When a host waits for each answer before sending its next
// command (QD 1), the sleep gathers at most that one command and only adds latency. So after
// FUTILE_STREAK windows in a row that gathered at most one command each, coalescing pauses for
// BACKOFF_NS (the reactor sleeps and wakes on sockets as without it), then tries again: under a steady
// load the windows keep gathering and coalescing stays on; at QD 1 it costs a few windows per pause.

/** Windows in a row that gathered at most one command, after which coalescing pauses. */
export const FUTILE_STREAK = 4;
/** How long coalescing pauses after a futile streak. */
export const BACKOFF_NS = 50_000_000;

export class CoalescePolicy {
  /** Coalescing sleeps taken. */
  windows = 0;
  /** Pauses after a futile streak. */
  backoffs = 0;
  private streak = 0;
  private pausedUntil = 0;
  /** A window was taken and the pass after it has not been counted yet. */
  private open = false;

  /** May the busy pass that ended at `now` be followed by a coalescing sleep? */
  wanted(now: number): boolean {
    return now >= this.pausedUntil;
  }

  /** A coalescing sleep starts. */
  began(): void {
    this.windows++;
    this.open = true;
  }

  /**
   * Every pass reports the commands it took in; the pass right after a coalescing sleep is the one
   * that shows what the sleep gathered.
   */
  passEnded(commands: number, now: number): void {
    if (!this.open) return;
    this.open = false;
    if (commands >= 2) {
      this.streak = 0;
      return;
    }
    if (++this.streak < FUTILE_STREAK) return;
    this.streak = 0;
    this.backoffs++;
    this.pausedUntil = now + BACKOFF_NS;
  }
}
