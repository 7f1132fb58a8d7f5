// What the suite no longer asserts because it depends on the machine: CPU an idle built-in target
// uses (poll vs interrupt mode, per namespace kind), and how closely --rate-iops is delivered.
// Prints numbers; run `npm run build` first. Quiet machine: the reactor's core must be free.
//   node bench/idle-cpu.mjs [--seconds 10] [--settle 12] [--core 1]
// CPU is counted from --settle seconds after the target is ready, for --seconds: start-up work is not
// idle time. Here the last of it is V8's memory reducer, a GC it schedules about 8 s after the start-up
// allocations stop (0.09 s of CPU once; after that an interrupt-mode target uses no CPU at all).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBuiltinTarget } from '../dist/launch/builtin-target.js';
import { argValue, fmt } from './lib.mjs';

const seconds = Number(argValue('--seconds', '10'));
const settle = Number(argValue('--settle', '12'));
const core = Number(argValue('--core', '1'));
const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-idle-'));
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

try {
  const file = join(dir, 'ns.img');
  writeFileSync(file, Buffer.alloc(16 * 1024 * 1024));
  console.log(`idle target CPU over ${seconds} s, reactor on CPU ${core} (cores; poll ≈ 1, interrupt ≈ 0)`);
  for (const ns of ['ram:64MiB', 'null:1GiB', `file:${file}`]) {
    const row = [];
    for (const interruptMode of [false, true]) {
      const t = await launchBuiltinTarget({ namespaces: [ns], reactorCores: [core], interruptMode });
      try {
        await sleep(settle * 1000);
        const a = cpuSeconds(t.pid), t0 = Date.now();
        await sleep(seconds * 1000);
        row.push((cpuSeconds(t.pid) - a) / ((Date.now() - t0) / 1000));
      } finally {
        await t.stop();
      }
    }
    console.log(`  ${ns.startsWith('file:') ? 'file:16MiB' : ns}: poll ${fmt(row[0], 3)}, interrupt ${fmt(row[1], 3)}`);
  }
  for (const rate of [2000, 20000]) {
    const json = join(dir, `rate-${rate}.json`);
    const r = spawnSync(process.execPath, [CLI, '-q', '16', '-s', '4096', '-w', 'randread', '-t', String(seconds), '--rate-iops', String(rate),
      '--target-ns', 'ram:64MiB', '--json', json, '--no-progress'], { encoding: 'utf8' });
    if (r.status !== 0) { console.log(`--rate-iops ${rate}: exit ${r.status}: ${r.stderr.trim()}`); continue; }
    const res = JSON.parse(readFileSync(json, 'utf8'));
    console.log(`--rate-iops ${rate}: achieved ${fmt(res.total.total.iops)} IOPS (${fmt((res.total.total.iops / rate - 1) * 100, 2)} %), sustained ${res.rate.sustained}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
