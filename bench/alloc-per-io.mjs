// Bytes allocated per I/O on the hot path, host and target, for 4 KiB randread and 128 KiB
// randread/randwrite at QD32 over one connection to the built-in target.
// Host: the raw loop runs in this process; V8's new-space usage is read before and after (the young
// generation is made large enough that no scavenge runs in between; a run with a GC is reported).
// Target: its process runs with --trace-gc and a fixed 16 MiB semi-space; scavenges during the
// measured I/Os × 16 MiB / I/Os is an upper bound of what its reactor allocates per I/O.
//   node --max-semi-space-size=256 --min-semi-space-size=256 bench/alloc-per-io.mjs [--ios 200000]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { native } from '../dist/native/index.js';
import { Controller } from '../dist/host/controller.js';
import { parseTrid } from '../dist/host/trid.js';
import { argValue, fmt } from './lib.mjs';

const ios = Number(argValue('--ios', '200000'));
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const port = 4700 + (process.pid % 100);
const cores = native.allowedCpus();

const tgt = spawn(process.execPath, ['--trace-gc', '--min-semi-space-size=16', '--max-semi-space-size=16', cli, 'target',
  '--listen', `127.0.0.1:${port}`, '--reactor-mask', String(cores.at(-1)), '--ns', 'ram:256MiB'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
tgt.stdout.on('data', (d) => { out += d; });
const scavenges = () => (out.match(/Scavenge/g) ?? []).length;
try {
  for (let i = 0; i < 600 && !/^READY/m.test(out); i++) await new Promise((r) => setTimeout(r, 100));
  if (!/^READY (.*)$/m.test(out)) throw new Error(`target did not start: ${out}`);
  const trid = /^READY (.*)$/m.exec(out)[1];
  native.pinThread(cores[0]);
  let gcs = 0;
  // Scavenges only (kind 1: minor GC); a mark-compact does not empty new space.
new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.detail?.kind === 1) gcs++; }).observe({ entryTypes: ['gc'] });
  const ctrl = Controller.connect(parseTrid(trid), { keepAlive: false, kato: 0 });
  const ns = ctrl.namespaces[0];
  const qp = ctrl.createIoQpair(1, 32);
  // The reactor's own idle loop (no I/O): scavenges per second, to tell time-driven from per-I/O allocation.
  const i0 = scavenges(), it0 = Date.now();
  await new Promise((r) => setTimeout(r, 5000));
  console.log(`target idle (connected, no I/O): ${((scavenges() - i0) / ((Date.now() - it0) / 1000)).toFixed(2)} scavenges/s`);
  const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_used_size;

  for (const [label, size, write] of [['4 KiB randread', 4096, false], ['128 KiB randread', 131072, false], ['128 KiB randwrite', 131072, true]]) {
    const blocks = size / ns.blockSize;
    const slots = Math.floor(ns.sizeBlocks / blocks);
    const buf = new Uint8Array(32 * size);
    const free = Array.from({ length: 32 }, (_, i) => i);
    let done = 0, x = 1;
    qp.onComplete = (tag, status) => {
      if (status !== 0) throw new Error(`I/O failed: 0x${status.toString(16)}`);
      done++;
      free.push(tag);
    };
    const loop = (n) => {
      const goal = done + n;
      while (done < goal) {
        while (free.length > 0) {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          const tag = free.pop();
          const lba = ((x >>> 0) % slots) * blocks;
          const ok = write ? qp.submitWrite(ns.nsid, lba, blocks, ns.blockSize, buf, tag * size, tag)
            : qp.submitRead(ns.nsid, lba, blocks, ns.blockSize, buf, tag * size, tag);
          if (!ok) { free.push(tag); break; }
        }
        qp.processCompletions();
      }
      while (qp.outstanding > 0) qp.processCompletions();
    };
    const n = size > 4096 ? Math.max(1000, ios / 8) : ios;
    loop(Math.min(20000, n)); // warm-up (JIT)
    await new Promise((r) => setTimeout(r, 50)); // let pending GC entries arrive
    const g0 = gcs, s0 = scavenges(), h0 = newSpace(), d0 = done, t0 = Date.now();
    loop(n);
    const h1 = newSpace(), d = done - d0, sec = (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 200)); // the target's trace lines
    const hostGc = gcs - g0;
    const tgtScav = scavenges() - s0;
    console.log(`${label.padEnd(18)} ${fmt(d)} I/Os: host ${hostGc === 0 ? `${((h1 - h0) / d).toFixed(2)} B/IO` : `(${hostGc} scavenges during the run: start with a larger --max-semi-space-size)`}; target ${tgtScav} scavenges of 16 MiB in ${sec.toFixed(1)} s = at most ${((tgtScav * 16 * 1048576) / d).toFixed(1)} B/IO`);
  }
  ctrl.shutdown();
} finally {
  tgt.kill('SIGTERM');
}
