// Latency against percentile on a "nines" axis (50 %, 90 %, 99 %, 99.9 % … evenly spaced, as
// HdrHistogram's plotter draws it), from the HDR histograms in the result: read, write and all I/Os of
// one run, or all I/Os of several runs overlaid.
import { fmt, num, text, usDecimals } from '../format.js';
import { directionsOf, type LabeledResult } from '../labeled-result.js';
import { decode, NINES_TICKS, ninesCurve, ninesLabelExpr, ninesOf, percentileUs } from '../latency-data.js';
import type { Cell, ChartSection } from '../section.js';
import { CHART_CONFIG, directionScale, FULL_WIDTH, PALETTE } from '../theme.js';
import type { Histogram } from '../../../util/hdr-codec.js';

interface Series { name: string; h: Histogram }

function build(id: string, series: Series[], color: object, seriesTitle: string, note: string): ChartSection {
  const top = Math.max(2, ...series.map((s) => Math.min(6, Math.ceil(Math.log10(s.h.totalCount)))));
  const ticks = NINES_TICKS.filter((p) => ninesOf(p) <= top + 1e-9);
  const values = series.flatMap((s) => ninesCurve(s.h, top).map((p) => ({ ...p, series: s.name })));
  const rows: Cell[][] = ticks.map((p) => [text(`${p} %`), ...series.map((s) => {
    const us = percentileUs(s.h, p);
    return num(us, usDecimals(us));
  })]);
  rows.push([text('max'), ...series.map((s) => num(s.h.maxValue / 1000, usDecimals(s.h.maxValue / 1000)))]);
  rows.push([text('I/Os'), ...series.map((s) => num(s.h.totalCount))]);
  return {
    id,
    title: 'Latency by percentile',
    note,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: CHART_CONFIG,
      width: FULL_WIDTH,
      height: 260,
      data: { values },
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 'nines', type: 'quantitative', title: 'percentile (nines scale: each step is ten times rarer)',
          scale: { domain: [0, top] },
          axis: { values: ticks.map(ninesOf), labelExpr: ninesLabelExpr(ticks) } },
        y: { field: 'us', type: 'quantitative', title: 'latency (µs, log scale)', scale: { type: 'log' } },
        color: { field: 'series', type: 'nominal', title: seriesTitle, ...color },
      },
    },
    table: { columns: ['percentile', ...series.map((s) => `${s.name} (µs)`)], rows },
  };
}

export function latencyPercentileChart(r: LabeledResult): ChartSection {
  const lat = r.result.latency;
  const series: Series[] = [];
  const dirs = directionsOf(r.result.config.rwmixread);
  for (const d of dirs) {
    const h = decode(d === 'read' ? lat.readHistogramNs : lat.writeHistogramNs);
    if (h) series.push({ name: d, h });
  }
  const all = decode(lat.histogramNs);
  if (all && dirs.length > 1) series.push({ name: 'total', h: all });
  return build('latency-percentiles', series, { scale: directionScale(series.map((x) => x.name as 'read' | 'write' | 'total')) }, 'direction',
    `From the HDR histogram of every measured I/O (${fmt(all?.totalCount ?? 0)} I/Os); latency counts from submission `
    + '(from the scheduled time in open loop) to completion.');
}

/** `colors`: one per run (default: the run palette). */
export function latencyPercentileOverlay(runs: LabeledResult[], colors: string[] = PALETTE): ChartSection {
  const series: Series[] = [];
  for (const r of runs) {
    const h = decode(r.result.latency.histogramNs);
    if (h) series.push({ name: r.label, h });
  }
  return build('latency-percentiles-overlay', series, { scale: { domain: series.map((s) => s.name), range: colors } }, 'run',
    'All I/Os of each run, from its HDR histogram.');
}
