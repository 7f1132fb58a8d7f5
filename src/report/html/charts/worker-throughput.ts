// IOPS and MiB/s of each worker (core) over the whole run, read and write apart. The result keeps the
// per-second timeline for the run in total only, so per worker this is the measured total.
import type { PerfResult } from '../../result-types.js';
import { num } from '../format.js';
import { directionsOf } from '../labeled-result.js';
import type { Cell, ChartSection } from '../section.js';
import { CHART_CONFIG, directionScale, HALF_WIDTH } from '../theme.js';

export function workerThroughputChart(r: PerfResult): ChartSection {
  const dirs = directionsOf(r.config.rwmixread);
  const values: { worker: string; direction: string; iops: number; mibps: number }[] = [];
  const rows: Cell[][] = [];
  for (const w of r.workers) {
    const name = `worker ${w.index} (core ${w.core})`;
    const row: Cell[] = [{ text: name }];
    for (const d of dirs) {
      values.push({ worker: name, direction: d, iops: w.io[d].iops, mibps: w.io[d].mibps });
      row.push(num(w.io[d].iops), num(w.io[d].mibps, 1));
    }
    row.push(num(w.io.total.iops), num(w.io.total.mibps, 1));
    rows.push(row);
  }
  const totalRow: Cell[] = [{ text: 'all workers' }];
  for (const d of dirs) totalRow.push(num(r.total[d].iops), num(r.total[d].mibps, 1));
  totalRow.push(num(r.total.total.iops), num(r.total.total.mibps, 1));
  rows.push(totalRow);
  const columns = ['worker'];
  for (const d of dirs) columns.push(`${d} IOPS`, `${d} MiB/s`);
  columns.push('total IOPS', 'total MiB/s');
  const height = Math.max(60, 28 * r.workers.length);
  const y = { field: 'worker', type: 'nominal' as const, title: 'worker (core)', sort: null, axis: { labelLimit: 220 } };
  const color = { field: 'direction', type: 'nominal' as const, title: 'direction', scale: directionScale(dirs) };
  return {
    id: 'worker-throughput',
    title: 'Throughput per worker',
    note: 'Whole measured phase per worker; read and write stacked.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: CHART_CONFIG,
      data: { values },
      hconcat: [
        { width: HALF_WIDTH, height, mark: 'bar',
          encoding: { y, x: { field: 'iops', type: 'quantitative', stack: 'zero', title: 'IOPS (I/O per second)' }, color } },
        { width: HALF_WIDTH, height, mark: 'bar',
          encoding: { y, x: { field: 'mibps', type: 'quantitative', stack: 'zero', title: 'throughput (MiB/s)' }, color } },
      ],
    },
    table: { columns, rows },
  };
}
