// The per-worker reactor loop: keep every qpair of the poll group at its queue depth (or on an
// open-loop schedule), process completions, record latency, account busy/idle time.
// Nothing on this path allocates per I/O: tags are slot indexes into per-qpair typed arrays.
import { native } from '../native/index.js';
import type { IoQpair, QpairConnectParams } from '../transport/transport.js';
import type { PollGroup } from '../host/poll-group.js';
import { encodeStatus, GenericStatus, StatusCodeType } from '../nvme/status.js';
import { LinkCode, type LinkStates } from './link-states.js';
import { RequestQueue } from '../host/request-queue.js';
import { Field, Phase, type SharedCounters } from './shared-counters.js';
import { DirectionStats } from './io-stats.js';
import { LbaGenerator, RwMix } from './lba-generator.js';
import { Prng } from './prng.js';
import type { NamespaceContextPlan, WorkloadPlan } from './plan.js';
import type { ContextResult } from './worker-result.js';
import { isRandom } from './config.js';
import { BlockSizeSplit } from './bs-split.js';
import { Verifier, VERIFY_SWEEP_TIMEOUT_MS } from './verifier.js';
import { AdaptiveWait, DEFAULT_SPIN_US, type WaitStats } from '../util/adaptive-wait.js';
import type { IoTimeoutWatch, QpairWatch } from './io-timeout-watch.js';
import type { IoTimeoutTotals } from './worker-result.js';
import { DOUBLE_ZERO } from '../util/double-zero.js';

/** Open loop with nothing in flight: sleep until the next arrival only when it is further away than this. */
const MIN_SLEEP_NS = 20_000;
/** Status of an I/O failed by the host while its controller was unreachable: Path Related, Host Pathing Error. */
const HOST_PATH_ERROR = encodeStatus(StatusCodeType.Path, 0x70);
/** Status of an I/O failed by a qpair reset (--io-timeout): Generic, Command Aborted due to SQ Deletion. */
const SQ_DELETED = encodeStatus(StatusCodeType.Generic, GenericStatus.AbortedSqDeletion);
/** --io-timeout qpair reset: connect attempts, and the pause between them (ms). */
const RESET_CONNECT_TRIES = 5, RESET_RETRY_MS = 50;
const pauseCell = new Int32Array(new SharedArrayBuffer(4));
/** recover(): the qpairs are connected again / the run ended meanwhile (anything else is an error message). */
const RESUME = 1, STOPPED = 2;

/** Per namespace: generator, mix and statistics shared by its -P qpairs. */
class NamespaceContext {
  readonly read = new DirectionStats();
  readonly write = new DirectionStats();
  constructor(readonly plan: NamespaceContextPlan, readonly gen: LbaGenerator, readonly mix: RwMix,
    readonly split: BlockSizeSplit | undefined, readonly verifier: Verifier | undefined) {}
  result(): ContextResult {
    return { nsIndex: this.plan.nsIndex, nsid: this.plan.nsid, read: this.read.totals(), write: this.write.totals(),
      ...(this.verifier ? { verify: this.verifier.totals() } : {}) };
  }
}

/**
 * Per qpair: its -q slots (tag = slot) with issue time, direction and data buffer region. I/O goes
 * through a RequestQueue, so all -q are outstanding even when the qpair has fewer command slots than
 * -q × commands per I/O; time spent waiting there counts in the latency (it runs from the issue time).
 */
class QpairContext {
  sq: RequestQueue;
  readonly submitNs: Float64Array;
  readonly isRead: Uint8Array;
  readonly free: Int32Array;
  nfree: number;
  inflight = 0;
  readonly data: Uint8Array;
  readonly blocksPerIo: number;
  /** Per slot: LBA and blocks of the I/O in it (bssplit sizes vary; verify checks by LBA). */
  readonly lba: Float64Array;
  readonly blocks: Int32Array;
  readonly data32: Uint32Array;
  verifyBase = 0;
  /** thinktime: the qpair issues its next I/O no earlier than this. */
  nextSubmitNs = 0;
  /** Reconnect: how to connect this qpair again, its controller, the association generation, and whether it is down. */
  params: QpairConnectParams | undefined;
  ctrlIndex = 0;
  gen = 0;
  down = false;
  /** --io-timeout state of this qpair. */
  watch: QpairWatch | undefined;
  onIo: (tag: number, status: number) => void = () => undefined;

  constructor(public qp: IoQpair, readonly ns: NamespaceContext, readonly depth: number, readonly ioSize: number) {
    this.sq = new RequestQueue(qp, depth);
    this.submitNs = new Float64Array(depth);
    this.isRead = new Uint8Array(depth);
    this.lba = new Float64Array(depth);
    this.blocks = new Int32Array(depth);
    this.free = new Int32Array(depth);
    for (let i = 0; i < depth; i++) this.free[i] = depth - 1 - i;
    this.nfree = depth;
    // Local devices hand out aligned, registered buffers (O_DIRECT, READ_FIXED); fabrics qpairs do not.
    this.data = qp.allocBuffer ? qp.allocBuffer(depth * ioSize) : new Uint8Array(depth * ioSize);
    // Writes carry a non-trivial pattern so compression or zero detection in a target cannot flatter it.
    for (let i = 0; i < this.data.length; i += 4) this.data[i] = (i * 2654435761) >>> 24;
    this.data32 = new Uint32Array(this.data.buffer, this.data.byteOffset, this.data.length >>> 2);
    this.blocksPerIo = ioSize / ns.plan.blockSize;
    if (ns.verifier) this.verifyBase = ns.verifier.reserveSlots(depth, this.blocksPerIo);
  }
}

export interface LoopTotals {
  measuredNs: number;
  busyNs: number;
  idleNs: number;
  cpuNs: number;
  error?: string;
  firstErrorStatus?: number;
  contexts: ContextResult[];
  /** Open loop: I/O the schedule wanted but could not issue by the end (0 in closed loop). */
  backlog: number;
  /** How the loop waited: spin/sleep time, sleeps, wake-ups (measured phase). */
  wait: WaitStats;
  /** --ctrl-loss-tmo: I/Os resubmitted after reconnects, and qpairs reconnected. */
  retriedIos?: number;
  qpairReconnects?: number;
  ioTimeouts?: IoTimeoutTotals;
}

export class WorkerLoop {
  private readonly nsContexts: NamespaceContext[] = [];
  private readonly qctxs: QpairContext[] = [];
  private recording = false;
  private prewarming = false;
  private batchTs = 0;
  /** Pass accounting and the poll/spin/sleep decision (see AdaptiveWait). */
  private readonly wait: AdaptiveWait;
  private cumReadIos = 0;
  private cumWriteIos = 0;
  private cumReadBytes = DOUBLE_ZERO;
  private cumWriteBytes = DOUBLE_ZERO;
  private cumLatNs = DOUBLE_ZERO;
  private cumErrors = 0;
  private firstErrorStatus: number | undefined;
  private readonly thinkNs: number;
  private sweepErrors = 0;
  private retries = 0;
  private qpairReconnects = 0;

  constructor(private readonly index: number, private readonly workload: WorkloadPlan,
    private readonly counters: SharedCounters, private readonly group: PollGroup,
    private readonly links?: LinkStates, private readonly timeouts?: IoTimeoutWatch) {
    this.thinkNs = workload.thinktimeUs * 1000;
    this.wait = new AdaptiveWait(workload.mode === 'interrupt', workload.spinUs ?? DEFAULT_SPIN_US);
  }

  /** Adds a connected qpair of namespace context `nsPlan` (contexts are created on first use). */
  addQpair(nsPlan: NamespaceContextPlan, qp: IoQpair, ctxSeed: number, params?: QpairConnectParams): void {
    let ns = this.nsContexts.find((c) => c.plan === nsPlan);
    if (!ns) {
      const prng = new Prng(ctxSeed);
      const w = this.workload;
      const split = w.bssplit ? new BlockSizeSplit(w.bssplit, nsPlan.blockSize, prng) : undefined;
      ns = new NamespaceContext(nsPlan,
        new LbaGenerator(isRandom(w.pattern), nsPlan.sizeBlocks, nsPlan.blockSize, w.ioSize, prng, {
          startBlock: nsPlan.startBlock, rangeBlocks: nsPlan.rangeBlocks, distribution: w.distribution,
          alignBytes: split ? split.minBlocks * nsPlan.blockSize : w.ioSize,
        }),
        new RwMix(w.rwmixread, prng), split,
        w.verify ? new Verifier(nsPlan.startBlock, nsPlan.rangeBlocks, nsPlan.blockSize, w.seed >>> 0) : undefined);
      this.nsContexts.push(ns);
    }
    const q = new QpairContext(qp, ns, this.workload.ioDepth, this.workload.ioSize);
    q.params = params;
    q.ctrlIndex = nsPlan.ctrlIndex ?? 0;
    q.gen = this.links ? this.links.generation(q.ctrlIndex) : 0;
    q.watch = this.timeouts?.addQpair();
    const nsRef = ns;
    const bs = nsPlan.blockSize;
    const thinkNs = this.thinkNs;
    q.sq.onComplete = (tag: number, status: number): void => {
      const v = nsRef.verifier;
      if (v) {
        if (status !== 0 && this.prewarming) this.sweepErrors++;
        if (q.isRead[tag] === 0) v.endWrite(q.lba[tag]!, q.blocks[tag]!);
        else if (status === 0) v.endRead(q.verifyBase + tag * q.blocksPerIo, q.lba[tag]!, q.blocks[tag]!, q.data, q.data32, tag * q.ioSize);
      }
      if (thinkNs > 0) q.nextSubmitNs = native.monoNs() + thinkNs;
      if (this.prewarming) {
        q.free[q.nfree++] = tag;
        q.inflight--;
        return;
      }
      if (this.batchTs === 0) this.batchTs = this.wait.now();
      const lat = this.batchTs - q.submitNs[tag]!;
      const read = q.isRead[tag] === 1;
      const ioSize = q.blocks[tag]! * bs;
      if (status !== 0) {
        this.cumErrors++;
        if (this.firstErrorStatus === undefined) this.firstErrorStatus = status;
        if (this.recording) (read ? nsRef.read : nsRef.write).errors++;
      } else {
        if (read) { this.cumReadIos++; this.cumReadBytes += ioSize; } else { this.cumWriteIos++; this.cumWriteBytes += ioSize; }
        this.cumLatNs += lat;
        if (this.recording) (read ? nsRef.read : nsRef.write).record(lat, ioSize);
      }
      q.free[q.nfree++] = tag;
      q.inflight--;
    };
    q.onIo = q.sq.onComplete;
    this.qctxs.push(q);
    this.group.add(qp);
  }

  /** Issue one I/O on q, stamped with `stampNs`. Returns false when all -q I/Os are outstanding. */
  private submitOne(q: QpairContext, stampNs: number): boolean {
    if (q.nfree === 0) return false;
    if (this.thinkNs > 0 && (q.inflight > 0 || native.monoNs() < q.nextSubmitNs)) return false; // thinktime: one at a time
    const ns = q.ns;
    const blocks = ns.split ? ns.split.next() : q.blocksPerIo;
    let lba = ns.gen.next(blocks);
    const read = ns.mix.isRead();
    const v = ns.verifier;
    if (v && !read) {
      // Two writes to one block must not be in flight together (the block's content would be either).
      let tries = 0;
      while (!v.canWrite(lba, blocks) && ++tries < 8) lba = ns.gen.next(blocks);
      if (tries === 8) return false;
    }
    const tag = q.free[--q.nfree]!;
    const bs = ns.plan.blockSize;
    if (v) {
      if (read) v.beginRead(q.verifyBase + tag * q.blocksPerIo, lba, blocks);
      else v.beginWrite(lba, blocks, q.data, q.data32, tag * q.ioSize);
    }
    // The request queue takes every I/O (what the qpair cannot take yet waits there, in order).
    if (read) q.sq.submitRead(ns.plan.nsid, lba, blocks, bs, q.data, tag * q.ioSize, tag);
    else q.sq.submitWrite(ns.plan.nsid, lba, blocks, bs, q.data, tag * q.ioSize, tag);
    q.submitNs[tag] = stampNs;
    q.lba[tag] = lba;
    q.blocks[tag] = blocks;
    q.isRead[tag] = read ? 1 : 0;
    q.inflight++;
    return true;
  }

  private publish(cpu: number, phase: number): void {
    const c = this.counters, i = this.index, w = this.wait;
    const busy = w.busyNs, idle = w.spinNs + w.sleepNs;
    c.set(i, Field.ReadIos, this.cumReadIos);
    c.set(i, Field.WriteIos, this.cumWriteIos);
    // + 0: a counter never added to is still DOUBLE_ZERO (-0).
    c.set(i, Field.ReadBytes, this.cumReadBytes + 0);
    c.set(i, Field.WriteBytes, this.cumWriteBytes + 0);
    c.set(i, Field.LatSumNs, this.cumLatNs + 0);
    c.set(i, Field.BusyNs, busy);
    c.set(i, Field.IdleNs, idle);
    c.set(i, Field.CpuNs, cpu);
    c.set(i, Field.Errors, this.cumErrors);
    c.set(i, Field.Phase, phase);
    c.set(i, Field.SpinNs, w.spinNs);
    c.set(i, Field.SleepNs, w.sleepNs);
    c.set(i, Field.Sleeps, w.sleeps);
    c.set(i, Field.Retries, this.retries);
  }

  /** Every qpair, for teardown (reconnects replace them). */
  get qpairs(): IoQpair[] { return this.qctxs.map((q) => q.qp); }

  /** Runs until the deadline in the control block or a stop request. */
  run(): LoopTotals {
    const counters = this.counters;
    const warmEnd = counters.warmupEndNs;
    const end = counters.endNs;
    const qs = this.qctxs;
    const nq = qs.length;
    const rate = this.workload.rateIops;
    const poisson = this.workload.arrivals === 'poisson';
    const arrivalsPrng = new Prng(this.workload.seed ^ 0x5bd1e995 ^ this.index);
    const intervalNs = rate > 0 ? 1e9 / rate : 0;

    // Each pass is charged from the end of the previous one, so busy + spin + sleep covers the measured
    // time exactly (the publish between passes, or a preemption there, belongs to the pass that follows).
    const wait = this.wait;
    let cpuStart = native.threadCpuNs();
    let measureStart = wait.now();
    wait.reset(measureStart);
    this.recording = warmEnd <= measureStart;
    let phase: number = this.recording ? Phase.Measuring : Phase.Warmup;
    let nextArrival = measureStart;
    let rr = 0;
    let error: string | undefined;
    let lastPublish = 0;
    let now = measureStart;
    /** The last epoll sleep found ready qpairs: the next pass handles only those (processReady). */
    let haveReady = false;

    for (;;) try {
      for (;;) {
        // `now` is when the previous pass (or its sleep) ended: one clock read serves both.
        if (!this.recording && now >= warmEnd) {
          // Warm-up over: nothing measured so far counts.
          for (const ns of this.nsContexts) { ns.read.reset(); ns.write.reset(); }
          wait.reset(now);
          cpuStart = native.threadCpuNs();
          measureStart = now;
          this.recording = true;
          phase = Phase.Measuring;
        }
        if (now >= end || counters.stopRequested()) break;
        if (this.timeouts) this.watchTimeouts(now);

        let submitted = 0;
        if (rate === 0) {
          for (let i = 0; i < nq; i++) {
            const q = qs[i]!;
            while (q.nfree > 0 && this.submitOne(q, now)) submitted++;
          }
        } else {
          // Open loop: issue what the schedule says is due; latency counts from the scheduled time,
          // so a stalled target shows up as latency (no coordinated omission).
          while (nextArrival <= now) {
            let placed = false;
            for (let k = 0; k < nq; k++) {
              const q = qs[(rr + k) % nq]!;
              if (this.submitOne(q, nextArrival)) { rr = (rr + k + 1) % nq; placed = true; break; }
            }
            if (!placed) break;
            submitted++;
            nextArrival += poisson ? -Math.log(1 - arrivalsPrng.nextFloat()) * intervalNs : intervalNs;
          }
        }

        this.batchTs = 0;
        let completed = 0;
        let inflight = 0;
        if (haveReady) {
          // Woken by epoll: handle only the qpairs it reported ready (after sending what was queued).
          haveReady = false;
          if (submitted > 0) for (let i = 0; i < nq; i++) qs[i]!.qp.flush();
          completed = this.group.processReady();
          for (let i = 0; i < nq; i++) inflight += qs[i]!.inflight;
        } else {
          for (let i = 0; i < nq; i++) {
            const q = qs[i]!;
            completed += q.qp.processCompletions();
            inflight += q.inflight;
          }
        }
        let t2 = wait.now();
        // Open loop with nothing in flight: no answer can come before the next arrival, so there is
        // nothing to spin for (unless that arrival is only a few µs away: then a sleep costs more).
        const nothingDue = rate > 0 && inflight === 0 && nextArrival - t2 > MIN_SLEEP_NS;
        if (wait.endPass(completed + submitted, t2, nothingDue, completed)) {
          // Sleep in epoll until a socket is readable, the next arrival is due, the deadline passes
          // or the main thread wakes us for stop (bounded, so a stop request is seen within 1 s).
          let waitNs = end - t2;
          if (rate > 0) waitNs = Math.min(waitNs, nextArrival - t2);
          if (!this.recording) waitNs = Math.min(waitNs, warmEnd - t2);
          if (this.thinkNs > 0) waitNs = Math.min(waitNs, this.thinkNs);
          // --io-timeout: with I/O in flight, wake for the next timeout check (a stalled target sends nothing).
          if (this.timeouts && inflight > 0) waitNs = Math.min(waitNs, this.timeouts.intervalNs);
          const ms = Math.max(0, Math.min(1000, waitNs / 1e6)); // fractional: epoll_pwait2 sleeps to the ns
          if (t2 - lastPublish > 20_000_000) {
            lastPublish = t2;
            this.publish(native.threadCpuNs() - cpuStart, phase);
          }
          const ready = this.group.waitForEvents(ms);
          haveReady = ready > 0;
          const t3 = wait.now();
          wait.slept(t2, t3, ready);
          t2 = t3;
        }
        if (t2 - lastPublish > 20_000_000) {
          lastPublish = t2;
          this.publish(native.threadCpuNs() - cpuStart, phase);
          t2 = wait.now();
        }
        now = t2;
      }
      break;
    } catch (err) {
      // --ctrl-loss-tmo: a lost association is waited out and the qpairs reconnected; otherwise the worker stops.
      const r = this.links ? this.recover(err, () => this.publish(native.threadCpuNs() - cpuStart, phase)) : (err as Error).message;
      if (typeof r === 'string') { error = r; break; }
      now = wait.now();
      haveReady = false;
      if (r === STOPPED) break;
    }

    const measuredNs = Math.max(0, Math.min(now, end) - measureStart);
    const cpuNs = native.threadCpuNs() - cpuStart;
    const backlog = rate > 0 && !error ? Math.max(0, Math.floor((Math.min(now, end) - nextArrival) / intervalNs)) : 0;
    this.recording = false;
    this.publish(cpuNs, error ? Phase.Failed : Phase.Draining);
    if (!error) this.drain(2000);
    if (!error && this.workload.verify) {
      try { this.sweep(false, VERIFY_SWEEP_TIMEOUT_MS); } catch (e) { error = (e as Error).message; }
    }
    const contexts = this.nsContexts.map((c) => c.result());
    for (const c of this.nsContexts) { c.read.destroy(); c.write.destroy(); }
    this.publish(cpuNs, error ? Phase.Failed : Phase.Done);
    const w = wait.snapshot();
    return { measuredNs, busyNs: w.busyNs, idleNs: w.spinNs + w.sleepNs, cpuNs, error, firstErrorStatus: this.firstErrorStatus,
      contexts, backlog, wait: w, ...(this.links ? { retriedIos: this.retries, qpairReconnects: this.qpairReconnects } : {}),
      ...(this.timeouts ? { ioTimeouts: { ...this.timeouts.totals } } : {}) };
  }

  /**
   * Before the start barrier: run the workload closed-loop for `ms` without recording anything, so
   * neither this thread's JIT nor the target's is measured cold (an open-loop schedule would otherwise
   * start with a backlog that is the tool's own warm-up). Then let it drain.
   */
  prewarm(ms: number): void {
    this.prewarming = true;
    try {
      const end = native.monoNs() + ms * 1e6;
      while (native.monoNs() < end) {
        for (const q of this.qctxs) while (q.nfree > 0 && this.submitOne(q, 0));
        for (const q of this.qctxs) q.qp.processCompletions();
      }
      this.drain(2000);
    } finally {
      this.prewarming = false;
    }
  }

  /**
   * --verify: write every block of each context's range once (before the start barrier, so every
   * later read has an expected content), or read every block back once (after the measured run).
   * Sequential at the queue depth, not measured; bounded by `timeoutMs`.
   */
  sweep(write: boolean, timeoutMs: number): void {
    this.prewarming = true;
    this.sweepErrors = 0;
    try {
      const deadline = native.monoNs() + timeoutMs * 1e6;
      const cursor = new Map<NamespaceContext, number>();
      for (const ns of this.nsContexts) cursor.set(ns, 0);
      let pending = true;
      while (pending) {
        if (native.monoNs() > deadline) throw new Error(`verify: ${write ? 'writing' : 'reading back'} the range took longer than ${timeoutMs / 1000} s`);
        if (!write && this.counters.stopRequested()) break;
        pending = false;
        for (const q of this.qctxs) {
          const ns = q.ns, v = ns.verifier;
          if (!v) continue;
          let off = cursor.get(ns)!;
          while (off < v.rangeBlocks && q.nfree > 0) {
            const blocks = Math.min(q.blocksPerIo, v.rangeBlocks - off);
            const lba = v.startBlock + off;
            const tag = q.free[--q.nfree]!;
            const at = tag * q.ioSize, bs = ns.plan.blockSize;
            if (write) v.beginWrite(lba, blocks, q.data, q.data32, at);
            else v.beginRead(q.verifyBase + tag * q.blocksPerIo, lba, blocks);
            if (write) q.sq.submitWrite(ns.plan.nsid, lba, blocks, bs, q.data, at, tag);
            else q.sq.submitRead(ns.plan.nsid, lba, blocks, bs, q.data, at, tag);
            q.lba[tag] = lba; q.blocks[tag] = blocks; q.isRead[tag] = write ? 0 : 1; q.inflight++;
            off += blocks;
          }
          cursor.set(ns, off);
          if (off < v.rangeBlocks || q.inflight > 0) pending = true;
        }
        for (const q of this.qctxs) q.qp.processCompletions();
      }
      if (this.sweepErrors > 0) {
        throw new Error(`verify: ${this.sweepErrors} I/O(s) failed while ${write ? 'writing the range first' : 'reading the range back'}`);
      }
    } finally {
      this.prewarming = false;
    }
  }

  /**
   * A qpair failed. When its connection is down (not a protocol error on a live one): close this worker's
   * qpairs of that controller, report the loss, and wait — publishing counters, so the timeline shows
   * the outage — until the main thread has a new association (then reconnect with its CNTLID and
   * resubmit the I/Os that were in flight, each counted as a retry), the controller is given up (the
   * I/Os in flight fail), or the run ends. fast-io-fail-tmo fails the waiting I/Os earlier, with
   * Host Pathing Error, as Linux does. No new I/O is issued during the outage; qpairs of other
   * controllers of this worker are not polled meanwhile (their I/O completes after it).
   * Returns RESUME, STOPPED (the run ended or was stopped meanwhile) or an error message.
   */
  private recover(err: unknown, publish: () => void): typeof RESUME | typeof STOPPED | string {
    const links = this.links!;
    const msg = (err as Error).message;
    const downCtrls: number[] = [];
    for (const q of this.qctxs) if ((q.down || !q.qp.connected) && !downCtrls.includes(q.ctrlIndex)) downCtrls.push(q.ctrlIndex);
    if (downCtrls.length === 0) return msg;
    const down = this.qctxs.filter((q) => downCtrls.includes(q.ctrlIndex));
    if (down.some((q) => q.params === undefined)) return msg;
    for (const q of down) {
      if (!q.down) {
        this.group.remove(q.qp);
        try { q.qp.disconnect(); } catch { /* already gone */ }
        q.down = true;
      }
      links.reportLoss(q.ctrlIndex, q.gen);
    }
    const lossAt = native.monoNs();
    // The outage is charged as sleep: the worker waits, it does no work.
    const waitFrom = this.wait.now();
    const failAfterNs = this.workload.reconnect!.fastIoFailTmoMs * 1e6;
    let ioFailed = false;
    let lastPublish = 0;
    for (;;) {
      const now = native.monoNs();
      if (this.counters.stopRequested() || now >= this.counters.endNs) { this.wait.slept(waitFrom, this.wait.now(), 0); return STOPPED; }
      if (!ioFailed && failAfterNs >= 0 && now - lossAt >= failAfterNs) {
        for (const q of down) if (q.down) this.failOutstanding(q);
        ioFailed = true;
      }
      let waiting = 0;
      for (const q of down) {
        if (!q.down) continue;
        const c = q.ctrlIndex;
        if (links.state(c) === LinkCode.Lost) {
          for (const d of down) if (d.down) this.failOutstanding(d);
          publish();
          return `controller ${c} lost: ${msg}`;
        }
        const gen = links.generation(c);
        if (gen > q.gen && !this.reconnectQpair(q, links.cntlid(c), gen, ioFailed)) links.reportLoss(c, gen);
        if (q.down) waiting++;
      }
      if (waiting === 0) {
        this.wait.slept(waitFrom, this.wait.now(), 0);
        publish();
        return RESUME;
      }
      if (now - lastPublish > 20_000_000) { lastPublish = now; publish(); }
      const first = down.find((q) => q.down)!;
      links.waitPast(first.ctrlIndex, first.gen, 5);
    }
  }

  /** Connects q again to the association `gen` (CNTLID `cntlid`) and resubmits what was in flight. */
  private reconnectQpair(q: QpairContext, cntlid: number, gen: number, ioFailed: boolean): boolean {
    let qp: IoQpair;
    try {
      qp = this.group.connect({ ...q.params!, cntlid });
    } catch {
      q.gen = gen;
      return false;
    }
    qp.submitClock = this.wait.now();
    q.qp = qp;
    q.sq = new RequestQueue(qp, q.depth);
    q.sq.onComplete = q.onIo;
    q.gen = gen;
    q.down = false;
    this.qpairReconnects++;
    if (ioFailed) return true;
    // Resubmit each I/O that was in flight, as it was (same LBA, direction and buffer; its latency runs on).
    const isFree = new Uint8Array(q.depth);
    for (let i = 0; i < q.nfree; i++) isFree[q.free[i]!] = 1;
    const bs = q.ns.plan.blockSize, nsid = q.ns.plan.nsid;
    for (let tag = 0; tag < q.depth; tag++) {
      if (isFree[tag] === 1) continue;
      if (q.isRead[tag] === 1) q.sq.submitRead(nsid, q.lba[tag]!, q.blocks[tag]!, bs, q.data, tag * q.ioSize, tag);
      else q.sq.submitWrite(nsid, q.lba[tag]!, q.blocks[tag]!, bs, q.data, tag * q.ioSize, tag);
      this.retries++;
    }
    return true;
  }

  /** Completes every I/O in flight on q with `status` (Host Pathing Error by default; counted as errors). Returns how many. */
  private failOutstanding(q: QpairContext, status = HOST_PATH_ERROR): number {
    const isFree = new Uint8Array(q.depth);
    for (let i = 0; i < q.nfree; i++) isFree[q.free[i]!] = 1;
    let n = 0;
    for (let tag = 0; tag < q.depth; tag++) if (isFree[tag] === 0) { q.onIo(tag, status); n++; }
    return n;
  }

  /**
   * --io-timeout, once per pass: stamp what this pass submits with the pass clock (no clock read per
   * command), and every few ms let the watch look at each qpair's oldest command (count, abort, reset).
   */
  private watchTimeouts(now: number): void {
    const t = this.timeouts!;
    const qs = this.qctxs;
    for (let i = 0; i < qs.length; i++) qs[i]!.qp.submitClock = now;
    if (!t.due(now)) return;
    for (let i = 0; i < qs.length; i++) {
      const q = qs[i]!;
      if (q.down || !q.watch) continue;
      if (t.check(q.watch, q.qp, q.ctrlIndex, now)) this.resetQpair(q, now);
    }
  }

  /**
   * --io-timeout: a timed-out command could not be aborted. Disconnect the qpair, fail every I/O it
   * held (Command Aborted due to SQ Deletion, counted as errors) and connect it again to the same
   * controller (same QID, the current CNTLID). A failed connect throws: the run's error handling
   * (--ctrl-loss-tmo, or the end of the run) takes over.
   */
  private resetQpair(q: QpairContext, now: number): void {
    this.group.remove(q.qp);
    try { q.qp.disconnect(); } catch { /* already gone */ }
    const failed = this.failOutstanding(q, SQ_DELETED);
    this.timeouts!.resetDone(q.watch!, failed);
    if (!q.params) { q.down = true; throw new Error(`qpair ${q.qp.qid} was reset after an I/O timeout and cannot be connected again`); }
    const cntlid = this.links ? this.links.cntlid(q.ctrlIndex) : q.params.cntlid;
    let qp: IoQpair | undefined;
    // The target may not have seen the old connection close yet (its QID still in use): a few tries.
    for (let attempt = 1; qp === undefined; attempt++) {
      try {
        qp = this.group.connect({ ...q.params, cntlid });
      } catch (e) {
        if (attempt >= RESET_CONNECT_TRIES || this.counters.stopRequested()) { q.down = true; throw e; }
        Atomics.wait(pauseCell, 0, 0, RESET_RETRY_MS);
      }
    }
    qp.submitClock = now;
    q.qp = qp;
    q.sq = new RequestQueue(qp, q.depth);
    q.sq.onComplete = q.onIo;
  }

  /** Let in-flight I/O finish (not counted) so the qpairs can be closed cleanly. Bounded. */
  private drain(timeoutMs: number): void {
    const deadline = native.monoNs() + timeoutMs * 1e6;
    try {
      while (this.qctxs.some((q) => q.inflight > 0) && native.monoNs() < deadline) {
        for (const q of this.qctxs) q.qp.processCompletions();
        this.group.waitForEvents(1);
      }
    } catch {
      // The target went away while draining: the measured part is already complete.
    }
  }
}
