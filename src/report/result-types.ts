// The result document of one perf run. Every output — text table, JSON file, HTML report,
// comparison — is a view of this. Bump SCHEMA_VERSION on any incompatible change.

import type { WaitStats } from '../util/adaptive-wait.js';

export const SCHEMA_VERSION = 1;

// What the engine produces and the document carries as is (defined with the engine's output).
import type { ConnectionEvent, IoTimeoutSummary, NamespaceInfo, ReactorSample, RunStatus, TargetInfo, TimelinePoint } from '../engine/run-record.js';
export type { ConnectionEvent, IoTimeoutSummary, NamespaceInfo, ReactorSample, RunStatus, TargetInfo, TimelinePoint };

/** Latency and throughput of a set of I/Os. Latencies in microseconds. */
export interface IoSummary {
  ios: number;
  bytes: number;
  iops: number;
  mibps: number;
  avgUs: number;
  minUs: number;
  maxUs: number;
  errors: number;
}

export interface DirectionSplit {
  read: IoSummary;
  write: IoSummary;
  total: IoSummary;
}

export interface Percentile {
  /** e.g. 99.9 */
  percentile: number;
  us: number;
}

export interface LatencyDetail {
  /** HDR histogram of every measured I/O latency in nanoseconds, compressed base64 (hdr-histogram-js). */
  histogramNs: string;
  readHistogramNs: string;
  writeHistogramNs: string;
  percentiles: Percentile[];
  readPercentiles: Percentile[];
  writePercentiles: Percentile[];
}

export interface HostInfo {
  hostname: string;
  cpuModel: string;
  cores: number;
  kernel: string;
  node: string;
  platform: string;
}

export interface ResolvedConfig {
  ioDepth: number;
  ioSize: number;
  pattern: string;
  rwmixread: number;
  timeSec: number;
  warmupSec: number;
  numQpairs: number;
  cores: number[];
  latencyTracking: number;
  headerDigest: boolean;
  dataDigest: boolean;
  hostnqn: string;
  seed: number;
  mode: 'poll' | 'interrupt';
  /** Interrupt mode: spin window (µs) after the last busy pass before sleeping. */
  spinUs?: number;
  rateIops: number;
  arrivals: 'constant' | 'poisson';
  transportIds: string[];
  /** --bssplit / fio bssplit: I/O sizes and their shares (ioSize is the largest). */
  bssplit?: { bytes: number; percent: number }[];
  /** --random-distribution / fio random_distribution, e.g. "zipf:1.2"; absent = uniform. */
  randomDistribution?: string;
  /** --range / fio offset+size as given: bytes, or "N%" of each namespace. */
  range?: { offset: string; size?: string };
  /** --verify: the range was written first and every read was checked. */
  verify?: boolean;
  /** fio thinktime in µs. */
  thinktimeUs?: number;
}

/** One block whose read-back data was not what was written. */
export interface VerifyMismatchRecord {
  nsid: number;
  lba: number;
  /** What differed, e.g. "generation 3, expected 5". */
  what: string;
}

/** --verify: blocks written with the pattern, blocks read back and checked, mismatches. */
export interface VerifySummary {
  blocksWritten: number;
  blocksChecked: number;
  mismatches: number;
  /** The first mismatches found (at most 20 per worker and namespace). */
  details: VerifyMismatchRecord[];
}

/** Set when the run came from a job file (`nvmf-perf run`). */
export interface WorkloadSource {
  file: string;
  /** The job section this result is for. */
  section: string;
  /** Every job section of the file, in run order. */
  sections: string[];
}

export interface WorkerSummary {
  index: number;
  core: number;
  /** Reactor utilization: busy / (busy + idle), SPDK's definition. */
  busyNs: number;
  idleNs: number;
  busyPct: number;
  /** OS CPU time of the worker thread in the measured phase. */
  cpuNs: number;
  cpuPct: number;
  cpuUsPerIo: number;
  io: DirectionSplit;
  error?: string;
  /** How the loop waited (time spinning vs sleeping, sleeps, wake-ups). */
  wait?: WaitStats;
  /** --io-timeout: commands of this worker that saw no completion in time. */
  timeouts?: number;
}

/** One row per namespace per core, like spdk_nvme_perf's per-namespace lines. */
export interface NamespaceRow {
  worker: number;
  core: number;
  targetIndex: number;
  nsid: number;
  /** "TCP (addr:127.0.0.1 subnqn:nqn...) NSID 1" */
  label: string;
  io: DirectionSplit;
  /** HDR histogram (ns, compressed base64) of this row's reads and writes, for per-row percentiles. */
  histogramNs?: string;
}

export interface PerfResult {
  schemaVersion: number;
  tool: { name: 'nvmf-perf'; version: string };
  /** ISO 8601 start time. */
  timestamp: string;
  /** complete; interrupted (SIGINT); partial (the target died or a worker failed). */
  status: RunStatus;
  error?: string;
  commandLine: string[];
  host: HostInfo;
  config: ResolvedConfig;
  targets: TargetInfo[];
  /** Seconds actually measured (after warm-up; shorter when interrupted). */
  durationSec: number;
  total: DirectionSplit;
  workers: WorkerSummary[];
  namespaces: NamespaceRow[];
  timeline: TimelinePoint[];
  latency: LatencyDetail;
  /** Target-side CPU over the measured phase when the target process is known (launched). */
  targetCpu?: { pid: number; cpuNs: number; cores: number; cpuUsPerIo: number };
  /** Open loop only: whether the requested rate was achieved. */
  rate?: { requestedIops: number; achievedIops: number; sustained: boolean };
  /** --verify: what was checked and what did not match. */
  verify?: VerifySummary;
  /** The job file and section this run came from. */
  workload?: WorkloadSource;
  /** --ctrl-loss-tmo: reconnect settings, I/Os resubmitted after reconnects, and each disconnect / reconnect / loss. */
  connection?: ConnectionSummary;
  /** --io-timeout: commands that saw no completion in time, the Aborts sent and their answers, qpair resets. */
  ioTimeouts?: IoTimeoutSummary;
}

export interface ConnectionSummary {
  ctrlLossTmoSec: number;
  reconnectDelaySec: number;
  /** -1: I/O waits until the controller is lost. */
  fastIoFailTmoSec: number;
  retriedIos: number;
  events: ConnectionEvent[];
}
