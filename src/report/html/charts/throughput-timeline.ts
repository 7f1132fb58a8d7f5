// IOPS and MiB/s per second of the run, read and write apart and in total, from the result's timeline.
import type { PerfResult } from '../../result-types.js';
import { MIB, num, text } from '../format.js';
import { directionsOf } from '../labeled-result.js';
import type { Cell, ChartSection } from '../section.js';
import { CHART_CONFIG, directionScale, FULL_WIDTH } from '../theme.js';

interface Point { t: number; direction: string; iops: number; mibps: number }

export function throughputTimelineChart(r: PerfResult): ChartSection {
  const dirs = directionsOf(r.config.rwmixread);
  const size = r.config.ioSize;
  const points: Point[] = [];
  const rows: Cell[][] = [];
  for (const p of r.timeline) {
    const read = { iops: p.readIops, mibps: (p.readIops * size) / MIB };
    const write = { iops: p.writeIops, mibps: (p.writeIops * size) / MIB };
    const row: Cell[] = [num(p.t, 1)];
    for (const d of dirs) {
      const v = d === 'read' ? read : write;
      points.push({ t: p.t, direction: d, ...v });
      row.push(num(v.iops), num(v.mibps, 1));
    }
    if (dirs.length > 1) points.push({ t: p.t, direction: 'total', iops: p.iops, mibps: p.mibps });
    row.push(num(p.iops), num(p.mibps, 1));
    rows.push(row);
  }
  const columns = ['time (s)'];
  for (const d of dirs) columns.push(`${d} IOPS`, `${d} MiB/s`);
  columns.push('total IOPS', 'total MiB/s');
  const x = { field: 't', type: 'quantitative' as const, title: 'time since start of measurement (s)', scale: { zero: true } };
  const color = { field: 'direction', type: 'nominal' as const, title: 'direction', scale: directionScale(dirs.length > 1 ? [...dirs, 'total'] : dirs) };
  return {
    id: 'throughput-timeline',
    title: 'Throughput per second',
    note: 'Each point is one interval of the timeline; MiB/s of reads and writes is their IOPS × the I/O size.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: CHART_CONFIG,
      data: { values: points },
      vconcat: [
        { width: FULL_WIDTH, height: 180, mark: { type: 'line', point: true },
          encoding: { x, y: { field: 'iops', type: 'quantitative', title: 'IOPS (I/O per second)' }, color } },
        { width: FULL_WIDTH, height: 140, mark: { type: 'line', point: true },
          encoding: { x, y: { field: 'mibps', type: 'quantitative', title: 'throughput (MiB/s)' }, color } },
      ],
    },
    table: { columns, rows: rows.length ? rows : [[text('no timeline points')]] },
  };
}
