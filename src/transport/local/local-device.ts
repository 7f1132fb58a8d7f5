// A positional device argument (regular file, block device, NVMe generic char device) resolved in the
// main thread before workers start: kind, size, block size, whether O_DIRECT and IOPOLL work (both
// probed with one real read), and the one-line notes the user gets about fallbacks.
import { closeSync, openSync, statSync } from 'node:fs';
import { errnoName, native } from '../../native/index.js';
import { UringRing } from '../../native/uring.js';
import { UserError } from '../../errors.js';
import { ExitCode } from '../../exit-codes.js';
import type { LocalQpairParams } from '../transport.js';
import { describeOpenError } from './open-errors.js';
import { localOpenFlags } from './local-transport.js';
import { identifyPassthroughNamespace } from './nvme-identify.js';
import { hint } from './uring-qpair.js';

export interface LocalDevice {
  path: string;
  kind: LocalQpairParams['kind'];
  direct: boolean;
  iopoll: boolean;
  nsid: number;
  blockSize: number;
  sizeBlocks: number;
  sizeBytes: number;
  /** 'O_DIRECT', 'buffered' or 'nvme-passthrough'. */
  kernelPath: string;
  /** Registering the data buffers with the ring worked (READ_FIXED/WRITE_FIXED). */
  fixedBuffers: boolean;
  /** Fallbacks the user is told about (one line each). */
  notes: string[];
}

export interface LocalOpenOptions {
  /** Largest I/O size; the device must hold at least one. */
  ioSize: number;
  /** Every I/O size used (the block size divides all of them). */
  ioSizes: number[];
  mode: 'poll' | 'interrupt';
  /** --mode poll with IOPOLL: false when the caller knows the device has no poll queues. */
  iopollPossible?: boolean;
  /** Why IOPOLL is impossible (a note instead of the probe). */
  iopollWhy?: string;
}

const bad = (msg: string): UserError => new UserError(msg, ExitCode.Usage);

/** Opens `path` the way workers will and checks size, O_DIRECT and IOPOLL; throws UserError (one line). */
export function openLocalDevice(path: string, opts: LocalOpenOptions): LocalDevice {
  let st;
  try { st = statSync(path); } catch (e) { throw bad(describeOpenError(path, e)); }
  const notes: string[] = [];
  let kind: LocalQpairParams['kind'];
  let sizeBytes: number, blockSize: number, nsid = 1, direct = true;
  if (st.isDirectory()) throw bad(`${path}: is a directory (give a file or a block device)`);
  if (st.isBlockDevice()) {
    kind = 'block';
    const fd = openOrThrow(path, false);
    try { [sizeBytes, blockSize] = native.blockDeviceInfo(fd); } finally { closeSync(fd); }
  } else if (st.isCharacterDevice()) {
    if (!/\/ng\d+n\d+$/.test(path)) throw bad(`${path}: a character device that is not an NVMe generic device (/dev/ngXnY)`);
    kind = 'nvme-passthrough';
    const fd = openOrThrow(path, false);
    try {
      const id = identifyPassthroughNamespace(fd, path);
      nsid = id.nsid; blockSize = id.blockSize; sizeBytes = id.sizeBlocks * id.blockSize;
    } finally { closeSync(fd); }
  } else if (st.isFile()) {
    kind = 'file';
    // Open first: a file we may not read and write is reported as such, whatever its size.
    try {
      closeSync(openSync(path, localOpenFlags(true)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw bad(describeOpenError(path, e));
      direct = false;
      closeSync(openOrThrow(path, false));
    }
    sizeBytes = st.size;
    if (sizeBytes === 0) throw bad(`${path}: the file is empty (write it first, e.g. fio or dd, to the size to test)`);
    blockSize = opts.ioSizes.every((s) => s % 4096 === 0) && sizeBytes >= 4096 ? 4096 : 512;
  } else {
    throw bad(`${path}: not a regular file, block device or NVMe generic device`);
  }
  if (sizeBytes < opts.ioSize) {
    throw bad(`${path}: ${sizeBytes} bytes is smaller than one I/O (-s/--io-size ${opts.ioSize})`);
  }
  if (opts.ioSizes.some((s) => s % blockSize !== 0)) {
    throw bad(`-s/--io-size ${opts.ioSize} is not a multiple of the block size ${blockSize} of ${path}`);
  }
  // One real read shows whether O_DIRECT works here (some file systems accept the open and refuse the I/O).
  let probe = probeRead(path, kind, direct, false, blockSize, nsid);
  if (kind === 'file' && direct && probe.res === -22) { direct = false; probe = probeRead(path, kind, false, false, blockSize, nsid); }
  if (probe.res < 0) throw new UserError(`${path}: a read through io_uring failed: ${errnoName(probe.res)}${hint(probe.res, { direct, iopoll: false })}`, ExitCode.Usage);
  if (!direct) notes.push(`warning: ${path}: O_DIRECT is not supported here; using buffered I/O (the page cache serves reads)`);

  let iopoll = false;
  if (opts.mode === 'poll') {
    if (!direct) {
      notes.push('poll mode: IOPOLL needs O_DIRECT; completions are reaped from the CQ ring in a busy loop');
    } else if (opts.iopollPossible === false) {
      notes.push(`warning: poll mode: ${opts.iopollWhy ?? 'IOPOLL is not available'}; completions are reaped from the CQ ring in a busy loop`);
    } else {
      const r = probeRead(path, kind, direct, true, blockSize, nsid).res;
      if (r === 0) iopoll = true;
      else notes.push(`poll mode: ${path} does not support IOPOLL (${probeWhy(r)}); completions are reaped from the CQ ring in a busy loop`);
    }
  }
  const kernelPath = kind === 'nvme-passthrough' ? 'nvme-passthrough' : direct ? 'O_DIRECT' : 'buffered';
  return { path, kind, direct, iopoll, nsid, blockSize, sizeBlocks: Math.floor(sizeBytes / blockSize), sizeBytes, kernelPath,
    fixedBuffers: probe.registered, notes };
}

function openOrThrow(path: string, direct: boolean): number {
  try { return openSync(path, localOpenFlags(direct)); } catch (e) { throw bad(describeOpenError(path, e)); }
}

function probeWhy(r: number): string {
  const h = hint(r, { direct: true, iopoll: true });
  return h ? h.slice(2, -1) : `errno ${-r}`;
}

/**
 * One read of a block at offset 0 through a fresh ring into a registered buffer: res 0, or the negative
 * errno it failed with; `registered`: buffer registration worked.
 */
export function probeRead(path: string, kind: LocalQpairParams['kind'], direct: boolean, iopoll: boolean, blockSize: number,
  nsid: number): { res: number; registered: boolean } {
  const fd = openOrThrow(path, kind !== 'nvme-passthrough' && direct);
  let ring: UringRing | undefined;
  try {
    try {
      ring = new UringRing(native, { entries: 2, iopoll, bigEntries: kind === 'nvme-passthrough' });
    } catch (e) {
      return { res: (e as { errno?: number }).errno ?? -22, registered: false };
    }
    const buf = new Uint8Array(native.allocAligned(blockSize, 4096));
    const registered = ring.setBuffers([buf], true) === 0;
    if (kind === 'nvme-passthrough') ring.prepNvmeIo(fd, 0, 0x02, nsid, 0, 0, 0, 0, 0, 0, 0, 0, blockSize, false, 1);
    else ring.prepRw(false, false, fd, 0, 0, 0, 0, blockSize, 1);
    const out = new Int32Array(3 * ring.cqEntries);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const n = ring.pass(out, ring.cqEntries);
      if (n < 0) return { res: n, registered };
      if (n > 0) return { res: out[1]! < 0 ? out[1]! : 0, registered };
      if (Date.now() > deadline) return { res: -62, registered };
      if (!iopoll) ring.wait(1, 100);
    }
  } finally {
    ring?.close();
    closeSync(fd);
  }
}
