// The mission command, end to end through the CLI: `nvmf-perf -q 32 -s 4096 -w randread -t 10` against
// the launched target, with 1 worker (-c 0x1) and 2 workers (-c 0x3), and the raw host loop (no
// workers, histograms or progress) on the same core against the same kind of target, alternating
// A B A B… Prints IOPS, p50/p99, CPU us per I/O on the initiator and the target, and the ratio
// perf/raw (the perf machinery may cost at most 10 %).
//   node bench/perf.mjs [--runs 3] [--seconds 10]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { native } from '../dist/native/index.js';
import { argValue, fmt, median } from './lib.mjs';

const runs = Number(argValue('--runs', '3'));
const seconds = Number(argValue('--seconds', '10'));
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-bench-'));
const cores = native.allowedCpus();

function perfRun(mask) {
  const json = join(dir, `r-${mask}-${Date.now()}.json`);
  const r = spawnSync(process.execPath, [cli, '-q', '32', '-s', '4096', '-w', 'randread', '-t', String(seconds), '-c', mask,
    '--no-progress', '-L', '--json', json], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nvmf-perf exited ${r.status}: ${r.stderr}`);
  const res = JSON.parse(readFileSync(json, 'utf8'));
  const p = (q) => res.latency.percentiles.find((x) => x.percentile === q).us;
  const cpu = res.workers.reduce((s, w) => s + w.cpuNs, 0);
  return { iops: res.total.total.iops, p50: p(50), p99: p(99), initUs: cpu / 1000 / res.total.total.ios,
    tgtUs: res.targetCpu ? res.targetCpu.cpuUsPerIo : NaN, busy: res.workers.map((w) => w.busyPct.toFixed(1)).join('/') };
}

// The raw loop runs in its own process: it pins its thread, and children inherit the affinity.
function rawRun() {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('./host-target.mjs', import.meta.url)), '--runs', '1',
    '--seconds', String(seconds), '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`host-target.mjs exited ${r.status}: ${r.stderr}`);
  const j = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{')));
  const line = r.stdout.split('\n').find((l) => l.startsWith('run 1'));
  return { iops: j.qd32Iops, tgtUs: j.targetUsPerIo, line };
}

const rows = { raw: [], one: [], two: [] };
for (let r = 0; r < runs; r++) {
  const raw = rawRun();
  rows.raw.push(raw);
  console.log(`run ${r + 1} raw loop (core ${cores[0]}): ${raw.line.replace(/^run 1: /, '')}`);
  const one = perfRun('0x1');
  rows.one.push(one);
  console.log(`run ${r + 1} nvmf-perf -c 0x1: ${fmt(one.iops)} IOPS  p50 ${one.p50.toFixed(1)} us  p99 ${one.p99.toFixed(1)} us  initiator CPU ${one.initUs.toFixed(2)} us/IO  target CPU ${one.tgtUs.toFixed(2)} us/IO  busy ${one.busy} %`);
  if (cores.length >= 2) {
    const two = perfRun('0x3');
    rows.two.push(two);
    console.log(`run ${r + 1} nvmf-perf -c 0x3: ${fmt(two.iops)} IOPS  p50 ${two.p50.toFixed(1)} us  p99 ${two.p99.toFixed(1)} us  initiator CPU ${two.initUs.toFixed(2)} us/IO  target CPU ${two.tgtUs.toFixed(2)} us/IO  busy ${two.busy} %  (target shares core 1 with worker 1, interrupt mode)`);
  }
}
const ratios = rows.one.map((o, i) => o.iops / rows.raw[i].iops);
const m = (list, k) => median(list.map((x) => x[k]));
console.log(`\nmedians over ${runs} alternating runs, ${seconds} s each, 4 KiB randread QD32:`);
console.log(`  raw host loop          ${fmt(m(rows.raw, 'iops'))} IOPS`);
console.log(`  nvmf-perf 1 worker     ${fmt(m(rows.one, 'iops'))} IOPS  p50 ${m(rows.one, 'p50').toFixed(1)} us  p99 ${m(rows.one, 'p99').toFixed(1)} us  initiator ${m(rows.one, 'initUs').toFixed(2)} us/IO  target ${m(rows.one, 'tgtUs').toFixed(2)} us/IO`);
if (rows.two.length) console.log(`  nvmf-perf 2 workers    ${fmt(m(rows.two, 'iops'))} IOPS  p50 ${m(rows.two, 'p50').toFixed(1)} us  p99 ${m(rows.two, 'p99').toFixed(1)} us  initiator ${m(rows.two, 'initUs').toFixed(2)} us/IO  target ${m(rows.two, 'tgtUs').toFixed(2)} us/IO`);
console.log(`  perf / raw (1 worker): median ratio ${median(ratios).toFixed(3)} (per run: ${ratios.map((x) => x.toFixed(3)).join(', ')})`);
rmSync(dir, { recursive: true, force: true });
