// Perf flags → PerfConfig. Every rejected value gets one line naming the flag.
import { UsageError } from '../errors.js';
import { IO_PATTERNS, isMixed, type IoPattern, type PerfConfig, type ReactorMode, type ReconnectConfig } from '../engine/config.js';
import { parseIntStrict, parseSize } from '../util/units.js';
import { parseCoreMask } from '../util/cpu-mask.js';
import { validateNqn } from '../util/nqn.js';
import { DEFAULT_SPIN_US, MAX_SPIN_US } from '../util/adaptive-wait.js';
import { parseBsSplit, parseDistribution, parseRangeFlag } from './workload-values.js';
import type { BsSplitEntry, IoRange, RandomDistribution } from '../engine/workload-spec.js';
import { TARGET_KINDS, type TargetKind, type TargetLaunchSpec } from '../launch/launched-target.js';
import { parseSpdkArgs, resolveSpdkBin, spdkBdevFor } from '../launch/spdk-target.js';
import { linuxNamespaceFor } from '../launch/linux-target.js';

/** Raw values as commander hands them over (strings unless parsed by a counter). */
export interface RawPerfOptions {
  ioDepth?: string;
  ioSize?: string;
  o?: string;
  ioPattern?: string;
  rwmixread?: string;
  time?: string;
  warmup?: string;
  transportId?: string[];
  numQpairs?: string;
  coreMask?: string;
  latency?: number;
  headerDigest?: boolean;
  dataDigest?: boolean;
  hostnqn?: string;
  seed?: string;
  json?: string;
  resultsDir?: string;
  progress?: boolean;
  targetNs?: string;
  target?: string;
  spdkBin?: string;
  spdkArgs?: string;
  mode?: string;
  rateIops?: string;
  arrivals?: string;
  targetRpc?: string;
  compareModes?: boolean;
  idleTime?: string;
  rateSweep?: string;
  spinUs?: string;
  bssplit?: string;
  randomDistribution?: string;
  range?: string;
  verify?: boolean;
  ctrlLossTmo?: string;
  reconnectDelay?: string;
  fastIoFailTmo?: string;
  ioTimeout?: string;
  /** --html [file]: true without a file name. */
  html?: string | boolean;
  /** Positional arguments: local files or block devices. */
  devices?: string[];
}

function intFlag(flag: string, text: string | undefined, def: number, min: number, max: number): number {
  if (text === undefined) return def;
  const v = parseIntStrict(text);
  if (v === null || v < min || v > max) {
    throw new UsageError(`${flag}: expected an integer from ${min} to ${max}, got "${text}"`);
  }
  return v;
}

export function parsePerfOptions(o: RawPerfOptions, allowedCpus: number[], commandLine: string[]): PerfConfig {
  const ioDepth = intFlag('-q/--io-depth', o.ioDepth, 1, 1, 65536);
  if (o.ioDepth === undefined) throw new UsageError('-q/--io-depth is required (e.g. -q 32)');

  if (o.ioSize !== undefined && o.o !== undefined && o.ioSize !== o.o) {
    throw new UsageError(`-s/--io-size "${o.ioSize}" and -o "${o.o}" disagree: give the I/O size once`);
  }
  const sizeText = o.ioSize ?? o.o;
  const shape = parseWorkloadShapeFlags(o, sizeText !== undefined);
  if (sizeText === undefined && !shape.bssplit) throw new UsageError('-s/--io-size is required (e.g. -s 4096)');
  const ioSize = shape.bssplit ? Math.max(...shape.bssplit.map((e) => e.bytes)) : parseSize(sizeText!);
  if (ioSize === null || ioSize <= 0) throw new UsageError(`-s/--io-size: "${sizeText}" is not a size (e.g. 4096, 4k, 128KiB)`);
  if (ioSize % 512 !== 0) throw new UsageError(`-s/--io-size ${ioSize} is not a multiple of 512 bytes`);
  if (ioSize > 64 * 1024 * 1024) throw new UsageError(`-s/--io-size ${ioSize} is above the 64 MiB limit`);

  if (o.ioPattern === undefined) throw new UsageError(`-w/--io-pattern is required (${IO_PATTERNS.join(', ')})`);
  if (!(IO_PATTERNS as readonly string[]).includes(o.ioPattern)) {
    throw new UsageError(`-w/--io-pattern: unknown pattern "${o.ioPattern}" (${IO_PATTERNS.join(', ')})`);
  }
  const pattern = o.ioPattern as IoPattern;
  let rwmixread: number;
  if (isMixed(pattern)) {
    rwmixread = intFlag('-M/--rwmixread', o.rwmixread, 50, 0, 100);
  } else {
    if (o.rwmixread !== undefined) {
      throw new UsageError(`-M/--rwmixread applies only to -w rw and -w randrw, not to -w ${pattern}`);
    }
    rwmixread = pattern === 'read' || pattern === 'randread' ? 100 : 0;
  }

  const timeSec = intFlag('-t/--time', o.time, 10, 1, 31 * 24 * 3600);
  const warmupSec = intFlag('-a/--warmup', o.warmup, 0, 0, 24 * 3600);
  const numQpairs = intFlag('-P/--num-qpairs', o.numQpairs, 1, 1, 1024);

  let cores: number[];
  if (o.coreMask === undefined) {
    cores = [allowedCpus[0] ?? 0];
  } else {
    const parsed = parseCoreMask(o.coreMask);
    if (typeof parsed === 'string') throw new UsageError(`-c/--core-mask "${o.coreMask}": ${parsed}`);
    const absent = parsed.filter((c) => !allowedCpus.includes(c));
    if (absent.length > 0) {
      throw new UsageError(`-c/--core-mask "${o.coreMask}": core ${absent.join(', ')} is not available `
        + `(this process may use cores ${allowedCpus.join(',')})`);
    }
    cores = parsed;
  }

  const transportIds = o.transportId ?? [];
  const devices = o.devices ?? [];
  const local = localTargetsProblem(devices, transportIds, o);
  if (o.hostnqn !== undefined) {
    const why = validateNqn(o.hostnqn);
    if (why) throw new UsageError(`--hostnqn "${o.hostnqn}": ${why}`);
  }
  const seed = o.seed === undefined ? (Date.now() % 0x7fffffff) : intFlag('--seed', o.seed, 0, 0, 0xffffffff);
  const latency = o.latency ?? 0;
  if (latency > 2) throw new UsageError('-L may be given at most twice (-L percentiles, -LL histogram)');

  const mode = (o.mode ?? 'poll') as ReactorMode;
  if (mode !== 'poll' && mode !== 'interrupt') throw new UsageError(`--mode: expected poll or interrupt, got "${o.mode}"`);
  const spinUs = intFlag('--spin-us', o.spinUs, DEFAULT_SPIN_US, 0, MAX_SPIN_US);
  if (o.spinUs !== undefined && mode === 'poll' && o.compareModes !== true) {
    throw new UsageError('--spin-us applies only with --mode interrupt (poll mode never sleeps)');
  }
  if (o.targetNs !== undefined && transportIds.length > 0) {
    throw new UsageError('--target-ns applies only to the launched target (no -r given)');
  }
  const targetNs = o.targetNs ?? 'ram:1GiB';
  if (!/^(ram|null):\S+$|^file:.+$/.test(targetNs)) {
    throw new UsageError(`--target-ns "${targetNs}": expected ram:SIZE, null:SIZE or file:PATH`);
  }
  const target = parseTargetLaunch(o, transportIds.length > 0);
  if (target.kind === 'spdk') {
    const bdev = spdkBdevFor(targetNs);
    if (typeof bdev === 'string') throw new UsageError(`--target-ns "${targetNs}": ${bdev}`);
  }
  if (target.kind === 'linux') {
    const ns = linuxNamespaceFor(targetNs);
    if (typeof ns === 'string') throw new UsageError(`--target-ns "${targetNs}": ${ns}`);
    if (o.compareModes) throw new UsageError('--compare-modes switches the launched target between poll and interrupt mode: --target linux has no such modes');
  }
  if (o.json !== undefined && o.json.trim() === '') throw new UsageError('--json: empty file name');

  const rateIops = intFlag('--rate-iops', o.rateIops, 0, 1, 100_000_000);
  const arrivals = o.arrivals ?? 'constant';
  if (arrivals !== 'constant' && arrivals !== 'poisson') {
    throw new UsageError(`--arrivals: expected constant or poisson, got "${o.arrivals}"`);
  }
  if (o.arrivals !== undefined && o.rateIops === undefined && o.rateSweep === undefined) {
    throw new UsageError('--arrivals needs --rate-iops or --rate-sweep');
  }
  const compareModes = o.compareModes ?? false;
  if (compareModes && transportIds.length > 0 && !local) {
    throw new UsageError('--compare-modes switches the launched target between modes: give no -r');
  }
  if (compareModes && o.mode !== undefined) throw new UsageError('--compare-modes runs both modes: drop --mode');
  if (!compareModes && (o.idleTime !== undefined || o.rateSweep !== undefined)) {
    throw new UsageError(`${o.idleTime !== undefined ? '--idle-time' : '--rate-sweep'} applies only with --compare-modes`);
  }
  if (compareModes && o.rateIops !== undefined) throw new UsageError('--rate-iops and --compare-modes: use --rate-sweep for load levels');
  const idleSec = intFlag('--idle-time', o.idleTime, 5, 0, 3600);
  let rateSweep: number[] = [];
  if (o.rateSweep !== undefined) {
    rateSweep = o.rateSweep.split(',').map((x) => x.trim()).map((x) => {
      const v = parseIntStrict(x);
      if (v === null || v < 1 || v > 100) throw new UsageError(`--rate-sweep "${o.rateSweep}": "${x}" is not a percentage from 1 to 100`);
      return v;
    });
  }
  if (o.targetRpc !== undefined && o.targetRpc.trim() === '') throw new UsageError('--target-rpc: empty socket path');
  const reconnect = parseReconnectFlags(o, transportIds.length > 0);
  const ioTimeoutMs = o.ioTimeout === undefined ? undefined : intFlag('--io-timeout', o.ioTimeout, 0, 1, MAX_IO_TIMEOUT_MS);
  if (reconnect && local) throw new UsageError('--ctrl-loss-tmo applies only to fabrics targets (-r trtype:TCP), not to local devices');

  return {
    ioDepth, ioSize, pattern, rwmixread, timeSec, warmupSec, transportIds, numQpairs, cores,
    ...(devices.length > 0 ? { devices } : {}),
    latencyTracking: latency as 0 | 1 | 2,
    hdgst: o.headerDigest ?? false,
    ddgst: o.dataDigest ?? false,
    hostnqn: o.hostnqn,
    seed,
    jsonPath: o.json,
    resultsDir: o.resultsDir ?? 'results',
    progress: o.progress ?? true,
    targetNs,
    target,
    mode,
    spinUs,
    rateIops: o.rateIops === undefined ? 0 : rateIops,
    arrivals,
    targetRpc: o.targetRpc,
    compareModes,
    idleSec,
    rateSweep,
    commandLine,
    ...shape,
    thinktimeUs: 0,
    ...(reconnect ? { reconnect } : {}),
    ...(ioTimeoutMs !== undefined ? { ioTimeoutMs } : {}),
  };
}

/** Longest --io-timeout (ms): an hour. */
const MAX_IO_TIMEOUT_MS = 3_600_000;
/**
 * Positional devices and -r are either/or, and PCIe TRIDs do not mix with fabrics ones; flags of the
 * launched target or of NVMe/TCP do not apply to local devices. Returns whether the run is local.
 */
function localTargetsProblem(devices: string[], trids: string[], o: RawPerfOptions): boolean {
  const pcie = trids.filter((t) => /(^|\s)trtype[:=]pcie(\s|$)/i.test(t));
  if (devices.length > 0 && trids.length > 0) {
    throw new UsageError(`give either local devices (${devices[0]}) or -r targets, not both`);
  }
  if (pcie.length > 0 && pcie.length < trids.length) throw new UsageError('-r: trtype:PCIe and fabrics TRIDs cannot be mixed in one run');
  const local = devices.length > 0 || pcie.length > 0;
  if (!local) return false;
  const what = devices.length > 0 ? 'local devices' : 'trtype:PCIe';
  if (o.headerDigest || o.dataDigest) throw new UsageError(`${o.headerDigest ? '-H' : '-I'} (NVMe/TCP digests) does not apply to ${what}`);
  if (o.target !== undefined) throw new UsageError(`--target launches a target: it does not apply to ${what}`);
  if (o.targetNs !== undefined) throw new UsageError(`--target-ns applies only to the launched target, not to ${what}`);
  if (o.hostnqn !== undefined) throw new UsageError(`--hostnqn does not apply to ${what}`);
  if (o.ioTimeout !== undefined) throw new UsageError(`--io-timeout (NVMe Abort over the admin queue) does not apply to ${what}`);
  const dup = devices.find((d, i) => devices.indexOf(d) !== i);
  if (dup !== undefined) throw new UsageError(`${dup} is given twice`);
  return true;
}

/** Longest --ctrl-loss-tmo / --fast-io-fail-tmo (s): a day. */
const MAX_TMO_SEC = 86_400;

/**
 * --ctrl-loss-tmo, --reconnect-delay, --fast-io-fail-tmo (nvme-cli's meanings, in seconds). Undefined when
 * --ctrl-loss-tmo is absent or 0: a lost connection ends the run as before.
 */
export function parseReconnectFlags(o: Pick<RawPerfOptions, 'ctrlLossTmo' | 'reconnectDelay' | 'fastIoFailTmo'>,
  hasTrid: boolean): ReconnectConfig | undefined {
  // -1 is nvme-cli's "no limit" / "off".
  const tmoFlag = (flag: string, text: string | undefined, def: number): number => {
    if (text?.trim() === '-1') return -1;
    try { return intFlag(flag, text, def, 0, MAX_TMO_SEC); } catch {
      throw new UsageError(`${flag}: expected an integer from -1 to ${MAX_TMO_SEC}, got "${text}"`);
    }
  };
  const tmo = tmoFlag('--ctrl-loss-tmo', o.ctrlLossTmo, 0);
  const delay = intFlag('--reconnect-delay', o.reconnectDelay, 1, 1, 3600);
  const fast = tmoFlag('--fast-io-fail-tmo', o.fastIoFailTmo, -1);
  if (tmo === 0) {
    if (o.reconnectDelay !== undefined) throw new UsageError('--reconnect-delay applies only with a non-zero --ctrl-loss-tmo');
    if (o.fastIoFailTmo !== undefined) throw new UsageError('--fast-io-fail-tmo applies only with a non-zero --ctrl-loss-tmo');
    return undefined;
  }
  if (!hasTrid) throw new UsageError('--ctrl-loss-tmo applies only with -r (a launched target is not restarted)');
  if (tmo > 0 && fast > tmo) throw new UsageError(`--fast-io-fail-tmo ${fast} is longer than --ctrl-loss-tmo ${tmo}: I/O would fail only when the controller is lost`);
  return { ctrlLossTmoSec: tmo, reconnectDelaySec: delay, fastIoFailTmoSec: fast };
}

/** --bssplit, --random-distribution, --range, --verify. */
function parseWorkloadShapeFlags(o: RawPerfOptions, hasIoSize: boolean):
  { bssplit?: BsSplitEntry[]; distribution: RandomDistribution; range?: IoRange; verify: boolean } {
  const out: { bssplit?: BsSplitEntry[]; distribution: RandomDistribution; range?: IoRange; verify: boolean } = {
    distribution: { kind: 'random', param: 0 }, verify: o.verify ?? false,
  };
  if (o.bssplit !== undefined) {
    if (hasIoSize) throw new UsageError('--bssplit sets the I/O sizes: drop -s/--io-size');
    const v = parseBsSplit(o.bssplit, parseSize);
    if (typeof v === 'string') throw new UsageError(`--bssplit "${o.bssplit}": ${v}`);
    out.bssplit = v;
  }
  if (o.randomDistribution !== undefined) {
    const v = parseDistribution(o.randomDistribution);
    if (typeof v === 'string') throw new UsageError(`--random-distribution "${o.randomDistribution}": ${v}`);
    out.distribution = v;
  }
  if (o.range !== undefined) {
    const v = parseRangeFlag(o.range, parseSize);
    if (typeof v === 'string') throw new UsageError(`--range "${o.range}": ${v}`);
    out.range = v;
  }
  return out;
}

/** --target builtin|spdk|linux, --spdk-bin, --spdk-args (the launched target; none with -r). */
function parseTargetLaunch(o: RawPerfOptions, hasTrids: boolean): TargetLaunchSpec {
  if (o.target !== undefined && !(TARGET_KINDS as readonly string[]).includes(o.target)) {
    throw new UsageError(`--target: expected ${TARGET_KINDS.slice(0, -1).join(', ')} or ${TARGET_KINDS.at(-1)}, got "${o.target}"`);
  }
  if (o.target !== undefined && hasTrids) {
    throw new UsageError('--target chooses the target nvmf-perf launches: give it without -r');
  }
  const kind = (o.target ?? 'builtin') as TargetKind;
  if (kind !== 'spdk') {
    if (o.spdkBin !== undefined) throw new UsageError('--spdk-bin applies only with --target spdk');
    if (o.spdkArgs !== undefined) throw new UsageError('--spdk-args applies only with --target spdk');
    return { kind };
  }
  const spdkArgs = parseSpdkArgs(o.spdkArgs);
  return { kind, spdkBin: resolveSpdkBin(o.spdkBin), spdkArgs };
}
