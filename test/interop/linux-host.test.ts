// Interop: the REAL Linux kernel NVMe/TCP host (nvme-tcp, Linux 6.1 in a QEMU VM, see
// test/peers/README.md) against our built-in target on 127.0.0.1 (ephemeral port). The guest
// connects (discovery too), checks Identify, writes 8 MiB with O_DIRECT plus 16×4 KiB at the end
// of the namespace, reads everything back and compares checksums, once without and once with
// header+data digests. Skips with the reason printed when the VM dependencies are missing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../src/native/index.js';
import { targetConfig } from '../../src/target/config.js';
import { startTarget, type RunningTarget } from '../../src/target/target.js';
import { requireLinuxVm, runLinuxHost, type LinuxHostResult } from './linux-vm.js';

const vmRuns = requireLinuxVm('interop (linux-host)');

const NQN = 'nqn.2016-06.io.nvmf-perf:linux-host-interop';

const started: RunningTarget[] = [];
const tmpDirs: string[] = [];

afterAll(async () => {
  for (const t of started) await t.stop();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
}, 30_000);

function report(r: LinuxHostResult): string {
  const steps = r.steps.map((s) => `${s.ok ? 'OK  ' : 'FAIL'} ${s.name} ${s.detail}`).join('\n');
  return `exit ${r.exitCode}\n${steps}\n${r.passed ? '' : r.output}`;
}

describe.skipIf(!vmRuns)('Linux kernel host (nvme-tcp) against the built-in target', () => {
  it('passes plain and digest passes plus discovery (ram namespace, poll mode)', async () => {
    const t = await startTarget(targetConfig({
      listen: [{ host: '127.0.0.1', port: 0 }], subnqn: NQN, namespaces: [{ kind: 'ram', sizeBytes: 64 * 1024 * 1024 }],
      logLevel: 'warn',
    }, native.allowedCpus()));
    started.push(t);
    const r = await runLinuxHost({ port: t.port, nqn: NQN, passes: 'plain,digest', discovery: true, sizeMib: 8, timeoutSec: 240 });
    if (!r.passed) console.error(report(r));
    expect(r.passed, report(r)).toBe(true);
    expect(r.steps.map((s) => s.name)).toEqual(expect.arrayContaining([
      'discovery/connect', 'plain/data', 'plain/tail-io', 'digest/data', 'digest/tail-io',
    ]));
    await t.stop();
    expect(t.controllers()).toBe(0);
  }, 300_000);

  it('passes with interrupt mode, a file namespace with 4 KiB blocks and two I/O queues', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmf-perf-interop-'));
    tmpDirs.push(dir);
    const file = path.join(dir, 'ns.img');
    fs.writeFileSync(file, Buffer.alloc(0));
    fs.truncateSync(file, 32 * 1024 * 1024);
    const cpus = native.allowedCpus();
    const t = await startTarget(targetConfig({
      listen: [{ host: '127.0.0.1', port: 0 }], subnqn: NQN, namespaces: [{ kind: 'file', path: file }],
      blockSize: 4096, interruptMode: true, reactorCpus: cpus.length >= 2 ? cpus.slice(-2) : cpus, logLevel: 'warn',
    }, cpus));
    started.push(t);
    const r = await runLinuxHost({ port: t.port, nqn: NQN, passes: 'plain', sizeMib: 8, connectOpts: 'nr_io_queues=2', timeoutSec: 240 });
    if (!r.passed) console.error(report(r));
    expect(r.passed, report(r)).toBe(true);
    await t.stop();
  }, 300_000);
});
