// --io-timeout: the Abort commands workers ask for. Abort is an admin command, and the admin queue
// lives on the main thread (src/host/controller.ts), so a worker whose I/O command timed out posts
// (controller, SQID, CID) into its qpair's slot here; the main thread (src/engine/abort-service.ts)
// sends the Abort and writes the completion back. Int32 slots in a SharedArrayBuffer, one per I/O
// qpair of the run: no message per event, nothing touched on the I/O path.

const SLOT_WORDS = 8;
const STATE = 0, CTRL = 1, SQID = 2, CID = 3, STATUS = 4, DW0 = 5;
/** Slot states: free, posted by the worker, answered by the main thread. */
const IDLE = 0, POSTED = 1, ANSWERED = 2;
/** STATUS of an Abort that got no completion (admin queue down, timed out). */
export const ABORT_NO_ANSWER = -1;

export interface AbortAnswer {
  /** Raw 16-bit CQE status, or ABORT_NO_ANSWER. */
  status: number;
  /** CQE DW0: bit 0 = 1 means the command was not aborted (base spec, Abort completion). */
  dw0: number;
}

export class AbortRequests {
  private readonly a: Int32Array;

  private constructor(readonly slots: number, readonly sab: SharedArrayBuffer) {
    this.a = new Int32Array(sab);
  }

  static create(slots: number): AbortRequests {
    return new AbortRequests(slots, new SharedArrayBuffer(Math.max(1, slots) * SLOT_WORDS * 4));
  }

  static attach(slots: number, sab: SharedArrayBuffer): AbortRequests { return new AbortRequests(slots, sab); }

  /** Worker: is slot s free for a new request (nothing posted, or the last answer taken)? */
  idle(s: number): boolean { return Atomics.load(this.a, s * SLOT_WORDS + STATE) === IDLE; }

  /** Worker: ask for an Abort of command `cid` on submission queue `sqid` of controller `ctrl`. */
  post(s: number, ctrl: number, sqid: number, cid: number): void {
    const b = s * SLOT_WORDS;
    this.a[b + CTRL] = ctrl;
    this.a[b + SQID] = sqid;
    this.a[b + CID] = cid;
    Atomics.store(this.a, b + STATE, POSTED);
  }

  /** Worker: the answer to slot s's request, or null while there is none. Taking it frees the slot. */
  take(s: number): AbortAnswer | null {
    const b = s * SLOT_WORDS;
    if (Atomics.load(this.a, b + STATE) !== ANSWERED) return null;
    const ans = { status: this.a[b + STATUS]!, dw0: this.a[b + DW0]! >>> 0 };
    Atomics.store(this.a, b + STATE, IDLE);
    return ans;
  }

  /** Main thread: the next posted slot at or after `from` (-1 = none). */
  nextPosted(from: number): number {
    for (let s = from; s < this.slots; s++) if (Atomics.load(this.a, s * SLOT_WORDS + STATE) === POSTED) return s;
    return -1;
  }

  request(s: number): { ctrl: number; sqid: number; cid: number } {
    const b = s * SLOT_WORDS;
    return { ctrl: this.a[b + CTRL]!, sqid: this.a[b + SQID]!, cid: this.a[b + CID]! };
  }

  /** Main thread: the Abort's completion for slot s. */
  answer(s: number, status: number, dw0: number): void {
    const b = s * SLOT_WORDS;
    this.a[b + STATUS] = status;
    this.a[b + DW0] = dw0 | 0;
    Atomics.store(this.a, b + STATE, ANSWERED);
  }
}
