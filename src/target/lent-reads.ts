// Reads of RAM namespace memory sent by reference ("lent") instead of copied, and the rule that keeps
// them whole: before this reactor changes namespace memory (a write landing, Write Zeroes, a
// deallocate) it has every send queue that still holds lent bytes copy them first (keepAll). One block
// is the atomic unit (Identify AWUN/NAWUN = 0), so a read must never carry half of a later write, and
// its data digest was computed over the bytes as they were.
//
// This only covers writers on the same thread: it is used when the target has a single reactor. With
// several reactors, another thread may write the memory at any moment, and reads are copied instead.
import type { PduSendQueue } from '../transport/tcp/pdu-send-queue.js';

/** Reads at least this long are lent; shorter ones are copied into the header's segment (one iovec). */
export const LEND_MIN_BYTES = 16 * 1024;

export class LentReads {
  private readonly queues: PduSendQueue[] = [];

  /** Queues listed (some may have sent their lent bytes since). */
  get count(): number { return this.queues.length; }

  /** q holds lent bytes now (PduSendQueue.payloadLent returned true). */
  list(q: PduSendQueue): void {
    q.lentListed = true;
    this.queues.push(q);
  }

  /** Namespace memory is about to change: every lent byte not yet sent is copied. */
  keepAll(): void {
    const l = this.queues;
    for (let i = 0; i < l.length; i++) {
      const q = l[i]!;
      q.keepLent();
      q.lentListed = false;
    }
    l.length = 0;
  }

  /** q's connection is gone. */
  forget(q: PduSendQueue): void {
    const i = this.queues.indexOf(q);
    if (i >= 0) this.queues.splice(i, 1);
    q.lentListed = false;
  }
}
