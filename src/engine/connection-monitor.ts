// --ctrl-loss-tmo on the main thread: watches the link states workers report, and per controller runs
// the reconnect policy (src/host/reconnect-policy.ts): after a loss, close the dead admin queue, try a
// full controller bring-up (new admin queue + Connect, CC.EN, new CNTLID) every reconnect-delay, and
// publish the new CNTLID so the workers connect their I/O qpairs to it; give up after ctrl-loss-tmo.
// Records each disconnect, reconnect and loss with its time.
import { native } from '../native/index.js';
import { Controller } from '../host/controller.js';
import { ReconnectPolicy } from '../host/reconnect-policy.js';
import { formatTrid } from '../host/trid.js';
import type { TransportId } from '../transport/transport.js';
import type { ReconnectConfig } from './config.js';
import { LinkCode, type LinkStates } from './link-states.js';
import type { ConnectionEvent } from './run-record.js';

/** How often the link states are looked at (ms). */
const POLL_MS = 50;

export interface MonitorOptions {
  hostnqn: string | undefined;
  hdgst: boolean;
  ddgst: boolean;
  /** CLOCK_MONOTONIC ns at which the measured phase starts (event times are relative to it). */
  warmEndNs: number;
  log: (msg: string) => void;
  /** A controller was given up: the run ends (partial). */
  onLost: (why: string) => void;
}

export class ConnectionMonitor {
  readonly events: ConnectionEvent[] = [];
  private readonly policies: ReconnectPolicy[];
  private readonly lastError: string[];
  private readonly timer: ReturnType<typeof setInterval>;

  /** `controllers` is the run's array: a reconnected controller replaces its entry (the run shuts it down at the end). */
  constructor(private readonly cfg: ReconnectConfig, private readonly links: LinkStates, private readonly controllers: Controller[],
    private readonly tids: TransportId[], private readonly opts: MonitorOptions) {
    const settings = {
      ctrlLossTmoMs: cfg.ctrlLossTmoSec < 0 ? -1 : cfg.ctrlLossTmoSec * 1000,
      reconnectDelayMs: cfg.reconnectDelaySec * 1000,
      fastIoFailTmoMs: cfg.fastIoFailTmoSec < 0 ? -1 : cfg.fastIoFailTmoSec * 1000,
    };
    this.policies = controllers.map(() => new ReconnectPolicy(settings));
    this.lastError = controllers.map(() => '');
    controllers.forEach((c, i) => this.watchKeepAlive(c, i));
    this.timer = setInterval(() => this.poll(), POLL_MS);
    this.timer.unref();
  }

  stop(): void { clearInterval(this.timer); }

  /** Run over: a controller still disconnected (the outage outlasted the run) makes the run partial. */
  unresolved(): string | undefined {
    const i = this.policies.findIndex((p) => p.state === 'disconnected' || p.state === 'reconnecting');
    if (i < 0) return undefined;
    const p = this.policies[i]!;
    return `${formatTrid(this.tids[i]!)}: the run ended while disconnected (for ${((Date.now() - p.since) / 1000).toFixed(1)} s, `
      + `${p.attempts} reconnect attempt(s)${this.lastError[i] ? `; last: ${this.lastError[i]}` : ''})`;
  }

  private watchKeepAlive(c: Controller, i: number): void {
    // A failed Keep Alive also means the association is gone (workers may be idle and not see it).
    c.onError = (): void => this.links.reportLoss(i, this.links.generation(i));
  }

  private event(e: Omit<ConnectionEvent, 't' | 'at'>): void {
    const t = Math.round((native.monoNs() - this.opts.warmEndNs) / 1e6) / 1000;
    const { kind, ...rest } = e;
    this.events.push({ kind, t, at: new Date().toISOString(), ...rest });
  }

  private poll(): void {
    for (let i = 0; i < this.policies.length; i++) {
      const p = this.policies[i]!;
      const trid = formatTrid(this.tids[i]!);
      if (p.state === 'connected' && this.links.lossReported(i)) {
        p.lost(Date.now());
        this.links.setState(i, LinkCode.Disconnected);
        try { this.controllers[i]!.disconnect(); } catch { /* already gone */ }
        this.event({ kind: 'disconnect', controller: i, trid });
        const tmo = this.cfg.ctrlLossTmoSec < 0 ? 'without limit' : `for up to ${this.cfg.ctrlLossTmoSec} s`;
        this.opts.log(`${trid}: connection lost; reconnecting every ${this.cfg.reconnectDelaySec} s ${tmo} (--ctrl-loss-tmo)`);
      }
      const action = p.poll(Date.now());
      if (action === 'give-up') {
        this.links.setState(i, LinkCode.Lost);
        const outageSec = (Date.now() - p.since) / 1000;
        const why = this.lastError[i] || 'no attempt was made';
        this.event({ kind: 'lost', controller: i, trid, outageSec, attempts: p.attempts, error: why });
        this.opts.onLost(`${trid}: controller lost: not reconnected within --ctrl-loss-tmo ${this.cfg.ctrlLossTmoSec} s `
          + `(${p.attempts} attempt(s); last: ${why})`);
      } else if (action === 'attempt') {
        this.attempt(i, p, trid);
      }
    }
  }

  /** One synchronous bring-up, bounded by what is left of ctrl-loss-tmo. */
  private attempt(i: number, p: ReconnectPolicy, trid: string): void {
    const tid = this.tids[i]!;
    const left = p.deadline() - Date.now();
    const bound = Math.max(500, Math.min(10_000, Number.isFinite(left) ? left : 10_000));
    try {
      const c = Controller.connect(tid, { hostnqn: this.opts.hostnqn ?? tid.hostnqn, hdgst: this.opts.hdgst, ddgst: this.opts.ddgst,
        connectTimeoutMs: bound, adminTimeoutMs: bound });
      this.controllers[i] = c;
      this.watchKeepAlive(c, i);
      p.attemptSucceeded();
      const outageSec = (Date.now() - p.since) / 1000;
      this.event({ kind: 'reconnect', controller: i, trid, cntlid: c.cntlid, outageSec, attempts: p.attempts });
      this.links.publish(i, c.cntlid);
      this.opts.log(`${trid}: reconnected after ${outageSec.toFixed(1)} s (attempt ${p.attempts}, CNTLID ${c.cntlid})`);
    } catch (e) {
      this.lastError[i] = (e as Error).message;
      p.attemptFailed(Date.now());
    }
  }
}
