// Raw host loop against the built-in target (no workers, histograms or progress): 4 KiB random read
// IOPS at QD 32 on one connection, and average latency at QD 1. Host pinned to core 0, target reactor
// to core 1. Several runs; prints each and the median.
//   node bench/host-target.mjs [--runs 3] [--seconds 5] [--ns ram:1GiB]
import { native } from '../dist/native/index.js';
import { Controller } from '../dist/host/controller.js';
import { parseTrid } from '../dist/host/trid.js';
import { launchBuiltinTarget } from '../dist/launch/builtin-target.js';
import { argValue, fmt, median, rawLoop } from './lib.mjs';

const runs = Number(argValue('--runs', '3'));
const seconds = Number(argValue('--seconds', '5'));
const ns = argValue('--ns', 'ram:1GiB');
const ioSize = 4096;

const hostCore = native.allowedCpus()[0];
const targetCore = native.allowedCpus().at(-1);
native.pinThread(hostCore);
const qd32 = [], qd1 = [], tgtUs = [];
for (let r = 0; r < runs; r++) {
  const t = await launchBuiltinTarget({ namespaces: [ns], reactorCores: [targetCore] });
  try {
    const ctrl = Controller.connect(parseTrid(t.trid), { keepAlive: false });
    const nsInfo = ctrl.namespaces[0];
    const qp = ctrl.createIoQpair(1, 32);
    rawLoop(qp, nsInfo, 32, 1); // warm-up (JIT, target caches)
    const tc0 = t.cpuNs();
    const a = rawLoop(qp, nsInfo, 32, seconds, r + 1);
    const tc1 = t.cpuNs();
    const b = rawLoop(qp, nsInfo, 1, Math.min(seconds, 3), r + 7);
    const tgt = (tc1 - tc0) / 1000 / (a.iops * seconds);
    qd32.push(a.iops); qd1.push(b.avgUs); tgtUs.push(tgt);
    console.log(`run ${r + 1}: QD32 ${fmt(a.iops)} IOPS (${(1e6 / a.iops).toFixed(2)} us/IO wall, host CPU ${a.cpuUsPerIo.toFixed(2)} us/IO, target CPU ${tgt.toFixed(2)} us/IO), avg latency ${a.avgUs.toFixed(1)} us; QD1 avg latency ${b.avgUs.toFixed(1)} us (${fmt(b.iops)} IOPS)`);
    ctrl.shutdown();
  } finally {
    await t.stop();
  }
}
if (process.argv.includes('--json')) console.log(JSON.stringify({ qd32Iops: median(qd32), qd1AvgUs: median(qd1), targetUsPerIo: median(tgtUs) }));
console.log(`median of ${runs}: 4 KiB randread QD32 one connection: ${fmt(median(qd32))} IOPS = ${(1e6 / median(qd32)).toFixed(2)} us per I/O; QD1 average latency ${median(qd1).toFixed(1)} us; target CPU ${median(tgtUs).toFixed(2)} us/IO (host core ${hostCore}, target core ${targetCore}, ${ns})`);
