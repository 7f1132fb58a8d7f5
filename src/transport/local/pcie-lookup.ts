// A PCIe TRID (`trtype:PCIe traddr:0000:04:00.0 [ns:N]`, SPDK's syntax) → the kernel NVMe controller
// at that PCI address and its namespaces' generic char devices, found in sysfs:
// /sys/bus/pci/devices/ADDR/driver (must be nvme), ADDR/nvme/nvmeX (the controller), nvmeX/ngXnY
// (generic char devices: /dev/ngXnY). The roots are parameters so tests can use a tree in a temp dir.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError, UserError } from '../../errors.js';
import { ExitCode } from '../../exit-codes.js';

export interface PcieTrid { traddr: string; ns?: number }

export interface PcieController {
  traddr: string;
  /** nvmeX */
  name: string;
  /** /dev/ngXnY of each namespace (ns filter applied), by namespace instance order. */
  generic: string[];
  model: string;
  serial: string;
  firmware: string;
  /** nvme.poll_queues (module parameter; 0 = no poll queues: IOPOLL is unavailable). */
  pollQueues: number;
  /**
   * Largest passthrough transfer: the namespace queue's max_hw_sectors_kb, and at most max_segments
   * pages (user pages are mapped one segment each); bigger I/O is split into several commands.
   */
  maxTransferBytes: number;
}

/** When sysfs does not say: 128 KiB, what every NVMe controller takes. */
const DEFAULT_MAX_TRANSFER = 128 * 1024;

const PCI_ADDR = /^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;

/** Parses a TRID whose trtype is PCIe; undefined for any other trtype (those go to the TCP parser). */
export function parsePcieTrid(text: string): PcieTrid | undefined {
  const fields = new Map<string, string>();
  for (const part of text.trim().split(/\s+/)) {
    const m = /^([A-Za-z_]+)[:=](.*)$/.exec(part);
    if (!m) return undefined;
    fields.set(m[1]!.toLowerCase(), m[2]!);
  }
  if (fields.get('trtype')?.toLowerCase() !== 'pcie') return undefined;
  const traddr = fields.get('traddr');
  if (!traddr) throw new UsageError(`-r "${text}": traddr is required (the PCI address, e.g. traddr:0000:04:00.0)`);
  if (!PCI_ADDR.test(traddr)) throw new UsageError(`-r "${text}": traddr "${traddr}" is not a PCI address (DDDD:BB:DD.F, e.g. 0000:04:00.0)`);
  for (const k of fields.keys()) {
    if (k !== 'trtype' && k !== 'traddr' && k !== 'ns') throw new UsageError(`-r "${text}": ${k} does not apply to trtype PCIe`);
  }
  const full = (traddr.length === 7 ? `0000:${traddr}` : traddr).toLowerCase();
  const ns = fields.get('ns');
  if (ns !== undefined) {
    const n = /^\d{1,10}$/.test(ns) ? Number(ns) : NaN;
    if (!(n >= 1 && n <= 0xfffffffe)) throw new UsageError(`-r "${text}": ns "${ns}" is not a namespace ID (1..4294967294)`);
    return { traddr: full, ns: n };
  }
  return { traddr: full };
}

/** ngXnY entries of a sysfs directory, by namespace instance. */
function genericIn(dir: string): string[] {
  let names: string[] = [];
  try { names = readdirSync(dir); } catch { return []; }
  return names.filter((n) => /^ng\d+n\d+$/.test(n)).sort((a, b) => Number(/n(\d+)$/.exec(a)![1]) - Number(/n(\d+)$/.exec(b)![1]));
}

function readTrim(p: string): string {
  try { return readFileSync(p, 'utf8').trim(); } catch { return ''; }
}

/**
 * Finds the controller at `traddr`. `nsOf(path)` gives the NSID of a generic device (the NVME_IOCTL_ID
 * ioctl in real use) for the ns filter. Throws UserError (exit 3) with what to do.
 */
export function findPcieController(trid: PcieTrid, roots: { sysfs: string; dev: string } = { sysfs: '/sys', dev: '/dev' },
  nsOf?: (path: string) => number): PcieController {
  const dir = join(roots.sysfs, 'bus/pci/devices', trid.traddr);
  const fail = (msg: string): UserError => new UserError(`PCIe ${trid.traddr}: ${msg}`, ExitCode.Connect);
  if (!existsSync(dir)) throw fail('no such PCI device (lspci -D lists the addresses)');
  let driver = '';
  try { driver = basename(readlinkSync(join(dir, 'driver'))); } catch { /* unbound */ }
  if (driver === '') throw fail('no driver is bound to it: bind it to the kernel nvme driver (echo ' + trid.traddr + ' > /sys/bus/pci/drivers/nvme/bind)');
  if (driver !== 'nvme') {
    throw fail(`bound to ${driver}, not to the kernel nvme driver: nvmf-perf uses the kernel driver through io_uring; `
      + `bind it back (echo ${trid.traddr} > /sys/bus/pci/drivers/${driver}/unbind; echo ${trid.traddr} > /sys/bus/pci/drivers/nvme/bind, or SPDK's scripts/setup.sh reset)`);
  }
  let ctrls: string[] = [];
  try { ctrls = readdirSync(join(dir, 'nvme')).filter((n) => /^nvme\d+$/.test(n)); } catch { /* none yet */ }
  if (ctrls.length === 0) throw fail('the nvme driver has no controller for it (still probing, or the controller failed: see dmesg)');
  const name = ctrls[0]!;
  const cdir = join(dir, 'nvme', name);
  // Without native multipath the generic devices hang off the controller; with it (the namespace has a
  // head device) they belong to the controller's subsystem: /sys/class/nvme-subsystem/nvme-subsysN/ngNnY.
  let ngs = genericIn(cdir);
  if (ngs.length === 0) {
    const subsysRoot = join(roots.sysfs, 'class/nvme-subsystem');
    let subsystems: string[] = [];
    try { subsystems = readdirSync(subsysRoot); } catch { /* no subsystems */ }
    const mine = subsystems.find((d) => existsSync(join(subsysRoot, d, name)));
    if (mine) ngs = genericIn(join(subsysRoot, mine));
  }
  if (ngs.length === 0) throw fail(`controller ${name} has no namespace generic device (ngXnY): no active namespace, or a kernel older than 5.13`);
  let generic = ngs.map((n) => join(roots.dev, n));
  const missing = generic.filter((p) => !existsSync(p));
  if (missing.length > 0) throw fail(`${missing.join(', ')} does not exist (sysfs lists it: is /dev populated by udev/devtmpfs?)`);
  if (trid.ns !== undefined) {
    generic = generic.filter((p) => (nsOf ? nsOf(p) : Number(/n(\d+)$/.exec(p)![1])) === trid.ns);
    if (generic.length === 0) throw fail(`controller ${name} has no active namespace ${trid.ns}`);
  }
  const pq = Number(readTrim(join(roots.sysfs, 'module/nvme/parameters/poll_queues')));
  const blk = readdirSync(cdir).find((n) => /^nvme\d+(c\d+)?n\d+$/.test(n));
  const hwKb = blk ? Number(readTrim(join(cdir, blk, 'queue/max_hw_sectors_kb'))) : NaN;
  const segs = blk ? Number(readTrim(join(cdir, blk, 'queue/max_segments'))) : NaN;
  let maxTransferBytes = hwKb > 0 ? hwKb * 1024 : DEFAULT_MAX_TRANSFER;
  if (segs > 0) maxTransferBytes = Math.min(maxTransferBytes, segs * 4096);
  return {
    traddr: trid.traddr, name, generic,
    model: readTrim(join(cdir, 'model')), serial: readTrim(join(cdir, 'serial')), firmware: readTrim(join(cdir, 'firmware_rev')),
    pollQueues: Number.isFinite(pq) ? pq : 0, maxTransferBytes,
  };
}
