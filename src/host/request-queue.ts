// RequestQueue: reads and writes beyond what a qpair can take right now wait here, as SPDK's NVMe
// driver queues requests it cannot submit yet. An I/O larger than the max transfer (MDTS) is split into
// commands of at most maxTransferBytes (and 65536 blocks, NLB being 16 bits), submitted one by one as
// command slots free up, so any number of I/Os of any size can be outstanding on a qpair of any depth.
// I/O is submitted in order: nothing overtakes an I/O that waits.
//
// Transport-agnostic (only the IoQpair interface is used). Hot path: nothing allocates per I/O; the
// waiting I/O live in a preallocated ring of `capacity` entries indexed by tag.
import type { IoCompletionCallback, IoQpair } from '../transport/transport.js';

/** Max blocks one Read/Write can carry (NLB is a 16-bit 0's based field). */
const MAX_NLB = 0x10000;

export class RequestQueue {
  /** Called once per I/O, after all of its commands finished; status = the first non-zero one. */
  onComplete: IoCompletionCallback = () => undefined;
  /** Tags are 0..capacity-1, each used by at most one outstanding I/O. */
  readonly capacity: number;

  private readonly qp: IoQpair;
  // Per tag (struct of arrays).
  private readonly busy: Uint8Array;
  /** Commands submitted and not completed yet. */
  private readonly inflight: Int32Array;
  /** Blocks not submitted yet (> 0 only while the I/O waits in the ring). */
  private readonly left: Float64Array;
  private readonly status: Uint16Array;
  // Where a waiting I/O continues.
  private readonly isWrite: Uint8Array;
  private readonly nsid: Float64Array;
  private readonly lba: Float64Array;
  private readonly blockSize: Float64Array;
  private readonly off: Float64Array;
  private readonly bufs: Array<Uint8Array | null>;
  // FIFO of waiting tags.
  private readonly ring: Int32Array;
  private ringHead = 0;
  private ringCount = 0;
  private active = 0;
  private cachedBlockSize = 0;
  private cachedMaxBlocks = 0;

  constructor(qp: IoQpair, capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`request queue capacity ${capacity}`);
    this.qp = qp;
    this.capacity = capacity;
    this.busy = new Uint8Array(capacity);
    this.inflight = new Int32Array(capacity);
    this.left = new Float64Array(capacity);
    this.status = new Uint16Array(capacity);
    this.isWrite = new Uint8Array(capacity);
    this.nsid = new Float64Array(capacity);
    this.lba = new Float64Array(capacity);
    this.blockSize = new Float64Array(capacity);
    this.off = new Float64Array(capacity);
    this.bufs = new Array<Uint8Array | null>(capacity).fill(null);
    this.ring = new Int32Array(capacity);
    qp.onComplete = (tag, st) => this.commandDone(tag, st);
  }

  /** I/Os accepted and not completed (submitted or waiting). */
  get outstanding(): number { return this.active; }
  /** I/Os with commands still waiting for a free slot. */
  get waiting(): number { return this.ringCount; }

  /**
   * Read nblocks at slba into buf[off, off+nblocks*blockSize): submitted now as far as command slots
   * allow, the rest when completions free them (processCompletions of the qpair). Never refuses.
   */
  submitRead(nsid: number, slba: number, nblocks: number, blockSize: number, buf: Uint8Array, off: number, tag: number): void {
    this.submit(0, nsid, slba, nblocks, blockSize, buf, off, tag);
  }

  /** Write of buf[off, off+nblocks*blockSize); keep the bytes unchanged until completion. */
  submitWrite(nsid: number, slba: number, nblocks: number, blockSize: number, buf: Uint8Array, off: number, tag: number): void {
    this.submit(1, nsid, slba, nblocks, blockSize, buf, off, tag);
  }

  private submit(write: number, nsid: number, slba: number, nblocks: number, bs: number, buf: Uint8Array,
    off: number, tag: number): void {
    if (!(tag >= 0 && tag < this.capacity) || this.busy[tag] !== 0) {
      throw new RangeError(`tag ${tag} is outside 0..${this.capacity - 1} or still in use`);
    }
    if (!(nblocks >= 1) || off < 0 || off + nblocks * bs > buf.length) {
      throw new RangeError(`I/O of ${nblocks} blocks of ${bs} B at buffer offset ${off} does not fit a ${buf.length}-byte buffer`);
    }
    const mb = bs === this.cachedBlockSize ? this.cachedMaxBlocks : this.maxBlocksFor(bs);
    this.busy[tag] = 1;
    this.status[tag] = 0;
    this.inflight[tag] = 0;
    this.active++;
    let lba = slba, left = nblocks, o = off;
    if (this.ringCount === 0) {
      const qp = this.qp;
      let n = 0;
      while (left > 0) {
        const nb = left < mb ? left : mb;
        const ok = write !== 0 ? qp.submitWrite(nsid, lba, nb, bs, buf, o, tag) : qp.submitRead(nsid, lba, nb, bs, buf, o, tag);
        if (!ok) break;
        n++;
        lba += nb;
        o += nb * bs;
        left -= nb;
      }
      this.inflight[tag] = n;
      if (left === 0) {
        this.left[tag] = 0;
        return;
      }
    }
    // Wait in the ring for free command slots.
    this.isWrite[tag] = write;
    this.nsid[tag] = nsid;
    this.lba[tag] = lba;
    this.left[tag] = left;
    this.blockSize[tag] = bs;
    this.off[tag] = o;
    this.bufs[tag] = buf;
    let t = this.ringHead + this.ringCount;
    if (t >= this.capacity) t -= this.capacity;
    this.ring[t] = tag;
    this.ringCount++;
  }

  /** Submits the waiting commands of `tag` while slots are free; true when none is left. */
  private resume(tag: number): boolean {
    const qp = this.qp;
    const write = this.isWrite[tag] !== 0;
    const nsid = this.nsid[tag]!, bs = this.blockSize[tag]!, buf = this.bufs[tag]!;
    const mb = bs === this.cachedBlockSize ? this.cachedMaxBlocks : this.maxBlocksFor(bs);
    let lba = this.lba[tag]!, left = this.left[tag]!, o = this.off[tag]!;
    let n = 0;
    while (left > 0) {
      const nb = left < mb ? left : mb;
      const ok = write ? qp.submitWrite(nsid, lba, nb, bs, buf, o, tag) : qp.submitRead(nsid, lba, nb, bs, buf, o, tag);
      if (!ok) break;
      n++;
      lba += nb;
      o += nb * bs;
      left -= nb;
    }
    this.inflight[tag]! += n;
    this.lba[tag] = lba;
    this.left[tag] = left;
    this.off[tag] = o;
    if (left > 0) return false;
    this.bufs[tag] = null;
    return true;
  }

  /** The qpair's completion callback: one command of `tag` finished. */
  private commandDone(tag: number, st: number): void {
    if (st !== 0 && this.status[tag] === 0) this.status[tag] = st;
    if (--this.inflight[tag]! === 0 && this.left[tag] === 0) {
      this.busy[tag] = 0;
      this.active--;
      this.onComplete(tag, this.status[tag]!);
    }
    // A slot is free now: hand it to the I/O that waits longest.
    while (this.ringCount > 0) {
      const t = this.ring[this.ringHead]!;
      if (!this.resume(t)) break;
      this.ringHead = this.ringHead + 1 === this.capacity ? 0 : this.ringHead + 1;
      this.ringCount--;
    }
  }

  private maxBlocksFor(bs: number): number {
    if (!(bs > 0) || !Number.isInteger(bs)) throw new RangeError(`block size ${bs}`);
    const m = Math.min(MAX_NLB, Math.floor(this.qp.maxTransferBytes / bs));
    if (m < 1) throw new RangeError(`block size ${bs} exceeds the max transfer size ${this.qp.maxTransferBytes}`);
    this.cachedBlockSize = bs;
    this.cachedMaxBlocks = m;
    return m;
  }
}
