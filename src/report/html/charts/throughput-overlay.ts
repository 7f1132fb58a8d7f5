// Several runs: total IOPS and MiB/s per second, a line per run.
import { num, text } from '../format.js';
import type { LabeledResult } from '../labeled-result.js';
import type { Cell, ChartSection } from '../section.js';
import { CHART_CONFIG, FULL_WIDTH, PALETTE } from '../theme.js';

export function throughputOverlayChart(runs: LabeledResult[]): ChartSection {
  const values = runs.flatMap((r) => r.result.timeline.map((p) => ({ run: r.label, t: p.t, iops: p.iops, mibps: p.mibps })));
  const n = Math.max(0, ...runs.map((r) => r.result.timeline.length));
  const rows: Cell[][] = [];
  for (let i = 0; i < n; i++) {
    rows.push([text(String(i + 1)), ...runs.flatMap((r) => {
      const p = r.result.timeline[i];
      return p ? [num(p.t, 1), num(p.iops), num(p.mibps, 1)] : [text('—'), text('—'), text('—')];
    })]);
  }
  const x = { field: 't', type: 'quantitative' as const, title: 'time since start of measurement (s)', scale: { zero: true } };
  const color = { field: 'run', type: 'nominal' as const, title: 'run', scale: { domain: runs.map((r) => r.label), range: PALETTE } };
  return {
    id: 'throughput-overlay',
    title: 'Throughput per second, all runs',
    note: 'Reads and writes together; each point is one interval of a run\'s timeline.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: CHART_CONFIG,
      data: { values },
      vconcat: [
        { width: FULL_WIDTH, height: 180, mark: { type: 'line', point: true },
          encoding: { x, y: { field: 'iops', type: 'quantitative', title: 'IOPS (I/O per second)' }, color } },
        { width: FULL_WIDTH, height: 140, mark: { type: 'line', point: true },
          encoding: { x, y: { field: 'mibps', type: 'quantitative', title: 'throughput (MiB/s)' }, color } },
      ],
    },
    table: { columns: ['interval', ...runs.flatMap((r) => [`${r.label} t (s)`, `${r.label} IOPS`, `${r.label} MiB/s`])], rows },
  };
}
