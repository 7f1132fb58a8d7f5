// When a host reconnects a controller whose association died, and when it gives up — the meaning Linux's
// nvme-cli gives ctrl_loss_tmo, reconnect_delay and fast_io_fail_tmo. A pure state machine over a clock
// the caller passes in (ms): connected → disconnected(since) → reconnecting → connected | lost.
// It does no I/O; the caller connects and reports the outcome.

export interface ReconnectSettings {
  /** Give up this long after the loss (ms); 0 = never reconnect; < 0 = keep trying for ever. */
  ctrlLossTmoMs: number;
  /** Wait between the loss and the first attempt, and between attempts (ms). */
  reconnectDelayMs: number;
  /** I/O waiting for the reconnect fails this long after the loss (ms); < 0 = it waits until the controller is lost. */
  fastIoFailTmoMs: number;
}

export type LinkState = 'connected' | 'disconnected' | 'reconnecting' | 'lost';

/** What the caller should do now. */
export type ReconnectAction = 'none' | 'attempt' | 'give-up';

export class ReconnectPolicy {
  private st: LinkState = 'connected';
  private sinceMs = 0;
  private nextAttemptMs = 0;
  private tries = 0;

  constructor(readonly settings: ReconnectSettings) {}

  get state(): LinkState { return this.st; }
  /** When the association was lost (ms, the caller's clock); meaningful unless connected. */
  get since(): number { return this.sinceMs; }
  /** Attempts since the loss. */
  get attempts(): number { return this.tries; }
  /** Whether a lost association is reconnected at all. */
  get enabled(): boolean { return this.settings.ctrlLossTmoMs !== 0; }

  /** The association died at `nowMs`. Ignored unless connected. */
  lost(nowMs: number): void {
    if (this.st !== 'connected') return;
    this.st = this.enabled ? 'disconnected' : 'lost';
    this.sinceMs = nowMs;
    this.tries = 0;
    this.nextAttemptMs = nowMs + this.settings.reconnectDelayMs;
  }

  /** Disconnected: attempt once the delay has passed, give up once ctrl-loss-tmo has (an attempt due after it is not made). */
  poll(nowMs: number): ReconnectAction {
    if (this.st !== 'disconnected') return 'none';
    const tmo = this.settings.ctrlLossTmoMs;
    if (tmo > 0 && nowMs - this.sinceMs >= tmo) { this.st = 'lost'; return 'give-up'; }
    if (nowMs < this.nextAttemptMs) return 'none';
    this.st = 'reconnecting';
    this.tries++;
    return 'attempt';
  }

  /** The attempt poll() asked for failed at `nowMs`: the next one comes after the delay. */
  attemptFailed(nowMs: number): void {
    if (this.st !== 'reconnecting') return;
    this.st = 'disconnected';
    this.nextAttemptMs = nowMs + this.settings.reconnectDelayMs;
  }

  attemptSucceeded(): void {
    if (this.st === 'reconnecting') this.st = 'connected';
  }

  /** True once I/O waiting for the reconnect should fail (fast_io_fail_tmo passed, or the controller is lost). */
  ioFailDue(nowMs: number): boolean {
    if (this.st === 'connected') return false;
    if (this.st === 'lost') return true;
    const f = this.settings.fastIoFailTmoMs;
    return f >= 0 && nowMs - this.sinceMs >= f;
  }

  /** Last moment an attempt may still start (ms), or Infinity. Bounds a synchronous connect. */
  deadline(): number {
    const tmo = this.settings.ctrlLossTmoMs;
    return tmo > 0 ? this.sinceMs + tmo : Infinity;
  }
}
