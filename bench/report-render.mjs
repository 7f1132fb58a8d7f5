// HTML report: inline SVG rendered in Node (what nvmf-perf does) vs the vega runtime inlined in the page
// and rendering when opened. Prints page size and render time of each, alternating A B A B, medians.
//
//   npm run build && node bench/report-render.mjs [RESULT.json] [--runs 5]
//
// The runtime variant's time is measured in headless Chromium (/usr/bin/chromium, or CHROMIUM=path):
// from the start of the page's script to every view rendered. Without Chromium only sizes are printed.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from 'vega-lite';
import { runReportHtml, runSections } from '../dist/report/html/build-report.js';

const require = createRequire(import.meta.url);
const arg = (name, def) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : def; };
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const file = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'test/fixtures/report/run-randrw.json';
const runs = Number(arg('--runs', '5'));
const result = JSON.parse(readFileSync(file, 'utf8'));
const lr = { label: 'bench', result };

function runtimePage() {
  const vega = readFileSync(require.resolve('vega/build/vega.min.js'), 'utf8');
  const vl = readFileSync(require.resolve('vega-lite/build/vega-lite.min.js'), 'utf8');
  const specs = runSections(lr).map((s) => compile(s.spec).spec);
  const divs = specs.map((_, i) => `<div id="c${i}"></div>`).join('');
  return `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>${divs}
<script>${vega}</script><script>${vl}</script>
<script>const t0 = performance.now(); const specs = ${JSON.stringify(specs)};
Promise.all(specs.map((s, i) => new vega.View(vega.parse(s), { renderer: 'svg', container: '#c' + i }).runAsync()))
  .then(() => { window.renderMs = performance.now() - t0; });</script></body></html>`;
}

const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-bench-report-'));
try {
  const svgPage = await runReportHtml(lr);
  const rtPage = runtimePage();
  writeFileSync(join(dir, 'rt.html'), rtPage);
  console.log(`input ${file}`);
  console.log(`page size: inline SVG ${(Buffer.byteLength(svgPage) / 1024).toFixed(0)} KiB, vega runtime ${(Buffer.byteLength(rtPage) / 1024).toFixed(0)} KiB`);
  const exe = process.env.CHROMIUM ?? '/usr/bin/chromium';
  let browser;
  if (existsSync(exe)) {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: exe, args: ['--headless', '--no-sandbox'] });
  } else {
    console.log(`no Chromium at ${exe}: runtime render time not measured`);
  }
  const svgMs = [], rtMs = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await runReportHtml(lr);
    svgMs.push(performance.now() - t0);
    if (browser) {
      const page = await browser.newPage();
      await page.goto('file://' + join(dir, 'rt.html'));
      await page.waitForFunction(() => window.renderMs !== undefined, null, { timeout: 60_000 });
      rtMs.push(await page.evaluate(() => window.renderMs));
      await page.close();
    }
  }
  console.log(`render: inline SVG in Node (when the report is written) median ${median(svgMs).toFixed(0)} ms of ${runs}`);
  if (rtMs.length) console.log(`render: vega runtime in Chromium (each time the page opens) median ${median(rtMs).toFixed(0)} ms of ${runs}`);
  await browser?.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
