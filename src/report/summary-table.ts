// The end-of-run text on stdout, laid out like spdk_nvme_perf's so the two can be read side by side:
// one row per namespace per core plus a Total row, -L percentiles and -LL histogram buckets per row,
// then what the numbers cost: reactor busy time and OS CPU per worker (and of the target when known).
import { workloadLines } from './workload-result.js';
import Table from 'cli-table3';
import * as hdr from 'hdr-histogram-js';
import { decodeHistogram, type Histogram } from '../util/hdr-codec.js';
import { percentilesUs } from './result-builder.js';
import type { DirectionSplit, IoSummary, NamespaceRow, Percentile, PerfResult } from './result-types.js';

export interface SummaryOptions {
  /** 0: table only; 1 (-L): + percentiles; 2 (-LL): + histogram buckets. */
  latency: 0 | 1 | 2;
}

/** Most rows a -LL histogram prints; neighbouring HDR buckets are merged to stay under it. */
export const MAX_HISTOGRAM_ROWS = 50;

const RULE = '='.repeat(80);

function f2(v: number): string {
  return v.toFixed(2);
}

function compactSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = bytes, i = 0;
  while (v >= 1024 && v % 1024 === 0 && i < units.length - 1) { v /= 1024; i++; }
  return `${v} ${units[i]}`;
}

/** Whether reads and writes both happen in this run (then rows show a read/write split). */
function isMixedRun(r: PerfResult): boolean {
  const c = r.config;
  const mixedPattern = (c.pattern === 'rw' || c.pattern === 'randrw') && c.rwmixread > 0 && c.rwmixread < 100;
  return mixedPattern || (r.total.read.ios > 0 && r.total.write.ios > 0);
}

function rowLabel(row: NamespaceRow): string {
  return `${row.label} from core ${row.core}`;
}

// ---------------------------------------------------------------------------------------------
// Table

function numbers(s: IoSummary): string[] {
  return [f2(s.iops), f2(s.mibps), f2(s.avgUs), f2(s.minUs), f2(s.maxUs)];
}

/** One table row; in a mixed run each cell holds three lines: total, read, write. */
function tableRow(label: string, io: DirectionSplit, mixed: boolean): string[] {
  if (!mixed) return [label, ...numbers(io.total)];
  const t = numbers(io.total), r = numbers(io.read), w = numbers(io.write);
  return [`${label}\n  read\n  write`, ...t.map((v, i) => `${v}\n${r[i]}\n${w[i]}`)];
}

function formatTable(result: PerfResult, mixed: boolean): string {
  const table = new Table({
    head: ['Device Information', 'IOPS', 'MiB/s', 'Average (µs)', 'min (µs)', 'max (µs)'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right'],
    style: { head: [], border: [] },
  });
  for (const row of result.namespaces) table.push(tableRow(rowLabel(row), row.io, mixed));
  table.push(tableRow('Total', result.total, mixed));
  return table.toString();
}

// ---------------------------------------------------------------------------------------------
// Latency: percentiles (-L) and histogram buckets (-LL)

function percentileLine(p: number, us: number[]): string {
  return `${p.toFixed(5).padStart(10)}% : ${us.map((v) => `${v.toFixed(3).padStart(10)}us`).join(' ')}`;
}

function rowHistogram(result: PerfResult, row: NamespaceRow): Histogram | undefined {
  if (row.histogramNs) return decodeHistogram(row.histogramNs);
  // Documents without per-row histograms: a single row is the whole run.
  if (result.namespaces.length === 1 && result.latency.histogramNs) return decodeHistogram(result.latency.histogramNs);
  return undefined;
}

function percentileBlock(title: string, h: Histogram | undefined): string[] {
  const lines = [`Summary latency data for ${title}:`, RULE];
  if (!h) lines.push('  (no histogram for this row in the result)');
  else if (h.totalCount === 0) lines.push('  (no I/O)');
  else for (const p of percentilesUs(h)) lines.push(percentileLine(p.percentile, [p.us]));
  return lines;
}

/** All namespaces and cores together; reads and writes side by side in a mixed run. */
function totalPercentileBlock(result: PerfResult, mixed: boolean): string[] {
  const lat = result.latency;
  const lines = [`Summary latency data for all namespaces and cores${mixed ? ' (all / read / write)' : ''}:`, RULE];
  if (result.total.total.ios === 0) return [...lines, '  (no I/O)'];
  const byP = (list: Percentile[], p: number): number => list.find((x) => x.percentile === p)?.us ?? 0;
  for (const p of lat.percentiles) {
    const cols = mixed ? [p.us, byP(lat.readPercentiles, p.percentile), byP(lat.writePercentiles, p.percentile)] : [p.us];
    lines.push(percentileLine(p.percentile, cols));
  }
  return lines;
}

export interface HistogramRow {
  /** Lowest and highest latency (µs) the row's HDR buckets cover, inclusive. */
  fromUs: number;
  toUs: number;
  count: number;
  /** Percentage of all I/O at or below `toUs`. */
  cumulativePct: number;
}

interface Bucket { lo: number; hi: number; count: number }

/** Non-empty HDR buckets in value order (ns), from the recorded-values iteration. */
function recordedBuckets(h: Histogram): Bucket[] {
  if (!(h instanceof hdr.JsHistogram) || h.totalCount === 0) return [];
  const it = h.recordedValuesIterator;
  it.reset();
  const out: Bucket[] = [];
  while (it.hasNext()) {
    const v = it.next();
    out.push({ lo: h.lowestEquivalentValue(v.valueIteratedTo), hi: v.valueIteratedTo, count: v.countAtValueIteratedTo });
  }
  return out;
}

/**
 * Groups consecutive buckets on two grids at once, each with `bins` cells: equal-count cells over the
 * cumulative count (resolution where most I/O is) and log-spaced cells over the value range
 * (resolution in a sparse tail). A bucket starts a new group when it enters a new cell of either.
 */
function groupBuckets(buckets: Bucket[], total: number, bins: number): Bucket[] {
  const base = Math.max(buckets[0]!.lo, 1);
  const top = Math.max(buckets[buckets.length - 1]!.hi, base + 1);
  const step = Math.log(top / base) / bins;
  const out: Bucket[] = [];
  let cur: Bucket | undefined;
  let curLog = -1, curQ = -1, before = 0;
  for (const b of buckets) {
    const logCell = Math.min(bins - 1, Math.floor(Math.log(Math.max(b.lo, 1) / base) / step));
    const qCell = Math.min(bins - 1, Math.floor((before / total) * bins));
    before += b.count;
    if (cur && logCell === curLog && qCell === curQ) {
      cur.hi = b.hi;
      cur.count += b.count;
    } else {
      cur = { ...b };
      curLog = logCell;
      curQ = qCell;
      out.push(cur);
    }
  }
  return out;
}

/**
 * Histogram rows for -LL: every non-empty HDR bucket when there are at most `maxRows`; otherwise
 * neighbouring buckets merged (see groupBuckets), on grids as fine as fit in `maxRows` rows.
 */
export function histogramRows(h: Histogram, maxRows: number = MAX_HISTOGRAM_ROWS): HistogramRow[] {
  const buckets = recordedBuckets(h);
  const total = buckets.reduce((s, b) => s + b.count, 0);
  let rows = buckets;
  if (buckets.length > maxRows) {
    let bins = Math.max(1, Math.floor(maxRows / 2));
    rows = groupBuckets(buckets, total, bins);
    // Empty cells cost no rows: refine while the rows still fit.
    for (let i = 0; i < 60; i++) {
      const finer = Math.ceil(bins * 1.1);
      const g = groupBuckets(buckets, total, finer);
      if (g.length > maxRows) break;
      bins = finer;
      rows = g;
    }
  }
  let cum = 0;
  return rows.map((b) => {
    cum += b.count;
    return { fromUs: b.lo / 1000, toUs: b.hi / 1000, count: b.count, cumulativePct: (cum / total) * 100 };
  });
}

function histogramBlock(title: string, h: Histogram | undefined): string[] {
  const lines = [`Latency histogram for ${title}:`, RULE];
  if (!h) return [...lines, '  (no histogram for this row in the result)'];
  if (h.totalCount === 0) return [...lines, '  (no I/O)'];
  lines.push('       Range in us       Cumulative     IO count');
  for (const r of histogramRows(h)) {
    lines.push(`${r.fromUs.toFixed(3).padStart(11)} - ${r.toUs.toFixed(3).padStart(11)}: `
      + `${r.cumulativePct.toFixed(4).padStart(9)}%  (${String(r.count).padStart(10)})`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Header, status, errors, rate, utilization

function headerLine(r: PerfResult): string {
  const c = r.config;
  const mix = c.pattern === 'rw' || c.pattern === 'randrw' ? ` ${c.rwmixread}% read` : '';
  const warm = c.warmupSec > 0 ? ` after ${c.warmupSec} s warm-up` : '';
  const qp = c.numQpairs > 1 ? `, ${c.numQpairs} qpairs/ns` : '';
  const rate = c.rateIops > 0 ? `, open loop ${c.rateIops} IOPS (${c.arrivals})` : '';
  return `${r.tool.name} ${r.tool.version}: ${c.pattern}${mix}, ${compactSize(c.ioSize)}, qd ${c.ioDepth}${qp}, `
    + `${c.timeSec} s${warm}${rate}, cores ${c.cores.join(',')}, ${c.mode} mode`;
}

function statusLine(r: PerfResult): string | undefined {
  const after = `after ${r.durationSec.toFixed(1)} s`;
  if (r.status === 'interrupted') return `run INTERRUPTED ${after}: partial results`;
  if (r.status === 'partial') return `run ended early (PARTIAL) ${after}${r.error ? `: ${r.error}` : ''}: partial results`;
  return undefined;
}

function errorLines(r: PerfResult): string[] {
  const lines: string[] = [];
  const t = r.total;
  if (t.total.errors > 0) {
    const done = t.total.ios + t.total.errors;
    lines.push(`I/O ERRORS: ${t.total.errors} of ${done} I/Os failed (read ${t.read.errors}, write ${t.write.errors})`);
    for (const row of r.namespaces) {
      if (row.io.total.errors > 0) lines.push(`  ${rowLabel(row)}: ${row.io.total.errors} failed`);
    }
    if (r.status === 'complete' && r.error) lines.push(`  ${r.error}`);
  }
  for (const w of r.workers) {
    if (w.error) lines.push(`worker ${w.index} (core ${w.core}) stopped: ${w.error}`);
  }
  return lines;
}

/** --io-timeout: how many commands timed out and what was done about them. */
export function ioTimeoutLine(r: PerfResult): string | undefined {
  const t = r.ioTimeouts;
  if (!t) return undefined;
  return `timeouts: ${t.timedOut} command(s) without completion within ${t.timeoutMs} ms; ${t.abortsSent} Abort(s) sent `
    + `(${t.aborted} aborted, ${t.notAborted} not aborted, ${t.abortsFailed} failed); ${t.qpairResets} qpair reset(s) `
    + `failing ${t.resetFailedIos} I/O(s)`;
}

/** --ctrl-loss-tmo: each disconnect, reconnect and loss, at its time in the run. */
export function connectionLines(r: PerfResult): string[] {
  const c = r.connection;
  if (!c || c.events.length === 0) return [];
  const lines = [`connection: ${c.events.filter((e) => e.kind === 'disconnect').length} disconnect(s), `
    + `${c.events.filter((e) => e.kind === 'reconnect').length} reconnect(s), ${c.retriedIos} I/O(s) retried after reconnecting`];
  for (const e of c.events) {
    const at = `  t=${e.t.toFixed(1)} s ${e.trid}:`;
    if (e.kind === 'disconnect') lines.push(`${at} DISCONNECTED`);
    else if (e.kind === 'reconnect') {
      lines.push(`${at} reconnected after ${(e.outageSec ?? 0).toFixed(1)} s (attempt ${e.attempts ?? 0}, CNTLID ${e.cntlid ?? 0})`);
    } else lines.push(`${at} LOST after ${(e.outageSec ?? 0).toFixed(1)} s (${e.attempts ?? 0} attempt(s)${e.error ? `; last: ${e.error}` : ''})`);
  }
  return lines;
}

function rateLine(r: PerfResult): string | undefined {
  if (!r.rate) return undefined;
  const req = Math.round(r.rate.requestedIops), got = Math.round(r.rate.achievedIops);
  return `open loop (${r.config.arrivals}): requested ${req} IOPS, achieved ${got} IOPS`
    + (r.rate.sustained ? '' : ': NOT SUSTAINED');
}

/** Interrupt mode: where the idle time went (spinning vs asleep) and how often the worker slept. */
function waitText(r: PerfResult, w: PerfResult['workers'][number]): string {
  const x = w.wait;
  if (r.config.mode !== 'interrupt' || !x) return '';
  const all = x.busyNs + x.spinNs + x.sleepNs;
  const ios = w.io.total.ios;
  if (all <= 0) return '';
  return `  (spin ${r.config.spinUs ?? 0} us: spinning ${((100 * x.spinNs) / all).toFixed(1)}%, asleep ${((100 * x.sleepNs) / all).toFixed(1)}%, `
    + `${ios > 0 ? (x.sleeps / ios).toFixed(3) : '0'} sleeps/IO)`;
}

function utilizationLines(r: PerfResult): string[] {
  const lines = [`Utilization (busy = reactor busy / (busy + idle); OS CPU = thread CPU time / measured time):`];
  for (const w of r.workers) {
    lines.push(`core ${w.core}: busy ${w.busyPct.toFixed(1)}% (${r.config.mode})  OS CPU ${w.cpuPct.toFixed(1)}%  `
      + `CPU ${w.cpuUsPerIo.toFixed(2)} us/IO${waitText(r, w)}`);
  }
  if (r.targetCpu) {
    lines.push(`target (pid ${r.targetCpu.pid}): CPU ${r.targetCpu.cores.toFixed(2)} cores, ${r.targetCpu.cpuUsPerIo.toFixed(2)} us/IO`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------

export function formatSummary(result: PerfResult, opts: SummaryOptions): string {
  const mixed = isMixedRun(result);
  const out: string[] = [headerLine(result)];
  const status = statusLine(result);
  if (status) out.push(status);
  out.push(formatTable(result, mixed));

  const errors = errorLines(result);
  if (errors.length > 0) out.push(...errors);
  out.push(...connectionLines(result));
  const timeouts = ioTimeoutLine(result);
  if (timeouts) out.push(timeouts);
  const rate = rateLine(result);
  if (rate) out.push(rate);
  out.push(...workloadLines(result));
  out.push('', ...utilizationLines(result));

  if (opts.latency >= 1) {
    const hists = result.namespaces.map((row) => rowHistogram(result, row));
    result.namespaces.forEach((row, i) => out.push('', ...percentileBlock(rowLabel(row), hists[i])));
    if (result.namespaces.length !== 1 || mixed) out.push('', ...totalPercentileBlock(result, mixed));
    if (opts.latency >= 2) {
      result.namespaces.forEach((row, i) => out.push('', ...histogramBlock(rowLabel(row), hists[i])));
    }
  }
  return out.join('\n');
}
