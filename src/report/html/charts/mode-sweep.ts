// Mode comparison with a rate sweep: CPU per I/O (each side) and p99 latency against the offered load, a
// line per mode, so the load where interrupt mode stops being cheaper (the crossover) is visible.
import { num, text, usDecimals } from '../format.js';
import type { ComparisonRow } from '../comparison-doc.js';
import type { Cell, ChartSection } from '../section.js';
import { CHART_CONFIG, HALF_WIDTH, MODE_SCALE, variantOf } from '../theme.js';

export function modeSweepChart(rows: ComparisonRow[]): ChartSection | undefined {
  const swept = rows.filter((r) => r.rateIops > 0).sort((a, b) => a.rateIops - b.rateIops || variantOf(a).localeCompare(variantOf(b)));
  if (swept.length === 0) return undefined;
  const cpu = swept.flatMap((r) => [
    { offered: r.rateIops, mode: variantOf(r), side: 'initiator', v: r.initiatorUsPerIo },
    ...(r.targetUsPerIo >= 0 ? [{ offered: r.rateIops, mode: variantOf(r), side: 'target', v: r.targetUsPerIo }] : []),
  ]);
  const lat = swept.map((r) => ({ offered: r.rateIops, mode: variantOf(r), p99: r.p99Us }));
  const x = { field: 'offered', type: 'quantitative' as const, title: 'offered load (IOPS requested)', scale: { zero: true } };
  const color = { field: 'mode', type: 'nominal' as const, title: 'mode', scale: MODE_SCALE };
  const table: Cell[][] = swept.map((r) => [
    num(r.rateIops), text(variantOf(r)), num(r.iops), text(r.sustained ? 'yes' : 'no'),
    num(r.initiatorUsPerIo, 2), r.targetUsPerIo >= 0 ? num(r.targetUsPerIo, 2) : text('—'), num(r.p99Us, usDecimals(r.p99Us)),
  ]);
  return {
    id: 'mode-sweep',
    title: 'CPU per I/O and p99 latency against offered load',
    note: 'Open-loop runs at each load level of the sweep (percent of the poll-mode maximum). Solid: initiator, dashed: '
      + 'target. Where the interrupt line crosses the poll line, the cheaper mode changes.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: CHART_CONFIG,
      hconcat: [
        { width: HALF_WIDTH, height: 240, title: 'CPU per I/O', data: { values: cpu }, mark: { type: 'line', point: true },
          encoding: { x, y: { field: 'v', type: 'quantitative', title: 'CPU time per I/O (µs/IO)' }, color,
            strokeDash: { field: 'side', type: 'nominal', title: 'side', scale: { domain: ['initiator', 'target'], range: [[1, 0], [5, 3]] }, legend: { symbolType: 'stroke' } } } },
        { width: HALF_WIDTH, height: 240, title: 'p99 latency', data: { values: lat }, mark: { type: 'line', point: true },
          encoding: { x, y: { field: 'p99', type: 'quantitative', title: 'p99 latency (µs)' }, color } },
      ],
    },
    table: { columns: ['offered IOPS', 'mode', 'achieved IOPS', 'sustained', 'initiator CPU (µs/IO)', 'target CPU (µs/IO)', 'p99 (µs)'], rows: table },
  };
}
