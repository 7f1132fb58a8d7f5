// Per controller, shared between the main thread (which reconnects admin queues) and the workers
// (whose I/O qpairs notice a lost association first): the association's generation, its CNTLID and
// state, and the generation a worker last reported lost. Int32 slots in a SharedArrayBuffer; no
// message per event, and nothing here is touched on the I/O path while connected.

export const LinkCode = { Connected: 0, Disconnected: 1, Lost: 2 } as const;

const SLOTS = 4;
const GEN = 0, CNTLID = 1, STATE = 2, LOSS = 3;

export class LinkStates {
  private readonly a: Int32Array;

  constructor(readonly controllers: number, readonly sab: SharedArrayBuffer) {
    this.a = new Int32Array(sab);
  }

  static create(cntlids: number[]): LinkStates {
    const l = new LinkStates(cntlids.length, new SharedArrayBuffer(Math.max(1, cntlids.length) * SLOTS * 4));
    for (let i = 0; i < cntlids.length; i++) {
      l.a[i * SLOTS + CNTLID] = cntlids[i]!;
      l.a[i * SLOTS + LOSS] = -1;
    }
    return l;
  }

  static attach(controllers: number, sab: SharedArrayBuffer): LinkStates { return new LinkStates(controllers, sab); }

  generation(c: number): number { return Atomics.load(this.a, c * SLOTS + GEN); }
  cntlid(c: number): number { return Atomics.load(this.a, c * SLOTS + CNTLID); }
  state(c: number): number { return Atomics.load(this.a, c * SLOTS + STATE); }

  /** Worker (or keep-alive): the association of generation `gen` died. */
  reportLoss(c: number, gen: number): void {
    const i = c * SLOTS + LOSS;
    for (;;) {
      const cur = Atomics.load(this.a, i);
      if (cur >= gen || Atomics.compareExchange(this.a, i, cur, gen) === cur) return;
    }
  }

  /** Main thread: was the current generation reported lost? */
  lossReported(c: number): boolean { return Atomics.load(this.a, c * SLOTS + LOSS) >= this.generation(c); }

  /** Main thread: the controller is down (workers hold their I/O) or lost for good (they give up). */
  setState(c: number, code: number): void {
    Atomics.store(this.a, c * SLOTS + STATE, code);
    Atomics.notify(this.a, c * SLOTS + GEN);
  }

  /** Main thread: a new association with `cntlid` is up; workers reconnect their qpairs to it. */
  publish(c: number, cntlid: number): void {
    Atomics.store(this.a, c * SLOTS + CNTLID, cntlid);
    Atomics.store(this.a, c * SLOTS + STATE, LinkCode.Connected);
    Atomics.add(this.a, c * SLOTS + GEN, 1);
    Atomics.notify(this.a, c * SLOTS + GEN);
  }

  /** Worker: sleep until controller c's generation moves past `gen` (or its state changes), at most ms. */
  waitPast(c: number, gen: number, ms: number): void {
    Atomics.wait(this.a, c * SLOTS + GEN, gen, ms);
  }
}
