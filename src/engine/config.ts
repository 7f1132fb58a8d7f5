import type { TargetLaunchSpec } from '../launch/launched-target.js';

// The resolved configuration of a perf run (what the CLI validated; what workers execute; what results record).
import type { BsSplitEntry, IoRange, RandomDistribution } from './workload-spec.js';

export type IoPattern = 'read' | 'write' | 'randread' | 'randwrite' | 'rw' | 'randrw';
export const IO_PATTERNS: readonly IoPattern[] = ['read', 'write', 'randread', 'randwrite', 'rw', 'randrw'];

export type ReactorMode = 'poll' | 'interrupt';

export interface PerfConfig {
  ioDepth: number;
  ioSize: number;
  pattern: IoPattern;
  /** Percentage of reads (0..100); 100 for read patterns, 0 for write patterns. */
  rwmixread: number;
  timeSec: number;
  warmupSec: number;
  /** SPDK transport ID strings; empty (and no devices) = launch the built-in target. */
  transportIds: string[];
  /** Local files or block devices given as positional arguments (io_uring; src/transport/local). */
  devices?: string[];
  numQpairs: number;
  cores: number[];
  /** 0 none, 1 percentiles (-L), 2 percentiles + histogram buckets (-LL). */
  latencyTracking: 0 | 1 | 2;
  hdgst: boolean;
  ddgst: boolean;
  hostnqn: string | undefined;
  seed: number;
  jsonPath: string | undefined;
  resultsDir: string;
  progress: boolean;
  /** Namespace of the launched target (`--target-ns`). */
  targetNs: string;
  /** Which target to launch when no -r is given (`--target`, `--spdk-bin`, `--spdk-args`). */
  target: TargetLaunchSpec;
  mode: ReactorMode;
  /** Interrupt mode: spin window in µs after the last busy pass before sleeping (initiator and launched target). */
  spinUs: number;
  /** Open loop: total IOPS to issue (0 = closed loop at the queue depth). */
  rateIops: number;
  arrivals: 'constant' | 'poisson';
  /** Sample this target RPC socket each second (framework_get_reactors). */
  targetRpc: string | undefined;
  compareModes: boolean;
  idleSec: number;
  /** Percent of the poll-mode maximum, for --compare-modes. */
  rateSweep: number[];
  commandLine: string[];
  /** Weighted I/O sizes (--bssplit; ioSize is then the largest). */
  bssplit?: BsSplitEntry[];
  /** Random offsets' distribution (--random-distribution; default uniform). */
  distribution: RandomDistribution;
  /** Part of each namespace the I/O goes to (--range; default all of it). */
  range?: IoRange;
  /** Write the range with a self-describing pattern first, then check every read (--verify). */
  verify: boolean;
  /** fio thinktime in µs (job files); 0 = none. */
  thinktimeUs: number;
  /** --ctrl-loss-tmo (non-zero) and its companions: reconnect a lost controller instead of failing the run. */
  reconnect?: ReconnectConfig;
  /** Set when the run comes from a job file: which file and section. */
  workload?: { file: string; section: string; sections: string[] };
}

/** nvme-cli's meanings: ctrl_loss_tmo (-1 = for ever), reconnect_delay, fast_io_fail_tmo (-1 = off). */
export interface ReconnectConfig {
  ctrlLossTmoSec: number;
  reconnectDelaySec: number;
  fastIoFailTmoSec: number;
}

export function isRandom(p: IoPattern): boolean {
  return p.startsWith('rand');
}

export function isMixed(p: IoPattern): boolean {
  return p === 'rw' || p === 'randrw';
}
