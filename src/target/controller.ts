// TargetController: the per-association state of one controller, owned by the reactor that holds
// its admin queue. What I/O queues on other reactors need (ready?, host NQN, granted queues,
// epoch) is mirrored into the ControllerRegistry.
import { Cc, Csts, ccIocqes, ccIosqes, ccShn } from '../nvme/registers.js';
import type { ControllerRegistry } from './registry.js';
import { NamespaceChangeState } from './namespace-change.js';

export class TargetController {
  /** CC as last written by the host. */
  cc = 0;
  csts = 0;
  /** Keep Alive Timeout in ms (0 = disabled). */
  kato: number;
  /** monoNs deadline for the next Keep Alive (0 = none). */
  kaDeadlineNs = 0;
  /** Granted I/O queues (Number of Queues feature; 1-based counts). */
  nsqa: number;
  ncqa: number;
  // Features (current values).
  arbitration = 0;
  powerManagement = 0;
  temperatureThreshold = 0x0157; // 343 K, the usual default over-temperature threshold
  errorRecovery = 0;
  volatileWriteCache = 1;
  interruptCoalescing = 0;
  writeAtomicity = 0;
  asyncEventConfig = 0;
  /** CIDs of parked Asynchronous Event Requests. */
  readonly aers: number[] = [];
  /** Namespace Attribute Changed: the changed NSIDs (log page 04h) and the event's state. */
  readonly nsChanges = new NamespaceChangeState();
  /** Set when the controller died (fatal status, keep-alive expiry); CSTS.CFS. */
  dead = false;

  constructor(
    readonly cntlid: number,
    readonly slot: number,
    readonly subsysIndex: number,
    readonly discovery: boolean,
    readonly hostnqn: string,
    readonly hostid: Uint8Array,
    kato: number,
    readonly maxIoQueues: number,
    private readonly registry: ControllerRegistry,
  ) {
    this.kato = kato;
    this.nsqa = maxIoQueues;
    this.ncqa = maxIoQueues;
  }

  /** Restarts the keep-alive timer. */
  keepAlive(nowNs: number): void {
    this.kaDeadlineNs = this.kato > 0 ? nowNs + this.kato * 1e6 : 0;
  }

  /** KATO in ms as the host set it, rounded up to whole seconds (our KAS granularity is 1 s) like Linux. */
  setKato(ms: number, nowNs: number): void {
    this.kato = ms === 0 ? 0 : Math.ceil(ms / 1000) * 1000;
    this.keepAlive(nowNs);
  }

  get ready(): boolean { return (this.csts & Csts.RDY) !== 0; }

  /**
   * Property Set CC. Returns what happened so the caller can log: EN 0→1 validates IOSQES/IOCQES
   * (6/4) and MPS 0 and sets RDY (or CFS when invalid); EN 1→0 resets (RDY = 0, I/O queues torn
   * down); SHN ≠ 0 completes the shutdown immediately (SHST = 10b).
   */
  writeCc(value: number): 'enabled' | 'disabled' | 'shutdown' | 'failed' | 'none' {
    const old = this.cc;
    this.cc = value >>> 0;
    const wasEn = (old & Cc.EN) !== 0;
    const en = (value & Cc.EN) !== 0;
    if (ccShn(value) !== 0 && ccShn(old) === 0) {
      this.csts = (this.csts & ~Csts.RDY & ~(3 << Csts.SHST_SHIFT)) | (Csts.SHST_COMPLETE << Csts.SHST_SHIFT);
      this.registry.setNotReady(this.slot);
      return 'shutdown';
    }
    if (en && !wasEn) {
      const mps = (value >>> Cc.MPS_SHIFT) & 0xf;
      const ams = (value >>> Cc.AMS_SHIFT) & 0x7;
      const iosOk = this.discovery || (ccIosqes(value) === 6 && ccIocqes(value) === 4);
      if (!iosOk || mps !== 0 || ams !== 0) {
        this.csts |= Csts.CFS;
        return 'failed';
      }
      this.csts = (this.csts | Csts.RDY) & ~(3 << Csts.SHST_SHIFT);
      this.registry.setReady(this.slot);
      return 'enabled';
    }
    if (!en && wasEn) {
      this.csts &= ~(Csts.RDY | Csts.CFS | (3 << Csts.SHST_SHIFT));
      this.cc = value >>> 0;
      this.registry.setNotReady(this.slot);
      return 'disabled';
    }
    if (!en && ccShn(value) === 0) this.csts &= ~(3 << Csts.SHST_SHIFT);
    return 'none';
  }
}
