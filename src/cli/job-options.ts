// One job section of a job file → a PerfConfig, with fio's meaning for fio's option names and
// nvmf-perf's own names where fio has none. Every unknown or unsupported option, and every bad value,
// is an error naming file:line and the option.
import { parseFioSize, parseFioTimeUs, type KbBase } from './fio-units.js';
import { JobFileError, type JobOption, type JobSection } from './job-file.js';
import { parseBsSplit, parseDistribution, parseSizeOrPercent } from './workload-values.js';
import { IO_PATTERNS, isMixed, type IoPattern, type PerfConfig, type ReactorMode } from '../engine/config.js';
import type { BsSplitEntry, IoRange, RandomDistribution, SizeOrPercent } from '../engine/workload-spec.js';
import { parseCoreMask } from '../util/cpu-mask.js';
import { validateNqn } from '../util/nqn.js';
import { parsePcieTrid } from '../transport/local/pcie-lookup.js';
import { parseTrid } from '../host/trid.js';
import { DEFAULT_SPIN_US } from '../util/adaptive-wait.js';

/** Run-wide settings from the `run` command line. */
export interface JobRunContext {
  allowedCpus: number[];
  commandLine: string[];
  resultsDir: string;
  progress: boolean;
  /** --runtime: replaces every job's runtime (seconds). */
  runtimeSec?: number;
  /** --target-ns: namespace of the launched target for jobs without filename. */
  targetNs?: string;
  seed?: number;
  /** All job sections of the file, in run order (recorded in the result). */
  sections: string[];
}

type Handler = (v: string | undefined, o: JobOption, j: JobState) => void;

/** What the options set, before defaults. */
interface JobState {
  kbBase: KbBase;
  pattern?: IoPattern;
  bs?: number;
  bssplit?: BsSplitEntry[];
  iodepth?: number;
  numjobs?: number;
  runtimeSec?: number;
  rampSec?: number;
  size?: SizeOrPercent;
  offset?: SizeOrPercent;
  rwmixread?: number;
  distribution?: RandomDistribution;
  rateIops?: number;
  thinktimeUs?: number;
  cpus?: number[];
  verify?: boolean;
  filename?: string;
  seed?: number;
  latency?: 0 | 1 | 2;
  hdgst?: boolean;
  ddgst?: boolean;
  qpairs?: number;
  mode?: ReactorMode;
  arrivals?: 'constant' | 'poisson';
  hostnqn?: string;
  targetNs?: string;
}

const fail = (o: JobOption, msg: string): never => { throw new JobFileError(o.file, o.line, `${o.key}: ${msg}`); };

function need(v: string | undefined, o: JobOption): string {
  if (v === undefined || v === '') fail(o, 'needs a value');
  return v!;
}

function bool(v: string | undefined, o: JobOption): boolean {
  if (v === undefined || v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  return fail(o, `expected 0 or 1, got "${v}"`);
}

function int(v: string | undefined, o: JobOption, min: number, max: number): number {
  const t = need(v, o);
  if (!/^\d+$/.test(t) || Number(t) < min || Number(t) > max) fail(o, `expected an integer from ${min} to ${max}, got "${t}"`);
  return Number(t);
}

function size(v: string | undefined, o: JobOption, j: JobState): number {
  const t = need(v, o);
  const n = parseFioSize(t, j.kbBase);
  if (n === null) fail(o, `"${t}" is not a size (e.g. 4k, 128k, 1g)`);
  return n!;
}

function seconds(v: string | undefined, o: JobOption): number {
  const t = need(v, o);
  const us = parseFioTimeUs(t, 's');
  if (us === null) fail(o, `"${t}" is not a time (e.g. 30, 30s, 2m, 500ms)`);
  return us! / 1e6;
}

const PATTERN_ALIASES: Record<string, IoPattern> = { readwrite: 'rw' };

const setPattern: Handler = (v, o, j) => {
  const t = need(v, o).toLowerCase();
  if (t.includes(':')) fail(o, `"${t}": the ":N" offset modifier is not supported`);
  const p = PATTERN_ALIASES[t] ?? t;
  if (!(IO_PATTERNS as readonly string[]).includes(p)) {
    fail(o, `"${t}" is not supported (read, write, randread, randwrite, rw/readwrite, randrw)`);
  }
  j.pattern = p as IoPattern;
};

const sizeOrPercent = (v: string | undefined, o: JobOption, j: JobState): SizeOrPercent => {
  const r = parseSizeOrPercent(need(v, o), (t) => parseFioSize(t, j.kbBase));
  return typeof r === 'string' ? fail(o, r) : r;
};

const accepted: Handler = () => undefined;

/** Option name → handler. fio's names with fio's meaning; nvmf-perf's own where fio has none. */
const HANDLERS: Record<string, Handler> = {
  rw: setPattern,
  readwrite: setPattern,
  bs: (v, o, j) => {
    if (need(v, o).includes(',')) fail(o, 'separate read/write block sizes are not supported');
    j.bs = size(v, o, j);
  },
  blocksize: (v, o, j) => HANDLERS['bs']!(v, o, j),
  bssplit: (v, o, j) => {
    const r = parseBsSplit(need(v, o), (t) => parseFioSize(t, j.kbBase));
    j.bssplit = typeof r === 'string' ? fail(o, r) : r;
  },
  iodepth: (v, o, j) => { j.iodepth = int(v, o, 1, 65536); },
  numjobs: (v, o, j) => { j.numjobs = int(v, o, 1, 1024); },
  runtime: (v, o, j) => {
    const s = seconds(v, o);
    if (!(s > 0)) fail(o, 'must be above 0');
    j.runtimeSec = s;
  },
  time_based: (v, o) => {
    if (!bool(v, o)) fail(o, 'nvmf-perf runs are always time based (runtime); time_based=0 is not supported');
  },
  ramp_time: (v, o, j) => { j.rampSec = seconds(v, o); },
  size: (v, o, j) => { j.size = sizeOrPercent(v, o, j); },
  offset: (v, o, j) => { j.offset = sizeOrPercent(v, o, j); },
  rwmixread: (v, o, j) => { j.rwmixread = int(v, o, 0, 100); },
  rwmixwrite: (v, o, j) => { j.rwmixread = 100 - int(v, o, 0, 100); },
  random_distribution: (v, o, j) => {
    const r = parseDistribution(need(v, o));
    j.distribution = typeof r === 'string' ? fail(o, r) : r;
  },
  rate_iops: (v, o, j) => {
    if (need(v, o).includes(',')) fail(o, 'separate read/write rates are not supported');
    j.rateIops = int(v, o, 1, 100_000_000);
  },
  thinktime: (v, o, j) => {
    const t = need(v, o);
    const us = parseFioTimeUs(t, 'us');
    if (us === null) fail(o, `"${t}" is not a time (e.g. 100, 100us, 2ms)`);
    j.thinktimeUs = us!;
  },
  cpus_allowed: (v, o, j) => {
    const r = parseCoreMask(need(v, o));
    if (typeof r === 'string') fail(o, r);
    j.cpus = r as number[];
  },
  stonewall: (v, o) => { bool(v, o); },
  wait_for_previous: (v, o) => { bool(v, o); },
  verify: (v, o, j) => {
    const t = need(v, o).toLowerCase();
    if (t === '0' || t === 'null') j.verify = false;
    else if (t === 'crc32c' || t === 'crc32c-intel' || t === 'meta' || t === '1') j.verify = true;
    else fail(o, `"${t}" is not supported (crc32c, meta, 0): nvmf-perf checks a CRC32C and an LBA/generation header per block`);
  },
  filename: (v, o, j) => {
    const t = need(v, o);
    // A path (fio's usual filename) is a local file or block device; a PCIe TRID a kernel NVMe controller.
    if (isLocalPath(t)) { j.filename = t; return; }
    try {
      if (!parsePcieTrid(t)) parseTrid(t);
    } catch (e) {
      fail(o, `"${t}" is not a transport ID: ${(e as Error).message}`);
    }
    j.filename = t;
  },
  randseed: (v, o, j) => { j.seed = int(v, o, 0, 0xffffffff); },
  kb_base: (v, o, j) => {
    const n = int(v, o, 1000, 1024);
    if (n !== 1000 && n !== 1024) fail(o, `expected 1000 or 1024, got ${n}`);
    j.kbBase = n as KbBase;
  },
  lat_percentiles: (v, o, j) => { j.latency = bool(v, o) ? Math.max(1, j.latency ?? 1) as 1 | 2 : 0; },
  direct: (v, o) => { if (!bool(v, o)) fail(o, 'nvmf-perf I/O always goes to the target (direct=1); direct=0 is not supported'); },
  thread: accepted,
  group_reporting: accepted,
  name: (v, o) => { need(v, o); },
  description: accepted,
  ioengine: (v, o) => fail(o, `"${v ?? ''}" — nvmf-perf has its own NVMe/TCP initiator; remove ioengine`),
  // nvmf-perf's own keys (fio has none for these).
  lat_histogram: (v, o, j) => { if (bool(v, o)) j.latency = 2; },
  header_digest: (v, o, j) => { j.hdgst = bool(v, o); },
  data_digest: (v, o, j) => { j.ddgst = bool(v, o); },
  qpairs: (v, o, j) => { j.qpairs = int(v, o, 1, 1024); },
  mode: (v, o, j) => {
    const t = need(v, o);
    if (t !== 'poll' && t !== 'interrupt') fail(o, `expected poll or interrupt, got "${t}"`);
    j.mode = t as ReactorMode;
  },
  arrivals: (v, o, j) => {
    const t = need(v, o);
    if (t !== 'constant' && t !== 'poisson') fail(o, `expected constant or poisson, got "${t}"`);
    j.arrivals = t as 'constant' | 'poisson';
  },
  hostnqn: (v, o, j) => {
    const t = need(v, o);
    const why = validateNqn(t);
    if (why) fail(o, why);
    j.hostnqn = t;
  },
  target_ns: (v, o, j) => {
    const t = need(v, o);
    if (!/^(ram|null):\S+$|^file:.+$/.test(t)) fail(o, `"${t}": expected ram:SIZE, null:SIZE or file:PATH`);
    j.targetNs = t;
  },
};

/** The option names job files accept (README lists them). */
export const JOB_OPTIONS: readonly string[] = Object.keys(HANDLERS);

/** A job section → the config of one run. */
export function jobToConfig(job: JobSection, ctx: JobRunContext): PerfConfig {
  const j: JobState = { kbBase: 1024 };
  // kb_base changes how every size of the job reads, wherever it stands.
  const kb = [...job.options].reverse().find((o) => o.key === 'kb_base');
  if (kb) HANDLERS['kb_base']!(kb.value, kb, j);
  const byKey = new Map<string, JobOption>();
  for (const o of job.options) {
    const h = HANDLERS[o.key];
    if (!h) throw new JobFileError(o.file, o.line, `unknown or unsupported option "${o.key}" (see README, "Job files")`);
    h(o.value, o, j);
    byKey.set(o.key, o);
  }
  const at = (key: string): JobOption => byKey.get(key) ?? { key, value: undefined, file: job.file, line: job.line };
  const jobErr = (msg: string): never => { throw new JobFileError(job.file, job.line, `[${job.name}]: ${msg}`); };

  const pattern = j.pattern ?? 'read';
  if (j.rwmixread !== undefined && !isMixed(pattern)) fail(at(byKey.has('rwmixread') ? 'rwmixread' : 'rwmixwrite'), `applies only to rw and randrw, not to ${pattern}`);
  const rwmixread = isMixed(pattern) ? j.rwmixread ?? 50 : pattern === 'read' || pattern === 'randread' ? 100 : 0;
  if (j.bssplit && byKey.has('bs')) fail(at('bssplit'), 'give bs or bssplit, not both');
  const ioSize = j.bssplit ? Math.max(...j.bssplit.map((e) => e.bytes)) : j.bs ?? 4096;
  if (ioSize % 512 !== 0) fail(at('bs'), `${ioSize} is not a multiple of 512 bytes`);
  if (ioSize > 64 * 1024 * 1024) fail(at('bs'), `${ioSize} is above the 64 MiB limit`);
  const timeSec = ctx.runtimeSec ?? j.runtimeSec ?? jobErr('runtime is required (nvmf-perf runs are time based)');
  if (j.distribution && j.distribution.kind !== 'random' && !pattern.startsWith('rand')) {
    fail(at('random_distribution'), `applies to random patterns, not to ${pattern}`);
  }

  const numjobs = j.numjobs ?? 1;
  let pool = ctx.allowedCpus;
  if (j.cpus) {
    const absent = j.cpus.filter((c) => !ctx.allowedCpus.includes(c));
    if (absent.length > 0) fail(at('cpus_allowed'), `core ${absent.join(', ')} is not available (this process may use ${ctx.allowedCpus.join(',')})`);
    pool = j.cpus;
  }
  // One pinned worker per job clone, over the allowed cores in turn.
  const cores = Array.from({ length: numjobs }, (_, i) => pool[i % pool.length]!);

  let range: IoRange | undefined;
  if (j.offset || j.size) range = { offset: j.offset ?? { bytes: 0 }, ...(j.size ? { size: j.size } : {}) };

  if (j.filename && (j.targetNs || ctx.targetNs)) {
    fail(at(j.targetNs ? 'target_ns' : 'filename'), 'target_ns applies only to the launched target (no filename)');
  }
  if (j.arrivals && !j.rateIops) fail(at('arrivals'), 'needs rate_iops');
  if (j.thinktimeUs && j.rateIops) fail(at('thinktime'), 'thinktime and rate_iops together are not supported');

  return {
    ioDepth: j.iodepth ?? 1,
    ioSize,
    pattern,
    rwmixread,
    timeSec,
    warmupSec: j.rampSec ?? 0,
    transportIds: j.filename && !isLocalPath(j.filename) ? [j.filename] : [],
    ...(j.filename && isLocalPath(j.filename) ? { devices: [j.filename] } : {}),
    target: { kind: 'builtin' },
    numQpairs: j.qpairs ?? 1,
    cores,
    latencyTracking: j.latency ?? 1,
    hdgst: j.hdgst ?? false,
    ddgst: j.ddgst ?? false,
    hostnqn: j.hostnqn,
    seed: ctx.seed ?? j.seed ?? Date.now() % 0x7fffffff,
    jsonPath: undefined,
    resultsDir: ctx.resultsDir,
    progress: ctx.progress,
    targetNs: ctx.targetNs ?? j.targetNs ?? 'ram:1GiB',
    mode: j.mode ?? 'poll',
    spinUs: DEFAULT_SPIN_US,
    // fio's rate_iops limits each clone; the engine's rate is the total.
    rateIops: j.rateIops ? j.rateIops * numjobs : 0,
    arrivals: j.arrivals ?? 'constant',
    targetRpc: undefined,
    compareModes: false,
    idleSec: 0,
    rateSweep: [],
    commandLine: ctx.commandLine,
    ...(j.bssplit ? { bssplit: j.bssplit } : {}),
    distribution: j.distribution ?? { kind: 'random', param: 0 },
    ...(range ? { range } : {}),
    verify: j.verify ?? false,
    thinktimeUs: j.thinktimeUs ?? 0,
    workload: { file: job.file, section: job.name, sections: ctx.sections },
  };
}

/** filename=/dev/nvme0n1, ./data.bin: a local device rather than a transport ID. */
function isLocalPath(t: string): boolean {
  return t.startsWith('/') || t.startsWith('./') || t.startsWith('../');
}
