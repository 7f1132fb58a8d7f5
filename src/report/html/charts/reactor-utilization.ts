// Reactor utilization per core over time, initiator and target side by side: busy % (busy / (busy +
// idle), SPDK's definition) as solid lines, OS CPU % of the thread or process as dashed lines where known.
// Initiator: the timeline's per-worker busyPct/cpuPct. Target: the cumulative busy/idle of each
// reactor sampled over RPC (targetReactors), differenced between samples; the first sample is the base.
import type { PerfResult } from '../../result-types.js';
import { num, text } from '../format.js';
import type { LabeledResult } from '../labeled-result.js';
import type { Cell, ChartSection } from '../section.js';
import { CHART_CONFIG, HALF_WIDTH, PALETTE } from '../theme.js';
import type { SubSpec } from '../svg-render.js';

export interface UtilPoint { t: number; side: 'initiator' | 'target'; series: string; measure: 'reactor busy' | 'OS CPU'; pct: number }

/** Per-interval busy % of each target reactor from cumulative samples (none for the first sample). */
export function targetReactorBusy(r: PerfResult): { t: number; lcore: number; pct: number }[] {
  const out: { t: number; lcore: number; pct: number }[] = [];
  const prev = new Map<number, { busy: number; idle: number }>();
  for (const p of r.timeline) {
    for (const s of p.targetReactors ?? []) {
      const before = prev.get(s.lcore);
      if (before) {
        const db = s.busy - before.busy, di = s.idle - before.idle;
        if (db + di > 0) out.push({ t: p.t, lcore: s.lcore, pct: (100 * db) / (db + di) });
      }
      prev.set(s.lcore, { busy: s.busy, idle: s.idle });
    }
  }
  return out;
}

export function utilizationPoints(r: PerfResult): UtilPoint[] {
  const pts: UtilPoint[] = [];
  for (const p of r.timeline) {
    r.workers.forEach((w, i) => {
      const busy = p.busyPct[i], cpu = p.cpuPct[i];
      if (busy !== undefined) pts.push({ t: p.t, side: 'initiator', series: `core ${w.core}`, measure: 'reactor busy', pct: busy });
      if (cpu !== undefined) pts.push({ t: p.t, side: 'initiator', series: `core ${w.core}`, measure: 'OS CPU', pct: cpu });
    });
    if (p.targetCpuCores !== undefined) {
      pts.push({ t: p.t, side: 'target', series: 'process (all threads)', measure: 'OS CPU', pct: 100 * p.targetCpuCores });
    }
  }
  for (const b of targetReactorBusy(r)) pts.push({ t: b.t, side: 'target', series: `core ${b.lcore}`, measure: 'reactor busy', pct: b.pct });
  return pts;
}

function sideChart(side: 'initiator' | 'target', title: string, domain: string[], maxT: number): SubSpec {
  return {
    width: HALF_WIDTH,
    height: 220,
    title,
    transform: [{ filter: `datum.side === '${side}'` }],
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'time since start of measurement (s)', scale: { domain: [0, maxT] } },
      y: { field: 'pct', type: 'quantitative', title: 'utilization (% of one core)', scale: { domain: [0, 100], clamp: false } },
      color: { field: 'series', type: 'nominal', title: 'core', scale: { domain, range: PALETTE } },
      strokeDash: { field: 'measure', type: 'nominal', title: 'measure',
        scale: { domain: ['reactor busy', 'OS CPU'], range: [[1, 0], [5, 3]] }, legend: { symbolType: 'stroke' } },
    },
  };
}

export function reactorUtilizationChart(lr: LabeledResult): ChartSection {
  const r = lr.result;
  const pts = utilizationPoints(r);
  const domain = [...new Set(pts.map((p) => p.series))].sort();
  const maxT = Math.max(1, ...r.timeline.map((p) => p.t));
  const cols = [...new Set(pts.map((p) => `${p.side} ${p.series} ${p.measure}`))];
  const rows: Cell[][] = r.timeline.map((p) => [num(p.t, 1), ...cols.map((c) => {
    const hit = pts.find((q) => q.t === p.t && `${q.side} ${q.series} ${q.measure}` === c);
    return hit ? num(hit.pct, 1) : text('—');
  })]);
  const hasTarget = pts.some((p) => p.side === 'target');
  return {
    id: 'reactor-utilization',
    title: 'Reactor utilization per core',
    note: 'Solid: reactor busy % (busy / (busy + idle), SPDK\'s definition). Dashed: OS CPU % of the worker thread, '
      + 'or of the whole target process. Target reactor busy % needs --target-rpc or a launched target, and starts '
      + 'with the second sample (the first is the base of the differences).',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: CHART_CONFIG,
      data: { values: pts },
      hconcat: [sideChart('initiator', 'initiator (nvmf-perf workers)', domain, maxT),
        ...(hasTarget ? [sideChart('target', 'target', domain, maxT)] : [])],
      resolve: { scale: { color: 'shared' } },
    },
    table: { columns: ['time (s)', ...cols.map((c) => `${c} (%)`)], rows },
  };
}
