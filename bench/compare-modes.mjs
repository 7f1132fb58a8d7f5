// Poll vs interrupt (--spin-us 0) vs adaptive interrupt mode on the mission's workload (4 KiB randread
// QD32, 10 s each), then the same with a rate sweep. Prints the CLI's comparison tables.
// With --spin-list, first runs the full-load workload in interrupt mode once per spin window, alternating
// over the list --runs times, and prints medians of IOPS, p99, CPU µs/IO and sleeps per I/O on both sides
// (how the default --spin-us was chosen; the tables then use --spin-us if given).
//   node bench/compare-modes.mjs [--seconds 10] [--sweep 10,25,50,75,100] [--idle 5] [--spin-us N]
//                                [--spin-list 0,10,25,50,100,200 --runs 3] [--only-spin-list]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argValue, fmt, median } from './lib.mjs';

const seconds = argValue('--seconds', '10');
const sweep = argValue('--sweep', '10,25,50,75,100');
const idle = argValue('--idle', '5');
const spinUs = argValue('--spin-us', undefined);
const spinList = argValue('--spin-list', undefined);
const runs = Number(argValue('--runs', '3'));
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const workload = ['-q', '32', '-s', '4096', '-w', 'randread', '-t', seconds, '-c', '0x1', '--no-progress'];

if (spinList !== undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-bench-'));
  const spins = spinList.split(',').map((x) => x.trim());
  const rows = new Map(spins.map((s) => [s, []]));
  for (let r = 0; r < runs; r++) {
    for (const s of spins) {
      const json = join(dir, `s${s}-${r}.json`);
      const p = spawnSync(process.execPath, [cli, ...workload, '-L', '--mode', 'interrupt', '--spin-us', s, '--json', json], { encoding: 'utf8' });
      if (p.status !== 0) { console.error(`--spin-us ${s}: exit ${p.status}: ${p.stderr}`); process.exitCode = 1; continue; }
      const res = JSON.parse(readFileSync(json, 'utf8'));
      const ios = res.total.total.ios;
      const pts = res.timeline.filter((x) => x.targetReactors?.[0]?.sleeps !== undefined);
      const tIos = pts.slice(1).reduce((a, x) => a + x.iops * x.intervalSec, 0);
      const row = {
        iops: res.total.total.iops,
        p99: res.latency.percentiles.find((x) => x.percentile === 99)?.us ?? NaN,
        initUs: res.workers.reduce((a, w) => a + w.cpuNs, 0) / 1e3 / ios,
        tgtUs: res.targetCpu?.cpuUsPerIo ?? NaN,
        initSleeps: res.workers.reduce((a, w) => a + (w.wait?.sleeps ?? 0), 0) / ios,
        tgtSleeps: pts.length > 1 && tIos > 0 ? (pts.at(-1).targetReactors[0].sleeps - pts[0].targetReactors[0].sleeps) / tIos : NaN,
      };
      rows.get(s).push(row);
      console.log(`run ${r + 1} --spin-us ${s}: ${fmt(row.iops)} IOPS  p99 ${row.p99.toFixed(1)} us  CPU us/IO initiator ${row.initUs.toFixed(2)} target ${row.tgtUs.toFixed(2)}  sleeps/IO initiator ${row.initSleeps.toFixed(3)} target ${row.tgtSleeps.toFixed(3)}`);
    }
  }
  console.log(`\nmedians over ${runs} alternating runs, interrupt mode, 4 KiB randread QD32, ${seconds} s:`);
  for (const [s, list] of rows) {
    if (!list.length) continue;
    const m = (k) => median(list.map((x) => x[k]));
    console.log(`  --spin-us ${s.padStart(5)}: ${fmt(m('iops')).padStart(9)} IOPS  p99 ${m('p99').toFixed(1)} us  CPU us/IO initiator ${m('initUs').toFixed(2)} target ${m('tgtUs').toFixed(2)}  sleeps/IO initiator ${m('initSleeps').toFixed(3)} target ${m('tgtSleeps').toFixed(3)}`);
  }
  rmSync(dir, { recursive: true, force: true });
  if (process.argv.includes('--only-spin-list')) process.exit(process.exitCode ?? 0);
}

const base = [...workload, '--compare-modes', '--idle-time', idle, ...(spinUs !== undefined ? ['--spin-us', spinUs] : [])];
for (const extra of [[], ['--rate-sweep', sweep]]) {
  console.log(`\n$ nvmf-perf ${[...base, ...extra].join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...base, ...extra], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) { console.error(`exit ${r.status}`); process.exitCode = 1; }
}
