// Several runs: initiator and target reactor busy % per second (mean over the side's cores), a line per run.
import { num, text } from '../format.js';
import type { LabeledResult } from '../labeled-result.js';
import type { Cell, ChartSection } from '../section.js';
import { CHART_CONFIG, HALF_WIDTH, PALETTE } from '../theme.js';
import type { SubSpec } from '../svg-render.js';
import { targetReactorBusy } from './reactor-utilization.js';

interface Pt { run: string; side: 'initiator' | 'target'; t: number; pct: number }

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** `colors`: one per run (default: the run palette). */
export function utilizationOverlayChart(runs: LabeledResult[], colors: string[] = PALETTE): ChartSection {
  const pts: Pt[] = [];
  for (const r of runs) {
    for (const p of r.result.timeline) if (p.busyPct.length) pts.push({ run: r.label, side: 'initiator', t: p.t, pct: mean(p.busyPct) });
    const byT = new Map<number, number[]>();
    for (const b of targetReactorBusy(r.result)) byT.set(b.t, [...(byT.get(b.t) ?? []), b.pct]);
    for (const [t, v] of byT) pts.push({ run: r.label, side: 'target', t, pct: mean(v) });
  }
  const rows: Cell[][] = pts.map((p) => [text(p.run), text(p.side), num(p.t, 1), num(p.pct, 1)]);
  const color = { field: 'run', type: 'nominal' as const, title: 'run', scale: { domain: runs.map((r) => r.label), range: colors } };
  const side = (s: string, title: string): SubSpec => ({
    width: HALF_WIDTH, height: 200, title, transform: [{ filter: `datum.side === '${s}'` }], mark: { type: 'line', point: true },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'time since start of measurement (s)', scale: { zero: true } },
      y: { field: 'pct', type: 'quantitative', title: 'reactor busy (%, mean of cores)', scale: { domain: [0, 100] } },
      color,
    },
  });
  return {
    id: 'utilization-overlay',
    title: 'Reactor utilization, all runs',
    note: 'Mean reactor busy % over each side\'s cores per interval; target values need its reactors sampled over RPC.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: CHART_CONFIG,
      data: { values: pts },
      hconcat: [side('initiator', 'initiator'), side('target', 'target')],
    },
    table: { columns: ['run', 'side', 'time (s)', 'busy (%)'], rows },
  };
}
