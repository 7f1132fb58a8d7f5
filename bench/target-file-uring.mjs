// The built-in target's file namespace on io_uring (--file-io uring) vs synchronous pread/pwrite on
// the reactor (--file-io sync). One reactor serves two namespaces: file:F (NSID 1) and ram:64MiB
// (NSID 2). Each measurement runs two nvmf-perf processes at once: QD32 4 KiB randread or randwrite
// on the file namespace (IOPS), and QD1 4 KiB randread on the ram namespace (its mean latency: what a
// blocking file read costs a bystander on the same reactor). Runs alternate A B A B; medians.
//   node bench/target-file-uring.mjs [--runs 3] [--seconds 5] [--size 1GiB] [--mode poll|interrupt] [--dir DIR]
// The file lives in --dir (default the OS temp dir; its page cache decides how much reads touch the disk).
import { spawn } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { native } from '../dist/native/index.js';
import { argValue, fmt, median } from './lib.mjs';

const runs = Number(argValue('--runs', '3'));
const seconds = Number(argValue('--seconds', '5'));
const sizeArg = argValue('--size', '1GiB');
const mode = argValue('--mode', 'poll');
const m = /^(\d+)(MiB|GiB)$/.exec(sizeArg);
if (!(runs >= 1) || !(seconds >= 1) || !m || (mode !== 'poll' && mode !== 'interrupt')) {
  console.error('target-file-uring: --runs/--seconds >= 1, --size NMiB|NGiB, --mode poll|interrupt');
  process.exit(2);
}
const sizeBytes = Number(m[1]) * (m[2] === 'GiB' ? 1024 ** 3 : 1024 ** 2);
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(argValue('--dir', tmpdir()), 'nvmf-file-uring-'));
const file = join(dir, 'ns.img');
const NQN = 'nqn.2016-06.io.nvmf-perf:file-uring-bench';
const cpus = native.allowedCpus();
const reactorCpu = cpus[cpus.length - 1];
const hostCpu = cpus.length > 1 ? cpus[0] : reactorCpu;

// Written (not sparse), so reads hit real blocks.
{
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4 * 1024 * 1024, 0x5a);
  for (let off = 0; off < sizeBytes; off += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, sizeBytes - off), off);
  ftruncateSync(fd, sizeBytes);
  closeSync(fd);
}

function startTarget(fileIo, port) {
  const args = [cli, 'target', '--listen', `127.0.0.1:${port}`, '--subnqn', NQN, '--ns', `file:${file}`, '--ns', 'ram:64MiB',
    '--block-size', '4096', '--reactor-mask', String(reactorCpu), '--file-io', fileIo];
  if (mode === 'interrupt') args.push('--interrupt-mode');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('target did not print READY in 30 s')), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('READY')) { clearTimeout(timer); resolve(child); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`target exited ${code}`)); });
  });
}

function perfArgs(port, ns, q, w, json) {
  return [cli, '-r', `trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:${port} subnqn:${NQN} ns:${ns}`, '-q', String(q), '-s', '4096',
    '-w', w, '-t', String(seconds), '-c', String(hostCpu), '--no-progress', '--json', json];
}

function runPerf(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nvmf-perf exited ${code}: ${err.trim()}`))));
  });
}

const total = (json) => {
  const t = JSON.parse(readFileSync(json, 'utf8')).total.total;
  rmSync(json, { force: true });
  if (t.errors > 0) throw new Error(`${t.errors} I/O errors`);
  return t;
};

let portSeq = 4700 + (process.pid % 50) * 2;
async function measure(fileIo, w) {
  const port = portSeq++;
  const tgt = await startTarget(fileIo, port);
  try {
    const jf = join(dir, `file-${port}.json`), jr = join(dir, `ram-${port}.json`);
    await Promise.all([runPerf(perfArgs(port, 1, 32, w, jf)), runPerf(perfArgs(port, 2, 1, 'randread', jr))]);
    const f = total(jf), r = total(jr);
    return { iops: f.iops, ramAvgUs: r.avgUs, ramIops: r.iops };
  } finally {
    tgt.kill('SIGTERM');
    await new Promise((res) => tgt.once('exit', res));
  }
}

try {
  console.log(`file namespace ${sizeArg} in ${dir}, reactor on CPU ${reactorCpu}, hosts on CPU ${hostCpu}, ${mode} mode, ${seconds} s per run, ${runs} alternating pairs`);
  for (const w of ['randread', 'randwrite']) {
    const res = { uring: [], sync: [] };
    for (let i = 0; i < runs; i++) {
      for (const how of i % 2 === 0 ? ['uring', 'sync'] : ['sync', 'uring']) {
        const r = await measure(how, w);
        res[how].push(r);
        console.log(`  ${w} run ${i + 1} ${how.padEnd(5)}: file QD32 ${fmt(r.iops)} IOPS; ram QD1 alongside: ${fmt(r.ramAvgUs, 1)} us mean (${fmt(r.ramIops)} IOPS)`);
      }
    }
    const med = (how, k) => median(res[how].map((r) => r[k]));
    console.log(`${w} 4 KiB QD32 on file: uring ${fmt(med('uring', 'iops'))} vs sync ${fmt(med('sync', 'iops'))} IOPS `
      + `(ratio ${fmt(med('uring', 'iops') / med('sync', 'iops'), 2)}); ram QD1 mean latency alongside: uring ${fmt(med('uring', 'ramAvgUs'), 1)} us vs sync ${fmt(med('sync', 'ramAvgUs'), 1)} us`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
