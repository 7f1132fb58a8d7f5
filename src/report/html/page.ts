// The page: one self-contained HTML document. Charts are inline SVG, the style sheet is inline, there is
// no script, font, image or link to fetch: opened from disk it makes no request. Light and dark schemes
// follow prefers-color-scheme; the SVGs' text, axes and grid are coloured from here so one drawing
// serves both. Prints on A4/Letter landscape with sections kept whole.
import { esc } from './escape.js';
import type { DataTable } from './section.js';

export interface RenderedSection {
  id: string;
  title: string;
  note?: string;
  /** Inline SVG, or empty for a table-only section. */
  svg: string;
  table: DataTable;
}

const CSS = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d1f23; --muted: #5b6270; --line: #d5d9e0; --grid: #e4e7ec;
  --panel: #f5f7fa; --warn-bg: #fff4d6; --warn-fg: #6b4b00; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #16181d; --fg: #e6e8ec; --muted: #a3aab8; --line: #3a3f4a; --grid: #2c3039; --panel: #1f2229;
    --warn-bg: #3d3112; --warn-fg: #ffd980; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 16px 24px 48px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 22px; margin: 8px 0 12px; }
h2 { font-size: 17px; margin: 28px 0 4px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
p.note { color: var(--muted); margin: 2px 0 8px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 12px; }
dt { color: var(--muted); }
dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
dd:first-of-type { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 13px; }
.totals { display: flex; flex-wrap: wrap; gap: 8px; }
.totals div { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; }
.totals span { display: block; color: var(--muted); font-size: 12px; }
.totals b { font-size: 16px; font-variant-numeric: tabular-nums; }
ul.warnings { list-style: none; padding: 8px 12px; margin: 0 0 12px; background: var(--warn-bg); color: var(--warn-fg);
  border-radius: 6px; font-weight: 600; }
.chart { overflow-x: auto; }
.chart svg { max-width: 100%; height: auto; display: block; }
.chart svg text { fill: var(--fg); }
.chart svg .role-axis-label text, .chart svg .role-legend-label text { fill: var(--muted); }
.chart svg .role-axis-domain line, .chart svg .role-axis-tick line { stroke: var(--muted); }
.chart svg .role-axis-grid line { stroke: var(--grid); }
.chart svg .role-legend-symbol path { stroke-opacity: 1; }
table.data { border-collapse: collapse; margin: 8px 0 4px; font-size: 12.5px; font-variant-numeric: tabular-nums; }
table.data th, table.data td { border: 1px solid var(--line); padding: 2px 8px; }
table.data th { background: var(--panel); font-weight: 600; text-align: left; }
table.data td[data-value] { text-align: right; }
.numbers { overflow-x: auto; }
.numbers.long { max-height: 300px; overflow-y: auto; }
.numbers.long th { position: sticky; top: 0; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  section { break-inside: avoid; }
  .numbers, .numbers.long { max-height: none; overflow: visible; }
  .chart { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
@page { size: A4 landscape; margin: 12mm; }
`;

export function tableHtml(id: string, t: DataTable): string {
  const head = `<thead><tr>${t.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>`;
  const body = t.rows.map((r) => `<tr>${r.map((c) => (c.value !== undefined
    ? `<td data-value="${c.value}">${esc(c.text)}</td>` : `<td>${esc(c.text)}</td>`)).join('')}</tr>`).join('\n');
  return `<table class="data" data-chart="${esc(id)}">${head}<tbody>\n${body}\n</tbody></table>`;
}

function sectionHtml(s: RenderedSection): string {
  const long = s.table.rows.length > 12;
  const table = tableHtml(s.id, s.table);
  return `<section id="${esc(s.id)}">
<h2>${esc(s.title)}</h2>
${s.note ? `<p class="note">${esc(s.note)}</p>` : ''}
${s.svg ? `<div class="chart" data-chart="${esc(s.id)}">${s.svg}</div>` : ''}
<div class="${long ? 'numbers long' : 'numbers'}">${table}</div>
</section>`;
}

export function pageHtml(title: string, header: string, sections: RenderedSection[], footer: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${header}
<main>
${sections.map(sectionHtml).join('\n')}
</main>
<footer>${esc(footer)}</footer>
</body>
</html>
`;
}
