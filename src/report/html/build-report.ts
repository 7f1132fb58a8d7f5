// Assembles a report page: one run, several runs overlaid, or a mode comparison with its runs.
import type { PerfResult } from '../result-types.js';
import { latencyHistogramChart, latencyHistogramOverlay } from './charts/latency-histogram.js';
import { latencyPercentileChart, latencyPercentileOverlay } from './charts/latency-percentiles.js';
import { modeBarsChart } from './charts/mode-bars.js';
import { modeSweepChart } from './charts/mode-sweep.js';
import { reactorUtilizationChart } from './charts/reactor-utilization.js';
import { throughputOverlayChart } from './charts/throughput-overlay.js';
import { throughputTimelineChart } from './charts/throughput-timeline.js';
import { totalsTable } from './charts/totals-table.js';
import { utilizationOverlayChart } from './charts/utilization-overlay.js';
import { workerThroughputChart } from './charts/worker-throughput.js';
import type { LoadedComparison } from './comparison-doc.js';
import { esc } from './escape.js';
import { commandText, configText, runHeader, targetsText, warningsHtml } from './header.js';
import type { LabeledResult } from './labeled-result.js';
import { pageHtml, type RenderedSection } from './page.js';
import { runWarnings } from './run-figures.js';
import type { ChartSection } from './section.js';
import { renderSvg } from './svg-render.js';
import { COLORS, variantOf } from './theme.js';
import { TOOL_VERSION } from '../../version.js';

/** The chart sections of each kind of report, before rendering (tests check these against the JSON). */
export function runSections(r: LabeledResult): ChartSection[] {
  return [throughputTimelineChart(r.result), workerThroughputChart(r.result), latencyPercentileChart(r),
    latencyHistogramChart(r), reactorUtilizationChart(r)];
}

export function runsSections(runs: LabeledResult[]): ChartSection[] {
  return [throughputOverlayChart(runs), latencyPercentileOverlay(runs), latencyHistogramOverlay(runs), utilizationOverlayChart(runs)];
}

export function comparisonSections(c: LoadedComparison): ChartSection[] {
  const sweep = modeSweepChart(c.doc.rows);
  return [modeBarsChart(c.doc.rows), ...(sweep ? [sweep] : [])];
}

async function render(sections: ChartSection[]): Promise<RenderedSection[]> {
  const out: RenderedSection[] = [];
  for (const s of sections) out.push({ id: s.id, title: s.title, note: s.note, svg: await renderSvg(s.spec), table: s.table });
  return out;
}

const footer = (): string => `Made by nvmf-perf ${TOOL_VERSION}. Self-contained: no scripts, nothing loaded from the network.`;

export async function runReportHtml(r: LabeledResult): Promise<string> {
  return pageHtml(`nvmf-perf: ${r.label}`, runHeader(r.result, r.label), await render(runSections(r)), footer());
}

export async function runsReportHtml(runs: LabeledResult[]): Promise<string> {
  const warnings = runs.flatMap((r) => runWarnings(r.result).map((w) => `${r.label}: ${w}`));
  const header = `<header>
<h1>nvmf-perf report: ${runs.length} runs</h1>
${warningsHtml(warnings)}
<dl>${runs.map((r) => `<dt>${esc(r.label)}</dt><dd>${esc(commandText(r.result.commandLine))}\n${esc(r.result.timestamp)} · ${esc(r.result.host.hostname)} · ${esc(configText(r.result))}\n${esc(targetsText(r.result))}</dd>`).join('')}</dl>
</header>`;
  const totals: RenderedSection = { id: 'totals', title: 'Totals', note: 'Differences are relative to the first run.', svg: '', table: totalsTable(runs) };
  return pageHtml(`nvmf-perf: ${runs.map((r) => r.label).join(', ')}`, header, [totals, ...await render(runsSections(runs))], footer());
}

export async function comparisonReportHtml(c: LoadedComparison, label: string): Promise<string> {
  const d = c.doc;
  const first: PerfResult | undefined = c.results[0];
  const warnings = c.doc.runs.flatMap((run, i) => {
    const r = c.results[i];
    return r ? runWarnings(r).map((w) => `${run.label}, ${variantOf(run)}: ${w}`) : [];
  });
  const header = `<header>
<h1>nvmf-perf mode comparison: ${esc(label)}</h1>
${warningsHtml(warnings)}
<dl>
<dt>command</dt><dd>${esc(commandText(d.commandLine))}</dd>
<dt>written</dt><dd>${esc(d.timestamp)} · poll-mode maximum ${Math.round(d.pollMaxIops)} IOPS · ${d.idleSec} s idle after each run</dd>
${first ? `<dt>host</dt><dd>${esc(`${first.host.hostname} · ${first.host.cpuModel} · ${first.host.cores} cores · ${first.host.platform} ${first.host.kernel}`)}</dd>
<dt>target</dt><dd>${esc(targetsText(first))}</dd>
<dt>configuration</dt><dd>${esc(configText(first).replace(/ · (poll|interrupt) mode/, ''))}</dd>` : ''}
</dl>
</header>`;
  const sections = await render(comparisonSections(c));
  // Each mode's full-load run in detail: latency by percentile and reactor utilization.
  const full = d.runs.map((run, i) => ({ run, result: c.results[i] })).filter((x) => x.run.rateIops === 0 && x.result);
  if (full.length > 0) {
    const runs = full.map((x) => ({ label: `${variantOf(x.run)}, ${x.run.label}`, result: x.result! }));
    const colors = full.map((x) => COLORS[x.run.mode]);
    sections.push(...await render([latencyPercentileOverlay(runs, colors), utilizationOverlayChart(runs, colors)]));
  }
  return pageHtml(`nvmf-perf mode comparison: ${label}`, header, sections, footer());
}
