// --io-timeout on the main thread: sends the Abort commands workers post (src/engine/abort-requests.ts)
// on the owning controller's admin queue and hands the completion back. Each Abort is one synchronous
// admin command, bounded by the I/O timeout, so the main thread is never blocked longer than that.
import type { Controller } from '../host/controller.js';
import { abortSqe } from '../nvme/admin-commands.js';
import { NvmeStatusError } from '../nvme/status.js';
import { ABORT_NO_ANSWER, type AbortRequests } from './abort-requests.js';

/** How often posted requests are looked for (ms). */
const POLL_MS = 2;

export class AbortService {
  private readonly timer: ReturnType<typeof setInterval>;

  /** `controllers` is the run's array (a reconnect replaces an entry: the Abort goes to the current one). */
  constructor(private readonly requests: AbortRequests, private readonly controllers: readonly Controller[],
    private readonly timeoutMs: number, private readonly log: (msg: string) => void) {
    this.timer = setInterval(() => this.poll(), POLL_MS);
    this.timer.unref();
  }

  stop(): void { clearInterval(this.timer); }

  private poll(): void {
    const r = this.requests;
    for (let s = r.nextPosted(0); s >= 0; s = r.nextPosted(s + 1)) {
      const { ctrl, sqid, cid } = r.request(s);
      const c = this.controllers[ctrl];
      if (!c) { r.answer(s, ABORT_NO_ANSWER, 0); continue; }
      try {
        const done = c.adminCommand(abortSqe(0, sqid, cid), undefined, undefined, this.timeoutMs);
        r.answer(s, 0, done.cqe.dw0);
      } catch (e) {
        if (e instanceof NvmeStatusError) {
          r.answer(s, e.status, 0);
        } else {
          this.log(`Abort of CID ${cid} on SQ ${sqid} got no answer: ${(e as Error).message}`);
          r.answer(s, ABORT_NO_ANSWER, 0);
        }
      }
    }
  }
}
