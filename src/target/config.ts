// Target configuration: the resolved, validated settings of one built-in NVMe/TCP target, and the
// parser that turns `nvmf-perf target` flag strings into it. Every bad value throws a UsageError
// whose one-line message names the flag and the value.
import { UsageError } from '../errors.js';
import { DISCOVERY_NQN } from '../nvme/opcodes.js';
import { parseCoreMask } from '../util/cpu-mask.js';
import { validateNqn } from '../util/nqn.js';
import { DEFAULT_SPIN_US, MAX_SPIN_US } from '../util/adaptive-wait.js';

/** Upper bound for --coalesce-us (NVMe's aggregation time field tops out at 25.5 ms). */
export const MAX_COALESCE_US = 25_500;

export type NamespaceConfig =
  | { kind: 'ram'; sizeBytes: number }
  | { kind: 'null'; sizeBytes: number }
  | { kind: 'file'; path: string };

export interface ListenAddress {
  /** IPv4 address in dotted form. */
  host: string;
  /** 0 = ephemeral (the kernel picks; RunningTarget.listeners shows the real one). */
  port: number;
}

export type TargetLogLevel = 'silent' | 'warn' | 'info';

export interface TargetConfig {
  listen: ListenAddress[];
  subnqn: string;
  namespaces: NamespaceConfig[];
  /** Logical block size of every namespace. */
  blockSize: 512 | 4096;
  /** Host NQNs allowed to connect to the NVM subsystem; empty = any host. */
  allowHosts: string[];
  /** Largest queue (SQSIZE + 1) a host may connect; CAP.MQES = this − 1, MAXCMD = this. */
  maxQueueDepth: number;
  /** In-capsule data accepted on I/O queues (IOCCSZ = (64 + this) / 16). */
  inCapsuleDataSize: number;
  /** Largest data transfer per command (MDTS, MAXH2CDATA). Power of two, ≥ 4096. */
  maxIoSize: number;
  /** Largest number of I/O queues per controller (Set Features Number of Queues grants up to this). */
  maxIoQueues: number;
  /** One reactor thread per CPU, pinned. */
  reactorCpus: number[];
  interruptMode: boolean;
  /** File namespaces: reads/writes/flushes through the reactor's io_uring, or synchronous pread/pwrite on the reactor. */
  fileIo: 'uring' | 'sync';
  /** Interrupt mode: µs a reactor keeps polling after its last busy pass before it sleeps. */
  spinUs: number;
  /**
   * Interrupt coalescing (interrupt mode): after a pass that did work and drained every socket, sleep
   * this many µs on a timer, deaf to sockets, before the next pass, so that I/Os arriving meanwhile are
   * handled in one wake-up (as NVMe's Interrupt Coalescing aggregation time or a NIC's rx-usecs; Linux
   * NAPI's gro_flush_timeout). Trades up to this much latency for fewer wake-ups. 0 = off.
   */
  coalesceUs: number;
  /** Identify SN; undefined = derived from the subsystem NQN. */
  serial?: string;
  model: string;
  logLevel: TargetLogLevel;
  /** Size of each SharedArrayBuffer backing a ram namespace (tests inject small values). */
  ramChunkSize: number;
  /** Keep-alive timeout of a discovery controller whose host asked for none (KATO 0), in ms. */
  discoveryKatoMs: number;
  /** A connection whose responses the host has not read for this long, with the output cap reached, is dropped (ms). */
  stalledDropMs: number;
}

export const TARGET_DEFAULTS = {
  listen: '127.0.0.1:4420',
  subnqn: 'nqn.2016-06.io.spdk:cnode1',
  ns: 'ram:1GiB',
  /** 512 like Linux nvmet on a brd RAM disk and SPDK's malloc bdev default. */
  blockSize: 512 as 512 | 4096,
  maxQueueDepth: 128,
  /** Covers 4 KiB and 8 KiB writes without an R2T round trip (SPDK defaults to 4096, Linux to 16 KiB). */
  inCapsuleDataSize: 8192,
  /** SPDK's TCP transport default (MDTS 5); hosts split larger I/O. Also the MAXH2CDATA we offer. */
  maxIoSize: 128 * 1024,
  maxIoQueues: 127,
  model: 'nvmf-perf target',
  ramChunkSize: 1024 * 1024 * 1024,
  /** Linux nvmet's NVMET_DISC_KATO_MS: stale discovery associations (a host that connected and left
   *  without closing, or spdk_nvme_discover waiting forever) go away. */
  discoveryKatoMs: 120_000,
  stalledDropMs: 30_000,
} as const;

const MAX_IO_SIZE_LIMIT = 8 * 1024 * 1024;
const MAX_ICD_LIMIT = 128 * 1024;
export const MAX_QUEUE_DEPTH_LIMIT = 4096;

/** A complete config with defaults; fields given in `over` replace them. */
export function targetConfig(over: Partial<TargetConfig> = {}, allowedCpus?: number[]): TargetConfig {
  const cpus = over.reactorCpus ?? defaultReactorCpus(allowedCpus);
  return {
    listen: over.listen ?? [{ host: '127.0.0.1', port: 4420 }],
    subnqn: over.subnqn ?? TARGET_DEFAULTS.subnqn,
    namespaces: over.namespaces ?? [{ kind: 'ram', sizeBytes: 1024 ** 3 }],
    blockSize: over.blockSize ?? TARGET_DEFAULTS.blockSize,
    allowHosts: over.allowHosts ?? [],
    maxQueueDepth: over.maxQueueDepth ?? TARGET_DEFAULTS.maxQueueDepth,
    inCapsuleDataSize: over.inCapsuleDataSize ?? TARGET_DEFAULTS.inCapsuleDataSize,
    maxIoSize: over.maxIoSize ?? TARGET_DEFAULTS.maxIoSize,
    maxIoQueues: over.maxIoQueues ?? TARGET_DEFAULTS.maxIoQueues,
    reactorCpus: cpus,
    interruptMode: over.interruptMode ?? false,
    fileIo: over.fileIo ?? 'uring',
    spinUs: over.spinUs ?? DEFAULT_SPIN_US,
    coalesceUs: over.coalesceUs ?? 0,
    serial: over.serial,
    model: over.model ?? TARGET_DEFAULTS.model,
    logLevel: over.logLevel ?? 'warn',
    ramChunkSize: over.ramChunkSize ?? TARGET_DEFAULTS.ramChunkSize,
    discoveryKatoMs: over.discoveryKatoMs ?? TARGET_DEFAULTS.discoveryKatoMs,
    stalledDropMs: over.stalledDropMs ?? TARGET_DEFAULTS.stalledDropMs,
  };
}

/** Default reactor placement: one reactor on the last allowed CPU (perf workers take the low CPUs). */
export function defaultReactorCpus(allowedCpus?: number[]): number[] {
  if (!allowedCpus || allowedCpus.length === 0) return [0];
  return [allowedCpus[allowedCpus.length - 1]!];
}

/** Raw flag values as commander hands them over (strings; repeatable flags as arrays). */
export interface TargetFlags {
  listen?: string[];
  subnqn?: string;
  ns?: string[];
  blockSize?: string;
  allowHost?: string[];
  maxQueueDepth?: string;
  inCapsuleDataSize?: string;
  maxIoSize?: string;
  reactorMask?: string;
  interruptMode?: boolean;
  spinUs?: string;
  coalesceUs?: string;
  fileIo?: string;
  serial?: string;
  model?: string;
}

function bad(flag: string, value: string, why: string): UsageError {
  return new UsageError(`--${flag} ${JSON.stringify(value)}: ${why}`);
}

const UNIT: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kib: 1024,
  m: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gib: 1024 ** 3,
  t: 1024 ** 4, tib: 1024 ** 4,
};

/**
 * Parses a byte size: an integer with an optional binary unit (B, K/KiB, M/MiB, G/GiB, T/TiB; case
 * does not matter). Returns the byte count or an error text.
 */
export function parseByteSize(text: string): number | string {
  const m = /^(\d+)([A-Za-z]*)$/.exec(text.trim());
  if (!m) {
    if (/^\d*\.\d+/.test(text.trim())) return 'the size must be a whole number (with an optional unit)';
    return 'expected a size like 1GiB, 512MiB or 4096';
  }
  const unit = m[2]!;
  const mult = UNIT[unit.toLowerCase()];
  if (mult === undefined) return `unknown size unit "${unit}" (use B, KiB, MiB, GiB or TiB)`;
  const v = Number(m[1]) * mult;
  if (!Number.isSafeInteger(v)) return 'the size is too large';
  return v;
}

/** `ram:SIZE`, `null:SIZE` or `file:PATH` (--ns, RPC nvmf_subsystem_add_ns); UsageError naming --ns when bad. */
export function parseNamespace(text: string, blockSize: number): NamespaceConfig {
  const i = text.indexOf(':');
  const kind = i < 0 ? text : text.slice(0, i);
  const arg = i < 0 ? '' : text.slice(i + 1);
  switch (kind) {
    case 'ram':
    case 'null': {
      if (arg === '') throw bad('ns', text, `expected ${kind}:SIZE, e.g. ${kind}:1GiB`);
      const size = parseByteSize(arg);
      if (typeof size === 'string') throw bad('ns', text, size);
      if (size < blockSize) throw bad('ns', text, `the size must be at least one block (${blockSize} bytes)`);
      if (kind === 'ram' && size > 64 * 1024 ** 4) throw bad('ns', text, 'a ram namespace is at most 64 TiB');
      return { kind, sizeBytes: size };
    }
    case 'file':
      if (arg === '') throw bad('ns', text, 'expected file:PATH');
      return { kind: 'file', path: arg };
    default:
      throw bad('ns', text, `unknown namespace type "${kind}" (expected ram:SIZE, null:SIZE or file:PATH)`);
  }
}

/** "ADDR:PORT" with an IPv4 address; port 0 = ephemeral. */
export function parseListenAddress(text: string): ListenAddress | string {
  const i = text.lastIndexOf(':');
  if (i <= 0) return 'expected ADDR:PORT, e.g. 127.0.0.1:4420';
  const host = text.slice(0, i);
  const portText = text.slice(i + 1);
  const oct = host.split('.');
  if (oct.length !== 4 || !oct.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) {
    return `"${host}" is not an IPv4 address`;
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return `port "${portText}" is not a number from 0 to 65535`;
  return { host, port: Number(portText) };
}

function parseIntFlag(flag: string, text: string, min: number, max: number): number {
  if (!/^\s*\d+\s*$/.test(text)) throw bad(flag, text, `expected an integer from ${min} to ${max}`);
  const v = Number(text);
  if (v < min || v > max) throw bad(flag, text, `must be from ${min} to ${max}`);
  return v;
}

function parseSizeFlag(flag: string, text: string): number {
  const v = parseByteSize(text);
  if (typeof v === 'string') throw bad(flag, text, v);
  return v;
}

function checkIdString(flag: string, text: string, max: number): string {
  if (text.length === 0 || text.length > max) throw bad(flag, text, `must be 1 to ${max} characters`);
  if (!/^[\x20-\x7e]+$/.test(text)) throw bad(flag, text, 'must be printable ASCII');
  return text;
}

/**
 * Resolves `nvmf-perf target` flags. `allowedCpus`: this process's CPU affinity (the default reactor
 * goes on the last one); `usableCpus`: CPUs an explicit --reactor-mask may name (the online CPUs: a
 * child inherits its parent's pinned affinity, and pinning may widen it within the cpuset).
 */
export function parseTargetFlags(flags: TargetFlags, allowedCpus: number[], usableCpus: number[] = allowedCpus): TargetConfig {
  let blockSize: 512 | 4096 = TARGET_DEFAULTS.blockSize;
  if (flags.blockSize !== undefined) {
    const t = flags.blockSize.trim();
    if (t !== '512' && t !== '4096') throw bad('block-size', flags.blockSize, 'must be 512 or 4096');
    blockSize = t === '512' ? 512 : 4096;
  }

  const listenTexts = flags.listen && flags.listen.length > 0 ? flags.listen : [TARGET_DEFAULTS.listen];
  const listen: ListenAddress[] = [];
  for (const t of listenTexts) {
    const a = parseListenAddress(t);
    if (typeof a === 'string') throw bad('listen', t, a);
    if (a.port !== 0 && listen.some((l) => l.host === a.host && l.port === a.port)) {
      throw bad('listen', t, 'listed twice');
    }
    listen.push(a);
  }

  const subnqn = flags.subnqn ?? TARGET_DEFAULTS.subnqn;
  const nqnErr = validateNqn(subnqn);
  if (nqnErr) throw bad('subnqn', subnqn, nqnErr);
  if (subnqn === DISCOVERY_NQN) throw bad('subnqn', subnqn, 'that is the discovery subsystem\'s NQN');

  const nsTexts = flags.ns && flags.ns.length > 0 ? flags.ns : [TARGET_DEFAULTS.ns];
  const namespaces = nsTexts.map((t) => parseNamespace(t, blockSize));
  if (namespaces.length > 1024) throw bad('ns', nsTexts[1024]!, 'at most 1024 namespaces');

  const allowHosts: string[] = [];
  for (const h of flags.allowHost ?? []) {
    const e = validateNqn(h);
    if (e) throw bad('allow-host', h, e);
    if (!allowHosts.includes(h)) allowHosts.push(h);
  }

  const maxQueueDepth = flags.maxQueueDepth === undefined ? TARGET_DEFAULTS.maxQueueDepth
    : parseIntFlag('max-queue-depth', flags.maxQueueDepth, 2, MAX_QUEUE_DEPTH_LIMIT);

  let inCapsuleDataSize: number = TARGET_DEFAULTS.inCapsuleDataSize;
  if (flags.inCapsuleDataSize !== undefined) {
    inCapsuleDataSize = parseSizeFlag('in-capsule-data-size', flags.inCapsuleDataSize);
    if (inCapsuleDataSize > MAX_ICD_LIMIT) {
      throw bad('in-capsule-data-size', flags.inCapsuleDataSize, `must be at most ${MAX_ICD_LIMIT}`);
    }
    if (inCapsuleDataSize % 16 !== 0) {
      throw bad('in-capsule-data-size', flags.inCapsuleDataSize, 'must be a multiple of 16 (IOCCSZ counts 16-byte units)');
    }
  }

  let maxIoSize: number = TARGET_DEFAULTS.maxIoSize;
  if (flags.maxIoSize !== undefined) {
    maxIoSize = parseSizeFlag('max-io-size', flags.maxIoSize);
    if (maxIoSize < 4096 || maxIoSize > MAX_IO_SIZE_LIMIT || (maxIoSize & (maxIoSize - 1)) !== 0) {
      throw bad('max-io-size', flags.maxIoSize, `must be a power of two from 4096 to ${MAX_IO_SIZE_LIMIT}`);
    }
  }
  if (maxIoSize < blockSize) throw bad('max-io-size', String(maxIoSize), `must be at least the block size (${blockSize})`);

  let reactorCpus = defaultReactorCpus(allowedCpus);
  if (flags.reactorMask !== undefined) {
    const r = parseCoreMask(flags.reactorMask);
    if (typeof r === 'string') throw bad('reactor-mask', flags.reactorMask, r);
    const missing = r.filter((c) => !usableCpus.includes(c) && !allowedCpus.includes(c));
    if (missing.length > 0) {
      const all = [...new Set([...usableCpus, ...allowedCpus])].sort((a, b) => a - b);
      throw bad('reactor-mask', flags.reactorMask,
        `CPU ${missing.join(',')} ${missing.length === 1 ? 'is' : 'are'} not available (CPUs: ${all.join(',')})`);
    }
    reactorCpus = r;
  }

  let spinUs: number = DEFAULT_SPIN_US;
  if (flags.spinUs !== undefined) {
    if (flags.interruptMode !== true) throw bad('spin-us', flags.spinUs, 'applies only with --interrupt-mode (poll-mode reactors never sleep)');
    const v = /^\d+$/.test(flags.spinUs) ? Number(flags.spinUs) : NaN;
    if (!(v <= MAX_SPIN_US)) throw bad('spin-us', flags.spinUs, `expected an integer from 0 to ${MAX_SPIN_US} (µs)`);
    spinUs = v;
  }
  let coalesceUs = 0;
  if (flags.coalesceUs !== undefined) {
    if (flags.interruptMode !== true) throw bad('coalesce-us', flags.coalesceUs, 'applies only with --interrupt-mode (poll-mode reactors never sleep)');
    const v = /^\d+$/.test(flags.coalesceUs) ? Number(flags.coalesceUs) : NaN;
    if (!(v <= MAX_COALESCE_US)) throw bad('coalesce-us', flags.coalesceUs, `expected an integer from 0 to ${MAX_COALESCE_US} (µs)`);
    coalesceUs = v;
  }
  if (flags.fileIo !== undefined && flags.fileIo !== 'uring' && flags.fileIo !== 'sync') throw bad('file-io', flags.fileIo, 'expected uring or sync');
  const fileIo = flags.fileIo === 'sync' ? 'sync' : 'uring';
  const serial = flags.serial === undefined ? undefined : checkIdString('serial', flags.serial, 20);
  const model = flags.model === undefined ? TARGET_DEFAULTS.model : checkIdString('model', flags.model, 40);

  return targetConfig({
    listen, subnqn, namespaces, blockSize, allowHosts, maxQueueDepth, inCapsuleDataSize, maxIoSize,
    reactorCpus, interruptMode: flags.interruptMode === true, fileIo, spinUs, coalesceUs, serial, model,
  }, allowedCpus);
}
