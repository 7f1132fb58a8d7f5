// What one perf run produced: the engine's output (runner.ts), before the report layer turns it into
// the result document (src/report/run-result.ts). The types the document carries as they are
// (targets, timeline, reactor samples, status) are defined here, where they are produced.
import type { PerfConfig } from './config.js';
import type { WorkerResult, IoTimeoutTotals } from './worker-result.js';

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
  launched?: { kind?: 'builtin' | 'spdk' | 'linux'; pid: number; namespace: string; reactorCores: number[]; mode: 'poll' | 'interrupt'; note?: string };
  /** Local devices (positional paths, trtype:PCIe): how nvmf-perf reaches them. */
  local?: LocalTargetInfo;
}

export interface LocalTargetInfo {
  /** 'local' for files and block devices, 'PCIe' for a kernel NVMe controller at a PCI address. */
  transport: 'local' | 'PCIe';
  /** The file or device the I/O goes to (/dev/ngXnY for PCIe). */
  device: string;
  kind: 'file' | 'block' | 'nvme-passthrough';
  engine: 'io_uring';
  /** O_DIRECT, buffered or nvme-passthrough. */
  kernelPath: string;
  /** IORING_SETUP_IOPOLL in use (poll mode where the device supports it). */
  iopoll: boolean;
  /** Data buffers registered with the ring (READ_FIXED/WRITE_FIXED). */
  fixedBuffers: boolean;
  /** PCIe: the address and the kernel controller (nvmeX). */
  pciAddress?: string;
  controller?: string;
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
  /** --ctrl-loss-tmo: I/Os that failed and I/Os resubmitted after a reconnect, in the interval. */
  errors?: number;
  retries?: number;
}

/** A controller association lost, re-established, or given up during the run (--ctrl-loss-tmo). */
export interface ConnectionEvent {
  kind: 'disconnect' | 'reconnect' | 'lost';
  /** Seconds since the measured phase started (negative during warm-up), like timeline t. */
  t: number;
  /** Wall-clock time (ISO 8601). */
  at: string;
  /** Index into targets. */
  controller: number;
  trid: string;
  /** reconnect: the new association's controller ID. */
  cntlid?: number;
  /** reconnect / lost: seconds since the disconnect, and connect attempts made. */
  outageSec?: number;
  attempts?: number;
  /** lost: why the last attempt failed. */
  error?: string;
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
  /** --ctrl-loss-tmo: its settings, every disconnect / reconnect / loss, and the I/Os resubmitted after reconnects. */
  connection?: { ctrlLossTmoSec: number; reconnectDelaySec: number; fastIoFailTmoSec: number; retriedIos: number; events: ConnectionEvent[] };
  /** --io-timeout: the setting and what the workers' timeout handling counted (all workers). */
  ioTimeouts?: IoTimeoutSummary;
  /** The target process when it was launched for this run (its CPU is in the timeline). */
  launchedPid?: number;
}

/** --io-timeout totals of a run: commands timed out, Aborts sent and their answers, qpair resets. */
export interface IoTimeoutSummary extends IoTimeoutTotals {
  timeoutMs: number;
}
