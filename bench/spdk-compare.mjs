// Side by side with SPDK v25.09 (../shared/peers/spdk.sh), one core each side, loopback:
//   (a) initiators: nvmf-perf (-c 0x1) and spdk_nvme_perf (-c 0x1) against one nvmf_tgt (core 1);
//   (b) targets: spdk_nvme_perf against the built-in target (`nvmf-perf target --reactor-mask 1`) and
//       against nvmf_tgt;
// for 4 KiB randread QD1, 4 KiB randread QD32, 128 KiB randread QD32 and 128 KiB randwrite QD32, plus
// a digest case (128 KiB randread with -H -I against the same without, for our initiator, for our
// target, for both ends ours and, as the reference, for both ends SPDK). Runs alternate (each run
// measures every pair back to back, in one order in odd runs and the other in even runs; the target
// started first alternates between runs; each target gets a discarded warm-up from both initiators
// first); prints every run's IOPS and MiB/s and the median ratio per case.
// Both targets get a 256 MiB RAM namespace with 4 KiB blocks (nvmf_tgt's Malloc bdev, our ram:).
// With --base DIR (another checkout of nvmf-perf, built), every nvmf-perf measurement is also taken
// with that build, alternating with this one, and the ratios of both builds are printed side by side
// (e.g. a checkout of the commit before a change, to show the change did not cost anything).
//   node bench/spdk-compare.mjs [--runs 3] [--seconds 5] [--base DIR]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argValue, fmt, median } from './lib.mjs';

const runs = Number(argValue('--runs', '3'));
const seconds = Number(argValue('--seconds', '5'));
if (!(runs >= 1) || !(seconds >= 1)) {
  console.error('spdk-compare: --runs and --seconds must be >= 1');
  process.exit(2);
}
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const baseDir = argValue('--base', undefined);
const baseCli = baseDir ? join(baseDir, 'dist/cli/main.js') : undefined;
if (baseCli && !existsSync(baseCli)) {
  console.error(`spdk-compare: --base: ${baseCli} not found (build that checkout first)`);
  process.exit(2);
}
/** The builds under test: this one, and the base build when given. */
const BUILDS = [{ tag: '', cli }, ...(baseCli ? [{ tag: ' [base]', cli: baseCli }] : [])];
const spdk = fileURLToPath(new URL('../../shared/peers/spdk.sh', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nvmf-spdk-compare-'));
const NQN = 'nqn.2016-06.io.spdk:cnode1';
const SPDK_PORT = 4460 + (process.pid % 20);
const OUR_PORT = SPDK_PORT + 20;

const CASES = [
  { name: '4 KiB randread QD1', q: 1, o: 4096, w: 'randread' },
  { name: '4 KiB randread QD32', q: 32, o: 4096, w: 'randread' },
  { name: '128 KiB randread QD32', q: 32, o: 131072, w: 'randread' },
  { name: '128 KiB randwrite QD32', q: 32, o: 131072, w: 'randwrite' },
];
const DIGEST = { name: '128 KiB randread QD32', q: 32, o: 131072, w: 'randread' };

const trid = (port) => `trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:${port} subnqn:${NQN}`;

/** nvmf-perf as initiator on core 0. */
function ours(c, port, digests = false, build = BUILDS[0], secs = seconds) {
  const json = join(dir, `r-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const args = [build.cli, '-r', trid(port), '-q', String(c.q), '-s', String(c.o), '-w', c.w, '-t', String(secs), '-c', '0x1',
    '--no-progress', '--json', json];
  if (digests) args.push('-H', '-I');
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: (seconds + 60) * 1000 });
  if (r.status !== 0) throw new Error(`nvmf-perf exited ${r.status}: ${r.stderr.trim()}`);
  const t = JSON.parse(readFileSync(json, 'utf8')).total.total;
  rmSync(json, { force: true });
  if (t.errors > 0) throw new Error(`nvmf-perf: ${t.errors} I/O errors`);
  return { iops: t.iops, mibps: t.mibps };
}

/** spdk_nvme_perf on core 0. */
function theirs(c, port, digests = false, secs = seconds) {
  const args = ['perf', '-c', '0x1', '-q', String(c.q), '-o', String(c.o), '-w', c.w, '-t', String(secs), '-r', trid(port)];
  if (digests) args.push('-H', '-I');
  const r = spawnSync('bash', [spdk, ...args], { encoding: 'utf8', timeout: (seconds + 60) * 1000 });
  const m = /^Total\s*:\s*([\d.]+)\s+([\d.]+)/m.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`spdk_nvme_perf exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return { iops: Number(m[1]), mibps: Number(m[2]) };
}

/** Starts a target process and resolves once its READY line is out; stop() ends it (by PID). */
function startTarget(cmd, args, stopFn) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${cmd} did not get READY within 120 s: ${out}`)); }, 120_000);
    const onData = (d) => {
      out += d;
      if (/^READY /m.test(out)) {
        clearTimeout(timer);
        resolve({ stop: () => stopFn(child) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${cmd} exited ${code} before READY: ${out}`)); });
  });
}

async function waitExit(child) {
  if (child.exitCode !== null) return;
  await new Promise((res) => { child.once('exit', res); setTimeout(() => { child.kill('SIGKILL'); }, 10_000); });
}

const spdkPid = join(dir, 'nvmf_tgt.pid');
const startSpdk = () => startTarget('bash', [spdk, 'target', '--port', String(SPDK_PORT), '--core', '1', '--bdev', 'malloc:256',
  '--block-size', '4096', '--pidfile', spdkPid], async (child) => {
  spawnSync('bash', [spdk, 'stop', '--pidfile', spdkPid], { stdio: 'ignore' });
  await waitExit(child);
});
const startOurs = (build = BUILDS[0]) => startTarget(process.execPath, [build.cli, 'target', '--listen', `127.0.0.1:${OUR_PORT}`, '--reactor-mask', '1',
  '--ns', 'ram:256MiB', '--block-size', '4096'], async (child) => {
  child.kill('SIGTERM');
  await waitExit(child);
});

/** Runs a and b back to back, a first in odd runs and b first in even runs; returns [a's, b's]. */
function inTurn(run, a, b) {
  if (run % 2 === 1) { const x = a(); return [x, b()]; }
  const y = b();
  return [a(), y];
}

/**
 * A freshly started target's first connections run slower (its buffer pools and the sockets' windows
 * grow during them): each initiator runs a short 128 KiB randread against it first, discarded.
 */
function warmUp(port) {
  const w = { q: 32, o: 131072, w: 'randread' };
  ours(w, port, false, BUILDS[0], 2);
  theirs(w, port, false, 2);
}

const rows = [];
const pairs = new Map(); // case label -> [ratio per run]
function record(run, label, aName, a, bName, b) {
  rows.push({ run, label, aName, a, bName, b });
  if (!pairs.has(label)) pairs.set(label, []);
  pairs.get(label).push(a.mibps / b.mibps);
  console.log(`run ${run}  ${label.padEnd(52)} ${aName} ${fmt(a.iops).padStart(9)} IOPS ${a.mibps.toFixed(1).padStart(8)} MiB/s | ${bName} ${fmt(b.iops).padStart(9)} IOPS ${b.mibps.toFixed(1).padStart(8)} MiB/s | ratio ${(a.mibps / b.mibps).toFixed(2)}`);
}

async function phaseSpdkTarget(run, spdkToSpdk) {
  const t = await startSpdk();
  try {
    warmUp(SPDK_PORT);
    for (const c of CASES) {
      // Alternate from run to run which initiator goes first, and which build of ours.
      const order = run % 2 === 1 ? BUILDS : [...BUILDS].reverse();
      const mine = new Map();
      let b;
      if (run % 2 === 0) b = theirs(c, SPDK_PORT);
      for (const bd of order) mine.set(bd, ours(c, SPDK_PORT, false, bd));
      if (run % 2 === 1) b = theirs(c, SPDK_PORT);
      spdkToSpdk.set(c.name, b);
      for (const bd of BUILDS) record(run, `initiator ${c.name}${bd.tag}`, 'nvmf-perf', mine.get(bd), 'spdk_nvme_perf', b);
    }
    const [d, n] = inTurn(run, () => ours(DIGEST, SPDK_PORT, true), () => ours(DIGEST, SPDK_PORT, false));
    record(run, `digests, our initiator, ${DIGEST.name}`, '-H -I', d, 'none', n);
    // Reference: what digests cost SPDK itself (spdk_nvme_perf against nvmf_tgt, both computing CRC32C).
    const [sd, sn] = inTurn(run, () => theirs(DIGEST, SPDK_PORT, true), () => theirs(DIGEST, SPDK_PORT, false));
    record(run, `digests, both ends SPDK, ${DIGEST.name}`, '-H -I', sd, 'none', sn);
  } finally {
    await t.stop();
  }
}

async function phaseOurTarget(run, spdkToOurs, build) {
  const t = await startOurs(build);
  try {
    warmUp(OUR_PORT);
    const m = new Map();
    for (const c of CASES) m.set(c.name, theirs(c, OUR_PORT));
    spdkToOurs.set(build, m);
    if (build === BUILDS[0]) {
      const [d, n] = inTurn(run, () => theirs(DIGEST, OUR_PORT, true), () => theirs(DIGEST, OUR_PORT, false));
      record(run, `digests, our target, ${DIGEST.name}`, '-H -I', d, 'none', n);
      const [od, on] = inTurn(run, () => ours(DIGEST, OUR_PORT, true), () => ours(DIGEST, OUR_PORT, false));
      record(run, `digests, both ends ours, ${DIGEST.name}`, '-H -I', od, 'none', on);
    }
  } finally {
    await t.stop();
  }
}

try {
  for (let run = 1; run <= runs; run++) {
    const spdkToSpdk = new Map(), spdkToOurs = new Map();
    const builds = run % 2 === 1 ? BUILDS : [...BUILDS].reverse();
    if (run % 2 === 1) {
      await phaseSpdkTarget(run, spdkToSpdk);
      for (const b of builds) await phaseOurTarget(run, spdkToOurs, b);
    } else {
      for (const b of builds) await phaseOurTarget(run, spdkToOurs, b);
      await phaseSpdkTarget(run, spdkToSpdk);
    }
    for (const c of CASES) {
      for (const b of BUILDS) {
        record(run, `target ${c.name}${b.tag}`, 'ours    ', spdkToOurs.get(b).get(c.name), 'nvmf_tgt      ', spdkToSpdk.get(c.name));
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nmedian MiB/s ratio of ${runs} run(s) (${seconds} s each; initiator: nvmf-perf / spdk_nvme_perf against nvmf_tgt; target: spdk_nvme_perf against ours / against nvmf_tgt; digests: with / without):`);
for (const [label, rs] of pairs) {
  console.log(`  ${label.padEnd(52)} ${median(rs).toFixed(2)}   (runs: ${rs.map((r) => r.toFixed(2)).join(' ')})`);
}
