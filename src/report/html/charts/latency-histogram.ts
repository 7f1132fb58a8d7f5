// Latency histogram: share of I/Os in log-spaced latency bins (10 per decade), from the HDR histograms.
import { fmt, num } from '../format.js';
import { directionsOf, type LabeledResult } from '../labeled-result.js';
import { decode, logBins, type Bin } from '../latency-data.js';
import type { Cell, ChartSection } from '../section.js';
import { CHART_CONFIG, directionScale, FULL_WIDTH, PALETTE } from '../theme.js';

interface Series { name: string; bins: Bin[]; total: number }

function build(id: string, series: Series[], scale: object, seriesTitle: string, note: string): ChartSection {
  const values = series.flatMap((s) => s.bins.map((b) => ({ series: s.name, fromUs: b.fromUs, toUs: b.toUs,
    midUs: Math.sqrt(b.fromUs * b.toUs), count: b.count, pct: s.total > 0 ? (100 * b.count) / s.total : 0 })));
  const edges = [...new Set(values.map((v) => v.fromUs))].sort((a, b) => a - b);
  const rows: Cell[][] = edges.map((from) => {
    const any = values.find((v) => v.fromUs === from)!;
    const row: Cell[] = [{ text: `${fmt(from, from < 10 ? 2 : from < 100 ? 1 : 0)} – ${fmt(any.toUs, any.toUs < 10 ? 2 : any.toUs < 100 ? 1 : 0)}` }];
    for (const s of series) {
      const b = values.find((v) => v.series === s.name && v.fromUs === from);
      row.push(num(b?.count ?? 0), num(b?.pct ?? 0, 3));
    }
    return row;
  });
  const overlay = series.length > 1;
  return {
    id,
    title: 'Latency histogram',
    note,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: CHART_CONFIG,
      width: FULL_WIDTH,
      height: 200,
      data: { values },
      mark: overlay ? { type: 'line', interpolate: 'step', point: true } : { type: 'rect', opacity: 0.85 },
      encoding: {
        x: overlay ? { field: 'midUs', type: 'quantitative', title: 'latency (µs, log scale)', scale: { type: 'log' } }
          : { field: 'fromUs', type: 'quantitative', title: 'latency (µs, log scale)', scale: { type: 'log' } },
        ...(overlay ? {} : { x2: { field: 'toUs' }, y2: { datum: 0 } }),
        y: { field: 'pct', type: 'quantitative', title: 'share of I/Os (%)' },
        color: { field: 'series', type: 'nominal', title: seriesTitle, scale },
      },
    },
    table: { columns: ['latency bin (µs)', ...series.flatMap((s) => [`${s.name} I/Os`, `${s.name} %`])], rows },
  };
}

export function latencyHistogramChart(r: LabeledResult): ChartSection {
  const lat = r.result.latency;
  const series: Series[] = [];
  for (const d of directionsOf(r.result.config.rwmixread)) {
    const h = decode(d === 'read' ? lat.readHistogramNs : lat.writeHistogramNs);
    if (h) series.push({ name: d, bins: logBins(h), total: h.totalCount });
  }
  return build('latency-histogram', series, directionScale(series.map((x) => x.name as 'read' | 'write')), 'direction',
    'Share of each direction\'s I/Os per bin; 10 bins per factor of ten in latency.');
}

export function latencyHistogramOverlay(runs: LabeledResult[]): ChartSection {
  const series: Series[] = [];
  for (const r of runs) {
    const h = decode(r.result.latency.histogramNs);
    if (h) series.push({ name: r.label, bins: logBins(h), total: h.totalCount });
  }
  return build('latency-histogram-overlay', series, { domain: series.map((s) => s.name), range: PALETTE }, 'run',
    'Share of each run\'s I/Os per bin (10 bins per factor of ten); a line per run.');
}
