// The resolved plan handed to each worker thread (structured-clone serializable).
import type { QpairConnectParams } from '../transport/transport.js';
import type { ReactorMode, IoPattern } from './config.js';
import type { BsSplitEntry, RandomDistribution } from './workload-spec.js';

/** One namespace as one worker drives it: -P qpairs to the same namespace. */
export interface NamespaceContextPlan {
  /** Index into the run's list of (controller, namespace) pairs. */
  nsIndex: number;
  nsid: number;
  blockSize: number;
  sizeBlocks: number;
  /** The blocks this context's I/O goes to (--range; split between workers under --verify). */
  startBlock: number;
  rangeBlocks: number;
  /** Index of the controller the qpairs belong to (its slot in WorkerPlan.linkSab). */
  ctrlIndex?: number;
  qpairs: QpairConnectParams[];
}

export interface WorkloadPlan {
  ioDepth: number;
  ioSize: number;
  pattern: IoPattern;
  rwmixread: number;
  seed: number;
  mode: ReactorMode;
  /** Open-loop rate per worker in IOPS (0 = closed loop at the queue depth). */
  rateIops: number;
  arrivals: 'constant' | 'poisson';
  /** Interrupt mode: keep polling this long (µs) after the last busy pass before sleeping. */
  spinUs?: number;
  /** Weighted I/O sizes (ioSize is the largest); undefined = every I/O is ioSize. */
  bssplit?: BsSplitEntry[];
  distribution: RandomDistribution;
  /** Pattern writes, check reads; the range is written first. */
  verify: boolean;
  /** fio thinktime: pause after each completion before the slot's next I/O (µs, 0 = none). */
  thinktimeUs: number;
  /** --ctrl-loss-tmo: a lost connection is waited out and the qpairs reconnected (unset = the run fails). */
  reconnect?: { fastIoFailTmoMs: number };
  /** --io-timeout (ms): a command without completion this long is aborted, then its qpair reset (unset = off). */
  ioTimeoutMs?: number;
}

export interface WorkerPlan {
  index: number;
  core: number;
  workers: number;
  contexts: NamespaceContextPlan[];
  workload: WorkloadPlan;
  countersSab: SharedArrayBuffer;
  controlSab: SharedArrayBuffer;
  /** With workload.reconnect: the controllers' link states (src/engine/link-states.ts). */
  linkSab?: SharedArrayBuffer;
  controllers?: number;
  /** With workload.ioTimeoutMs: the Abort mailbox (src/engine/abort-requests.ts), its slot count, and this worker's first slot (one per qpair, in plan order). */
  abortSab?: SharedArrayBuffer;
  abortSlots?: number;
  abortSlotBase?: number;
}
