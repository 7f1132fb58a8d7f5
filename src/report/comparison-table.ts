// Side-by-side table of a mode comparison: per load level, poll vs interrupt.
import Table from 'cli-table3';
import type { ComparisonRow, ModeComparison } from './comparison.js';

const f = (v: number, d = 1): string => (v < 0 ? 'n/a' : v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));

export function formatComparison(c: ModeComparison): string {
  const levels = [...new Set(c.rows.map((r) => r.label))];
  const out: string[] = [];
  for (const level of levels) {
    const at = c.rows.filter((r) => r.label === level);
    const poll = at.find((r) => r.variant === 'poll');
    // Every non-poll variant gets a column and a "vs poll" column.
    const others = at.filter((r) => r.variant !== 'poll');
    const name = (r: ComparisonRow): string => (r.variant === 'adaptive' ? `adaptive (spin ${r.spinUs} us)` : r.variant);
    const head = [`load: ${level}`, 'poll', ...others.map(name), ...others.map((r) => `${r.variant} vs poll`)];
    const t = new Table({ head, style: { head: [], border: [] } });
    const row = (label: string, get: (r: ComparisonRow) => number, d = 1, ratio = true): void => {
      const a = poll ? get(poll) : -1;
      const vals = others.map(get);
      t.push([label, f(a, d), ...vals.map((b) => f(b, d)),
        ...vals.map((b) => (ratio && a > 0 && b >= 0 ? `${((b / a - 1) * 100).toFixed(1)} %` : ''))]);
    };
    row('IOPS', (r) => r.iops, 0);
    row('MiB/s', (r) => r.mibps, 1);
    row('avg latency (us)', (r) => r.avgUs, 2);
    row('p50 latency (us)', (r) => r.p50Us, 2);
    row('p99 latency (us)', (r) => r.p99Us, 2);
    row('p99.9 latency (us)', (r) => r.p999Us, 2);
    row('initiator CPU (cores)', (r) => r.initiatorCores, 3);
    row('initiator reactor busy %', (r) => r.initiatorBusyPct, 1, false);
    row('target CPU (cores)', (r) => r.targetCores, 3);
    row('initiator CPU us/IO', (r) => r.initiatorUsPerIo, 2);
    row('target CPU us/IO', (r) => r.targetUsPerIo, 2);
    row('initiator sleeps/IO', (r) => r.initiatorSleepsPerIo ?? -1, 3, false);
    row('target sleeps/IO', (r) => r.targetSleepsPerIo ?? -1, 3, false);
    row(`target idle CPU (cores, ${c.idleSec} s)`, (r) => r.targetIdleCores, 3);
    const unsustained = at.filter((r) => !r.sustained).map((r) => r.variant);
    out.push(t.toString());
    if (unsustained.length) out.push(`  requested rate NOT sustained in: ${unsustained.join(', ')} mode`);
  }
  return out.join('\n');
}
