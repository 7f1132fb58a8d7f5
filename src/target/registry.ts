// ControllerRegistry: the association state every reactor must see, in one SharedArrayBuffer.
// A controller's admin queue lives on one reactor, its I/O queues possibly on others; an I/O
// Connect on any reactor checks the registry (controller exists, enabled, same host, QID free and
// within the granted count), and every I/O connection re-checks its controller's EPOCH every few
// milliseconds: the epoch changes when the controller is disabled (CC.EN = 0), shut down, loses
// its admin queue or misses its keep-alive deadline, and the I/O connection then closes.
//
// Slot layout (Int32, SLOT_WORDS per slot), slot index = CNTLID % SLOTS:
//   STATE 0 free, 1 connected (not ready), 2 ready (CC.EN = 1 and CSTS.RDY = 1)
//   CNTLID, EPOCH, SUBSYS, NIOQ (I/O queues granted), QID bitmap (QID_WORDS words), HOSTNQN_LEN
// plus 256 bytes of host NQN per slot in a byte region after the words.

export const REGISTRY_SLOTS = 1024;
const HEADER_WORDS = 16;
const SLOT_WORDS = 16;
const QID_WORDS = 4; // QIDs 0..127
export const MAX_QID = QID_WORDS * 32 - 1;
const NQN_BYTES = 256;

const F_STATE = 0, F_CNTLID = 1, F_EPOCH = 2, F_SUBSYS = 3, F_NIOQ = 4, F_QIDS = 5, F_NQNLEN = 5 + QID_WORDS;
const H_NEXT_CNTLID = 0;

export const CtrlState = { Free: 0, Connected: 1, Ready: 2 } as const;

/** CNTLIDs the dynamic model hands out (0xFFF0..0xFFFF are reserved). */
export const MIN_CNTLID = 1;
export const MAX_CNTLID = 0xffef;

export type IoConnectCheck =
  | { ok: true; slot: number; epoch: number; nioq: number }
  | { ok: false; why: 'no-controller' | 'subsystem' | 'host' | 'not-ready' | 'qid-range' | 'qid-in-use' };

export class ControllerRegistry {
  readonly sab: SharedArrayBuffer;
  private readonly w: Int32Array;
  private readonly nqn: Uint8Array;

  constructor(sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer(ControllerRegistry.byteLength());
    this.w = new Int32Array(this.sab, 0, HEADER_WORDS + REGISTRY_SLOTS * SLOT_WORDS);
    this.nqn = new Uint8Array(this.sab, (HEADER_WORDS + REGISTRY_SLOTS * SLOT_WORDS) * 4, REGISTRY_SLOTS * NQN_BYTES);
  }

  static byteLength(): number {
    return (HEADER_WORDS + REGISTRY_SLOTS * SLOT_WORDS) * 4 + REGISTRY_SLOTS * NQN_BYTES;
  }

  private base(slot: number): number { return HEADER_WORDS + slot * SLOT_WORDS; }

  /**
   * Allocates a controller (admin Connect): returns its slot and CNTLID, or null when every slot is
   * taken. The new controller is Connected (not ready) with `nioq` I/O queues granted.
   */
  allocate(subsys: number, hostnqn: Uint8Array, nioq: number): { slot: number; cntlid: number; epoch: number } | null {
    const w = this.w;
    for (let attempt = 0; attempt < REGISTRY_SLOTS * 2; attempt++) {
      const n = Atomics.add(w, H_NEXT_CNTLID, 1) >>> 0;
      const cntlid = MIN_CNTLID + (n % (MAX_CNTLID - MIN_CNTLID + 1));
      const slot = cntlid % REGISTRY_SLOTS;
      const b = this.base(slot);
      if (Atomics.compareExchange(w, b + F_STATE, CtrlState.Free, CtrlState.Connected) !== CtrlState.Free) continue;
      Atomics.store(w, b + F_CNTLID, cntlid);
      Atomics.store(w, b + F_SUBSYS, subsys);
      Atomics.store(w, b + F_NIOQ, nioq);
      for (let i = 0; i < QID_WORDS; i++) Atomics.store(w, b + F_QIDS + i, 0);
      const len = Math.min(hostnqn.length, NQN_BYTES);
      this.nqn.fill(0, slot * NQN_BYTES, (slot + 1) * NQN_BYTES);
      this.nqn.set(hostnqn.subarray(0, len), slot * NQN_BYTES);
      Atomics.store(w, b + F_NQNLEN, len);
      const epoch = Atomics.add(w, b + F_EPOCH, 1) + 1;
      return { slot, cntlid, epoch };
    }
    return null;
  }

  /** CC.EN = 1 and CSTS.RDY = 1: I/O queues may connect. */
  setReady(slot: number): void {
    Atomics.store(this.w, this.base(slot) + F_STATE, CtrlState.Ready);
  }

  /** CC.EN 1 → 0 or shutdown: the controller stays, its I/O queues must go (epoch bump). */
  setNotReady(slot: number): void {
    const b = this.base(slot);
    Atomics.store(this.w, b + F_STATE, CtrlState.Connected);
    Atomics.add(this.w, b + F_EPOCH, 1);
    for (let i = 0; i < QID_WORDS; i++) Atomics.store(this.w, b + F_QIDS + i, 0);
  }

  /** The controller is gone (admin queue closed, keep-alive expiry): frees the slot. */
  free(slot: number): void {
    const b = this.base(slot);
    Atomics.add(this.w, b + F_EPOCH, 1);
    for (let i = 0; i < QID_WORDS; i++) Atomics.store(this.w, b + F_QIDS + i, 0);
    Atomics.store(this.w, b + F_STATE, CtrlState.Free);
  }

  setGrantedQueues(slot: number, nioq: number): void {
    Atomics.store(this.w, this.base(slot) + F_NIOQ, nioq);
  }

  epoch(slot: number): number {
    return Atomics.load(this.w, this.base(slot) + F_EPOCH);
  }

  state(slot: number): number {
    return Atomics.load(this.w, this.base(slot) + F_STATE);
  }

  cntlid(slot: number): number {
    return Atomics.load(this.w, this.base(slot) + F_CNTLID);
  }

  /** Checks an I/O queue Connect and claims the QID on success. */
  connectIo(cntlid: number, subsys: number, hostnqn: Uint8Array, qid: number): IoConnectCheck {
    const slot = cntlid % REGISTRY_SLOTS;
    const b = this.base(slot);
    const w = this.w;
    const epoch = Atomics.load(w, b + F_EPOCH);
    const state = Atomics.load(w, b + F_STATE);
    if (state === CtrlState.Free || Atomics.load(w, b + F_CNTLID) !== cntlid) return { ok: false, why: 'no-controller' };
    if (Atomics.load(w, b + F_SUBSYS) !== subsys) return { ok: false, why: 'subsystem' };
    const len = Atomics.load(w, b + F_NQNLEN);
    if (len !== Math.min(hostnqn.length, NQN_BYTES)) return { ok: false, why: 'host' };
    const o = slot * NQN_BYTES;
    for (let i = 0; i < len; i++) if (this.nqn[o + i] !== hostnqn[i]) return { ok: false, why: 'host' };
    if (state !== CtrlState.Ready) return { ok: false, why: 'not-ready' };
    const nioq = Atomics.load(w, b + F_NIOQ);
    if (qid < 1 || qid > nioq || qid > MAX_QID) return { ok: false, why: 'qid-range' };
    const bit = 1 << (qid & 31);
    const prev = Atomics.or(w, b + F_QIDS + (qid >>> 5), bit);
    if ((prev & bit) !== 0) return { ok: false, why: 'qid-in-use' };
    if (Atomics.load(w, b + F_EPOCH) !== epoch) {
      // The controller changed while we looked: undo and refuse.
      Atomics.and(w, b + F_QIDS + (qid >>> 5), ~bit);
      return { ok: false, why: 'not-ready' };
    }
    return { ok: true, slot, epoch, nioq };
  }

  /** An I/O queue of (slot, epoch) went away: frees its QID if the controller is still that one. */
  releaseQid(slot: number, epoch: number, qid: number): void {
    const b = this.base(slot);
    if (Atomics.load(this.w, b + F_EPOCH) !== epoch) return;
    Atomics.and(this.w, b + F_QIDS + (qid >>> 5), ~(1 << (qid & 31)));
  }

  /** Number of allocated controllers (tests, stats). */
  count(): number {
    let n = 0;
    for (let s = 0; s < REGISTRY_SLOTS; s++) if (Atomics.load(this.w, this.base(s) + F_STATE) !== CtrlState.Free) n++;
    return n;
  }
}
