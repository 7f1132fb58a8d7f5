// Pure functions that turn what the workers return into the parts of the result document.
// Units: workers count in nanoseconds and bytes; the document reports microseconds, IOPS and MiB/s.
import * as os from 'node:os';
import type { DirectionTotals } from '../engine/io-stats.js';
import type { WorkerResult } from '../engine/worker-result.js';
import { encodeHistogram, mergeEncoded, type Histogram } from '../util/hdr-codec.js';
import type {
  DirectionSplit, HostInfo, IoSummary, LatencyDetail, NamespaceRow, Percentile, WorkerSummary,
} from './result-types.js';

/** Percentiles reported for every latency distribution (spdk_nvme_perf's list plus 99.999). */
export const PERCENTILES: readonly number[] = [1, 10, 25, 50, 75, 90, 95, 98, 99, 99.5, 99.9, 99.99, 99.999];

const MIB = 1024 * 1024;

/** Rounds to 3 decimals: nanosecond resolution when the unit is microseconds. */
export function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function perSecond(v: number, seconds: number): number {
  return seconds > 0 ? v / seconds : 0;
}

/** Sums the totals of several (worker, namespace, direction) sets into one summary. */
export function summarizeDirection(t: readonly DirectionTotals[], seconds: number): IoSummary {
  let ios = 0, bytes = 0, latSumNs = 0, errors = 0, maxNs = 0;
  let minNs = Number.POSITIVE_INFINITY;
  for (const d of t) {
    ios += d.ios;
    bytes += d.bytes;
    latSumNs += d.latSumNs;
    errors += d.errors;
    // A set without completed I/O reports min 0: it must not pull the minimum down.
    if (d.ios > 0) {
      if (d.minNs < minNs) minNs = d.minNs;
      if (d.maxNs > maxNs) maxNs = d.maxNs;
    }
  }
  return {
    ios,
    bytes,
    iops: perSecond(ios, seconds),
    mibps: perSecond(bytes, seconds) / MIB,
    avgUs: ios > 0 ? round3(latSumNs / ios / 1000) : 0,
    minUs: ios > 0 ? minNs / 1000 : 0,
    maxUs: ios > 0 ? maxNs / 1000 : 0,
    errors,
  };
}

export function splitSummary(reads: readonly DirectionTotals[], writes: readonly DirectionTotals[], seconds: number): DirectionSplit {
  return {
    read: summarizeDirection(reads, seconds),
    write: summarizeDirection(writes, seconds),
    total: summarizeDirection([...reads, ...writes], seconds),
  };
}

export function buildWorkers(results: readonly WorkerResult[], seconds: number): WorkerSummary[] {
  return [...results].sort((a, b) => a.index - b.index).map((w) => {
    const io = splitSummary(w.contexts.map((c) => c.read), w.contexts.map((c) => c.write), seconds);
    const busyIdle = w.busyNs + w.idleNs;
    const s: WorkerSummary = {
      index: w.index,
      core: w.core,
      busyNs: w.busyNs,
      idleNs: w.idleNs,
      busyPct: busyIdle > 0 ? (w.busyNs / busyIdle) * 100 : 0,
      cpuNs: w.cpuNs,
      cpuPct: w.measuredNs > 0 ? (w.cpuNs / w.measuredNs) * 100 : 0,
      cpuUsPerIo: io.total.ios > 0 ? w.cpuNs / 1000 / io.total.ios : 0,
      io,
    };
    if (w.error !== undefined) s.error = w.error;
    if (w.wait !== undefined) s.wait = w.wait;
    if (w.ioTimeouts !== undefined) s.timeouts = w.ioTimeouts.timedOut;
    return s;
  });
}

/**
 * One row per (worker, namespace context), sorted by worker then nsIndex.
 * `nsLabels[nsIndex]` is the device text ("TCP (addr:… subnqn:…) NSID 1"); `nsTargetIndex[nsIndex]`
 * the index of its controller in `PerfResult.targets` (0 for every row when omitted: one target).
 * Each row carries the merged (read + write) histogram of its context for per-row percentiles.
 */
export function buildNamespaceRows(results: readonly WorkerResult[], nsLabels: readonly string[], seconds: number,
  nsTargetIndex?: readonly number[]): NamespaceRow[] {
  const rows: NamespaceRow[] = [];
  const workers = [...results].sort((a, b) => a.index - b.index);
  for (const w of workers) {
    const contexts = [...w.contexts].sort((a, b) => a.nsIndex - b.nsIndex);
    for (const c of contexts) {
      const merged = mergeEncoded([c.read.histogram, c.write.histogram]);
      const row: NamespaceRow = {
        worker: w.index,
        core: w.core,
        targetIndex: nsTargetIndex?.[c.nsIndex] ?? 0,
        nsid: c.nsid,
        label: nsLabels[c.nsIndex] ?? `namespace ${c.nsIndex} NSID ${c.nsid}`,
        io: splitSummary([c.read], [c.write], seconds),
        histogramNs: encodeHistogram(merged),
      };
      rows.push(row);
    }
  }
  return rows;
}

/** Percentiles of a histogram of nanoseconds, in microseconds (3 decimals); all 0 when it is empty. */
export function percentilesUs(h: Histogram, list: readonly number[] = PERCENTILES): Percentile[] {
  const empty = h.totalCount === 0;
  return list.map((p) => ({ percentile: p, us: empty ? 0 : round3(h.getValueAtPercentile(p) / 1000) }));
}

export function buildLatency(results: readonly WorkerResult[]): LatencyDetail {
  const contexts = results.flatMap((w) => w.contexts);
  const read = mergeEncoded(contexts.map((c) => c.read.histogram));
  const write = mergeEncoded(contexts.map((c) => c.write.histogram));
  const all = mergeEncoded([]);
  all.add(read);
  all.add(write);
  return {
    histogramNs: encodeHistogram(all),
    readHistogramNs: encodeHistogram(read),
    writeHistogramNs: encodeHistogram(write),
    percentiles: percentilesUs(all),
    readPercentiles: percentilesUs(read),
    writePercentiles: percentilesUs(write),
  };
}

export function hostInfo(): HostInfo {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    cpuModel: cpus[0]?.model.trim() || 'unknown',
    cores: cpus.length > 0 ? cpus.length : os.availableParallelism(),
    kernel: os.release(),
    node: process.version,
    platform: process.platform,
  };
}
