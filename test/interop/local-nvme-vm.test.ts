// Local NVMe through io_uring inside a Linux VM (test/peers/linux-nvme-vm.sh run): QEMU's emulated
// NVMe controller at 0000:00:04.0 (booted with nvme.poll_queues=2) driven by
// -r 'trtype:PCIe traddr:0000:00:04.0' (NVMe passthrough on /dev/ng0n1) in poll mode (IOPOLL) and
// interrupt mode, and by the block device /dev/nvme0n1 as a positional argument; data is checked with
// --verify, and the blocks our passthrough writes put there are read back through the kernel's block
// layer with dd. One boot for the whole file. Under CI=true a VM that cannot run fails.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLinuxVm } from './linux-vm.js';
import { VM_NVME_TRADDR, startVm, type VmCommandResult, type VmSession } from './linux-vm-run.js';

const vmRuns = requireLinuxVm('local NVMe in a VM');
const CLI = path.resolve('dist/cli/main.js');
const NODE = process.execPath;
const PCIE = `trtype:PCIe traddr:${VM_NVME_TRADDR}`;

function show(r: VmCommandResult): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

interface LocalResult {
  status: string;
  total: { read: { ios: number }; write: { ios: number } };
  verify: { blocksChecked: number; blocksWritten: number; mismatches: number };
  targets: { trid: string; local?: { transport: string; device: string; iopoll: boolean; pciAddress?: string; kernelPath: string } }[];
}

describe.skipIf(!vmRuns)('local NVMe (PCIe passthrough and block device) in a VM', () => {
  let vm: VmSession;
  beforeAll(() => { vm = startVm({ timeoutSec: 1500, nvmeMib: 64 }); });
  afterAll(async () => { await vm?.stop(); }, 120_000);

  const perf = (json: string, ...args: string[]): string[] =>
    [NODE, CLI, '-q', '8', '-s', '4096', '-t', '2', '--range', '0:4MiB', '--verify', '--no-progress', '--results-dir', '/tmp/res', '--json', json, ...args];
  const load = (json: string): LocalResult => JSON.parse(fs.readFileSync(json, 'utf8')) as LocalResult;

  for (const mode of ['poll', 'interrupt'] as const) {
    for (const pattern of ['randwrite', 'randread'] as const) {
      it(`-r '${PCIE}' ${pattern} in ${mode} mode, data verified`, async () => {
        const json = path.join(vm.dir, `pcie-${pattern}-${mode}.json`);
        const r = await vm.exec(perf(json, '-w', pattern, '--mode', mode, '-r', PCIE), { timeoutSec: 300 });
        expect(r.code, show(r)).toBe(0);
        const res = load(json);
        expect(res.status).toBe('complete');
        expect(res.verify.mismatches).toBe(0);
        expect(res.verify.blocksChecked).toBeGreaterThanOrEqual(1024); // the whole 4 MiB range read back
        expect(pattern === 'randread' ? res.total.read.ios : res.total.write.ios, show(r)).toBeGreaterThan(0);
        expect(res.targets[0]!.local).toMatchObject({ transport: 'PCIe', pciAddress: VM_NVME_TRADDR, device: '/dev/ng0n1', iopoll: mode === 'poll' });
      }, 600_000);
    }
  }

  it('what passthrough wrote is on the device: dd through the block layer reads the verify header', async () => {
    // The randwrite runs above left --verify blocks (magic "NVF1") over the first 4 MiB.
    const r = await vm.exec(['sh', '-c', 'dd if=/dev/nvme0n1 bs=4096 count=1 skip=100 iflag=direct 2>/dev/null | head -c 4']);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toBe('NVF1');
  }, 300_000);

  it('/dev/nvme0n1 as a positional argument runs randrw with data verified', async () => {
    const json = path.join(vm.dir, 'blockdev.json');
    const r = await vm.exec(perf(json, '-w', 'randrw', '/dev/nvme0n1'), { timeoutSec: 300 });
    expect(r.code, show(r)).toBe(0);
    const res = load(json);
    expect(res.status).toBe('complete');
    expect(res.verify.mismatches).toBe(0);
    expect(res.verify.blocksChecked).toBeGreaterThanOrEqual(1024);
    expect(res.total.read.ios).toBeGreaterThan(0);
    expect(res.total.write.ios).toBeGreaterThan(0);
    expect(res.targets[0]!.local).toMatchObject({ transport: 'local', device: '/dev/nvme0n1' });
  }, 600_000);
});
