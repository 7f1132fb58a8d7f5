// --target linux inside a Linux VM (test/peers/linux-nvme-vm.sh run): nvmf-perf builds the kernel's
// nvmet-tcp target through configfs, our host runs verified I/O against it, and nothing is left in
// configfs afterwards, also after a SIGKILLed run (the next start removes its leftovers). One boot
// for the whole file. Under CI=true a VM that cannot run fails; elsewhere the file skips and says why.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLinuxVm } from './linux-vm.js';
import { startVm, type VmCommandResult, type VmSession } from './linux-vm-run.js';

const vmRuns = requireLinuxVm('--target linux in a VM');
const CLI = path.resolve('dist/cli/main.js');
const NODE = process.execPath;
/** Everything the launcher may create, one entry per line (empty when clean). */
const LEFTOVERS = 'find /sys/kernel/config/nvmet/subsystems /sys/kernel/config/nvmet/ports /sys/kernel/config/nullb -mindepth 1 -maxdepth 1 -type d';

function show(r: VmCommandResult): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

describe.skipIf(!vmRuns)('--target linux (kernel nvmet-tcp in a VM)', () => {
  let vm: VmSession;
  beforeAll(() => { vm = startVm({ timeoutSec: 1500 }); });
  afterAll(async () => { await vm?.stop(); }, 120_000);

  it('runs verified randrw against nvmet on a memory-backed null_blk and removes the target afterwards', async () => {
    const json = path.join(vm.dir, 'linux.json');
    const r = await vm.exec(['sh', '-c', `"$0" "$1" -q 4 -s 4096 -w randrw -t 2 --target linux --target-ns ram:8MiB --verify `
      + `--no-progress --results-dir /tmp/res --json "$2"; rc=$?; echo LEFTOVERS; ${LEFTOVERS}; exit $rc`, NODE, CLI, json]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).toMatch(/launched the Linux kernel target \(nvmet-tcp\) \(ram:8MiB\) at traddr:127\.0\.0\.1 trsvcid:\d+ subnqn:nqn\.2026-11\.io\.nvmf-perf:launched-\d+-1/);
    expect(r.stdout.split('LEFTOVERS\n')[1]?.trim(), show(r)).toBe('');
    const res = JSON.parse(fs.readFileSync(json, 'utf8')) as {
      status: string; total: { read: { ios: number }; write: { ios: number } };
      verify: { blocksChecked: number; mismatches: number };
      targets: { subnqn: string; launched: { kind: string; pid: number; note?: string } }[]; targetCpu?: unknown;
    };
    expect(res.status).toBe('complete');
    expect(res.total.read.ios).toBeGreaterThan(0);
    expect(res.total.write.ios).toBeGreaterThan(0);
    expect(res.verify.mismatches).toBe(0);
    expect(res.verify.blocksChecked).toBeGreaterThan(0);
    expect(res.targets[0]!.launched).toMatchObject({ kind: 'linux', pid: 0 });
    expect(res.targets[0]!.launched.note).toMatch(/target CPU is not measured/);
    expect(res.targetCpu).toBeUndefined();
  }, 900_000);

  it('removes what a SIGKILLed run left in configfs at the next start', async () => {
    // Start a long run, wait until its subsystem exists and I/O flows, SIGKILL it, list configfs,
    // then start another run and list again.
    const script = `
      "$0" "$1" -q 2 -s 4096 -w randread -t 120 --target linux --target-ns ram:4MiB --no-progress --results-dir /tmp/res 2>/tmp/first.err &
      pid=$!; i=0
      until grep -q 'launched the Linux' /tmp/first.err 2>/dev/null; do
        i=$((i+1)); [ $i -gt 600 ] && { echo "first run did not start"; cat /tmp/first.err; exit 9; }; sleep 0.5; done
      sleep 3
      kill -9 $pid; wait $pid 2>/dev/null
      echo "KILLED $pid"; ${LEFTOVERS}
      "$0" "$1" -q 1 -s 4096 -w read -t 1 --target linux --target-ns null:4MiB --no-progress --results-dir /tmp/res; rc=$?
      echo LEFTOVERS; ${LEFTOVERS}; exit $rc`;
    const r = await vm.exec(['sh', '-c', script, NODE, CLI]);
    expect(r.code, show(r)).toBe(0);
    const pid = /KILLED (\d+)/.exec(r.stdout)?.[1];
    expect(pid, show(r)).toBeDefined();
    const before = r.stdout.split(`KILLED ${pid}\n`)[1]!.split('LEFTOVERS')[0]!;
    expect(before).toContain(`/sys/kernel/config/nvmet/subsystems/nqn.2026-11.io.nvmf-perf:launched-${pid}-1`);
    expect(before).toContain(`/sys/kernel/config/nullb/nvmfperf-${pid}-1`);
    expect(before).toMatch(/\/sys\/kernel\/config\/nvmet\/ports\/\d+/);
    expect(r.stderr).toContain(`removed what earlier --target linux runs left in configfs: nqn.2026-11.io.nvmf-perf:launched-${pid}-1, null_blk nvmfperf-${pid}-1`);
    expect(r.stdout.split('LEFTOVERS\n')[1]?.trim(), show(r)).toBe('');
  }, 900_000);

  it('says in one line when it is not root or configfs is not mounted', async () => {
    // Results go to a directory each user can create (the check that it is writable comes first).
    const base = (dir: string): string => `"$0" "$1" -q 1 -s 4096 -w read -t 1 --target linux --target-ns null:4MiB --no-progress --results-dir ${dir}`;
    const r = await vm.exec(['sh', '-c', `setpriv --reuid=65534 --regid=65534 --clear-groups ${base('/tmp/res-nobody')}; echo "rc=$?"; `
      + `unshare -m sh -c "umount /sys/kernel/config && ${base('/tmp/res-noconfigfs').replace(/"/g, '\\"')}" "$0" "$1"; echo "rc=$?"`, NODE, CLI]);
    expect(r.stdout, show(r)).toBe('rc=1\nrc=1\n');
    const lines = r.stderr.trim().split('\n');
    expect(lines, show(r)).toEqual([
      'nvmf-perf: --target linux: needs root (it builds the target in configfs and loads kernel modules)',
      'nvmf-perf: --target linux: configfs is not mounted at /sys/kernel/config (mount -t configfs none /sys/kernel/config)',
    ]);
  }, 600_000);
});
