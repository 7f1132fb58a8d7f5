// Screenshot of an HTML report in headless Chromium (Debian's chromium, via playwright-core), for the
// README: node scripts/report-screenshot.mjs REPORT.html OUT.png [--dark] [--height PX]
// 1280 px wide; the top --height px of the page (default: the whole page).
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

const [file, out] = process.argv.slice(2).filter((a) => !a.startsWith('--') && !/^\d+$/.test(a));
if (!file || !out) {
  console.error('usage: node scripts/report-screenshot.mjs REPORT.html OUT.png [--dark] [--height PX]');
  process.exit(2);
}
const hi = process.argv.indexOf('--height');
const height = hi > 0 ? Number(process.argv[hi + 1]) : 0;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: height || 900 }, colorScheme: process.argv.includes('--dark') ? 'dark' : 'light' });
  await context.route('**/*', (r) => (r.request().url().startsWith('file:') ? r.continue() : r.abort()));
  const page = await context.newPage();
  await page.goto(pathToFileURL(resolve(file)).href);
  await page.screenshot({ path: out, fullPage: !height });
} finally {
  await browser.close();
}
