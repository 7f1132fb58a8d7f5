// --io-timeout in a worker, as SPDK's timeout callback handles it: every few ms (not per I/O) each
// qpair's oldest command in flight is looked at; one past the timeout is counted and an Abort is
// asked for (src/engine/abort-requests.ts; the main thread owns the admin queue). If the Abort fails
// (error status, no answer, or "not aborted") or the command still has not completed one more timeout
// later, the qpair is to be reset (the worker loop disconnects and reconnects it, failing what it held).
// One timed-out command per qpair is handled at a time; the next one is looked at once it is resolved
// (its Abort waits, if need be, until the answer to the previous one is in).
import type { IoQpair } from '../transport/transport.js';
import type { AbortRequests } from './abort-requests.js';
import type { IoTimeoutTotals } from './worker-result.js';

/** Longest gap between two checks (ns); shorter for short timeouts, so a timeout is seen within a quarter of it. */
const MAX_CHECK_NS = 5e6;

/** One qpair's timeout state. */
export class QpairWatch {
  /** The command being handled (-1 = none), its submit stamp and when the qpair is reset if it is still there. */
  cid = -1;
  stamp = 0;
  resetAtNs = 0;
  /** An Abort is posted for (abortCid, abortStamp) and not answered yet. */
  abortPending = false;
  abortCid = -1;
  abortStamp = 0;
  constructor(readonly slot: number) {}
}

export class IoTimeoutWatch {
  readonly totals: IoTimeoutTotals = {
    timedOut: 0, abortsSent: 0, aborted: 0, notAborted: 0, abortsFailed: 0, qpairResets: 0, resetFailedIos: 0,
  };
  readonly timeoutNs: number;
  readonly intervalNs: number;
  private nextSlot: number;
  private nextCheckNs = 0;

  constructor(timeoutMs: number, private readonly requests: AbortRequests, slotBase: number) {
    this.timeoutNs = timeoutMs * 1e6;
    this.intervalNs = Math.min(MAX_CHECK_NS, this.timeoutNs / 4);
    this.nextSlot = slotBase;
  }

  /** A watch for the next qpair of this worker (qpairs are added in plan order: slot = base + n). */
  addQpair(): QpairWatch { return new QpairWatch(this.nextSlot++); }

  /** Is a check due at `nowNs`? (Call once per loop pass; the checks themselves run every intervalNs.) */
  due(nowNs: number): boolean {
    if (nowNs < this.nextCheckNs) return false;
    this.nextCheckNs = nowNs + this.intervalNs;
    return true;
  }

  /**
   * Looks at qpair qp (stamps in the submitClock unit, ns here) of controller `ctrl`.
   * Returns true when the qpair must be reset now.
   */
  check(w: QpairWatch, qp: IoQpair, ctrl: number, nowNs: number): boolean {
    let abortFailed = false;
    if (w.abortPending) {
      const ans = this.requests.take(w.slot);
      if (ans !== null) {
        w.abortPending = false;
        let ok = false;
        if (ans.status === 0 && (ans.dw0 & 1) === 0) { this.totals.aborted++; ok = true; }
        else if (ans.status === 0) this.totals.notAborted++;
        else this.totals.abortsFailed++;
        // Not aborted: the command may be completing right now; give it one more check before the reset.
        if (!ok && w.cid === w.abortCid && w.stamp === w.abortStamp) abortFailed = true;
      }
    }
    if (w.cid >= 0) {
      if (qp.commandSubmitTime(w.cid) !== w.stamp) {
        w.cid = -1; // completed (aborted or not): look for the next one below
      } else {
        if (abortFailed) w.resetAtNs = Math.min(w.resetAtNs, nowNs + this.intervalNs);
        else this.postAbort(w, ctrl, qp.qid);
        return nowNs >= w.resetAtNs;
      }
    }
    const cid = qp.oldestCommand();
    if (cid < 0) return false;
    const at = qp.commandSubmitTime(cid);
    if (nowNs - at < this.timeoutNs) return false;
    this.totals.timedOut++;
    w.cid = cid;
    w.stamp = at;
    w.resetAtNs = nowNs + this.timeoutNs;
    this.postAbort(w, ctrl, qp.qid);
    return false;
  }

  /** Asks for an Abort of w's command unless one was asked for already; waits while the slot still holds an earlier one. */
  private postAbort(w: QpairWatch, ctrl: number, sqid: number): void {
    if (w.abortPending || !this.requests.idle(w.slot)) return;
    if (w.abortCid === w.cid && w.abortStamp === w.stamp) return;
    this.requests.post(w.slot, ctrl, sqid, w.cid);
    this.totals.abortsSent++;
    w.abortPending = true;
    w.abortCid = w.cid;
    w.abortStamp = w.stamp;
  }

  /** The worker reset qpair w, failing `failedIos` I/Os; an Abort still unanswered is counted when its answer comes. */
  resetDone(w: QpairWatch, failedIos: number): void {
    this.totals.qpairResets++;
    this.totals.resetFailedIos += failedIos;
    w.cid = -1;
  }
}
