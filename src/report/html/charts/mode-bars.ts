// Mode comparison at full load: poll vs interrupt bars for IOPS, p50/p99 latency, CPU per I/O on each
// side and the target's CPU when idle.
import { fmt, num, text, usDecimals } from '../format.js';
import type { ComparisonRow } from '../comparison-doc.js';
import type { Cell, ChartSection } from '../section.js';
import { CHART_CONFIG, MODE_SCALE, variantOf } from '../theme.js';

interface Metric { name: string; unit: string; value: (r: ComparisonRow) => number; decimals: (v: number) => number }

/** Negative values in the comparison mean "not known". */
const known = (v: number): number => (v < 0 ? Number.NaN : v);

export const MODE_METRICS: Metric[] = [
  { name: 'IOPS', unit: 'I/O per second', value: (r) => r.iops, decimals: () => 0 },
  { name: 'p50 latency', unit: 'µs', value: (r) => r.p50Us, decimals: usDecimals },
  { name: 'p99 latency', unit: 'µs', value: (r) => r.p99Us, decimals: usDecimals },
  { name: 'initiator CPU per I/O', unit: 'µs/IO', value: (r) => r.initiatorUsPerIo, decimals: () => 2 },
  { name: 'target CPU per I/O', unit: 'µs/IO', value: (r) => known(r.targetUsPerIo), decimals: () => 2 },
  { name: 'target CPU when idle', unit: '% of one core', value: (r) => known(r.targetIdleCores) * 100, decimals: () => 1 },
];

export function modeBarsChart(rows: ComparisonRow[]): ChartSection {
  const full = rows.filter((r) => r.rateIops === 0);
  const poll = full.find((r) => variantOf(r) === 'poll');
  const others = (['interrupt', 'adaptive'] as const).map((v) => ({ v, row: full.find((r) => variantOf(r) === v) }))
    .filter((o) => o.row !== undefined);
  const values = full.flatMap((r) => MODE_METRICS.map((m) => ({ metric: m.name, mode: variantOf(r), v: m.value(r) })))
    .filter((x) => Number.isFinite(x.v));
  const table: Cell[][] = MODE_METRICS.map((m) => {
    const cell = (r: ComparisonRow | undefined): Cell => {
      const v = r ? m.value(r) : Number.NaN;
      return Number.isFinite(v) ? num(v, m.decimals(v)) : text('—');
    };
    const p = poll ? m.value(poll) : Number.NaN;
    const ratio = (row: ComparisonRow | undefined): Cell => {
      const i = row ? m.value(row) : Number.NaN;
      return Number.isFinite(p) && Number.isFinite(i) && p !== 0 ? { text: `× ${fmt(i / p, 2)}`, value: i / p } : text('—');
    };
    return [text(`${m.name} (${m.unit})`), cell(poll), ...others.map((o) => cell(o.row)), ...others.map((o) => ratio(o.row))];
  });
  return {
    id: 'mode-bars',
    title: others.length > 1 ? 'Poll vs interrupt vs adaptive at full load' : 'Poll vs interrupt at full load',
    note: 'The same closed-loop workload in each mode (initiator and launched target switched together); idle CPU is '
      + 'the target process\'s CPU in the idle period after the run.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: CHART_CONFIG,
      data: { values },
      columns: 3,
      concat: MODE_METRICS.map((m) => ({
        width: 250,
        height: 120,
        title: m.name,
        transform: [{ filter: { field: 'metric', equal: m.name } }],
        mark: 'bar',
        encoding: {
          y: { field: 'mode', type: 'nominal', title: null, sort: ['poll', 'interrupt', 'adaptive'] },
          x: { field: 'v', type: 'quantitative', title: `${m.name} (${m.unit})` },
          color: { field: 'mode', type: 'nominal', title: 'mode', scale: MODE_SCALE },
        },
      })),
    },
    table: { columns: ['metric', 'poll', ...others.map((o) => o.v), ...others.map((o) => `${o.v} / poll`)], rows: table },
  };
}
