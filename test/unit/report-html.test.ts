// HTML report charts from committed fixture results made by the tool (test/fixtures/report/: a randrw run,
// three randread runs at q 1/8/32, a --compare-modes run with --rate-sweep 25,75). Each chart: valid SVG
// with its axis titles and marks, and a table whose numbers are the JSON's.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import type { PerfResult } from '../../src/report/result-types.js';
import { comparisonSections, runSections, runsSections } from '../../src/report/html/build-report.js';
import { totalsTable } from '../../src/report/html/charts/totals-table.js';
import { runHeader } from '../../src/report/html/header.js';
import { readReportInput } from '../../src/report/html/report-input.js';
import type { LoadedComparison } from '../../src/report/html/comparison-doc.js';
import type { Cell, ChartSection, DataTable } from '../../src/report/html/section.js';
import { renderSvg } from '../../src/report/html/svg-render.js';
import { ninesLabelExpr, ninesOf } from '../../src/report/html/latency-data.js';
import { decodeHistogram, encodeHistogram, mergeEncoded } from '../../src/util/hdr-codec.js';
import { decodeHistogram as engineDecode } from '../../src/engine/latency-histogram.js';

const FIX = 'test/fixtures/report';
const load = (p: string): PerfResult => JSON.parse(readFileSync(p, 'utf8')) as PerfResult;
const run = { label: 'run-randrw', result: load(`${FIX}/run-randrw.json`) };
const runs = [1, 8, 32].map((q) => ({ label: `q${q}`, result: load(`${FIX}/runs-randread-q${q}.json`) }));
const cmpFile = readdirSync(`${FIX}/compare-modes`).find((f) => f.startsWith('nvmf-perf-compare-modes-'))!;
const cmpInput = readReportInput(join(FIX, 'compare-modes', cmpFile));
const cmp = (cmpInput as { comparison: LoadedComparison }).comparison;

// ---- SVG checks ---------------------------------------------------------------------------------

function parseSvg(svg: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level: string, msg: string) => { if (level !== 'warning') errors.push(msg); } })
    .parseFromString(svg, 'image/svg+xml') as unknown as Document;
  expect(errors).toEqual([]);
  expect(doc.documentElement.nodeName).toBe('svg');
  return doc;
}

/** Every element whose class list contains `cls`. */
function byClass(doc: Document, cls: string): Element[] {
  const all = Array.from(doc.getElementsByTagName('*') as unknown as ArrayLike<Element>);
  return all.filter((e) => (e.getAttribute('class') ?? '').split(/\s+/).includes(cls));
}

function textsIn(els: Element[]): string[] {
  return els.flatMap((e) => Array.from(e.getElementsByTagName('text') as unknown as ArrayLike<Element>).map((t) => t.textContent ?? ''));
}

/** Axis titles named by the spec's x/y encodings (recursively through concatenations). */
function axisTitles(spec: unknown): string[] {
  const out: string[] = [];
  const walk = (o: unknown): void => {
    if (Array.isArray(o)) { o.forEach(walk); return; }
    if (typeof o !== 'object' || o === null) return;
    const r = o as Record<string, unknown>;
    const enc = r['encoding'] as Record<string, { title?: unknown }> | undefined;
    for (const ch of ['x', 'y']) {
      const t = enc?.[ch]?.title;
      if (typeof t === 'string') out.push(t);
    }
    for (const k of ['hconcat', 'vconcat', 'concat', 'layer']) if (r[k]) walk(r[k]);
  };
  walk(spec);
  return [...new Set(out)];
}

async function checkChart(s: ChartSection, markClasses: string[]): Promise<Document> {
  const svg = await renderSvg(s.spec);
  const doc = parseSvg(svg);
  const titles = textsIn(byClass(doc, 'role-axis-title'));
  expect(axisTitles(s.spec).length, `${s.id}: axis titles in the spec`).toBeGreaterThan(0);
  for (const t of axisTitles(s.spec)) expect(titles, `${s.id}: axis title "${t}"`).toContain(t);
  // Units: every axis title names its unit in parentheses.
  for (const t of axisTitles(s.spec)) expect(t, `${s.id}: unit in "${t}"`).toMatch(/\(.+\)/);
  const marks = markClasses.flatMap((c) => byClass(doc, c)).flatMap((g) => Array.from(g.childNodes as unknown as ArrayLike<Node>));
  expect(marks.length, `${s.id}: marks of ${markClasses.join('/')}`).toBeGreaterThan(0);
  return doc;
}

// ---- table helpers ------------------------------------------------------------------------------

function col(t: DataTable, name: string): Cell[] {
  const i = t.columns.indexOf(name);
  expect(i, `column "${name}" in ${t.columns.join(' | ')}`).toBeGreaterThanOrEqual(0);
  return t.rows.map((r) => r[i]!);
}
const values = (cells: Cell[]): (number | undefined)[] => cells.map((c) => c.value);
const section = (list: ChartSection[], id: string): ChartSection => list.find((s) => s.id === id)!;

// ---- one run ------------------------------------------------------------------------------------

describe('one run (randrw -M 70)', () => {
  const sections = runSections(run);
  const r = run.result;

  it('has the five charts', () => {
    expect(sections.map((s) => s.id)).toEqual(['throughput-timeline', 'worker-throughput', 'latency-percentiles', 'latency-histogram', 'reactor-utilization']);
  });

  it('throughput per second: SVG with axes and lines; the table is the timeline', async () => {
    const s = section(sections, 'throughput-timeline');
    await checkChart(s, ['mark-line', 'mark-symbol']);
    expect(values(col(s.table, 'time (s)'))).toEqual(r.timeline.map((p) => p.t));
    expect(values(col(s.table, 'read IOPS'))).toEqual(r.timeline.map((p) => p.readIops));
    expect(values(col(s.table, 'write IOPS'))).toEqual(r.timeline.map((p) => p.writeIops));
    expect(values(col(s.table, 'total IOPS'))).toEqual(r.timeline.map((p) => p.iops));
    expect(values(col(s.table, 'total MiB/s'))).toEqual(r.timeline.map((p) => p.mibps));
    expect(values(col(s.table, 'read MiB/s'))).toEqual(r.timeline.map((p) => (p.readIops * r.config.ioSize) / 2 ** 20));
    // Shown rounded: 12,345 for 12345.4
    expect(col(s.table, 'total IOPS')[0]!.text).toBe(Math.round(r.timeline[0]!.iops).toLocaleString('en-US'));
  });

  it('throughput per worker: bars; the table is workers[].io and the total', async () => {
    const s = section(sections, 'worker-throughput');
    await checkChart(s, ['mark-rect']);
    expect(values(col(s.table, 'read IOPS'))).toEqual([...r.workers.map((w) => w.io.read.iops), r.total.read.iops]);
    expect(values(col(s.table, 'write MiB/s'))).toEqual([...r.workers.map((w) => w.io.write.mibps), r.total.write.mibps]);
    expect(values(col(s.table, 'total IOPS'))).toEqual([...r.workers.map((w) => w.io.total.iops), r.total.total.iops]);
  });

  it('latency by percentile: nines axis labels, a line per direction; table = the result percentiles', async () => {
    const s = section(sections, 'latency-percentiles');
    const doc = await checkChart(s, ['mark-line']);
    const labels = textsIn(byClass(doc, 'role-axis-label'));
    for (const l of ['50 %', '90 %', '99 %', '99.9 %', '99.99 %']) expect(labels).toContain(l);
    const pct = col(s.table, 'percentile').map((c) => c.text);
    const lat = r.latency;
    for (const [name, list] of [['read (µs)', lat.readPercentiles], ['write (µs)', lat.writePercentiles], ['total (µs)', lat.percentiles]] as const) {
      const cells = col(s.table, name);
      for (const p of [50, 90, 99, 99.9, 99.99]) {
        expect(cells[pct.indexOf(`${p} %`)]!.value, `${name} p${p}`).toBe(list.find((x) => x.percentile === p)!.us);
      }
    }
    const ios = s.table.rows.find((row) => row[0]!.text === 'I/Os')!;
    expect(ios.slice(1).map((c) => c.value)).toEqual([r.total.read.ios, r.total.write.ios, r.total.total.ios]);
  });

  it('latency histogram: bars; the bins add up to every I/O of each direction', async () => {
    const s = section(sections, 'latency-histogram');
    await checkChart(s, ['mark-line', 'mark-rect']);
    const sum = (name: string): number => col(s.table, name).reduce((a, c) => a + (c.value ?? 0), 0);
    expect(sum('read I/Os')).toBe(r.total.read.ios);
    expect(sum('write I/Os')).toBe(r.total.write.ios);
    expect(sum('read %')).toBeCloseTo(100, 6);
  });

  it('reactor utilization: initiator and target side by side; the table is the timeline and the reactor samples', async () => {
    const s = section(sections, 'reactor-utilization');
    const doc = await checkChart(s, ['mark-line']);
    const chartTitles = textsIn(byClass(doc, 'role-title-text'));
    expect(chartTitles).toEqual(expect.arrayContaining(['initiator (nvmf-perf workers)', 'target']));
    const core = r.workers[0]!.core;
    expect(values(col(s.table, `initiator core ${core} reactor busy (%)`))).toEqual(r.timeline.map((p) => p.busyPct[0]));
    expect(values(col(s.table, `initiator core ${core} OS CPU (%)`))).toEqual(r.timeline.map((p) => p.cpuPct[0]));
    expect(values(col(s.table, 'target process (all threads) OS CPU (%)'))).toEqual(r.timeline.map((p) => 100 * p.targetCpuCores!));
    // Target reactor busy: differences of the cumulative samples; the first sample is the base.
    const lcore = r.timeline[0]!.targetReactors![0]!.lcore;
    const expected = r.timeline.map((p, i) => {
      if (i === 0) return undefined;
      const a = r.timeline[i - 1]!.targetReactors![0]!, b = p.targetReactors![0]!;
      return (100 * (b.busy - a.busy)) / (b.busy - a.busy + b.idle - a.idle);
    });
    expect(values(col(s.table, `target core ${lcore} reactor busy (%)`))).toEqual(expected);
  });
});

// ---- several runs -------------------------------------------------------------------------------

describe('three runs (randread q 1, 8, 32)', () => {
  const sections = runsSections(runs);

  it('overlays with a legend naming each run', async () => {
    for (const s of sections) {
      const doc = await checkChart(s, ['mark-line']);
      const legend = textsIn(byClass(doc, 'role-legend-label'));
      expect(legend, s.id).toEqual(expect.arrayContaining(['q1', 'q8', 'q32']));
    }
  });

  it('throughput overlay table = each run\'s timeline', () => {
    const s = section(sections, 'throughput-overlay');
    for (const r of runs) {
      expect(values(col(s.table, `${r.label} IOPS`)).slice(0, r.result.timeline.length)).toEqual(r.result.timeline.map((p) => p.iops));
    }
  });

  it('latency overlay table = each run\'s percentiles', () => {
    const s = section(sections, 'latency-percentiles-overlay');
    const pct = col(s.table, 'percentile').map((c) => c.text);
    for (const r of runs) {
      const cells = col(s.table, `${r.label} (µs)`);
      for (const p of [50, 99, 99.9]) expect(cells[pct.indexOf(`${p} %`)]!.value).toBe(r.result.latency.percentiles.find((x) => x.percentile === p)!.us);
    }
  });

  it('totals table: each run\'s totals and its difference against the first', () => {
    const t = totalsTable(runs);
    expect(t.columns).toEqual(['metric', 'q1', 'q8', 'q8 vs first', 'q32', 'q32 vs first']);
    const row = (name: string): Cell[] => t.rows.find((r) => r[0]!.text === name)!;
    const iops = runs.map((r) => r.result.total.total.iops);
    expect(row('IOPS').map((c) => c.value)).toEqual([undefined, iops[0], iops[1], ((iops[1]! - iops[0]!) / iops[0]!) * 100, iops[2], ((iops[2]! - iops[0]!) / iops[0]!) * 100]);
    const p99 = runs.map((r) => r.result.latency.percentiles.find((p) => p.percentile === 99)!.us);
    expect(row('p99 (µs)')[1]!.value).toBe(p99[0]);
    expect(row('p99 (µs)')[4]!.value).toBe(p99[2]);
    expect(row('target CPU (µs/IO)')[2]!.value).toBe(runs[1]!.result.targetCpu!.cpuUsPerIo);
  });
});

// ---- mode comparison ----------------------------------------------------------------------------

describe('mode comparison with a rate sweep', () => {
  const sections = comparisonSections(cmp);
  const rows = cmp.doc.rows;

  it('reads the comparison and the results it names', () => {
    expect(cmp.results).toHaveLength(cmp.doc.runs.length);
    expect(cmp.doc.runs.length).toBe(6);
  });

  it('poll vs interrupt bars: a bar chart per metric; the table is the comparison\'s full-load rows', async () => {
    const s = section(sections, 'mode-bars');
    const doc = await checkChart(s, ['mark-rect']);
    expect(textsIn(byClass(doc, 'role-legend-label'))).toEqual(expect.arrayContaining(['poll', 'interrupt']));
    const poll = rows.find((r) => r.mode === 'poll' && r.rateIops === 0)!;
    const intr = rows.find((r) => r.mode === 'interrupt' && r.rateIops === 0)!;
    const row = (prefix: string): Cell[] => s.table.rows.find((r) => r[0]!.text.startsWith(prefix))!;
    expect(row('IOPS').slice(1, 3).map((c) => c.value)).toEqual([poll.iops, intr.iops]);
    expect(row('p50 latency').slice(1, 3).map((c) => c.value)).toEqual([poll.p50Us, intr.p50Us]);
    expect(row('p99 latency').slice(1, 3).map((c) => c.value)).toEqual([poll.p99Us, intr.p99Us]);
    expect(row('initiator CPU per I/O').slice(1, 3).map((c) => c.value)).toEqual([poll.initiatorUsPerIo, intr.initiatorUsPerIo]);
    expect(row('target CPU per I/O').slice(1, 3).map((c) => c.value)).toEqual([poll.targetUsPerIo, intr.targetUsPerIo]);
    expect(row('target CPU when idle').slice(1, 3).map((c) => c.value)).toEqual([poll.targetIdleCores * 100, intr.targetIdleCores * 100]);
  });

  it('sweep: CPU per I/O and p99 against offered load per mode; the table is the swept rows', async () => {
    const s = section(sections, 'mode-sweep');
    await checkChart(s, ['mark-line']);
    const swept = rows.filter((r) => r.rateIops > 0).sort((a, b) => a.rateIops - b.rateIops || a.mode.localeCompare(b.mode));
    expect(values(col(s.table, 'offered IOPS'))).toEqual(swept.map((r) => r.rateIops));
    expect(col(s.table, 'mode').map((c) => c.text)).toEqual(swept.map((r) => r.mode));
    expect(values(col(s.table, 'initiator CPU (µs/IO)'))).toEqual(swept.map((r) => r.initiatorUsPerIo));
    expect(values(col(s.table, 'target CPU (µs/IO)'))).toEqual(swept.map((r) => r.targetUsPerIo));
    expect(values(col(s.table, 'p99 (µs)'))).toEqual(swept.map((r) => r.p99Us));
    expect(col(s.table, 'sustained').map((c) => c.text)).toEqual(swept.map((r) => (r.sustained ? 'yes' : 'no')));
  });
});

// ---- pieces -------------------------------------------------------------------------------------

describe('nines axis and the shared HDR codec', () => {
  it('nines: 90 → 1, 99 → 2, 99.9 → 3; labels name the percentile', () => {
    expect(ninesOf(90)).toBeCloseTo(1, 9);
    expect(ninesOf(99.9)).toBeCloseTo(3, 9);
    expect(ninesLabelExpr([50, 99])).toContain("'99 %'");
  });

  it('the engine re-exports the codec the report uses; a histogram survives encode → decode → merge', () => {
    expect(engineDecode).toBe(decodeHistogram);
    const h = decodeHistogram(run.result.latency.readHistogramNs);
    const again = decodeHistogram(encodeHistogram(h));
    expect(again.totalCount).toBe(run.result.total.read.ios);
    const merged = mergeEncoded([run.result.latency.readHistogramNs, run.result.latency.writeHistogramNs]);
    expect(merged.totalCount).toBe(run.result.total.total.ios);
  });
});

describe('header', () => {
  it('names the command, host, target and configuration, and warns of interrupted, partial and unsustained runs', () => {
    const r = run.result;
    const ok = runHeader(r, 'run-randrw');
    expect(ok).toContain('nvmf-perf -q 16 -s 4096 -w randrw -M 70 -t 3 -L --no-progress --json test/fixtures/report/run-randrw.json');
    expect(ok).toContain(r.host.hostname);
    expect(ok).toContain(r.targets[0]!.subnqn);
    expect(ok).toContain('randrw (70 % reads) · 4,096 B I/O · queue depth 16');
    expect(ok).not.toContain('class="warnings"');
    const interrupted = runHeader({ ...r, status: 'interrupted', durationSec: 1.5 }, 'x');
    expect(interrupted).toContain('⚠ interrupted: 1.5 s of 3 s measured');
    const partial = runHeader({ ...r, status: 'partial', error: 'connection reset by target' }, 'x');
    expect(partial).toContain('⚠ partial: the run ended early (connection reset by target)');
    const slow = runHeader({ ...r, rate: { requestedIops: 100000, achievedIops: 59637.4, sustained: false } }, 'x');
    expect(slow).toContain('⚠ rate not sustained: 59637 of 100000 IOPS requested');
  });
});
