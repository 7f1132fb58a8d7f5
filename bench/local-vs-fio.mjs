// nvmf-perf on a local file (positional argument, io_uring) vs fio (--ioengine=io_uring --direct=1) on
// the same pre-written file: 4 KiB randread at QD32 and QD1, runs alternating A B A B, medians and the
// ratio nvmf-perf / fio. Both run on the same single core (nvmf-perf -c, fio --cpus_allowed).
//   npm run build && node bench/local-vs-fio.mjs [--file PATH] [--size 1GiB] [--time 10] [--pairs 3]
//     [--mode poll|interrupt] [--core N] [--install-deps]
// fio comes from Debian (`apt-get install -y fio`); --install-deps installs it when it is missing.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { native } from '../dist/native/index.js';
import { argValue, fmt, median } from './lib.mjs';

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const file = argValue('--file', join(tmpdir(), 'nvmf-perf-bench-local.bin'));
const sizeText = argValue('--size', '1GiB');
const size = parseSizeArg(sizeText);
const sec = Number(argValue('--time', '10'));
const pairs = Math.max(1, Number(argValue('--pairs', '3')));
const mode = argValue('--mode', 'poll');
const core = Number(argValue('--core', String(native.allowedCpus()[0])));
const depths = argValue('--depths', '32,1').split(',').map(Number);

function parseSizeArg(t) {
  const m = /^(\d+)\s*(k|m|g)?i?b?$/i.exec(t);
  if (!m) throw new Error(`--size ${t}: expected e.g. 1GiB, 256MiB`);
  return Number(m[1]) * 1024 ** ({ k: 1, m: 2, g: 3 }[m[2]?.toLowerCase()] ?? 0);
}

function haveFio() { return spawnSync('fio', ['--version'], { encoding: 'utf8' }).status === 0; }
if (!haveFio()) {
  if (process.argv.includes('--install-deps')) {
    const r = spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio'], { stdio: 'inherit' });
    if (r.status !== 0 || !haveFio()) { console.error('local-vs-fio: installing fio failed'); process.exit(2); }
  } else {
    console.error('local-vs-fio: fio is not installed: apt-get install -y fio (Debian), or run with --install-deps');
    process.exit(2);
  }
}

// The file both tools read: written once with random bytes (so nothing is sparse or zero-detected).
if (!existsSync(file) || statSync(file).size !== size) {
  console.log(`writing ${file} (${sizeText}) …`);
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4 * 1024 * 1024);
  for (let off = 0; off < size; off += chunk.length) { randomFillSync(chunk); writeSync(fd, chunk, 0, Math.min(chunk.length, size - off), off); }
  closeSync(fd);
}
spawnSync('sync');

const out = mkdtempSync(join(tmpdir(), 'nvmf-perf-local-vs-fio-'));
let n = 0;
function runNvmf(qd) {
  const json = join(out, `n${n++}.json`);
  const r = spawnSync(process.execPath, [cli, '-q', String(qd), '-s', '4096', '-w', 'randread', '-t', String(sec), '-c', String(core),
    '--mode', mode, '--no-progress', '--json', json, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nvmf-perf failed (${r.status}): ${r.stderr}`);
  const res = JSON.parse(readFileSync(json, 'utf8'));
  return { iops: res.total.total.iops, avgUs: res.total.total.avgUs, path: res.targets[0].local.kernelPath };
}
function runFio(qd) {
  const r = spawnSync('fio', ['--name=randread', `--filename=${file}`, '--ioengine=io_uring', '--direct=1', '--rw=randread', '--bs=4k',
    `--iodepth=${qd}`, `--runtime=${sec}`, '--time_based', `--size=${size}`, `--cpus_allowed=${core}`, '--norandommap', '--randrepeat=0',
    '--output-format=json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fio failed (${r.status}): ${r.stderr}`);
  const job = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))).jobs[0];
  return { iops: job.read.iops, avgUs: job.read.lat_ns.mean / 1000 };
}

try {
  console.log(`4 KiB randread on ${file} (${sizeText}), ${sec} s per run, ${pairs} pairs alternating nvmf-perf (--mode ${mode}) / fio (io_uring, direct=1), core ${core}`);
  const summary = [];
  for (const qd of depths) {
    const a = [], b = [], ratio = [];
    for (let p = 0; p < pairs; p++) {
      const x = runNvmf(qd);
      a.push(x.iops);
      const y = runFio(qd);
      b.push(y.iops);
      ratio.push(x.iops / y.iops);
      console.log(`  QD${qd} pair ${p + 1}: nvmf-perf ${fmt(x.iops)} IOPS (avg ${fmt(x.avgUs, 1)} us, ${x.path})  fio ${fmt(y.iops)} IOPS (avg ${fmt(y.avgUs, 1)} us)  ratio ${(x.iops / y.iops).toFixed(2)}`);
    }
    summary.push({ qd, nvmf: median(a), fio: median(b), ratio: median(ratio), ratios: ratio });
  }
  // The ratio quoted is the median of the per-pair ratios (each pair ran back to back, so a slow phase
  // of the machine hits both tools of a pair alike), not the ratio of the two medians.
  console.log('\nmedians (ratio: median of the per-pair ratios nvmf-perf / fio):');
  for (const s of summary) {
    console.log(`  QD${String(s.qd).padEnd(3)} nvmf-perf ${fmt(s.nvmf).padStart(9)} IOPS   fio ${fmt(s.fio).padStart(9)} IOPS   ratio ${s.ratio.toFixed(2)}x  (pairs: ${s.ratios.map((r) => r.toFixed(2)).join(' ')})`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
