// What one perf run produced: the engine's output (runner.ts), before the report layer turns it into
// the result document (src/report/run-result.ts). The types the document carries as they are
// (targets, timeline, reactor samples, status) are defined here, where they are produced.
import type { PerfConfig } from './config.js';
import type { WorkerResult } from './worker-result.js';

export interface NamespaceInfo {
  nsid: number;
  blockSize: number;
  sizeBlocks: number;
  sizeBytes: number;
}

export interface TargetInfo {
  trid: string;
  subnqn: string;
  cntlid: number;
  mn: string;
  sn: string;
  fr: string;
  /** NVMe version the controller reports, e.g. "1.4". */
  version: string;
  maxTransferBytes: number;
  ioQueuesGranted: number;
  namespaces: NamespaceInfo[];
  /** Set when nvmf-perf launched this target itself. */
  launched?: { kind?: 'builtin' | 'spdk'; pid: number; namespace: string; reactorCores: number[]; mode: 'poll' | 'interrupt' };
}

/** One sample of one target reactor (framework_get_reactors fields). */
export interface ReactorSample {
  lcore: number;
  /** Cumulative busy / idle time of the reactor in ns (converted from ticks at tick_rate). */
  busy: number;
  idle: number;
  inInterrupt: boolean;
  /** Parts of idle, when the target reports them (ours does): empty passes while awake, and asleep. */
  spin?: number;
  sleep?: number;
  /** Cumulative sleeps and the wake-ups that ended them (ours). */
  sleeps?: number;
  wakeups?: number;
  /** Connections (qpairs) the reactor serves, when the target reports it. */
  connections?: number;
  qpairs?: number;
}

export interface TimelinePoint {
  /** Seconds since the measured phase started (end of the interval). */
  t: number;
  intervalSec: number;
  iops: number;
  readIops: number;
  writeIops: number;
  mibps: number;
  avgLatUs: number;
  /** Per worker, in worker order. */
  busyPct: number[];
  cpuPct: number[];
  /** Target process CPU over the interval, in cores (1.0 = one full core), when known. */
  targetCpuCores?: number;
  /** Target reactors as sampled over RPC, when known. */
  targetReactors?: ReactorSample[];
}

export type RunStatus = 'complete' | 'interrupted' | 'partial';

export interface RunRecord {
  config: PerfConfig;
  startedAt: Date;
  /** complete; interrupted (RunControl.interrupt); partial (the target died or a worker failed). */
  status: RunStatus;
  error?: string;
  /** Open-loop rate over all workers (0 = closed loop) and its arrivals. */
  rateIops: number;
  arrivals: 'constant' | 'poisson';
  /** Controller TRIDs the run used (after discovery), formatted. */
  transportIds: string[];
  hostnqn: string;
  targets: TargetInfo[];
  /** Per (controller, namespace) pair in plan order: its label and controller index. */
  namespaceLabels: string[];
  namespaceTargets: number[];
  workers: WorkerResult[];
  /** Measured seconds, one point each (the last one possibly shorter). */
  timeline: TimelinePoint[];
  /** The target process when it was launched for this run (its CPU is in the timeline). */
  launchedPid?: number;
}
