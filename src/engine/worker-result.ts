// What a worker hands back at the end of a run (structured-clone serializable).
import type { DirectionTotals } from './io-stats.js';
import type { WaitStats } from '../util/adaptive-wait.js';
import type { VerifyTotals } from './verifier.js';

export interface ContextResult {
  nsIndex: number;
  nsid: number;
  read: DirectionTotals;
  write: DirectionTotals;
  /** --verify: what this context checked and found. */
  verify?: VerifyTotals;
}

/** --io-timeout: what the worker's timeout checks found and did. */
export interface IoTimeoutTotals {
  /** Commands seen without completion after --io-timeout. */
  timedOut: number;
  /** Abort commands asked for, and their answers: aborted, not aborted (DW0 bit 0 = 1), failed (error status or no answer). */
  abortsSent: number;
  aborted: number;
  notAborted: number;
  abortsFailed: number;
  /** Qpairs disconnected and connected again, and the I/Os they had outstanding (failed, counted as errors). */
  qpairResets: number;
  resetFailedIos: number;
}

export interface WorkerResult {
  index: number;
  core: number;
  /** Set when the worker stopped on an error (target died, connection lost). */
  error?: string;
  /** Measured phase only (after warm-up). */
  measuredNs: number;
  busyNs: number;
  idleNs: number;
  /** CPU time of the worker thread during the measured phase. */
  cpuNs: number;
  contexts: ContextResult[];
  /** First failing I/O status, for the message. */
  firstErrorStatus?: number;
  /** Open loop: scheduled I/O not issued by the end. */
  backlog?: number;
  /** How the loop waited (spin/sleep time, sleeps, wake-ups) in the measured phase. */
  wait?: WaitStats;
  /** --ctrl-loss-tmo: I/Os resubmitted on a reconnected qpair, and qpair reconnects. */
  retriedIos?: number;
  qpairReconnects?: number;
  /** --io-timeout totals. */
  ioTimeouts?: IoTimeoutTotals;
}
