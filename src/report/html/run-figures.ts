// The headline figures of one run, shared by the header, the totals table and the comparison.
import type { PerfResult } from '../result-types.js';

export interface RunFigures {
  iops: number;
  mibps: number;
  avgUs: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  /** Mean reactor busy % over the workers. */
  initiatorBusyPct: number;
  /** OS CPU of the workers per I/O (µs). */
  initiatorUsPerIo: number;
  /** Target process CPU per I/O (µs), when the target is known. */
  targetUsPerIo?: number;
}

export function percentileOf(r: PerfResult, p: number): number {
  return r.latency.percentiles.find((x) => x.percentile === p)?.us ?? 0;
}

export function runFigures(r: PerfResult): RunFigures {
  const ios = r.total.total.ios;
  const cpuNs = r.workers.reduce((s, w) => s + w.cpuNs, 0);
  return {
    iops: r.total.total.iops,
    mibps: r.total.total.mibps,
    avgUs: r.total.total.avgUs,
    p50Us: percentileOf(r, 50),
    p99Us: percentileOf(r, 99),
    p999Us: percentileOf(r, 99.9),
    initiatorBusyPct: r.workers.length ? r.workers.reduce((s, w) => s + w.busyPct, 0) / r.workers.length : 0,
    initiatorUsPerIo: ios > 0 ? cpuNs / 1e3 / ios : 0,
    ...(r.targetCpu ? { targetUsPerIo: r.targetCpu.cpuUsPerIo } : {}),
  };
}

/** Warnings a reader must see before trusting the figures. */
export function runWarnings(r: PerfResult): string[] {
  const w: string[] = [];
  if (r.status === 'interrupted') w.push(`interrupted: ${r.durationSec.toFixed(1)} s of ${r.config.timeSec} s measured`);
  if (r.status === 'partial') w.push(`partial: the run ended early${r.error ? ` (${r.error})` : ''}`);
  if (r.rate && !r.rate.sustained) {
    w.push(`rate not sustained: ${Math.round(r.rate.achievedIops)} of ${r.rate.requestedIops} IOPS requested`);
  }
  const errors = r.total.total.errors;
  if (errors > 0) w.push(`${errors} I/O errors`);
  for (const wk of r.workers) if (wk.error) w.push(`worker ${wk.index}: ${wk.error}`);
  return w;
}
