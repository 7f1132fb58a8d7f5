// End to end: reports made by the CLI from the fixture results, opened from file:// in headless Chromium
// (Debian's `chromium`, driven by playwright-core): no console error, no request beyond the page itself,
// nothing wider than a 1280 px window, light and dark schemes, printable to PDF. Screenshots and PDFs
// are kept in test/artifacts/ (git-ignored). Under CI=true a Chromium that cannot run fails the test;
// elsewhere the test skips and says why.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const FIX = 'test/fixtures/report';
const ART = resolve('test/artifacts');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const inCi = process.env['CI'] === 'true';

let browser: Browser | undefined;
let whyNot = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    whyNot = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  } else {
    try {
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'], timeout: 60_000 });
    } catch (e) {
      whyNot = `Chromium at ${CHROMIUM} does not start: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  if (!browser) {
    if (inCi) throw new Error(`CI=true and the browser peer cannot run: ${whyNot}`);
    console.log(`report-browser: skipped: ${whyNot}`);
  }
  mkdirSync(ART, { recursive: true });
});
afterAll(async () => { await browser?.close(); });

function makeReport(name: string, args: string[]): string {
  const out = join(ART, `${name}.html`);
  const r = spawnSync(process.execPath, [CLI, 'report', ...args, '-o', out], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return out;
}

describe('reports in headless Chromium', () => {
  const cases: [string, () => string[]][] = [
    ['report-run', () => [`${FIX}/run-randrw.json`]],
    ['report-runs', () => [1, 8, 32].map((q) => `${FIX}/runs-randread-q${q}.json`)],
    ['report-compare-modes', () => {
      const f = readdirSync(join(FIX, 'compare-modes')).find((n) => n.startsWith('nvmf-perf-compare-modes-'))!;
      return [join(FIX, 'compare-modes', f)];
    }],
  ];

  for (const [name, inputs] of cases) {
    it(`${name}: opens from file:// with no console error and no request; light and dark screenshots; prints`, async (ctx) => {
      if (!browser) { ctx.skip(whyNot); return; }
      const file = makeReport(name, inputs());
      const url = pathToFileURL(file).href;
      for (const scheme of ['light', 'dark'] as const) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: scheme });
        const page = await context.newPage();
        const problems: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        page.on('request', (r) => requests.push(r.url()));
        // Anything but the page itself is refused (and recorded above), so a stray reference cannot hang the test.
        await context.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
        await page.goto(url, { waitUntil: 'load' });
        expect(problems).toEqual([]);
        expect(requests).toEqual([url]);
        const layout = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          svgs: document.querySelectorAll('.chart svg').length,
          tables: document.querySelectorAll('table.data').length,
          bg: getComputedStyle(document.body).backgroundColor,
        }));
        expect(layout.scrollWidth).toBeLessThanOrEqual(1280);
        expect(layout.svgs).toBeGreaterThan(0);
        expect(layout.tables).toBeGreaterThan(layout.svgs - 1);
        expect(layout.bg).toBe(scheme === 'light' ? 'rgb(255, 255, 255)' : 'rgb(22, 24, 29)');
        await page.screenshot({ path: join(ART, `${name}-${scheme}.png`), fullPage: true });
        if (scheme === 'light') {
          await page.emulateMedia({ media: 'print' });
          const pdf = await page.pdf({ path: join(ART, `${name}.pdf`), format: 'A4', landscape: true, printBackground: true });
          expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
        }
        await context.close();
      }
    });
  }
});
