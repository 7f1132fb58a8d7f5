// `nvmf-perf report` and `--html` as a user runs them (node dist/cli/main.js): the page from the
// committed fixture results, its tables against the JSON, nothing in it that would load from a network,
// one-line errors with exit 2 for every bad input, and --html on a real run and a --compare-modes run.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runsSections, runSections } from '../../src/report/html/build-report.js';
import type { PerfResult } from '../../src/report/result-types.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const FIX = 'test/fixtures/report';
const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], timeoutMs = 120_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** data-value of every numeric cell of the table with data-chart=id, row by row. */
function tableValues(html: string, id: string): (number | undefined)[][] {
  const m = html.match(new RegExp(`<table class="data" data-chart="${id}">([\\s\\S]*?)</table>`));
  expect(m, `table ${id}`).not.toBeNull();
  const body = m![1]!.split('<tbody>')[1]!;
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<td(?: data-value="([^"]*)")?>/g)]
    .map((c) => (c[1] === undefined ? undefined : Number(c[1]))));
}

/** Anything a browser would fetch: src/href attributes, CSS url() or @import, script elements. */
function fetchables(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href|xlink:href)\s*=\s*"[^"]*"|url\([^)]*\)|@import|<script|<link|<iframe|<object|<embed/gi)].map((m) => m[0]);
}

describe('nvmf-perf report', () => {
  it('one run: a page whose tables carry the numbers the JSON holds', () => {
    const out = join(dir, 'run.html');
    const r = cli(['report', `${FIX}/run-randrw.json`, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`nvmf-perf: report written to ${out}\n`);
    const html = readFileSync(out, 'utf8');
    expect(fetchables(html)).toEqual([]);
    const result = JSON.parse(readFileSync(`${FIX}/run-randrw.json`, 'utf8')) as PerfResult;
    for (const s of runSections({ label: 'run-randrw', result })) {
      expect(html).toContain(`<div class="chart" data-chart="${s.id}"><svg`);
      expect(tableValues(html, s.id), s.id).toEqual(s.table.rows.map((row) => row.map((c) => c.value)));
    }
    expect(tableValues(html, 'throughput-timeline').map((row) => row[5])).toEqual(result.timeline.map((p) => p.iops));
    expect(html).toContain('nvmf-perf -q 16 -s 4096 -w randrw -M 70 -t 3 -L');
  });

  it('three runs with --label: overlays, totals table, labels in legends', () => {
    const out = join(dir, 'runs.html');
    const files = [1, 8, 32].map((q) => `${FIX}/runs-randread-q${q}.json`);
    const r = cli(['report', ...files, '-o', out, '--label', 'QD1', '--label', 'QD8', '--label', 'QD32']);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(fetchables(html)).toEqual([]);
    const results = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as PerfResult);
    const iopsRow = tableValues(html, 'totals')[0]!;
    expect(iopsRow.filter((v, i) => v !== undefined && [1, 2, 4].includes(i))).toEqual(results.map((x) => x.total.total.iops));
    for (const s of runsSections(results.map((result, i) => ({ label: ['QD1', 'QD8', 'QD32'][i]!, result })))) {
      expect(tableValues(html, s.id), s.id).toEqual(s.table.rows.map((row) => row.map((c) => c.value)));
    }
    for (const l of ['QD1', 'QD8', 'QD32']) expect(html).toContain(`>${l}</text>`);
  });

  it('a mode comparison: default output beside it, found results beside it when run from elsewhere', () => {
    const sub = join(dir, 'cmp');
    spawnSync('mkdir', ['-p', sub]);
    for (const f of readdirSync(`${FIX}/compare-modes`)) copyFileSync(join(FIX, 'compare-modes', f), join(sub, f));
    const cmp = readdirSync(sub).find((f) => f.startsWith('nvmf-perf-compare-modes-'))!;
    const r = cli(['report', join(sub, cmp)]);
    expect(r.code, r.stderr).toBe(0);
    const out = join(sub, cmp.replace(/\.json$/, '.html'));
    const html = readFileSync(out, 'utf8');
    expect(fetchables(html)).toEqual([]);
    expect(html).toContain('data-chart="mode-bars"');
    expect(html).toContain('data-chart="mode-sweep"');
    expect(html).toContain('rate not sustained');
  });

  describe('bad input: one line naming it, exit 2', () => {
    const bad = (args: string[], pattern: RegExp): void => {
      const r = cli(['report', ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
      expect(r.stdout).toBe('');
    };
    it('missing file', () => bad([join(dir, 'nope.json')], /^nvmf-perf: .*nope\.json: no such file\n$/));
    it('not JSON', () => {
      writeFileSync(join(dir, 'junk.json'), 'hello');
      bad([join(dir, 'junk.json')], /^nvmf-perf: .*junk\.json: not an nvmf-perf result \(not JSON/);
    });
    it('JSON that is not a result', () => bad(['package.json'], /^nvmf-perf: package\.json: not an nvmf-perf result/));
    it('a result of another schema version', () => {
      const doc = JSON.parse(readFileSync(`${FIX}/run-randrw.json`, 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, 'v99.json'), JSON.stringify({ ...doc, schemaVersion: 99 }));
      bad([join(dir, 'v99.json')], /^nvmf-perf: .*v99\.json: schema version 99, this nvmf-perf reads version 1\n$/);
    });
    it('a result that breaks the schema', () => {
      const doc = JSON.parse(readFileSync(`${FIX}/run-randrw.json`, 'utf8')) as Record<string, unknown>;
      delete doc['total'];
      writeFileSync(join(dir, 'broken.json'), JSON.stringify(doc));
      bad([join(dir, 'broken.json')], /^nvmf-perf: .*broken\.json: not a valid nvmf-perf result \(\/total: required property is missing\)\n$/);
    });
    it('unwritable -o', () => {
      writeFileSync(join(dir, 'afile'), '');
      bad([`${FIX}/run-randrw.json`, '-o', join(dir, 'afile', 'r.html')], /^nvmf-perf: -o .*afile\/r\.html: directory .*afile /);
    });
    it('-o is a directory', () => bad([`${FIX}/run-randrw.json`, '-o', dir], /^nvmf-perf: -o .*: is a directory\n$/));
    it('more labels than files', () => bad([`${FIX}/run-randrw.json`, '--label', 'a', '--label', 'b'], /--label given 2 times for 1 input file/));
    it('no file', () => bad([], /missing required argument/));
    it('--html on a run with an unwritable path: refused before the run starts', () => {
      const r = cli(['-q', '1', '-s', '4096', '-w', 'read', '-t', '1', '--json', join(dir, 'x.json'), '--html', join(dir, 'afile', 'r.html')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^nvmf-perf: --html .*afile\/r\.html: directory .*\n$/);
      expect(existsSync(join(dir, 'x.json'))).toBe(false);
    });
  });
});

describe('--html on a run', () => {
  it('a short run writes its JSON and, beside it, the report', () => {
    const json = join(dir, 'live.json');
    const r = cli(['-q', '4', '-s', '4096', '-w', 'randread', '-t', '1', '--no-progress', '--target-ns', 'ram:64MiB', '--json', json, '--html']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`report written to ${join(dir, 'live.html')}`);
    const html = readFileSync(join(dir, 'live.html'), 'utf8');
    const result = JSON.parse(readFileSync(json, 'utf8')) as PerfResult;
    expect(tableValues(html, 'worker-throughput').at(-1)![1]).toBe(result.total.read.iops);
  });

  it('--compare-modes --html FILE writes the comparison report', () => {
    const out = join(dir, 'modes.html');
    const r = cli(['-q', '4', '-s', '4096', '-w', 'randread', '-t', '1', '--no-progress', '--target-ns', 'ram:64MiB',
      '--compare-modes', '--idle-time', '0', '--rate-sweep', '50', '--results-dir', join(dir, 'modes'), '--html', out], 180_000);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('data-chart="mode-bars"');
    expect(html).toContain('data-chart="mode-sweep"');
    expect(fetchables(html)).toEqual([]);
  });
});
