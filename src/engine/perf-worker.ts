// Piscina task: one per worker thread. Pins the thread to its core, connects its I/O qpairs as one
// poll group, waits at the start barrier, runs the loop, and returns its totals.
import { native } from '../native/index.js';
import { PollGroup } from '../host/poll-group.js';
import type { IoQpair } from '../transport/transport.js';
import { WorkerLoop } from './worker-loop.js';
import { VERIFY_PREFILL_TIMEOUT_MS } from './verifier.js';
import type { WorkerPlan } from './plan.js';
import type { WorkerResult } from './worker-result.js';
import { Field, Phase, SharedCounters } from './shared-counters.js';
import { LinkStates } from './link-states.js';
import { AbortRequests } from './abort-requests.js';
import { IoTimeoutWatch } from './io-timeout-watch.js';
import { SLEEPER_TIMER_SLACK_NS } from '../util/adaptive-wait.js';

/** Unmeasured closed-loop I/O before the start barrier (JIT warm-up of this thread and the target). */
const PREWARM_MS = 250;

export default function runPerfWorker(plan: WorkerPlan): WorkerResult {
  const counters = SharedCounters.attach(plan.workers, plan.countersSab, plan.controlSab);
  const qpairs: IoQpair[] = [];
  const group = new PollGroup();
  let loop: WorkerLoop | undefined;
  const base: WorkerResult = { index: plan.index, core: plan.core, measuredNs: 0, busyNs: 0, idleNs: 0, cpuNs: 0, contexts: [] };
  try {
    native.pinThread(plan.core);
    if (plan.workload.mode === 'interrupt') native.timerSlackNs(SLEEPER_TIMER_SLACK_NS);
    const links = plan.workload.reconnect && plan.linkSab ? LinkStates.attach(plan.controllers ?? 1, plan.linkSab) : undefined;
    const timeouts = plan.workload.ioTimeoutMs !== undefined && plan.abortSab
      ? new IoTimeoutWatch(plan.workload.ioTimeoutMs, AbortRequests.attach(plan.abortSlots ?? 0, plan.abortSab), plan.abortSlotBase ?? 0)
      : undefined;
    loop = new WorkerLoop(plan.index, plan.workload, counters, group, links, timeouts);
    let k = 0;
    for (const ctx of plan.contexts) {
      for (const params of ctx.qpairs) {
        const qp = group.connect(params);
        qpairs.push(qp);
        loop.addQpair(ctx, qp, (plan.workload.seed + 7919 * (plan.index * 1024 + k++)) >>> 0, params);
      }
    }
    if (plan.workload.verify) loop.sweep(true, VERIFY_PREFILL_TIMEOUT_MS);
    loop.prewarm(PREWARM_MS);
    counters.set(plan.index, Field.Phase, Phase.Ready);
    counters.markReady();
    if (!counters.waitForStart(120_000)) {
      return { ...base, error: counters.stopRequested() ? undefined : 'timed out waiting for the start signal' };
    }
    const t = loop.run();
    return {
      index: plan.index, core: plan.core, error: t.error, measuredNs: t.measuredNs, busyNs: t.busyNs, idleNs: t.idleNs,
      cpuNs: t.cpuNs, contexts: t.contexts, firstErrorStatus: t.firstErrorStatus, backlog: t.backlog, wait: t.wait,
      ...(t.retriedIos !== undefined ? { retriedIos: t.retriedIos, qpairReconnects: t.qpairReconnects } : {}),
      ...(t.ioTimeouts ? { ioTimeouts: t.ioTimeouts } : {}),
    };
  } catch (err) {
    counters.set(plan.index, Field.Phase, Phase.Failed);
    counters.markReady();
    return { ...base, error: (err as Error).message };
  } finally {
    // Reconnected qpairs replace the first ones; disconnect() is idempotent.
    for (const qp of loop ? [...qpairs, ...loop.qpairs] : qpairs) {
      try { qp.disconnect(); } catch { /* already gone */ }
    }
    group.close();
  }
}
