// --compare-modes: the same workload in poll mode, in interrupt mode that sleeps as soon as a pass
// does nothing (--spin-us 0) and in adaptive interrupt mode (spins --spin-us after the last busy
// pass, then sleeps), initiator and launched target (built-in or SPDK nvmf_tgt) both switched, each
// followed by an idle period in which the target's CPU is measured. With a rate sweep, repeat at each
// load level (percent of the poll-mode maximum). Every run's result and the comparison are written to
// the results directory.
import { launchTarget } from '../launch/launch-target.js';
import type { LaunchedTarget } from '../launch/launched-target.js';
import { native } from '../native/index.js';
import type { PerfConfig, ReactorMode } from '../engine/config.js';
import { launchedQueueDepth } from '../engine/runner.js';
import { isLocalRun } from '../engine/local-targets.js';
import { RpcTargetSampler } from '../engine/rpc-target-sampler.js';
import { runPerfCommand, type RunOutcome } from './perf-run.js';
import { writeComparison, type ModeComparison, type ModeRun, type ModeVariant } from '../report/comparison.js';
import { formatComparison } from '../report/comparison-table.js';
import { ExitCode } from '../exit-codes.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CompareOptions {
  idleSec: number;
  /** Percent of the poll-mode maximum IOPS; empty = full load only. */
  rateSweep: number[];
  arrivals: 'constant' | 'poisson';
  /** Called with the comparison file once written (the CLI writes its HTML report there). */
  onComparison?: (path: string) => Promise<void>;
}

const log = (msg: string): void => { process.stderr.write(`nvmf-perf: ${msg}\n`); };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Target process CPU over `sec` seconds of no load, in cores. */
async function measureIdle(t: LaunchedTarget, sec: number): Promise<number> {
  const c0 = t.cpuNs(), w0 = native.monoNs();
  await sleep(sec * 1000);
  const c1 = t.cpuNs(), w1 = native.monoNs();
  return c0 < 0 || c1 < 0 ? -1 : (c1 - c0) / (w1 - w0);
}

async function runMode(config: PerfConfig, variant: ModeVariant, opts: CompareOptions, rateIops: number,
  label: string): Promise<ModeRun> {
  const mode: ReactorMode = variant === 'poll' ? 'poll' : 'interrupt';
  const spinUs = variant === 'adaptive' ? config.spinUs : 0;
  if (isLocalRun(config)) {
    // Local devices: no target to launch or measure; the initiator's mode decides IOPOLL/eventfd.
    log(`${label}: ${variant} mode${mode === 'interrupt' ? ` (spin ${spinUs} us)` : ''} (local devices)`);
    const outcome = await runPerfCommand({ ...config, mode, spinUs }, { rateIops, arrivals: opts.arrivals, quiet: true });
    return { label, mode, variant, spinUs, rateIops, resultPath: outcome.path, result: outcome.result, targetIdleCores: -1, exitCode: outcome.exitCode };
  }
  const allowed = native.allowedCpus();
  const spare = allowed.filter((c) => !config.cores.includes(c));
  const reactor = [spare.length > 0 ? spare[spare.length - 1]! : allowed[allowed.length - 1]!];
  const rpcPath = join(tmpdir(), `nvmf-perf-${process.pid}-${mode}-${Date.now()}.sock`);
  const target = await launchTarget(config.target, { namespaces: [config.targetNs], reactorCores: reactor,
    interruptMode: mode === 'interrupt', rpcSocket: rpcPath, spinUs,
    extraArgs: ['--max-queue-depth', String(launchedQueueDepth(config))] });
  const sampler = new RpcTargetSampler(rpcPath);
  let outcome: RunOutcome;
  try {
    await sampler.start();
    log(`${label}: ${variant} mode${mode === 'interrupt' ? ` (spin ${spinUs} us)` : ''} (target pid ${target.pid}, reactor core ${reactor.join(',')})`);
    outcome = await runPerfCommand({ ...config, mode, spinUs, transportIds: [] }, {
      launched: target, targetSampler: sampler, rateIops, arrivals: opts.arrivals, quiet: true,
    });
    const idleCores = outcome.result.status === 'complete' && !target.hasExited ? await measureIdle(target, opts.idleSec) : -1;
    return { label, mode, variant, spinUs, rateIops, resultPath: outcome.path, result: outcome.result, targetIdleCores: idleCores, exitCode: outcome.exitCode };
  } finally {
    sampler.stop();
    await target.stop();
  }
}

export async function runCompareModes(config: PerfConfig, opts: CompareOptions): Promise<number> {
  if (config.transportIds.length > 0 && !isLocalRun(config)) {
    // Only a target we launch (or a local device) can be switched between modes.
    throw new Error('--compare-modes needs the launched target (no -r)');
  }
  const runs: ModeRun[] = [];
  // --spin-us 0 makes adaptive the same as interrupt: then two variants only.
  const variants: ModeVariant[] = config.spinUs > 0 ? ['poll', 'interrupt', 'adaptive'] : ['poll', 'interrupt'];
  for (const v of variants) runs.push(await runMode(config, v, opts, 0, 'full load'));
  const pollMax = runs[0]!.result.total.total.iops;
  for (const pct of opts.rateSweep) {
    const rate = Math.max(1, Math.round((pollMax * pct) / 100));
    const label = `${pct}% (${rate} IOPS)`;
    for (const v of variants) runs.push(await runMode(config, v, opts, rate, label));
  }
  const comparison: ModeComparison = { pollMaxIops: pollMax, idleSec: opts.idleSec, runs: runs.map(({ result: _r, ...rest }) => rest),
    rows: runs.map((r) => ({ label: r.label, mode: r.mode, variant: r.variant, spinUs: r.spinUs, rateIops: r.rateIops, ...summarizeRun(r) })) };
  const path = writeComparison(comparison, config);
  process.stdout.write(formatComparison(comparison) + '\n');
  log(`comparison written to ${path}`);
  await opts.onComparison?.(path);
  return runs.some((r) => r.exitCode !== 0) ? ExitCode.RunFailed : ExitCode.Ok;
}

function summarizeRun(r: ModeRun): ModeComparison['rows'][number] extends infer T ? Omit<T & object, 'label' | 'mode' | 'variant' | 'spinUs' | 'rateIops'> : never {
  const res = r.result;
  const p = (q: number): number => res.latency.percentiles.find((x) => x.percentile === q)?.us ?? 0;
  const ios = res.total.total.ios;
  const initCpuNs = res.workers.reduce((s, w) => s + w.cpuNs, 0);
  const secs = res.durationSec || 1;
  return {
    iops: res.total.total.iops,
    mibps: res.total.total.mibps,
    avgUs: res.total.total.avgUs,
    p50Us: p(50), p99Us: p(99), p999Us: p(99.9),
    initiatorCores: initCpuNs / 1e9 / secs,
    initiatorBusyPct: res.workers.length ? res.workers.reduce((s, w) => s + w.busyPct, 0) / res.workers.length : 0,
    targetCores: res.targetCpu?.cores ?? -1,
    initiatorUsPerIo: ios > 0 ? initCpuNs / 1e3 / ios : 0,
    targetUsPerIo: res.targetCpu?.cpuUsPerIo ?? -1,
    targetIdleCores: r.targetIdleCores,
    initiatorSleepsPerIo: ios > 0 ? res.workers.reduce((s, w) => s + (w.wait?.sleeps ?? 0), 0) / ios : -1,
    targetSleepsPerIo: targetSleepsPerIo(res),
    sustained: res.rate ? res.rate.sustained : true,
  };
}

/** Target reactor sleeps per I/O between the first and the last timeline sample (-1 when not reported). */
function targetSleepsPerIo(res: ModeRun['result']): number {
  const pts = res.timeline.filter((p) => p.targetReactors?.some((x) => x.sleeps !== undefined));
  if (pts.length < 2) return -1;
  const sum = (p: (typeof pts)[number]): number => p.targetReactors!.reduce((s, x) => s + (x.sleeps ?? 0), 0);
  const ios = pts.slice(1).reduce((s, p) => s + p.iops * p.intervalSec, 0);
  return ios > 0 ? (sum(pts.at(-1)!) - sum(pts[0]!)) / ios : -1;
}
