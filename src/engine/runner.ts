// The perf engine: one run, plans in, record out. Resolve targets (or launch the built-in one), connect
// controllers, plan qpairs over workers, run the workers (piscina, one pinned thread per core), sample
// the counters each second, and return what was measured — also when the run is interrupted
// (RunControl) or the target dies. No printing, signals, files or exit codes: the command layer
// (src/cli/perf-run.ts) does those through onNotice/onProgress and the returned RunRecord.
import { Piscina } from 'piscina';
import { native } from '../native/index.js';
import { Controller } from '../host/controller.js';
import { discover } from '../host/discovery.js';
import { parseTrid, formatTrid } from '../host/trid.js';
import type { TransportId } from '../transport/transport.js';
import { DISCOVERY_NQN } from '../nvme/opcodes.js';
import { formatVersion } from '../nvme/registers.js';
import { UsageError, UserError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { launchTarget } from '../launch/launch-target.js';
import type { LaunchedTarget } from '../launch/launched-target.js';
import { LINUX_TARGET_NOTE } from '../launch/linux-target.js';
import { MAX_QUEUE_DEPTH_LIMIT, TARGET_DEFAULTS } from '../target/config.js';
import { Field, Phase, SharedCounters } from './shared-counters.js';
import { LinkStates } from './link-states.js';
import { ConnectionMonitor } from './connection-monitor.js';
import { AbortRequests } from './abort-requests.js';
import { AbortService } from './abort-service.js';
import type { PerfConfig } from './config.js';
import type { NamespaceContextPlan, WorkerPlan, WorkloadPlan } from './plan.js';
import type { WorkerResult } from './worker-result.js';
import { assignNamespaces } from './planner.js';
import type { IoTimeoutSummary, RunRecord, RunStatus, TargetInfo, TimelinePoint } from './run-record.js';
import type { TargetSampler } from './target-sampler.js';
import { RpcTargetSampler } from './rpc-target-sampler.js';
import { contextRanges, workloadExtras, bssplitProblem } from './workload-run.js';
import { VERIFY_PREFILL_TIMEOUT_MS } from './verifier.js';
import { isLocalRun, resolveLocalTargets, type LocalTarget } from './local-targets.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunOptions {
  /** Extra knobs the mode comparison uses; the CLI leaves them unset. */
  rateIops?: number;
  arrivals?: 'constant' | 'poisson';
  /** Samples target reactors each second (framework_get_reactors over RPC). */
  targetSampler?: TargetSampler;
  /** Use this launched target instead of launching one (compare-modes keeps one per mode). */
  launched?: LaunchedTarget;
  /** One-line notes for the user (target launched, I/O waiting in the host…). */
  onNotice?: (msg: string) => void;
  /** Once a second: the interval's point ('warmup' points are not kept in the timeline). */
  onProgress?: (point: TimelinePoint, phase: 'warmup' | 'run', elapsedSec: number, totalSec: number) => void;
  /** Lets the caller end the run early (signals are the command layer's business). */
  control?: RunControl;
}

/** Ends a run early: interrupt() stops the workers; the run returns what was measured, status 'interrupted'. */
export class RunControl {
  private handler: ((reason: string) => void) | null = null;
  private pending: string | null = null;
  private done = false;

  /** True once interrupt() was called. */
  get interrupted(): boolean { return this.done; }

  interrupt(reason: string): void {
    if (this.done) return;
    this.done = true;
    if (this.handler) this.handler(reason); else this.pending = reason;
  }

  /** The engine's side: `fn` runs on interrupt (at once when it came before the run started). */
  attach(fn: (reason: string) => void): void {
    this.handler = fn;
    if (this.pending !== null) { const r = this.pending; this.pending = null; fn(r); }
  }

  detach(): void { this.handler = null; }
}

interface ConnectedNamespace {
  targetIndex: number;
  nsid: number;
  blockSize: number;
  sizeBlocks: number;
  label: string;
}


/** Each -r value → one or more controller TRIDs (a TRID without subnqn expands through discovery). */
function resolveTrids(texts: string[], hostnqn: string | undefined): TransportId[] {
  const out: TransportId[] = [];
  for (const text of texts) {
    const tid = parseTrid(text);
    if (tid.subnqn !== undefined && tid.subnqn !== DISCOVERY_NQN) { out.push(tid); continue; }
    const entries = discover({ ...tid, subnqn: DISCOVERY_NQN }, { hostnqn: hostnqn ?? tid.hostnqn });
    const nvm = entries.filter((e) => e.subtype === 2 && e.trtype === 3);
    if (nvm.length === 0) throw new UserError(`-r "${text}": the discovery log lists no NVMe/TCP subsystem`, ExitCode.Connect);
    for (const e of nvm) {
      out.push({ ...tid, traddr: e.traddr || tid.traddr, trsvcid: Number(e.trsvcid) || tid.trsvcid, subnqn: e.subnqn });
    }
  }
  return out;
}

/**
 * Queue entries the launched target grants: enough for -q I/Os of -s bytes split at its max transfer
 * (so nothing waits in the host), at least its default, at most what it accepts.
 */
export function launchedQueueDepth(config: Pick<PerfConfig, 'ioDepth' | 'ioSize'>): number {
  const want = config.ioDepth * Math.ceil(config.ioSize / TARGET_DEFAULTS.maxIoSize);
  return Math.min(MAX_QUEUE_DEPTH_LIMIT, Math.max(TARGET_DEFAULTS.maxQueueDepth, want));
}

export async function runPerf(config: PerfConfig, opts: RunOptions = {}): Promise<RunRecord> {
  const log = opts.onNotice ?? ((): void => undefined);
  const controllers: Controller[] = [];
  let launched = opts.launched;
  const ownsTarget = launched === undefined;
  let pool: Piscina | undefined;
  const startedAt = new Date();
  const allowed = native.allowedCpus();
  const rateIops = opts.rateIops ?? 0;
  const arrivals = opts.arrivals ?? 'constant';
  let sampler = opts.targetSampler;
  let ownSampler: RpcTargetSampler | undefined;
  let launchedMode: 'poll' | 'interrupt' = config.mode;
  /** A signal asked us to stop: tear down without waiting on the target (it may be what hangs). */
  let signalled = false;

  try {
    // 1. Targets.
    const local = isLocalRun(config);
    let tridTexts = local ? [] : config.transportIds;
    if (tridTexts.length === 0 && !local) {
      if (!launched) {
        const spare = allowed.filter((c) => !config.cores.includes(c));
        const reactor = [spare.length > 0 ? spare[spare.length - 1]! : allowed[allowed.length - 1]!];
        const rpcPath = join(tmpdir(), `nvmf-perf-${process.pid}-${Date.now()}.sock`);
        // Two spinning threads on one core starve each other (each waits a scheduler slice for the
        // other's reply), so a target that must share a core with a worker sleeps when idle.
        const targetInterrupt = config.mode === 'interrupt' || spare.length === 0;
        launched = await launchTarget(config.target, { namespaces: [config.targetNs], reactorCores: reactor,
          interruptMode: targetInterrupt, rpcSocket: rpcPath, spinUs: config.spinUs,
          extraArgs: ['--max-queue-depth', String(launchedQueueDepth(config))], onNotice: log });
        if (!sampler && launched.rpcSocket !== undefined) {
          ownSampler = new RpcTargetSampler(rpcPath);
          try { await ownSampler.start(); sampler = ownSampler; } catch (e) { log(`target reactors will not be sampled: ${(e as Error).message}`); }
        }
        if (launched.kind === 'linux') {
          log(`no -r given: launched the ${launched.label} (${config.targetNs}) at ${launched.trid.replace(/^trtype:TCP adrfam:IPv4 /, '')}; ${LINUX_TARGET_NOTE}`);
          launchedMode = 'interrupt';
        } else {
          log(`no -r given: launched the ${launched.label} (${config.targetNs}) at ${launched.trid.replace(/^trtype:TCP adrfam:IPv4 /, '')}`
            + ` on core ${reactor.join(',')} (pid ${launched.pid})`
            + `${spare.length === 0 ? ', in interrupt mode because it shares that core with a worker' : ''}`);
          launchedMode = targetInterrupt ? 'interrupt' : 'poll';
        }
      }
      tridTexts = [launched.trid];
    }

    // 2. Controllers and namespaces (local devices: opened and probed here, one target per namespace).
    const tids = resolveTrids(tridTexts, config.hostnqn);
    const namespaces: ConnectedNamespace[] = [];
    const targets: TargetInfo[] = [];
    const locals: LocalTarget[] = local ? resolveLocalTargets(config, log) : [];
    for (const lt of locals) {
      const n = lt.info.namespaces[0]!;
      const splitWhy = bssplitProblem(config, n.blockSize);
      if (splitWhy) throw new UsageError(`${splitWhy} of ${lt.device.path}`);
      namespaces.push({ targetIndex: targets.length, nsid: n.nsid, blockSize: n.blockSize, sizeBlocks: n.sizeBlocks, label: lt.label });
      targets.push(lt.info);
    }
    for (const tid of tids) {
      const ctrl = Controller.connect(tid, { hostnqn: config.hostnqn ?? tid.hostnqn, hdgst: config.hdgst, ddgst: config.ddgst });
      controllers.push(ctrl);
      const ti = controllers.length - 1;
      const nsList = ctrl.namespaces.filter((n) => tid.ns === undefined || n.nsid === tid.ns);
      if (nsList.length === 0) {
        throw new UserError(`${formatTrid(tid)}: ${tid.ns === undefined ? 'no active namespace' : `no active namespace ${tid.ns}`}`, ExitCode.Connect);
      }
      for (const n of nsList) {
        if (config.ioSize % n.blockSize !== 0) {
          throw new UsageError(`-s/--io-size ${config.ioSize} is not a multiple of the block size ${n.blockSize} of NSID ${n.nsid} at ${formatTrid(tid)}`);
        }
        const splitWhy = bssplitProblem(config, n.blockSize);
        if (splitWhy) throw new UsageError(`${splitWhy} of NSID ${n.nsid} at ${formatTrid(tid)}`);
        if (config.ioSize > n.sizeBytes) {
          throw new UsageError(`-s/--io-size ${config.ioSize} is larger than NSID ${n.nsid} (${n.sizeBytes} bytes) at ${formatTrid(tid)}`);
        }
        namespaces.push({ targetIndex: ti, nsid: n.nsid, blockSize: n.blockSize, sizeBlocks: n.sizeBlocks,
          label: `TCP (addr:${tid.traddr}:${tid.trsvcid} subnqn:${tid.subnqn}) NSID ${n.nsid}` });
      }
      // An I/O above the controller's max transfer is split into several commands, each a queue entry.
      // What does not fit the queue waits in the host (RequestQueue), as in SPDK's driver.
      const perIo = Math.ceil(config.ioSize / ctrl.maxTransferBytes);
      if (config.ioDepth * perIo > ctrl.maxIoQueueDepth) {
        log(`note: -q ${config.ioDepth} × ${perIo} command(s) per ${config.ioSize}-byte I/O needs ${config.ioDepth * perIo} queue entries but `
          + `${formatTrid(tid)} grants ${ctrl.maxIoQueueDepth}; the rest wait in the host's software queue (their wait counts in the latency)`);
      }
      targets.push({
        trid: formatTrid(tid), subnqn: tid.subnqn ?? '', cntlid: ctrl.cntlid, mn: ctrl.identify.mn, sn: ctrl.identify.sn,
        fr: ctrl.identify.fr, version: formatVersion(ctrl.vs), maxTransferBytes: ctrl.maxTransferBytes,
        ioQueuesGranted: ctrl.ioQueuesGranted,
        namespaces: nsList.map((n) => ({ nsid: n.nsid, blockSize: n.blockSize, sizeBlocks: n.sizeBlocks, sizeBytes: n.sizeBytes })),
        ...(launched && config.transportIds.length === 0
          ? { launched: { kind: launched.kind, pid: launched.pid, namespace: config.targetNs, reactorCores: launched.reactorCores, mode: launchedMode,
            ...(launched.kind === 'linux' ? { note: LINUX_TARGET_NOTE } : {}) } } : {}),
      });
    }

    // 3. Plan: namespaces round-robin over workers, -P qpairs each, QIDs per controller.
    const workers = config.cores.length;
    const assign = assignNamespaces(namespaces.length, workers);
    // What the planner needs of a controller: local targets come first, as in `targets`.
    const planCtrls: Pick<Controller, 'ioQueuesGranted' | 'maxIoQueueDepth' | 'maxTransferBytes' | 'ioQpairParams'>[] = [...locals, ...controllers];
    const nextQid = planCtrls.map(() => 1);
    const counters = SharedCounters.create(workers);
    const workload: WorkloadPlan = {
      ioDepth: config.ioDepth, ioSize: config.ioSize, pattern: config.pattern, rwmixread: config.rwmixread,
      seed: config.seed, mode: config.mode, rateIops: rateIops > 0 ? rateIops / workers : 0, arrivals, spinUs: config.spinUs,
      ...workloadExtras(config),
      ...(config.reconnect ? { reconnect: { fastIoFailTmoMs: config.reconnect.fastIoFailTmoSec * 1000 } } : {}),
      ...(config.ioTimeoutMs !== undefined ? { ioTimeoutMs: config.ioTimeoutMs } : {}),
    };
    const links = config.reconnect ? LinkStates.create(controllers.map((c) => c.cntlid)) : undefined;
    const ranges = contextRanges(config, assign, namespaces);
    if (typeof ranges === 'string') throw new UsageError(ranges);
    // --io-timeout: one Abort mailbox slot per qpair (workers add their qpairs in plan order).
    const qpairsPerWorker = assign.map((nsIdxs) => nsIdxs.length * config.numQpairs);
    const aborts = config.ioTimeoutMs !== undefined ? AbortRequests.create(qpairsPerWorker.reduce((a, b) => a + b, 0)) : undefined;
    const plans: WorkerPlan[] = assign.map((nsIdxs, w) => ({
      index: w, core: config.cores[w]!, workers, workload,
      countersSab: counters.countersSab, controlSab: counters.controlSab,
      ...(links ? { linkSab: links.sab, controllers: controllers.length } : {}),
      ...(aborts ? { abortSab: aborts.sab, abortSlots: aborts.slots, abortSlotBase: qpairsPerWorker.slice(0, w).reduce((a, b) => a + b, 0) } : {}),
      contexts: nsIdxs.map((nsIndex): NamespaceContextPlan => {
        const ns = namespaces[nsIndex]!;
        const ctrl = planCtrls[ns.targetIndex]!;
        const qpairs = [];
        for (let p = 0; p < config.numQpairs; p++) {
          const qid = nextQid[ns.targetIndex]!++;
          if (qid > ctrl.ioQueuesGranted) {
            throw new UsageError(`-P/--num-qpairs ${config.numQpairs} with ${workers} worker(s) needs more I/O queues than the ${ctrl.ioQueuesGranted} granted by ${targets[ns.targetIndex]!.trid}`);
          }
          // Connect SQSIZE is 0's based and may not be 0, so a queue has at least 2 entries even for -q 1;
          // the worker keeps exactly -q I/Os in flight.
          const want = config.ioDepth * Math.ceil(config.ioSize / ctrl.maxTransferBytes);
          qpairs.push(ctrl.ioQpairParams(qid, Math.max(2, Math.min(want, ctrl.maxIoQueueDepth))));
        }
        return { nsIndex, nsid: ns.nsid, blockSize: ns.blockSize, sizeBlocks: ns.sizeBlocks, ...ranges(w, nsIndex),
          ctrlIndex: ns.targetIndex, qpairs };
      }),
    }));

    // 4. Workers.
    pool = new Piscina({
      filename: new URL('./perf-worker.js', import.meta.url).href,
      minThreads: workers, maxThreads: workers, concurrentTasksPerWorker: 1, idleTimeout: 60_000,
    });
    const tasks: Promise<WorkerResult>[] = plans.map((p) => pool!.run(p) as Promise<WorkerResult>);
    let settled = 0;
    const earlyResults: (WorkerResult | undefined)[] = new Array(workers);
    tasks.forEach((t, i) => t.then((r) => { earlyResults[i] = r; settled++; }, () => { settled++; }));

    let status = 'complete' as RunStatus;
    let error: string | undefined;
    const stopWith = (s: RunStatus, why?: string): void => {
      if (status === 'complete') { status = s; error = why; }
      counters.stop();
    };
    // Stopped by the user (a signal in the command layer): disconnect without the CC.SHN handshake at the
    // end, whose synchronous commands would wait their full timeout on a target that stopped answering.
    opts.control?.attach((why) => { signalled = true; stopWith('interrupted', why); });
    void launched?.exited.then(({ code, signal }) => {
      stopWith('partial', `the target exited during the run (${signal ?? `exit code ${code}`})`);
    });

    // Wait until every worker connected its qpairs (or failed).
    const readyDeadline = Date.now() + 60_000 + (config.verify ? VERIFY_PREFILL_TIMEOUT_MS : 0);
    while (counters.readyCount() < workers && settled < workers && Date.now() < readyDeadline && !counters.stopRequested()) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const failedEarly = earlyResults.find((r) => r?.error);
    if (failedEarly) throw new UserError(`worker on core ${failedEarly.core}: ${failedEarly.error}`, ExitCode.Connect);
    if (counters.readyCount() < workers && !counters.stopRequested()) throw new Error('workers did not get ready within 60 s');

    const t0 = native.monoNs();
    const warmEnd = t0 + config.warmupSec * 1e9;
    const endNs = warmEnd + config.timeSec * 1e9;
    counters.start(warmEnd, endNs);
    // --ctrl-loss-tmo: reconnect a controller whose association a worker (or the keep-alive) saw die.
    const monitor = links && config.reconnect ? new ConnectionMonitor(config.reconnect, links, controllers, tids, {
      hostnqn: config.hostnqn, hdgst: config.hdgst, ddgst: config.ddgst, warmEndNs: warmEnd, log,
      onLost: (why) => stopWith('partial', why),
    }) : undefined;

    // --io-timeout: the Abort commands workers ask for go out on the admin queues here.
    const abortService = aborts ? new AbortService(aborts, controllers, config.ioTimeoutMs!, log) : undefined;

    // 5. Progress once a second (deltas, not cumulative), timeline for the measured phase.
    const timeline: TimelinePoint[] = [];
    let prev = snapshot(counters, workers, native.monoNs(), launched);
    /** Where the interval of the last timeline point began (a short tail is folded into that point). */
    let lastPointFrom: Snapshot | undefined;
    const totalSec = config.warmupSec + config.timeSec;
    const tick = setInterval(() => {
      const cur = snapshot(counters, workers, native.monoNs(), launched);
      const point = deltaPoint(prev, cur, (cur.at - warmEnd) / 1e9, monitor !== undefined);
      const warm = cur.at < warmEnd + 0.05e9;
      opts.onProgress?.(point, warm ? 'warmup' : 'run', Math.round((cur.at - t0) / 1e9), totalSec);
      if (!warm) {
        if (sampler) {
          const reactors = sampler.sample();
          if (reactors) point.targetReactors = reactors;
        }
        timeline.push(point);
        lastPointFrom = prev;
      }
      if (cur.failed) stopWith('partial', 'a worker failed');
      prev = cur;
    }, 1000);

    const results = await Promise.all(tasks.map((t, i) => t.catch((e: unknown): WorkerResult => ({
      index: i, core: config.cores[i]!, error: (e as Error).message, measuredNs: 0, busyNs: 0, idleNs: 0, cpuNs: 0, contexts: [],
    }))));
    clearInterval(tick);
    monitor?.stop();
    abortService?.stop();
    const outage = monitor?.unresolved();
    if (outage) stopWith('partial', outage);
    // The last (partial) interval: up to the end of the run, so the timeline covers all of it.
    const last = snapshot(counters, workers, Math.min(native.monoNs(), endNs), launched);
    const tailIos = last.readIos + last.writeIos - prev.readIos - prev.writeIos;
    if (last.at - prev.at <= 0.05e9 && tailIos > 0 && lastPointFrom && timeline.length > 0) {
      // A tail too short to be a point of its own (a late tick, or counters a descheduled worker
      // published late) still holds I/Os: fold it into the last point so the timeline covers the run.
      last.at = Math.max(last.at, prev.at);
      const merged = deltaPoint(lastPointFrom, last, (last.at - warmEnd) / 1e9, monitor !== undefined);
      const old = timeline[timeline.length - 1]!;
      if (old.targetReactors) merged.targetReactors = old.targetReactors;
      timeline[timeline.length - 1] = merged;
    } else if (last.at - prev.at > 0.05e9 && last.at > warmEnd) {
      const point = deltaPoint(prev, last, (last.at - warmEnd) / 1e9, monitor !== undefined);
      opts.onProgress?.(point, 'run', Math.round((last.at - t0) / 1e9), totalSec);
      if (sampler) {
        const reactors = sampler.sample();
        if (reactors) point.targetReactors = reactors;
      }
      timeline.push(point);
    }
    opts.control?.detach();

    // 6. The record (the report layer builds the result document from it).
    const workerError = results.find((r) => r.error);
    if (workerError && status === 'complete') { status = 'partial'; error = `core ${workerError.core}: ${workerError.error}`; }
    else if (workerError && status === 'partial' && error === 'a worker failed') error = `core ${workerError.core}: ${workerError.error}`;
    return {
      config, startedAt, status, ...(error ? { error } : {}), rateIops, arrivals,
      transportIds: [...locals.map((l) => l.info.trid), ...tids.map(formatTrid)], hostnqn: controllers[0]?.hostnqn ?? config.hostnqn ?? '',
      targets, namespaceLabels: namespaces.map((n) => n.label), namespaceTargets: namespaces.map((n) => n.targetIndex),
      workers: results, timeline, ...(launched && launched.pid > 0 ? { launchedPid: launched.pid } : {}),
      ...(monitor && config.reconnect ? { connection: { ...config.reconnect,
        retriedIos: results.reduce((n, r) => n + (r.retriedIos ?? 0), 0), events: monitor.events } } : {}),
      ...(config.ioTimeoutMs !== undefined ? { ioTimeouts: sumIoTimeouts(config.ioTimeoutMs, results) } : {}),
    };
  } finally {
    for (const c of controllers) {
      // After a signal, no CC.SHN handshake: its synchronous commands wait up to 30 s each on a
      // target that stopped answering, and the user asked to stop now. The sockets close either way.
      try { if (signalled) c.disconnect(); else c.shutdown(); } catch { /* the target may be gone */ }
    }
    ownSampler?.stop();
    if (pool) await pool.destroy();
    if (launched && ownsTarget) await launched.stop();
  }
}

interface Snapshot {
  at: number;
  readIos: number;
  writeIos: number;
  bytes: number;
  latSum: number;
  busy: number[];
  idle: number[];
  cpu: number[];
  targetCpuNs: number;
  failed: boolean;
  errors: number;
  retries: number;
}

function snapshot(c: SharedCounters, workers: number, at: number, launched: LaunchedTarget | undefined): Snapshot {
  const s: Snapshot = { at, readIos: 0, writeIos: 0, bytes: 0, latSum: 0, busy: [], idle: [], cpu: [],
    targetCpuNs: launched && !launched.hasExited ? launched.cpuNs() : -1, failed: false, errors: 0, retries: 0 };
  for (let w = 0; w < workers; w++) {
    s.readIos += c.get(w, Field.ReadIos);
    s.writeIos += c.get(w, Field.WriteIos);
    s.bytes += c.get(w, Field.ReadBytes) + c.get(w, Field.WriteBytes);
    s.latSum += c.get(w, Field.LatSumNs);
    s.busy.push(c.get(w, Field.BusyNs));
    s.idle.push(c.get(w, Field.IdleNs));
    s.cpu.push(c.get(w, Field.CpuNs));
    s.errors += c.get(w, Field.Errors);
    s.retries += c.get(w, Field.Retries);
    if (c.get(w, Field.Phase) === Phase.Failed) s.failed = true;
  }
  return s;
}

function deltaPoint(a: Snapshot, b: Snapshot, t: number, withErrors: boolean): TimelinePoint {
  const dt = Math.max(1e-9, (b.at - a.at) / 1e9);
  const r = b.readIos - a.readIos, w = b.writeIos - a.writeIos;
  const ios = r + w;
  const point: TimelinePoint = {
    t: Math.round(t * 1000) / 1000,
    intervalSec: dt,
    iops: ios / dt,
    readIops: r / dt,
    writeIops: w / dt,
    mibps: (b.bytes - a.bytes) / dt / 1048576,
    avgLatUs: ios > 0 ? (b.latSum - a.latSum) / ios / 1000 : 0,
    busyPct: b.busy.map((x, i) => {
      const busy = x - a.busy[i]!, idle = b.idle[i]! - a.idle[i]!;
      // Counters restart at zero when warm-up ends; clamp that interval.
      return busy < 0 || idle < 0 ? 0 : busy + idle > 0 ? (100 * busy) / (busy + idle) : 0;
    }),
    cpuPct: b.cpu.map((x, i) => Math.max(0, (100 * (x - a.cpu[i]!)) / (dt * 1e9))),
  };
  if (withErrors) { point.errors = Math.max(0, b.errors - a.errors); point.retries = Math.max(0, b.retries - a.retries); }
  if (a.targetCpuNs >= 0 && b.targetCpuNs >= 0) point.targetCpuCores = (b.targetCpuNs - a.targetCpuNs) / (dt * 1e9);
  return point;
}

/** --io-timeout: the workers' totals added up. */
function sumIoTimeouts(timeoutMs: number, results: WorkerResult[]): IoTimeoutSummary {
  const t: IoTimeoutSummary = { timeoutMs, timedOut: 0, abortsSent: 0, aborted: 0, notAborted: 0, abortsFailed: 0, qpairResets: 0, resetFailedIos: 0 };
  for (const r of results) {
    const w = r.ioTimeouts;
    if (!w) continue;
    t.timedOut += w.timedOut; t.abortsSent += w.abortsSent; t.aborted += w.aborted; t.notAborted += w.notAborted;
    t.abortsFailed += w.abortsFailed; t.qpairResets += w.qpairResets; t.resetFailedIos += w.resetFailedIos;
  }
  return t;
}
