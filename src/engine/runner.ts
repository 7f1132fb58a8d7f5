// Runs one perf job: resolve targets (or launch the built-in one), connect controllers, plan qpairs
// over workers, run the workers (piscina, one pinned thread per core), print progress each second,
// then build, print and write the result. Whatever was measured is written even when the run is
// interrupted or the target dies.
import { Piscina } from 'piscina';
import { native } from '../native/index.js';
import { Controller } from '../host/controller.js';
import { discover } from '../host/discovery.js';
import { parseTrid, formatTrid } from '../host/trid.js';
import type { TransportId } from '../transport/transport.js';
import { DISCOVERY_NQN } from '../nvme/opcodes.js';
import { describeStatus } from '../nvme/status.js';
import { formatVersion } from '../nvme/registers.js';
import { UsageError, UserError } from '../cli/errors.js';
import { ExitCode } from '../cli/exit-codes.js';
import { launchBuiltinTarget, type LaunchedTarget } from '../launch/builtin-target.js';
import { Field, Phase, SharedCounters } from '../workers/shared-counters.js';
import type { PerfConfig } from './config.js';
import type { NamespaceContextPlan, WorkerPlan, WorkloadPlan } from './plan.js';
import type { WorkerResult } from './worker-result.js';
import { assignNamespaces } from './planner.js';
import { TOOL_VERSION } from '../version.js';
import {
  SCHEMA_VERSION, type PerfResult, type RunStatus, type TargetInfo, type TimelinePoint,
} from '../report/result-types.js';
import {
  buildLatency, buildNamespaceRows, buildWorkers, hostInfo, splitSummary,
} from '../report/result-builder.js';
import { formatSummary } from '../report/summary-table.js';
import { writeResult } from '../report/result-writer.js';
import { formatProgressLine, ProgressPrinter } from '../report/progress-line.js';
import type { TargetSampler } from './target-sampler.js';
import { RpcTargetSampler } from './rpc-target-sampler.js';
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
  /** Do not print the summary (compare-modes prints its own table). */
  quiet?: boolean;
}

export interface RunOutcome {
  result: PerfResult;
  path: string;
  exitCode: number;
}

interface ConnectedNamespace {
  targetIndex: number;
  nsid: number;
  blockSize: number;
  sizeBlocks: number;
  label: string;
}

const log = (msg: string): void => { process.stderr.write(`nvmf-perf: ${msg}\n`); };

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

export async function runPerf(config: PerfConfig, opts: RunOptions = {}): Promise<RunOutcome> {
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
    let tridTexts = config.transportIds;
    if (tridTexts.length === 0) {
      if (!launched) {
        const spare = allowed.filter((c) => !config.cores.includes(c));
        const reactor = [spare.length > 0 ? spare[spare.length - 1]! : allowed[allowed.length - 1]!];
        const rpcPath = join(tmpdir(), `nvmf-perf-${process.pid}-${Date.now()}.sock`);
        // Two spinning threads on one core starve each other (each waits a scheduler slice for the
        // other's reply), so a target that must share a core with a worker sleeps when idle.
        const targetInterrupt = config.mode === 'interrupt' || spare.length === 0;
        launched = await launchBuiltinTarget({ namespaces: [config.targetNs], reactorCores: reactor,
          interruptMode: targetInterrupt, extraArgs: ['--rpc-socket', rpcPath] });
        if (!sampler) {
          ownSampler = new RpcTargetSampler(rpcPath);
          try { await ownSampler.start(); sampler = ownSampler; } catch (e) { log(`target reactors will not be sampled: ${(e as Error).message}`); }
        }
        log(`no -r given: launched the built-in target (${config.targetNs}) at ${launched.trid.replace(/^trtype:TCP adrfam:IPv4 /, '')}`
          + ` on core ${reactor.join(',')} (pid ${launched.pid})`
          + `${spare.length === 0 ? ', in interrupt mode because it shares that core with a worker' : ''}`);
        launchedMode = targetInterrupt ? 'interrupt' : 'poll';
      }
      tridTexts = [launched.trid];
    }

    // 2. Controllers and namespaces.
    const tids = resolveTrids(tridTexts, config.hostnqn);
    const namespaces: ConnectedNamespace[] = [];
    const targets: TargetInfo[] = [];
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
        if (config.ioSize > n.sizeBytes) {
          throw new UsageError(`-s/--io-size ${config.ioSize} is larger than NSID ${n.nsid} (${n.sizeBytes} bytes) at ${formatTrid(tid)}`);
        }
        namespaces.push({ targetIndex: ti, nsid: n.nsid, blockSize: n.blockSize, sizeBlocks: n.sizeBlocks,
          label: `TCP (addr:${tid.traddr}:${tid.trsvcid} subnqn:${tid.subnqn}) NSID ${n.nsid}` });
      }
      if (config.ioDepth > ctrl.maxIoQueueDepth) {
        throw new UsageError(`-q/--io-depth ${config.ioDepth} exceeds the queue size ${ctrl.maxIoQueueDepth} granted by ${formatTrid(tid)}`);
      }
      // An I/O above the controller's max transfer is split into several commands, each a queue entry.
      const perIo = Math.ceil(config.ioSize / ctrl.maxTransferBytes);
      if (config.ioDepth * perIo > ctrl.maxIoQueueDepth) {
        throw new UsageError(`-q/--io-depth ${config.ioDepth} with -s/--io-size ${config.ioSize} needs ${config.ioDepth * perIo} queue entries `
          + `(${perIo} commands per I/O at the ${ctrl.maxTransferBytes}-byte max transfer) but ${formatTrid(tid)} grants ${ctrl.maxIoQueueDepth}`);
      }
      targets.push({
        trid: formatTrid(tid), subnqn: tid.subnqn ?? '', cntlid: ctrl.cntlid, mn: ctrl.identify.mn, sn: ctrl.identify.sn,
        fr: ctrl.identify.fr, version: formatVersion(ctrl.vs), maxTransferBytes: ctrl.maxTransferBytes,
        ioQueuesGranted: ctrl.ioQueuesGranted,
        namespaces: nsList.map((n) => ({ nsid: n.nsid, blockSize: n.blockSize, sizeBlocks: n.sizeBlocks, sizeBytes: n.sizeBytes })),
        ...(launched && config.transportIds.length === 0
          ? { launched: { pid: launched.pid, namespace: config.targetNs, reactorCores: launched.reactorCores, mode: launchedMode } } : {}),
      });
    }

    // 3. Plan: namespaces round-robin over workers, -P qpairs each, QIDs per controller.
    const workers = config.cores.length;
    const assign = assignNamespaces(namespaces.length, workers);
    const nextQid = controllers.map(() => 1);
    const counters = SharedCounters.create(workers);
    const workload: WorkloadPlan = {
      ioDepth: config.ioDepth, ioSize: config.ioSize, pattern: config.pattern, rwmixread: config.rwmixread,
      seed: config.seed, mode: config.mode, rateIops: rateIops > 0 ? rateIops / workers : 0, arrivals,
    };
    const plans: WorkerPlan[] = assign.map((nsIdxs, w) => ({
      index: w, core: config.cores[w]!, workers, workload,
      countersSab: counters.countersSab, controlSab: counters.controlSab,
      contexts: nsIdxs.map((nsIndex): NamespaceContextPlan => {
        const ns = namespaces[nsIndex]!;
        const ctrl = controllers[ns.targetIndex]!;
        const qpairs = [];
        for (let p = 0; p < config.numQpairs; p++) {
          const qid = nextQid[ns.targetIndex]!++;
          if (qid > ctrl.ioQueuesGranted) {
            throw new UsageError(`-P/--num-qpairs ${config.numQpairs} with ${workers} worker(s) needs more I/O queues than the ${ctrl.ioQueuesGranted} granted by ${targets[ns.targetIndex]!.trid}`);
          }
          // Connect SQSIZE is 0's based and may not be 0, so a queue has at least 2 entries even for -q 1;
          // the worker keeps exactly -q I/Os in flight.
          qpairs.push(ctrl.ioQpairParams(qid, Math.max(2, config.ioDepth * Math.ceil(config.ioSize / ctrl.maxTransferBytes))));
        }
        return { nsIndex, nsid: ns.nsid, blockSize: ns.blockSize, sizeBlocks: ns.sizeBlocks, qpairs };
      }),
    }));

    // 4. Workers.
    pool = new Piscina({
      filename: new URL('../workers/perf-worker.js', import.meta.url).href,
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
    const onSignal = (sig: NodeJS.Signals): void => {
      if (status === 'interrupted') { log(`second ${sig}: exiting now`); process.exit(ExitCode.Interrupted); }
      signalled = true;
      progressPrinter.done();
      log(`${sig}: stopping the run; results so far will be written`);
      stopWith('interrupted', `interrupted by ${sig}`);
    };
    const progressPrinter = new ProgressPrinter(process.stderr, config.progress);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    void launched?.exited.then(({ code, signal }) => {
      stopWith('partial', `the target exited during the run (${signal ?? `exit code ${code}`})`);
    });

    // Wait until every worker connected its qpairs (or failed).
    const readyDeadline = Date.now() + 60_000;
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

    // 5. Progress once a second (deltas, not cumulative), timeline for the measured phase.
    const timeline: TimelinePoint[] = [];
    let prev = snapshot(counters, workers, native.monoNs(), launched);
    const totalSec = config.warmupSec + config.timeSec;
    const tick = setInterval(() => {
      const cur = snapshot(counters, workers, native.monoNs(), launched);
      const point = deltaPoint(prev, cur, (cur.at - warmEnd) / 1e9);
      const warm = cur.at < warmEnd + 0.05e9;
      progressPrinter.line(formatProgressLine(point, warm ? 'warmup' : 'run', Math.round((cur.at - t0) / 1e9), totalSec));
      if (!warm) {
        if (sampler) {
          const reactors = sampler.sample();
          if (reactors) point.targetReactors = reactors;
        }
        timeline.push(point);
      }
      if (cur.failed) stopWith('partial', 'a worker failed');
      prev = cur;
    }, 1000);

    const results = await Promise.all(tasks.map((t, i) => t.catch((e: unknown): WorkerResult => ({
      index: i, core: config.cores[i]!, error: (e as Error).message, measuredNs: 0, busyNs: 0, idleNs: 0, cpuNs: 0, contexts: [],
    }))));
    clearInterval(tick);
    // The last (partial) interval: up to the end of the run, so the timeline covers all of it.
    const last = snapshot(counters, workers, Math.min(native.monoNs(), endNs), launched);
    if (last.at - prev.at > 0.05e9 && last.at > warmEnd) {
      const point = deltaPoint(prev, last, (last.at - warmEnd) / 1e9);
      progressPrinter.line(formatProgressLine(point, 'run', Math.round((last.at - t0) / 1e9), totalSec));
      if (sampler) {
        const reactors = sampler.sample();
        if (reactors) point.targetReactors = reactors;
      }
      timeline.push(point);
    }
    progressPrinter.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);

    // 6. Result.
    const workerError = results.find((r) => r.error);
    if (workerError && status === 'complete') { status = 'partial'; error = `core ${workerError.core}: ${workerError.error}`; }
    else if (workerError && status === 'partial' && error === 'a worker failed') error = `core ${workerError.core}: ${workerError.error}`;
    const measuredNs = Math.max(...results.map((r) => r.measuredNs), 0);
    const seconds = measuredNs / 1e9;
    const allReads = results.flatMap((r) => r.contexts.map((c) => c.read));
    const allWrites = results.flatMap((r) => r.contexts.map((c) => c.write));
    const total = splitSummary(allReads, allWrites, seconds);
    const ioErrors = total.total.errors;
    const firstErr = results.find((r) => r.firstErrorStatus !== undefined)?.firstErrorStatus;
    if (ioErrors > 0 && !error) error = `${ioErrors} I/O error(s), first: ${describeStatus(firstErr ?? 0, 'nvm')}`;

    const result: PerfResult = {
      schemaVersion: SCHEMA_VERSION,
      tool: { name: 'nvmf-perf', version: TOOL_VERSION },
      timestamp: startedAt.toISOString(),
      status,
      ...(error ? { error } : {}),
      commandLine: config.commandLine,
      host: hostInfo(),
      config: {
        ioDepth: config.ioDepth, ioSize: config.ioSize, pattern: config.pattern, rwmixread: config.rwmixread,
        timeSec: config.timeSec, warmupSec: config.warmupSec, numQpairs: config.numQpairs, cores: config.cores,
        latencyTracking: config.latencyTracking, headerDigest: config.hdgst, dataDigest: config.ddgst,
        hostnqn: controllers[0]?.hostnqn ?? config.hostnqn ?? '', seed: config.seed, mode: config.mode,
        rateIops, arrivals, transportIds: tids.map(formatTrid),
      },
      targets,
      durationSec: seconds,
      total,
      workers: buildWorkers(results, seconds),
      namespaces: buildNamespaceRows(results, namespaces.map((n) => n.label), seconds, namespaces.map((n) => n.targetIndex)),
      timeline,
      latency: buildLatency(results),
    };
    if (launched && timeline.length > 0) {
      const cpuNs = timeline.reduce((s, p) => s + (p.targetCpuCores ?? 0) * p.intervalSec * 1e9, 0);
      result.targetCpu = { pid: launched.pid, cpuNs, cores: seconds > 0 ? cpuNs / 1e9 / seconds : 0,
        cpuUsPerIo: total.total.ios > 0 ? cpuNs / 1e3 / total.total.ios : 0 };
    }
    if (rateIops > 0) {
      const backlog = results.reduce((s, r) => s + (r.backlog ?? 0), 0);
      const achieved = total.total.iops;
      result.rate = { requestedIops: rateIops, achievedIops: achieved,
        sustained: backlog <= Math.max(2, rateIops * 0.01) && achieved >= rateIops * 0.95 };
    }

    // Print first: if the file cannot be written (disk full...), what was measured is still shown.
    if (!opts.quiet) {
      process.stdout.write(formatSummary(result, { latency: config.latencyTracking }) + '\n');
    }
    let path = '';
    let writeFailed = false;
    try {
      path = writeResult(result, { jsonPath: config.jsonPath, resultsDir: config.resultsDir });
      log(`result written to ${path}`);
    } catch (e) {
      writeFailed = true;
      log((e as Error).message);
    }
    if (status !== 'complete' && error) log(status === 'interrupted' ? error : `run ended early: ${error}`);
    const exitCode = status === 'interrupted' ? ExitCode.Interrupted
      : status === 'partial' || ioErrors > 0 || writeFailed ? ExitCode.RunFailed : ExitCode.Ok;
    return { result, path, exitCode };
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
}

function snapshot(c: SharedCounters, workers: number, at: number, launched: LaunchedTarget | undefined): Snapshot {
  const s: Snapshot = { at, readIos: 0, writeIos: 0, bytes: 0, latSum: 0, busy: [], idle: [], cpu: [],
    targetCpuNs: launched && !launched.hasExited ? launched.cpuNs() : -1, failed: false };
  for (let w = 0; w < workers; w++) {
    s.readIos += c.get(w, Field.ReadIos);
    s.writeIos += c.get(w, Field.WriteIos);
    s.bytes += c.get(w, Field.ReadBytes) + c.get(w, Field.WriteBytes);
    s.latSum += c.get(w, Field.LatSumNs);
    s.busy.push(c.get(w, Field.BusyNs));
    s.idle.push(c.get(w, Field.IdleNs));
    s.cpu.push(c.get(w, Field.CpuNs));
    if (c.get(w, Field.Phase) === Phase.Failed) s.failed = true;
  }
  return s;
}

function deltaPoint(a: Snapshot, b: Snapshot, t: number): TimelinePoint {
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
  if (a.targetCpuNs >= 0 && b.targetCpuNs >= 0) point.targetCpuCores = (b.targetCpuNs - a.targetCpuNs) / (dt * 1e9);
  return point;
}
