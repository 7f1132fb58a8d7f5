// Target CPU per I/O at a fixed offered load, interrupt mode: the built-in target
// (`nvmf-perf target --interrupt-mode --ns file:/dev/shm/F --reactor-mask 1`) against SPDK nvmf_tgt
// (`--interrupt-mode`, AIO bdev on the same /dev/shm file, core 1), both driven by
// `nvmf-perf --rate-iops 40000 -q 32 -s 4096 -w randread --mode poll -r TRID` on core 0, alternating A B A B.
// Target CPU comes from /proc/PID/stat (whole process) between the first and the last progress line of
// the measured phase; I/Os over the same interval from the run's timeline. Prints µs/IO per run and
// the median ratio built-in / SPDK (goal ≤ 0.5), and how each splits into user and kernel time.
// Also prints each run's mean and p99 latency: --coalesce-us trades latency for fewer wake-ups.
//   node bench/target-cpu-vs-spdk.mjs [--runs 3] [--seconds 10] [--rate 40000] [--spin-us N] [--coalesce-us N] [--file-io uring|sync]
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argValue, fmt, median } from './lib.mjs';

const runs = Number(argValue('--runs', '3'));
const seconds = Number(argValue('--seconds', '10'));
const rate = Number(argValue('--rate', '40000'));
const spinUs = argValue('--spin-us', undefined);
const coalesceUs = argValue('--coalesce-us', undefined);
const fileIo = argValue('--file-io', undefined);
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const spdk = fileURLToPath(new URL('../../shared/peers/spdk.sh', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-bench-'));
const file = `/dev/shm/nvmf-perf-bench-${process.pid}.img`;
const TICK = 100; // USER_HZ (clock ticks per second in /proc/PID/stat)

if (!existsSync(spdk)) {
  console.error(`SPDK peer not found at ${spdk}: this bench needs ../shared/peers/spdk.sh beside the repository`);
  process.exit(2);
}

/** utime and stime of a whole process, in ns. */
function procCpuNs(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(f[11]) / TICK) * 1e9, sys: (Number(f[12]) / TICK) * 1e9 };
}

function waitReady(child, what) {
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`${what}: no READY line within 30 s`)), 30_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^READY (.*)$/m.exec(out);
      if (m) { clearTimeout(t); resolve(m[1].trim()); }
    });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`${what} exited (${code}) before READY`)); });
  });
}

async function startBuiltin() {
  const args = [cli, 'target', '--listen', '127.0.0.1:0', '--interrupt-mode', '--ns', `file:${file}`, '--block-size', '4096',
    '--reactor-mask', '1', ...(spinUs !== undefined ? ['--spin-us', spinUs] : []),
    ...(coalesceUs !== undefined ? ['--coalesce-us', coalesceUs] : []), ...(fileIo !== undefined ? ['--file-io', fileIo] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const trid = await waitReady(child, 'nvmf-perf target');
  return { trid, pid: child.pid, stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) };
}

async function startSpdk(port) {
  const pidfile = join(dir, `spdk-${port}.pid`);
  const r = spawnSync(spdk, ['target', '--port', String(port), '--pidfile', pidfile, '--bdev', `aio:${file}`, '--block-size', '4096',
    '--core', '1', '--interrupt-mode'], { encoding: 'utf8', timeout: 60_000 });
  const m = /^READY (.*?) pid=(\d+)/m.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) throw new Error(`spdk.sh target failed (${r.status}): ${r.stderr}${r.stdout}`);
  return { trid: m[1].trim(), pid: Number(m[2]),
    stop: async () => { spawnSync(spdk, ['stop', '--pidfile', pidfile], { timeout: 30_000 }); } };
}

/** One perf run against `t`; returns target µs/IO over the measured phase and the achieved IOPS. */
function measure(t, label) {
  const json = join(dir, `${label}-${Date.now()}.json`);
  return new Promise((resolve, reject) => {
    // The load generator polls (--mode poll), as spdk_nvme_perf does: its own wake-ups would otherwise
    // add to the latency quoted for the targets (the target's CPU per I/O is the same either way).
    const child = spawn(process.execPath, [cli, '--rate-iops', String(rate), '-q', '32', '-s', '4096', '-w', 'randread',
      '-t', String(seconds), '-a', '1', '-c', '0x1', '--mode', 'poll', '-r', t.trid, '--json', json], { stdio: ['ignore', 'ignore', 'pipe'] });
    const cpuAtRunLine = [];
    let buf = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        // A progress line of the measured phase: sample the target now (the run's counters were just read).
        if (/^\[\s*\d+\/\d+ s\]/.test(line) && !/warmup/.test(line)) cpuAtRunLine.push(procCpuNs(t.pid));
      }
    });
    child.once('exit', (code) => {
      if (code !== 0) { reject(new Error(`nvmf-perf exited ${code}`)); return; }
      const res = JSON.parse(readFileSync(json, 'utf8'));
      const n = Math.min(cpuAtRunLine.length, res.timeline.length);
      if (n < 3) { reject(new Error('too few progress lines to measure')); return; }
      // Interval from run line 0 to run line n-1: timeline points 1..n-1.
      const ios = res.timeline.slice(1, n).reduce((s, p) => s + p.iops * p.intervalSec, 0);
      const p99 = res.latency.percentiles.find((p) => p.percentile === 99)?.us ?? NaN;
      const a = cpuAtRunLine[0], z = cpuAtRunLine[n - 1];
      const userUs = (z.user - a.user) / 1e3 / ios, sysUs = (z.sys - a.sys) / 1e3 / ios;
      resolve({ usPerIo: userUs + sysUs, userUs, sysUs, iops: res.total.total.iops,
        sustained: res.rate ? res.rate.sustained : true, avgUs: res.total.total.avgUs, p99 });
    });
  });
}

const fd = openSync(file, 'w');
ftruncateSync(fd, 256 * 1024 * 1024);
closeSync(fd);
const rows = { ours: [], spdk: [] };
let port = 4520 + (process.pid % 200);
try {
  for (let r = 0; r < runs; r++) {
    for (const kind of ['ours', 'spdk']) {
      const t = kind === 'ours' ? await startBuiltin() : await startSpdk(port++);
      try {
        const m = await measure(t, kind);
        rows[kind].push(m);
        console.log(`run ${r + 1} ${kind === 'ours' ? 'built-in target' : 'SPDK nvmf_tgt  '}: target ${m.usPerIo.toFixed(2)} us/IO `
          + `(user ${m.userUs.toFixed(2)}, kernel ${m.sysUs.toFixed(2)})  `
          + `${fmt(m.iops)} IOPS${m.sustained ? '' : ' (rate NOT sustained)'}  latency mean ${m.avgUs.toFixed(1)} us p99 ${m.p99.toFixed(1)} us`);
      } finally {
        await t.stop();
      }
    }
  }
  const ratios = rows.ours.map((o, i) => o.usPerIo / rows.spdk[i].usPerIo);
  console.log(`\n${fmt(rate)} IOPS offered, 4 KiB randread QD32, interrupt-mode targets on core 1, file/AIO on /dev/shm, ${runs} alternating runs of ${seconds} s:`);
  const lat = (k) => `p99 ${median(rows[k].map((x) => x.p99)).toFixed(1)} us, mean ${median(rows[k].map((x) => x.avgUs)).toFixed(1)} us`;
  console.log(`  built-in target${coalesceUs !== undefined ? ` (--coalesce-us ${coalesceUs})` : ''}${fileIo !== undefined ? ` (--file-io ${fileIo})` : ''}  median ${median(rows.ours.map((x) => x.usPerIo)).toFixed(2)} us/IO, ${lat('ours')}`);
  console.log(`  SPDK nvmf_tgt    median ${median(rows.spdk.map((x) => x.usPerIo)).toFixed(2)} us/IO, ${lat('spdk')}`);
  console.log(`  built-in / SPDK: median ratio ${median(ratios).toFixed(2)} (per run: ${ratios.map((x) => x.toFixed(2)).join(', ')}; goal <= 0.5)`);
  // The kernel's share (socket calls, TCP over loopback, file reads) is paid per wake-up by either target:
  // set against SPDK's total it bounds the ratio from below for as long as every I/O costs a wake-up.
  const split = (k) => `user ${median(rows[k].map((x) => x.userUs)).toFixed(2)}, kernel ${median(rows[k].map((x) => x.sysUs)).toFixed(2)} us/IO`;
  const floor = rows.ours.map((o, i) => o.sysUs / rows.spdk[i].usPerIo);
  console.log(`  split: built-in ${split('ours')}; SPDK ${split('spdk')}`);
  console.log(`  built-in kernel time alone / SPDK total: median ${median(floor).toFixed(2)}`);
} finally {
  rmSync(file, { force: true });
  rmSync(dir, { recursive: true, force: true });
}
