// Several runs: their totals side by side with the difference of each against the first run.
import { diffPct, num, text, usDecimals } from '../format.js';
import type { LabeledResult } from '../labeled-result.js';
import { runFigures, type RunFigures } from '../run-figures.js';
import type { Cell, DataTable } from '../section.js';

const METRICS: { key: keyof RunFigures; name: string; decimals: (v: number) => number }[] = [
  { key: 'iops', name: 'IOPS', decimals: () => 0 },
  { key: 'mibps', name: 'MiB/s', decimals: () => 1 },
  { key: 'avgUs', name: 'avg latency (µs)', decimals: usDecimals },
  { key: 'p50Us', name: 'p50 (µs)', decimals: usDecimals },
  { key: 'p99Us', name: 'p99 (µs)', decimals: usDecimals },
  { key: 'p999Us', name: 'p99.9 (µs)', decimals: usDecimals },
  { key: 'initiatorBusyPct', name: 'initiator busy (%)', decimals: () => 1 },
  { key: 'initiatorUsPerIo', name: 'initiator CPU (µs/IO)', decimals: () => 2 },
  { key: 'targetUsPerIo', name: 'target CPU (µs/IO)', decimals: () => 2 },
];

/** Rows: metrics; columns: each run's value and, after the first run, its difference against the first. */
export function totalsTable(runs: LabeledResult[]): DataTable {
  const figs = runs.map((r) => runFigures(r.result));
  const columns = ['metric', runs[0]?.label ?? ''];
  for (const r of runs.slice(1)) columns.push(r.label, `${r.label} vs first`);
  const rows: Cell[][] = METRICS.map((m) => {
    const row: Cell[] = [text(m.name)];
    const ref = figs[0]?.[m.key];
    figs.forEach((f, i) => {
      const v = f[m.key];
      row.push(v === undefined ? text('—') : num(v, m.decimals(v)));
      if (i > 0) row.push(v === undefined || ref === undefined ? text('—') : diffPct(v, ref));
    });
    return row;
  });
  return { columns, rows };
}
