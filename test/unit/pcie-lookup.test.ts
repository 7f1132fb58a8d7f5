// trtype:PCIe TRIDs and the sysfs lookup of the kernel NVMe controller behind a PCI address, against
// sysfs-shaped trees built in a temp dir (data, not a peer: the real tree is only in the VM tests).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findPcieController, parsePcieTrid } from '../../src/transport/local/pcie-lookup.js';

const root = mkdtempSync(join(tmpdir(), 'nvmf-perf-sysfs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let k = 0;
/** A sysfs + /dev pair: device ADDR bound to `driver`, controller nvme0 with generic devices `ngs`. */
function tree(addr: string, driver: string | null, ngs: string[], pollQueues = '2', devs = ngs): { sysfs: string; dev: string } {
  const base = join(root, `t${k++}`);
  const sysfs = join(base, 'sys'), dev = join(base, 'dev');
  const pci = join(sysfs, 'bus/pci/devices', addr);
  mkdirSync(join(sysfs, 'bus/pci/drivers'), { recursive: true });
  mkdirSync(pci, { recursive: true });
  mkdirSync(dev, { recursive: true });
  if (driver) {
    mkdirSync(join(sysfs, 'bus/pci/drivers', driver), { recursive: true });
    symlinkSync(join(sysfs, 'bus/pci/drivers', driver), join(pci, 'driver'));
  }
  if (driver === 'nvme') {
    const c = join(pci, 'nvme/nvme0');
    mkdirSync(c, { recursive: true });
    writeFileSync(join(c, 'model'), 'QEMU NVMe Ctrl                          \n');
    writeFileSync(join(c, 'serial'), 'deadbeef\n');
    writeFileSync(join(c, 'firmware_rev'), '8.2.0\n');
    for (const n of ngs) mkdirSync(join(c, n));
    mkdirSync(join(c, 'nvme0n1/queue'), { recursive: true });
    writeFileSync(join(c, 'nvme0n1/queue/max_hw_sectors_kb'), '512\n');
    writeFileSync(join(c, 'nvme0n1/queue/max_segments'), '33\n');
  }
  for (const n of devs) writeFileSync(join(dev, n), '');
  mkdirSync(join(sysfs, 'module/nvme/parameters'), { recursive: true });
  writeFileSync(join(sysfs, 'module/nvme/parameters/poll_queues'), `${pollQueues}\n`);
  return { sysfs, dev };
}

describe('trtype:PCIe TRID', () => {
  it('parses SPDK syntax; other trtypes are not PCIe', () => {
    expect(parsePcieTrid('trtype:PCIe traddr:0000:04:00.0')).toEqual({ traddr: '0000:04:00.0' });
    expect(parsePcieTrid('trtype:pcie traddr:04:00.0 ns:2')).toEqual({ traddr: '0000:04:00.0', ns: 2 });
    expect(parsePcieTrid('trtype:TCP traddr:127.0.0.1')).toBeUndefined();
  });
  it('rejects bad fields with one line naming the TRID', () => {
    expect(() => parsePcieTrid('trtype:PCIe')).toThrow('-r "trtype:PCIe": traddr is required (the PCI address, e.g. traddr:0000:04:00.0)');
    expect(() => parsePcieTrid('trtype:PCIe traddr:127.0.0.1')).toThrow('-r "trtype:PCIe traddr:127.0.0.1": traddr "127.0.0.1" is not a PCI address (DDDD:BB:DD.F, e.g. 0000:04:00.0)');
    expect(() => parsePcieTrid('trtype:PCIe traddr:0000:04:00.0 trsvcid:4420')).toThrow('-r "trtype:PCIe traddr:0000:04:00.0 trsvcid:4420": trsvcid does not apply to trtype PCIe');
  });
});

describe('sysfs lookup of the kernel NVMe controller', () => {
  const A = '0000:04:00.0';
  it('finds nvme0 and its generic devices, model/serial/firmware and poll queues', () => {
    const roots = tree(A, 'nvme', ['ng0n2', 'ng0n1']);
    const c = findPcieController({ traddr: A }, roots);
    expect(c).toEqual({ traddr: A, name: 'nvme0', generic: [join(roots.dev, 'ng0n1'), join(roots.dev, 'ng0n2')],
      model: 'QEMU NVMe Ctrl', serial: 'deadbeef', firmware: '8.2.0', pollQueues: 2, maxTransferBytes: 33 * 4096 });
    expect(findPcieController({ traddr: A, ns: 2 }, roots, (p) => Number(p.slice(-1))).generic).toEqual([join(roots.dev, 'ng0n2')]);
    expect(() => findPcieController({ traddr: A, ns: 3 }, roots)).toThrow(`PCIe ${A}: controller nvme0 has no active namespace 3`);
  });
  it('native multipath: the generic devices are found under the controller\'s subsystem', () => {
    const roots = tree(A, 'nvme', []);
    const sub = join(roots.sysfs, 'class/nvme-subsystem/nvme-subsys0');
    mkdirSync(join(sub, 'nvme0'), { recursive: true });
    mkdirSync(join(sub, 'ng0n1'));
    mkdirSync(join(roots.sysfs, 'class/nvme-subsystem/nvme-subsys1/nvme1'), { recursive: true });
    mkdirSync(join(roots.sysfs, 'class/nvme-subsystem/nvme-subsys1/ng1n1'));
    writeFileSync(join(roots.dev, 'ng0n1'), '');
    expect(findPcieController({ traddr: A }, roots).generic).toEqual([join(roots.dev, 'ng0n1')]);
  });

  it('no poll queues is reported as 0', () => {
    expect(findPcieController({ traddr: A }, tree(A, 'nvme', ['ng0n1'], '0')).pollQueues).toBe(0);
  });
  it('bound to vfio-pci: names the driver and how to bind it back', () => {
    const roots = tree(A, 'vfio-pci', []);
    expect(() => findPcieController({ traddr: A }, roots)).toThrow(`PCIe ${A}: bound to vfio-pci, not to the kernel nvme driver: nvmf-perf uses the kernel driver through io_uring; `
      + `bind it back (echo ${A} > /sys/bus/pci/drivers/vfio-pci/unbind; echo ${A} > /sys/bus/pci/drivers/nvme/bind, or SPDK's scripts/setup.sh reset)`);
  });
  it('no driver, no such address, no generic device, /dev node missing', () => {
    expect(() => findPcieController({ traddr: A }, tree(A, null, []))).toThrow(`PCIe ${A}: no driver is bound to it: bind it to the kernel nvme driver (echo ${A} > /sys/bus/pci/drivers/nvme/bind)`);
    expect(() => findPcieController({ traddr: '0000:05:00.0' }, tree(A, 'nvme', ['ng0n1']))).toThrow('PCIe 0000:05:00.0: no such PCI device (lspci -D lists the addresses)');
    expect(() => findPcieController({ traddr: A }, tree(A, 'nvme', []))).toThrow(`PCIe ${A}: controller nvme0 has no namespace generic device (ngXnY): no active namespace, or a kernel older than 5.13`);
    const roots = tree(A, 'nvme', ['ng0n1'], '2', []);
    expect(() => findPcieController({ traddr: A }, roots)).toThrow(`PCIe ${A}: ${join(roots.dev, 'ng0n1')} does not exist (sysfs lists it: is /dev populated by udev/devtmpfs?)`);
  });
});
