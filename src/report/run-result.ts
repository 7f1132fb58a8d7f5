// The result document of one run, built from the engine's RunRecord: totals, per-worker and
// per-namespace rows, the merged latency histogram, target CPU and open-loop rate figures.
import type { RunRecord } from '../engine/run-record.js';
import { describeStatus } from '../nvme/status.js';
import { TOOL_VERSION } from '../version.js';
import { buildLatency, buildNamespaceRows, buildWorkers, hostInfo, splitSummary } from './result-builder.js';
import { SCHEMA_VERSION, type PerfResult } from './result-types.js';
import { resultExtras } from './workload-result.js';

export function buildPerfResult(rec: RunRecord): PerfResult {
  const { config, workers: results, timeline, rateIops } = rec;
  let error = rec.error;
  const measuredNs = Math.max(...results.map((r) => r.measuredNs), 0);
  const seconds = measuredNs / 1e9;
  const allReads = results.flatMap((r) => r.contexts.map((c) => c.read));
  const allWrites = results.flatMap((r) => r.contexts.map((c) => c.write));
  const total = splitSummary(allReads, allWrites, seconds);
  const ioErrors = total.total.errors;
  const firstErr = results.find((r) => r.firstErrorStatus !== undefined)?.firstErrorStatus;
  if (ioErrors > 0 && !error) error = `${ioErrors} I/O error(s), first: ${describeStatus(firstErr ?? 0, 'nvm')}`;
  const extras = resultExtras(config, results);
  if (extras.verify && extras.verify.mismatches > 0 && !error) error = extras.verifyError;

  const result: PerfResult = {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'nvmf-perf', version: TOOL_VERSION },
    timestamp: rec.startedAt.toISOString(),
    status: rec.status,
    ...(error ? { error } : {}),
    commandLine: config.commandLine,
    host: hostInfo(),
    config: {
      ioDepth: config.ioDepth, ioSize: config.ioSize, pattern: config.pattern, rwmixread: config.rwmixread,
      timeSec: config.timeSec, warmupSec: config.warmupSec, numQpairs: config.numQpairs, cores: config.cores,
      latencyTracking: config.latencyTracking, headerDigest: config.hdgst, dataDigest: config.ddgst,
      hostnqn: rec.hostnqn, seed: config.seed, mode: config.mode,
      ...(config.mode === 'interrupt' ? { spinUs: config.spinUs } : {}),
      rateIops, arrivals: rec.arrivals, transportIds: rec.transportIds, ...extras.config,
    },
    ...(extras.workload ? { workload: extras.workload } : {}),
    targets: rec.targets,
    durationSec: seconds,
    total,
    workers: buildWorkers(results, seconds),
    namespaces: buildNamespaceRows(results, rec.namespaceLabels, seconds, rec.namespaceTargets),
    timeline,
    latency: buildLatency(results),
    ...(extras.verify ? { verify: extras.verify } : {}),
    ...(rec.connection ? { connection: rec.connection } : {}),
    ...(rec.ioTimeouts ? { ioTimeouts: rec.ioTimeouts } : {}),
  };
  if (rec.launchedPid !== undefined && timeline.length > 0) {
    const cpuNs = timeline.reduce((s, p) => s + (p.targetCpuCores ?? 0) * p.intervalSec * 1e9, 0);
    result.targetCpu = { pid: rec.launchedPid, cpuNs, cores: seconds > 0 ? cpuNs / 1e9 / seconds : 0,
      cpuUsPerIo: total.total.ios > 0 ? cpuNs / 1e3 / total.total.ios : 0 };
  }
  if (rateIops > 0) {
    const backlog = results.reduce((s, r) => s + (r.backlog ?? 0), 0);
    const achieved = total.total.iops;
    result.rate = { requestedIops: rateIops, achievedIops: achieved,
      sustained: backlog <= Math.max(2, rateIops * 0.01) && achieved >= rateIops * 0.95 };
  }
  return result;
}
