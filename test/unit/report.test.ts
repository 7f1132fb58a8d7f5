import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as hdr from 'hdr-histogram-js';
import type { DirectionTotals } from '../../src/engine/io-stats.js';
import type { WorkerResult } from '../../src/engine/worker-result.js';
import { decodeHistogram, encodeHistogram, newRecordingHistogram } from '../../src/engine/latency-histogram.js';
import {
  PERCENTILES, buildLatency, buildNamespaceRows, buildWorkers, hostInfo, splitSummary, summarizeDirection,
} from '../../src/report/result-builder.js';
import { SCHEMA_VERSION, type PerfResult, type TimelinePoint } from '../../src/report/result-types.js';
import { resultSchema, SCHEMA_SHAPES, validateResult } from '../../src/report/result-validate.js';
import { writeResult } from '../../src/report/result-writer.js';
import { formatSummary, histogramRows, MAX_HISTOGRAM_ROWS } from '../../src/report/summary-table.js';
import { formatProgressLine, ProgressPrinter } from '../../src/report/progress-line.js';
import { resultExtras } from '../../src/report/workload-result.js';
import type { PerfConfig } from '../../src/engine/config.js';

// ---------------------------------------------------------------------------------------------
// Synthetic worker results with real HDR histograms

const IO_SIZE = 4096;
const SECONDS = 2;

/** Deterministic latencies (ns): mostly 20–120 µs, a tail up to ~2 ms. */
function latencies(n: number, seed: number): number[] {
  let x = seed >>> 0;
  const next = (): number => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = next();
    const base = 20_000 + Math.floor(next() * 100_000);
    out.push(u < 0.995 ? base : base + Math.floor(next() * 2_000_000));
  }
  return out;
}

function totals(samples: number[], errors = 0): DirectionTotals {
  if (samples.length === 0) return { ios: 0, bytes: 0, latSumNs: 0, minNs: 0, maxNs: 0, histogram: '', errors };
  const h = newRecordingHistogram();
  for (const s of samples) h.recordValue(s);
  const encoded = encodeHistogram(h);
  h.destroy();
  return {
    ios: samples.length,
    bytes: samples.length * IO_SIZE,
    latSumNs: samples.reduce((a, b) => a + b, 0),
    minNs: Math.min(...samples),
    maxNs: Math.max(...samples),
    histogram: encoded,
    errors,
  };
}

/** One JS histogram holding every sample: what merging must reproduce. */
function oneHistogram(samples: number[]): hdr.Histogram {
  const h = hdr.build({ bitBucketSize: 64, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: 3 });
  for (const s of samples) h.recordValue(s);
  return h;
}

const s = {
  w0ns0r: latencies(7000, 1), w0ns0w: latencies(3000, 2),
  w1ns0r: latencies(6000, 3), w1ns0w: latencies(2500, 4),
  w1ns1r: latencies(5000, 5), w1ns1w: latencies(2000, 6),
};
const allReads = [...s.w0ns0r, ...s.w1ns0r, ...s.w1ns1r];
const allWrites = [...s.w0ns0w, ...s.w1ns0w, ...s.w1ns1w];
const allSamples = [...allReads, ...allWrites];

const w0: WorkerResult = {
  index: 0, core: 0, measuredNs: 2e9, busyNs: 1.9e9, idleNs: 0.1e9, cpuNs: 1.5e9,
  contexts: [{ nsIndex: 0, nsid: 1, read: totals(s.w0ns0r), write: totals(s.w0ns0w, 3) }],
};
const w1: WorkerResult = {
  index: 1, core: 2, measuredNs: 2e9, busyNs: 1.0e9, idleNs: 1.0e9, cpuNs: 2e9,
  // Out of nsIndex order on purpose: rows must come sorted.
  contexts: [
    { nsIndex: 1, nsid: 2, read: totals(s.w1ns1r), write: totals(s.w1ns1w) },
    { nsIndex: 0, nsid: 1, read: totals(s.w1ns0r), write: totals(s.w1ns0w) },
  ],
};
const RESULTS = [w1, w0]; // out of worker order on purpose
const LABELS = [
  'TCP (addr:127.0.0.1:4420 subnqn:nqn.2016-06.io.nvmf-perf:cnode1) NSID 1',
  'TCP (addr:127.0.0.1:4420 subnqn:nqn.2016-06.io.nvmf-perf:cnode1) NSID 2',
];

function buildResult(results: WorkerResult[] = RESULTS, over: Partial<PerfResult> = {}): PerfResult {
  const ctx = results.flatMap((r) => r.contexts);
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'nvmf-perf', version: '0.1.0' },
    timestamp: '2025-03-04T05:06:07.089Z',
    status: 'complete',
    commandLine: ['-q', '32', '-s', '4k', '-w', 'randrw', '-M', '70', '-t', '2'],
    host: hostInfo(),
    config: {
      ioDepth: 32, ioSize: IO_SIZE, pattern: 'randrw', rwmixread: 70, timeSec: 2, warmupSec: 1, numQpairs: 1,
      cores: [0, 2], latencyTracking: 2, headerDigest: false, dataDigest: false,
      hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001', seed: 42, mode: 'poll',
      rateIops: 0, arrivals: 'constant', transportIds: ['trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420'],
    },
    targets: [{
      trid: 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420', subnqn: 'nqn.2016-06.io.nvmf-perf:cnode1',
      cntlid: 1, mn: 'nvmf-perf target', sn: 'NP0001', fr: '0.1.0', version: '1.4', maxTransferBytes: 131072,
      ioQueuesGranted: 4,
      namespaces: [{ nsid: 1, blockSize: 512, sizeBlocks: 2097152, sizeBytes: 1073741824 },
        { nsid: 2, blockSize: 512, sizeBlocks: 2097152, sizeBytes: 1073741824 }],
      launched: { pid: 4242, namespace: 'null', reactorCores: [3], mode: 'poll' },
    }],
    durationSec: SECONDS,
    total: splitSummary(ctx.map((c) => c.read), ctx.map((c) => c.write), SECONDS),
    workers: buildWorkers(results, SECONDS),
    namespaces: buildNamespaceRows(results, LABELS, SECONDS, [0, 0]),
    timeline: [{ t: 1, intervalSec: 1, iops: 12750, readIops: 9000, writeIops: 3750, mibps: 49.8, avgLatUs: 80.1,
      busyPct: [95, 50], cpuPct: [75, 100], targetCpuCores: 0.9,
      targetReactors: [{ lcore: 3, busy: 1000, idle: 10, inInterrupt: false, connections: 2, qpairs: 2 }] }],
    latency: buildLatency(results),
    targetCpu: { pid: 4242, cpuNs: 1.8e9, cores: 0.9, cpuUsPerIo: 70.588 },
    ...over,
  };
}

const tmpDirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'nvmf-perf-report-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => { for (const d of tmpDirs) rmSync(d, { recursive: true, force: true }); });

// ---------------------------------------------------------------------------------------------

describe('result-builder arithmetic', () => {
  it('sums totals and derives IOPS, MiB/s and latency in µs', () => {
    const reads = [w0.contexts[0]!.read, w1.contexts[0]!.read, w1.contexts[1]!.read];
    const r = summarizeDirection(reads, SECONDS);
    expect(r.ios).toBe(allReads.length);
    expect(r.bytes).toBe(allReads.length * IO_SIZE);
    expect(r.iops).toBe(allReads.length / SECONDS);
    expect(r.mibps).toBe((allReads.length * IO_SIZE) / SECONDS / 2 ** 20);
    const exactAvgUs = allReads.reduce((a, b) => a + b, 0) / allReads.length / 1000;
    expect(r.avgUs).toBeCloseTo(exactAvgUs, 3);
    expect(r.minUs).toBe(Math.min(...allReads) / 1000);
    expect(r.maxUs).toBe(Math.max(...allReads) / 1000);
    expect(r.errors).toBe(0);
  });

  it('ignores empty sets for min/max and handles zero seconds and zero I/O', () => {
    const r = summarizeDirection([totals([]), totals([50_000, 70_000])], 1);
    expect(r.minUs).toBe(50);
    expect(r.maxUs).toBe(70);
    expect(r.avgUs).toBe(60);
    expect(summarizeDirection([totals([])], 0)).toEqual({ ios: 0, bytes: 0, iops: 0, mibps: 0, avgUs: 0, minUs: 0, maxUs: 0, errors: 0 });
  });

  it('splits reads, writes and total; counts errors', () => {
    const r = buildResult();
    expect(r.total.read.ios).toBe(allReads.length);
    expect(r.total.write.ios).toBe(allWrites.length);
    expect(r.total.total.ios).toBe(allSamples.length);
    expect(r.total.total.iops).toBe(allSamples.length / SECONDS);
    expect(r.total.write.errors).toBe(3);
    expect(r.total.total.errors).toBe(3);
  });

  it('computes per-worker busy %, OS CPU % and CPU µs per I/O, in worker order', () => {
    const [a, b] = buildWorkers(RESULTS, SECONDS);
    expect(a!.index).toBe(0);
    expect(a!.busyPct).toBeCloseTo(95, 10);
    expect(a!.cpuPct).toBeCloseTo(75, 10);
    expect(a!.cpuUsPerIo).toBeCloseTo(1.5e9 / 1000 / 10_000, 10);
    expect(a!.io.total.ios).toBe(10_000);
    expect(b!.core).toBe(2);
    expect(b!.busyPct).toBe(50);
    expect(b!.cpuPct).toBe(100);
    expect(b!.cpuUsPerIo).toBeCloseTo(2e9 / 1000 / 15_500, 10);
  });

  it('makes one row per worker and namespace, sorted, with labels, target index and histograms', () => {
    const rows = buildNamespaceRows(RESULTS, LABELS, SECONDS, [0, 1]);
    expect(rows.map((r) => [r.worker, r.core, r.nsid, r.targetIndex])).toEqual([[0, 0, 1, 0], [1, 2, 1, 0], [1, 2, 2, 1]]);
    expect(rows[2]!.label).toBe(LABELS[1]);
    expect(rows[1]!.io.total.ios).toBe(s.w1ns0r.length + s.w1ns0w.length);
    const h = decodeHistogram(rows[2]!.histogramNs!);
    const ref = oneHistogram([...s.w1ns1r, ...s.w1ns1w]);
    expect(h.totalCount).toBe(ref.totalCount);
    expect(h.getValueAtPercentile(99)).toBe(ref.getValueAtPercentile(99));
  });

  it('reports host information', () => {
    const h = hostInfo();
    expect(h.hostname.length).toBeGreaterThan(0);
    expect(h.cores).toBeGreaterThan(0);
    expect(h.node).toBe(process.version);
    expect(h.platform).toBe(process.platform);
  });
});

describe('latency histograms and percentiles', () => {
  const lat = buildLatency(RESULTS);

  it('merging the workers equals one histogram of all samples', () => {
    for (const [encoded, samples] of [[lat.histogramNs, allSamples], [lat.readHistogramNs, allReads], [lat.writeHistogramNs, allWrites]] as const) {
      const merged = decodeHistogram(encoded);
      const ref = oneHistogram(samples);
      expect(merged.totalCount).toBe(samples.length);
      expect(merged.getValueAtPercentile(50)).toBe(ref.getValueAtPercentile(50));
      expect(merged.getValueAtPercentile(99)).toBe(ref.getValueAtPercentile(99));
      // HDR's max is the top of the highest non-empty bucket (a decoded histogram knows no more).
      expect(merged.getValueAtPercentile(100)).toBe(ref.getValueAtPercentile(100));
      expect(merged.maxValue).toBe((ref as hdr.JsHistogram).highestEquivalentValue(Math.max(...samples)));
    }
  });

  it('reports the percentile list in µs with 3 decimals, within HDR precision of the exact values', () => {
    expect(lat.percentiles.map((p) => p.percentile)).toEqual(PERCENTILES);
    expect(PERCENTILES).toEqual([1, 10, 25, 50, 75, 90, 95, 98, 99, 99.5, 99.9, 99.99, 99.999]);
    const sorted = [...allSamples].sort((a, b) => a - b);
    const ref = oneHistogram(allSamples);
    for (const p of lat.percentiles) {
      expect(p.us).toBe(Math.round(ref.getValueAtPercentile(p.percentile)) / 1000);
      expect(Number(p.us.toFixed(3))).toBe(p.us); // 3 decimals
      const exact = sorted[Math.max(0, Math.ceil((p.percentile / 100) * sorted.length) - 1)]!;
      expect(Math.abs(p.us * 1000 - exact)).toBeLessThanOrEqual(exact * 0.001 + 1);
    }
    const readRef = oneHistogram(allReads);
    expect(lat.readPercentiles.find((p) => p.percentile === 99)!.us).toBe(readRef.getValueAtPercentile(99) / 1000);
    const writeRef = oneHistogram(allWrites);
    expect(lat.writePercentiles.find((p) => p.percentile === 50)!.us).toBe(writeRef.getValueAtPercentile(50) / 1000);
  });

  it('histogram rows: non-empty, at most 50, cumulative ending at 100%', () => {
    const h = decodeHistogram(lat.histogramNs);
    const rows = histogramRows(h);
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThanOrEqual(MAX_HISTOGRAM_ROWS);
    expect(rows.every((r) => r.count > 0)).toBe(true);
    expect(rows.reduce((a, r) => a + r.count, 0)).toBe(allSamples.length);
    expect(rows[rows.length - 1]!.cumulativePct).toBe(100);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.fromUs).toBeGreaterThan(rows[i - 1]!.toUs);
    // Few distinct values: one row per HDR bucket.
    const small = histogramRows(oneHistogram([10_000, 10_000, 20_000, 30_000]));
    expect(small.map((r) => [r.count, r.cumulativePct])).toEqual([[2, 50], [1, 75], [1, 100]]);
    expect(small[0]!.fromUs).toBeLessThanOrEqual(10);
    expect(small[0]!.toUs).toBeGreaterThanOrEqual(10);
  });
});

describe('summary text', () => {
  const result = buildResult();

  it('has the spdk-style table with one row per namespace per core and a Total row', () => {
    const text = formatSummary(result, { latency: 0 });
    expect(text).toContain('Device Information');
    expect(text).toContain('Average (µs)');
    expect(text).toContain(`${LABELS[0]} from core 0`);
    expect(text).toContain(`${LABELS[0]} from core 2`);
    expect(text).toContain(`${LABELS[1]} from core 2`);
    expect(text).toMatch(/│ Total\s+│/);
    expect(text).toContain(result.total.total.iops.toFixed(2)); // 12750.00
    expect(text).toContain(result.total.total.mibps.toFixed(2));
    expect(text).toContain(result.total.total.avgUs.toFixed(2));
    // Mixed run: read and write sub-rows.
    expect(text).toMatch(/│\s+read\s+│\s+9000\.00/);
    expect(text).toMatch(/│\s+write\s+│\s+3750\.00/);
    expect(text).not.toMatch(/\x1b\[/); // no colour codes
  });

  it('always has the utilization block and target CPU', () => {
    const text = formatSummary(result, { latency: 0 });
    expect(text).toContain('core 0: busy 95.0% (poll)  OS CPU 75.0%  CPU 150.00 us/IO');
    expect(text).toContain('core 2: busy 50.0% (poll)  OS CPU 100.0%  CPU 129.03 us/IO');
    expect(text).toContain('target (pid 4242): CPU 0.90 cores, 70.59 us/IO');
    expect(text).toContain('I/O ERRORS: 3 of');
  });

  it('adds -L percentiles only when asked, and -LL histograms only at level 2', () => {
    const l0 = formatSummary(result, { latency: 0 });
    const l1 = formatSummary(result, { latency: 1 });
    const l2 = formatSummary(result, { latency: 2 });
    expect(l0).not.toContain('Summary latency data');
    expect(l0).not.toContain('Range in us');
    expect(l1).toContain(`Summary latency data for ${LABELS[1]} from core 2:`);
    expect(l1).toContain('Summary latency data for all namespaces and cores (all / read / write):');
    expect(l1).not.toContain('Range in us');
    const p99 = result.latency.percentiles.find((p) => p.percentile === 99)!.us;
    expect(l1).toContain(`  99.00000% : ${p99.toFixed(3).padStart(10)}us`);
    expect(l1).toMatch(/^ {2}99\.99900% : +\d+\.\d{3}us$/m);
    expect(l2).toContain(`Latency histogram for ${LABELS[0]} from core 0:`);
    expect(l2).toContain('Range in us');
    const bucketLines = l2.split('\n').filter((l) => /^ +\d+\.\d{3} - +\d+\.\d{3}: +\d+\.\d{4}%  \( *\d+\)$/.test(l));
    expect(bucketLines.length).toBeGreaterThan(3 * 10);
    expect(bucketLines.length).toBeLessThanOrEqual(3 * MAX_HISTOGRAM_ROWS);
    expect(l2).toMatch(/100\.0000%/);
  });

  it('says when the run was interrupted, the open-loop rate, and worker failures', () => {
    const r = buildResult(RESULTS, {
      status: 'interrupted', durationSec: 3, error: 'interrupted by SIGINT',
      rate: { requestedIops: 2000, achievedIops: 1500.4, sustained: false },
    });
    r.workers[1]!.error = 'connection reset by the target';
    const text = formatSummary(r, { latency: 0 });
    expect(text).toContain('run INTERRUPTED after 3.0 s: partial results');
    expect(text).toContain('requested 2000 IOPS, achieved 1500 IOPS: NOT SUSTAINED');
    expect(text).toContain('worker 1 (core 2) stopped: connection reset by the target');
    const ok = formatSummary(buildResult(RESULTS, { rate: { requestedIops: 2000, achievedIops: 1998, sustained: true } }), { latency: 0 });
    expect(ok).toContain('requested 2000 IOPS, achieved 1998 IOPS');
    expect(ok).not.toContain('NOT SUSTAINED');
    expect(ok).not.toContain('INTERRUPTED');
  });

  it('single-direction runs have no read/write sub-rows', () => {
    const readOnly: WorkerResult = { ...w0, contexts: [{ nsIndex: 0, nsid: 1, read: totals(s.w0ns0r), write: totals([]) }] };
    const r = buildResult([readOnly], { config: { ...buildResult().config, pattern: 'randread', rwmixread: 100, cores: [0] } });
    const text = formatSummary(r, { latency: 1 });
    expect(text).not.toMatch(/│\s+read\s+│/);
    expect(text).toContain(`Summary latency data for ${LABELS[0]} from core 0:`);
    expect(text).not.toContain('all namespaces and cores');
  });
});

describe('validateResult', () => {
  const good = buildResult();
  const clone = (): Record<string, unknown> => JSON.parse(JSON.stringify(good)) as Record<string, unknown>;

  it('accepts a built result (with and without optional parts)', () => {
    expect(validateResult(good)).toEqual([]);
    const minimal = clone();
    delete minimal['targetCpu'];
    delete (minimal['targets'] as Record<string, unknown>[])[0]!['launched'];
    for (const row of minimal['namespaces'] as Record<string, unknown>[]) delete row['histogramNs'];
    expect(validateResult(minimal)).toEqual([]);
    expect(validateResult(buildResult(RESULTS, { status: 'partial', error: 'x', rate: { requestedIops: 1, achievedIops: 1, sustained: true } }))).toEqual([]);
  });

  it('accepts the workload-shape and verify parts, built from a job-file config and worker verify totals', () => {
    const config = {
      bssplit: [{ bytes: 4096, percent: 60 }, { bytes: 65536, percent: 40 }], distribution: { kind: 'zipf', param: 1.2 },
      range: { offset: { percent: 10 }, size: { bytes: 1 << 30 } }, verify: true, thinktimeUs: 50,
      workload: { file: 'workloads/verify.fio', section: 'verify', sections: ['verify'] },
    } as unknown as PerfConfig;
    const withVerify: WorkerResult[] = RESULTS.map((r, i) => ({ ...r, contexts: r.contexts.map((c) => ({ ...c,
      verify: { blocksWritten: 100, blocksChecked: 50, mismatches: i, details: i ? [{ lba: 7, what: 'checksum 0x1, header says 0x2' }] : [] } })) }));
    const extras = resultExtras(config, withVerify);
    expect(extras.config).toEqual({ bssplit: [{ bytes: 4096, percent: 60 }, { bytes: 65536, percent: 40 }], randomDistribution: 'zipf:1.2',
      range: { offset: '10%', size: String(1 << 30) }, verify: true, thinktimeUs: 50 });
    expect(extras.verify!.mismatches).toBe(withVerify[1]!.contexts.length);
    expect(extras.verify!.details[0]).toMatchObject({ lba: 7, what: 'checksum 0x1, header says 0x2' });
    expect(extras.verifyError).toMatch(/^verify: \d+ block\(s\) did not match what was written; first: NSID \d+ LBA 7: checksum/);
    const doc = clone();
    doc['config'] = { ...(doc['config'] as object), ...extras.config };
    doc['verify'] = extras.verify;
    doc['workload'] = extras.workload;
    expect(validateResult(doc)).toEqual([]);
    const text = formatSummary(doc as unknown as PerfResult, { latency: 0 });
    expect(text).toMatch(/job file workloads\/verify\.fio, section \[verify\]/);
    expect(text).toMatch(/workload: bssplit 4k\/60% 64k\/40%; offsets zipf:1\.2; range offset 10%, size 1073741824; thinktime 50 us/);
    expect(text).toMatch(/mismatch NSID \d+ LBA 7: checksum/);
    (doc['verify'] as Record<string, unknown>)['mismatches'] = -1;
    expect(validateResult(doc).join('\n')).toContain('/verify/mismatches');
    (doc['config'] as Record<string, unknown>)['randomDistribution'] = 'zoned:1';
    expect(validateResult(doc).join('\n')).toContain('/config/randomDistribution');
  });

  it('rejects a missing field, naming it', () => {
    const d = clone();
    delete d['durationSec'];
    const errs = validateResult(d);
    expect(errs.length).toBeGreaterThan(0);
    expect(errs.join('\n')).toContain('durationSec');
    const nested = clone();
    delete ((nested['total'] as Record<string, Record<string, unknown>>)['read'])!['iops'];
    expect(validateResult(nested).join('\n')).toContain('/total/read/iops');
  });

  it('rejects a wrong enum value, naming the field', () => {
    const d = clone();
    (d['config'] as Record<string, unknown>)['pattern'] = 'randomread';
    const errs = validateResult(d);
    expect(errs.join('\n')).toContain('/config/pattern');
    const st = clone();
    st['status'] = 'done';
    expect(validateResult(st).join('\n')).toContain('/status');
    const v = clone();
    v['schemaVersion'] = 2;
    expect(validateResult(v).join('\n')).toContain('/schemaVersion');
  });

  it('accepts the wait counters of a worker and target reactors split into spin and sleep; rejects a missing counter', () => {
    const d = clone();
    const wait = { busyNs: 5, spinNs: 3, sleepNs: 2, passes: 10, busyPasses: 4, spinWindows: 3, spinHits: 1, sleeps: 2, wakeups: 2, timeouts: 0 };
    ((d['workers'] as Record<string, unknown>[])[0]!)['wait'] = wait;
    (d['config'] as Record<string, unknown>)['spinUs'] = 50;
    const tl = d['timeline'] as Record<string, unknown>[];
    tl[0]!['targetReactors'] = [{ lcore: 1, busy: 5, idle: 5, inInterrupt: true, spin: 2, sleep: 3, sleeps: 7, wakeups: 6 }];
    expect(validateResult(d)).toEqual([]);
    const { sleeps: _s, ...noSleeps } = wait;
    ((d['workers'] as Record<string, unknown>[])[0]!)['wait'] = noSleeps;
    expect(validateResult(d).join('\n')).toContain('sleeps');
  });

  it('rejects an extra property, naming it', () => {
    const d = clone();
    d['bogus'] = 1;
    expect(validateResult(d).join('\n')).toContain('bogus');
    const w = clone();
    ((w['workers'] as Record<string, unknown>[])[0]!)['extraField'] = true;
    expect(validateResult(w).join('\n')).toContain('/workers/0/extraField');
  });

  it('the schema lists exactly the properties of result-types.ts (required and optional)', () => {
    const resolve = (pointer: string): Record<string, unknown> => pointer.replace(/^#\/?/, '').split('/').filter(Boolean)
      .reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, resultSchema as unknown as Record<string, unknown>);
    expect(SCHEMA_SHAPES.length).toBe(26);
    for (const sh of SCHEMA_SHAPES) {
      const node = resolve(sh.pointer);
      expect(node['additionalProperties'], sh.pointer).toBe(false);
      expect([...(node['required'] as string[])].sort(), sh.pointer).toEqual([...sh.required].sort());
      expect(Object.keys(node['properties'] as object).sort(), sh.pointer).toEqual([...sh.required, ...sh.optional].sort());
    }
  });

  it('rejects wrong types and non-objects', () => {
    const d = clone();
    (d['total'] as Record<string, Record<string, unknown>>)['total']!['ios'] = '12';
    expect(validateResult(d).join('\n')).toContain('/total/total/ios');
    expect(validateResult(null).length).toBeGreaterThan(0);
  });
});

describe('writeResult', () => {
  const result = buildResult();

  it('writes pretty JSON where asked', () => {
    const dir = tmp();
    const path = join(dir, 'sub', 'out.json');
    expect(writeResult(result, { jsonPath: path, resultsDir: join(dir, 'unused') })).toBe(path);
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('\n  "schemaVersion": 1,');
    expect(JSON.parse(text)).toEqual(result);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['out.json']);
  });

  it('uses the default name in the results directory (created), without overwriting', () => {
    const dir = join(tmp(), 'results', 'nested');
    const a = writeResult(result, { resultsDir: dir });
    const b = writeResult(result, { resultsDir: dir });
    const name = a.slice(dir.length + 1);
    expect(name).toMatch(/^nvmf-perf-randrw-q32-4k-\d{8}-\d{6}\.json$/);
    expect(b).toBe(a.replace(/\.json$/, '-2.json'));
    expect(validateResult(JSON.parse(readFileSync(a, 'utf8')))).toEqual([]);
  });

  it('throws one line naming the path when it cannot write', () => {
    const dir = tmp();
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const bad = join(file, 'out.json');
    expect(() => writeResult(result, { jsonPath: bad, resultsDir: dir })).toThrow(/plain-file/);
    try { writeResult(result, { jsonPath: bad, resultsDir: dir }); } catch (e) {
      expect((e as Error).message).not.toContain('\n');
    }
    expect(() => writeResult(result, { resultsDir: join(file, 'results') })).toThrow(/plain-file\/results/);
  });
});

describe('progress line', () => {
  const point: TimelinePoint = {
    t: 3, intervalSec: 1, iops: 212345, readIops: 212345, writeIops: 0, mibps: 829.4727, avgLatUs: 150.2149,
    busyPct: [99.4, 98.2], cpuPct: [99, 97],
  };

  it('formats a run line', () => {
    expect(formatProgressLine(point, 'run', 3, 10)).toBe('[  3/10 s] 212,345 IOPS  829.47 MiB/s  avg 150.21 us  busy w0 99% w1 98%');
  });

  it('shows the read/write split and the warm-up marker', () => {
    const mixed = { ...point, readIops: 148641.5, writeIops: 63703.5 };
    expect(formatProgressLine(mixed, 'warmup', 1, 12)).toBe(
      '[  1/12 s] warmup 212,345 IOPS (r 70% w 30%)  829.47 MiB/s  avg 150.21 us  busy w0 99% w1 98%');
    expect(formatProgressLine({ ...point, targetCpuCores: 0.974 }, 'run', 120, 1200))
      .toBe('[ 120/1200 s] 212,345 IOPS  829.47 MiB/s  avg 150.21 us  busy w0 99% w1 98%  target 0.97 cores');
  });

  class Sink {
    out = '';
    constructor(public isTTY: boolean, public columns?: number) {}
    write(chunk: string): boolean { this.out += chunk; return true; }
  }

  it('overwrites in place on a TTY and ends with a newline', () => {
    const sink = new Sink(true, 200);
    const p = new ProgressPrinter(sink, true);
    p.line('one');
    p.line('two');
    p.done();
    p.done(); // idempotent
    expect(sink.out).toBe('\r\x1b[2Kone\r\x1b[2Ktwo\n');
  });

  it('truncates to the terminal width so the line never wraps', () => {
    const sink = new Sink(true, 10);
    const p = new ProgressPrinter(sink, true);
    p.line('0123456789abcdef');
    expect(sink.out).toBe('\r\x1b[2K012345678');
  });

  it('prints plain lines when not a TTY, and nothing when disabled', () => {
    const plain = new Sink(false);
    const p = new ProgressPrinter(plain, true);
    p.line('one');
    p.line('two');
    p.done();
    expect(plain.out).toBe('one\ntwo\n');
    const off = new Sink(true, 80);
    const q = new ProgressPrinter(off, false);
    q.line('one');
    q.done();
    expect(off.out).toBe('');
  });
});
