// Reactor: one pinned thread's synchronous loop over its connections (SPDK's poll group).
//
// Each pass: take newly accepted sockets from the control block, poll every connection (recv,
// handle all PDUs, one send), then account the pass as busy (it did work) or idle (it did not),
// SPDK style. Every TICK_NS the reactor runs housekeeping: keep-alive deadlines, controllers that
// went away (registry epochs), SMART counters and the statistics row the main thread reads.
//
// Poll mode spins forever. Interrupt mode keeps polling for a short spin window after the last pass
// that did work, then blocks in epoll_wait on the connection sockets and the reactor's eventfd
// (AdaptiveWait), so a loaded target keeps pace and an idle one uses no CPU: with nothing to do it
// sleeps until a socket is ready or a keep-alive/linger deadline is due, without periodic wake-ups.
// Time is split into busy, spin and sleep; idle = spin + sleep.
import { receiveMessageOnPort } from 'node:worker_threads';
import type { NamespaceChange } from './namespace-change.js';
import { deliverNamespaceNotice } from './admin-handlers.js';
import { EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLLET, EPOLLIN, EPOLLOUT, EPOLLRDHUP, native } from '../native/index.js';
import { TcpConnection } from './connection.js';
import { ConnState } from './conn-state.js';
import { ControlBlock, SMART_FIELDS, STATS_FIELDS } from './control.js';
import { ControllerRegistry } from './registry.js';
import { AdaptiveWait } from '../util/adaptive-wait.js';
import { FileIoRing } from './file-io-ring.js';
import { LentReads } from './lent-reads.js';
import { CoalescePolicy } from './coalesce-policy.js';
import {
  SubsystemRuntime, writeLogLine, type ReactorContext, type ReactorCounters, type ReactorParams,
} from './reactor-context.js';

/** Housekeeping period. */
const TICK_NS = 2_000_000;
/** Before a sleep, the thread's CPU time (a syscall to read) is published if older than this. */
const CPU_PUBLISH_NS = 10_000_000;
const WAKE_TAG = 0xffffffff;
/** epoll tag of the file io_uring's eventfd (interrupt mode). */
const RING_TAG = 0xfffffffe;
/** Empty polls after which a queue counts as idle (≈ 1 ms at a few µs per pass). */
const IDLE_BACKOFF_PASSES = 256;

export class Reactor implements ReactorContext {
  readonly registry: ControllerRegistry;
  readonly control: ControlBlock;
  readonly nvm: SubsystemRuntime;
  readonly counters: ReactorCounters = {
    commands: 0, adminQpairs: 0, ioQpairs: 0, readCmds: 0, writeCmds: 0, readUnits: 0, writeUnits: 0,
  };
  /** Reads + writes completed before the last flushSmart(). */
  private ioDone = 0;
  nowNs = 0;
  readonly conns: TcpConnection[] = [];
  private readonly index: number;
  private readonly stats: Float64Array;
  /** Pass accounting and the spin-then-sleep decision. */
  private readonly wait: AdaptiveWait;
  private eventfdWakeups = 0;
  private socketWakeups = 0;
  private connBufferMax = 0;
  /** Connections with unsent output: send position last seen and since when (ns). */
  private readonly unsentSince = new Map<TcpConnection, { head: number; sinceNs: number }>();
  private readonly stalledDropNs: number;
  private nextConnId = 1;
  private epfd = -1;
  private readonly wakeFd: number;
  private readonly events = new Int32Array(2 * 64);
  private forceTick = false;
  /** When CPU_NS was last published, and whether a pass did work since. */
  private cpuPublishedNs = 0;
  private cpuDirty = false;
  /** io_uring for file namespaces: made when the first file namespace is opened (null: none, or sync). */
  fileRing: FileIoRing | null = null;
  private fileRingFailed = false;
  readonly lentReads: LentReads | null;
  /** --coalesce-us in ms (0 = off), and the epoll set of a coalescing sleep: the wake eventfd only. */
  private readonly coalesceMs: number;
  private cepfd = -1;
  private readonly coalescing = new CoalescePolicy();

  constructor(readonly params: ReactorParams) {
    this.index = params.index;
    this.registry = new ControllerRegistry(params.registrySab);
    this.control = new ControlBlock(params.reactors, params.controlSab);
    this.stats = this.control.statsRow(this.index);
    // With one reactor, no other thread writes RAM namespace memory: its reads can be lent.
    this.lentReads = params.reactors === 1 ? new LentReads() : null;
    this.nvm = new SubsystemRuntime(params.subsystem, params.namespaces, this.lentReads);
    this.wakeFd = params.wakeFds[this.index]!;
    this.wait = new AdaptiveWait(params.interruptMode, params.spinUs);
    this.stalledDropNs = params.stalledDropMs * 1e6;
    if (params.interruptMode) {
      this.epfd = native.epollCreate();
      native.epollCtl(this.epfd, EPOLL_CTL_ADD, this.wakeFd, EPOLLIN, WAKE_TAG);
    }
    this.coalesceMs = params.interruptMode ? params.coalesceUs / 1000 : 0;
    if (this.coalesceMs > 0) {
      this.cepfd = native.epollCreate();
      native.epollCtl(this.cepfd, EPOLL_CTL_ADD, this.wakeFd, EPOLLIN, WAKE_TAG);
    }
    if (params.namespaces.some((n) => n.kind === 'file')) this.openFileRing();
  }

  /**
   * The ring for file namespaces, once (--file-io uring). When the kernel refuses io_uring (ENOSYS,
   * EPERM under a seccomp profile …) one warning, then synchronous file I/O.
   */
  private openFileRing(): void {
    if (this.fileRing !== null || this.fileRingFailed || this.params.fileIo !== 'uring') return;
    try {
      const ring = new FileIoRing(this.params.limits.maxIoSize, this.params.interruptMode);
      // Edge-triggered: the ring signals its eventfd once per completion batch and nothing drains it.
      if (ring.efd >= 0) native.epollCtl(this.epfd, EPOLL_CTL_ADD, ring.efd, (EPOLLIN | EPOLLET) >>> 0, RING_TAG);
      this.fileRing = ring;
    } catch (e) {
      this.fileRingFailed = true;
      const err = e as NodeJS.ErrnoException;
      this.log('warn', `reactor ${this.index}: io_uring unavailable (${err.code ?? err.message}): file namespaces use synchronous reads and writes`);
    }
  }

  log(level: 'warn' | 'info', msg: string): void {
    writeLogLine(this.params.logLevel, level, msg);
  }

  wakeAll(): void {
    if (!this.params.interruptMode) return; // poll-mode reactors look at the registry every tick anyway
    for (const fd of this.params.wakeFds) {
      try { native.eventfdWrite(fd, 1); } catch { /* stopping */ }
    }
  }

  findIoQueue(cntlid: number, qid: number): TcpConnection | null {
    for (const c of this.conns) if (c.qid === qid && qid > 0 && c.cntlid === cntlid && c.ioSlot >= 0) return c;
    return null;
  }

  flushSmart(): void {
    const k = this.counters, cb = this.control;
    this.ioDone += k.readCmds + k.writeCmds;
    cb.addSmart(SMART_FIELDS.READ_CMDS, k.readCmds);
    cb.addSmart(SMART_FIELDS.WRITE_CMDS, k.writeCmds);
    cb.addSmart(SMART_FIELDS.READ_UNITS, k.readUnits);
    cb.addSmart(SMART_FIELDS.WRITE_UNITS, k.writeUnits);
    k.readCmds = 0; k.writeCmds = 0; k.readUnits = 0; k.writeUnits = 0;
  }

  /** Runs until the control block's stop flag is set; then closes every connection. */
  run(): void {
    const control = this.control;
    const conns = this.conns;
    const idx = this.index;
    const wait = this.wait;
    const popBuf = new Int32Array(2);
    const start = wait.now();
    wait.reset(start);
    this.nowNs = start;
    let nextTick = start + TICK_NS;
    this.stats[STATS_FIELDS.RUNNING] = 1;
    while (!control.stopRequested) {
      let work = 0;
      const commandsBefore = this.counters.commands;
      if (control.pending(idx)) work += this.acceptNew(popBuf);
      // File I/O that completed: its answers are queued now and go out with this pass's sends.
      const ring = this.fileRing;
      if (ring !== null && (ring.inFlight > 0 || ring.ring.pending > 0)) {
        const before = ring.completions;
        ring.reap();
        work += ring.completions - before;
      }
      // Queues idle for a while (typically admin queues) are polled every 8th pass only: each empty
      // recv() is a syscall, and skipping them shortens the pass for the busy queues. (A queue epoll
      // reported ready is polled at once: sleep() marks it active.)
      const skipIdle = (wait.passes & 7) !== 0;
      let quiet = true;
      for (let i = 0; i < conns.length; i++) {
        const c = conns[i]!;
        if (skipIdle && c.idlePasses > IDLE_BACKOFF_PASSES && c.outPending === 0) continue;
        try {
          work += c.poll();
          if (!c.quiet) quiet = false;
        } catch (e) {
          // A bug must cost one connection, never the reactor.
          this.log('warn', `${c.describe()}: internal error: ${(e as Error)?.stack ?? String(e)}`);
          c.close('internal error');
        }
        if (c.state === ConnState.Closed) { this.remove(i); i--; }
      }
      // File I/O the commands of this pass asked for goes to the kernel before any sleep.
      if (ring !== null) ring.submit();
      const now = wait.now();
      if (work > 0) this.cpuDirty = true;
      let sleepNow = wait.endPass(work, now, false, this.counters.commands - commandsBefore);
      // No spin window: a busy pass that drained every socket sleeps at once instead of paying one
      // more pass of empty recv() calls first (epoll is level-triggered, so nothing can be missed).
      if (!sleepNow && quiet && work > 0 && wait.interrupt && wait.spinWindowNs === 0) sleepNow = true;
      this.nowNs = now;
      if (now >= nextTick || this.forceTick) {
        this.forceTick = false;
        this.housekeeping(now);
        nextTick = now + TICK_NS;
      }
      // Interrupt coalescing: a busy pass that drained every socket waits out the coalescing time on a
      // timer, deaf to sockets, so that what arrives meanwhile is handled in one pass; an empty pass
      // after that spins and sleeps as usual. Windows that gather at most one command pause it.
      if (this.coalesceMs > 0) this.coalescing.passEnded(this.counters.commands - commandsBefore, now);
      if (work > 0 && quiet && this.coalesceMs > 0 && this.coalescing.wanted(now)) this.coalesce(now);
      else if (sleepNow) this.sleep(now);
    }
    this.shutdown();
  }

  private acceptNew(popBuf: Int32Array): number {
    let n = 0;
    while (this.control.pop(this.index, popBuf)) {
      const fd = popBuf[0]!, listener = popBuf[1]!;
      let c: TcpConnection;
      try {
        c = new TcpConnection(fd, this.nextConnId++, listener, this);
      } catch (e) {
        this.log('warn', `cannot set up connection fd ${fd}: ${(e as Error).message}`);
        try { native.close(fd); } catch { /* gone */ }
        continue;
      }
      if (this.epfd >= 0) native.epollCtl(this.epfd, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP, c.id);
      this.conns.push(c);
      this.log('info', `connection from ${c.peer} on reactor ${this.index}`);
      n++;
    }
    return n;
  }

  /**
   * Output is capped per connection (the connection stops taking commands while it has more than a
   * few MiB unsent), so a host that stops reading costs bounded memory; one that reads nothing at
   * all for stalledDropMs while the socket is full is dropped, so it cannot hold that memory forever.
   */
  private dropIfNotReading(c: TcpConnection, now: number): void {
    if (c.outPending === 0 || c.state >= ConnState.Closing) {
      if (this.unsentSince.size > 0) this.unsentSince.delete(c);
      return;
    }
    const seen = this.unsentSince.get(c);
    if (!seen || seen.head !== c.outHead) {
      this.unsentSince.set(c, { head: c.outHead, sinceNs: now });
      return;
    }
    if (now - seen.sinceNs > this.stalledDropNs) {
      this.unsentSince.delete(c);
      this.log('warn', `${c.describe()}: the host read none of its ${c.outPending} bytes of responses for ${this.params.stalledDropMs / 1000} s: dropping the connection`);
      c.close('host stopped reading');
    }
  }

  private remove(i: number): void {
    const conns = this.conns;
    if (this.unsentSince.size > 0) this.unsentSince.delete(conns[i]!);
    conns[i] = conns[conns.length - 1]!;
    conns.pop();
  }

  /** Namespaces added or removed (main thread messages): update this reactor's view, raise the events. */
  private applyNamespaceChanges(): void {
    const port = this.params.nsPort;
    if (!port) return;
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      const ch = m.message as NamespaceChange;
      if (ch.type === 'ns-add') {
        this.nvm.add(ch.nsid, ch.shared, ch.identity);
        if (ch.shared.kind === 'file') this.openFileRing();
      }
      else this.nvm.remove(ch.nsid);
      // Every controller of the subsystem whose admin queue this reactor owns.
      for (const c of this.conns) {
        const ctrl = c.ctrl;
        if (ctrl === null || ctrl.discovery) continue;
        if (ctrl.nsChanges.note(ch.nsid)) deliverNamespaceNotice(c, ctrl);
      }
    }
  }

  private housekeeping(now: number): void {
    this.applyNamespaceChanges();
    const conns = this.conns;
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i]!;
      const bytes = c.bufferBytes;
      if (bytes > this.connBufferMax) this.connBufferMax = bytes;
      this.dropIfNotReading(c, now);
      c.tick(now);
      if (c.state === ConnState.Closed) { this.remove(i); i--; }
    }
    this.flushSmart();
    this.publishStats(now);
  }

  private publishStats(now: number): void {
    this.publishWait();
    const s = this.stats, F = STATS_FIELDS;
    s[F.CPU_NS] = native.threadCpuNs();
    this.cpuPublishedNs = now;
    this.cpuDirty = false;
    let admin = 0, io = 0;
    for (const c of this.conns) {
      if (c.state !== ConnState.Active) continue;
      if (c.qid === 0) admin++;
      else io++;
    }
    const k = this.counters;
    s[F.CONNECTIONS] = this.conns.length;
    s[F.ADMIN_QPAIRS] = admin;
    s[F.IO_QPAIRS] = io;
    s[F.ADMIN_QPAIRS_TOTAL] = k.adminQpairs;
    s[F.IO_QPAIRS_TOTAL] = k.ioQpairs;
    s[F.COMMANDS] = k.commands;
    s[F.IO_COMMANDS] = this.ioDone + k.readCmds + k.writeCmds;
    s[F.EVENTFD_WAKEUPS] = this.eventfdWakeups;
    s[F.SOCKET_WAKEUPS] = this.socketWakeups;
    s[F.CONN_BUFFER_MAX] = this.connBufferMax;
    const ring = this.fileRing;
    s[F.FILE_RING] = ring !== null ? 1 : 0;
    if (ring !== null) {
      s[F.FILE_RING_COMPLETIONS] = ring.completions;
      s[F.FILE_RING_ORPHANED] = ring.orphaned;
      s[F.FILE_RING_SLOTS_USED] = ring.slotsUsed;
    }
    s[F.UPDATED_NS] = now;
  }

  /** The time split and wait counters (plain stores: cheap enough before every sleep). */
  private publishWait(): void {
    const s = this.stats, F = STATS_FIELDS, w = this.wait;
    s[F.BUSY_NS] = w.busyNs;
    s[F.IDLE_NS] = w.spinNs + w.sleepNs;
    s[F.SPIN_NS] = w.spinNs;
    s[F.SLEEP_NS] = w.sleepNs;
    s[F.SLEEPS] = w.sleeps;
    s[F.WAKEUPS] = w.wakeups;
    s[F.SPIN_WINDOWS] = w.spinWindows;
    s[F.SPIN_HITS] = w.spinHits;
    s[F.PASSES] = w.passes;
    s[F.COALESCED_SLEEPS] = this.coalescing.windows;
    s[F.COALESCE_BACKOFFS] = this.coalescing.backoffs;
  }

  /** Interrupt mode: block until a socket or the eventfd is ready, or the next deadline (none: no limit). */
  private sleep(now: number): void {
    let timeoutMs = -1;
    for (const c of this.conns) {
      const wantOut = c.outPending > 0;
      if (wantOut !== c.epollOut) {
        c.epollOut = wantOut;
        try {
          native.epollCtl(this.epfd, EPOLL_CTL_MOD, c.fd, EPOLLIN | EPOLLRDHUP | (wantOut ? EPOLLOUT : 0), c.id);
        } catch { /* closed meanwhile */ }
      }
      const dl = c.nextDeadlineNs();
      if (dl > 0) {
        const ms = Math.max(0, Math.ceil((dl - now) / 1e6));
        timeoutMs = timeoutMs < 0 ? ms : Math.min(timeoutMs, ms);
      }
    }
    // A host that stops reading must still be dropped while we sleep (no periodic wake-up otherwise).
    if (this.unsentSince.size > 0) for (const seen of this.unsentSince.values()) {
      const ms = Math.max(0, Math.ceil((seen.sinceNs + this.stalledDropNs - now) / 1e6));
      timeoutMs = timeoutMs < 0 ? ms : Math.min(timeoutMs, ms);
    }
    // Thread CPU time is a real syscall: read it before a sleep at most every CPU_PUBLISH_NS. A sleep
    // that starts with it older than that is bounded so that it gets published (once) soon after.
    if (now - this.cpuPublishedNs >= CPU_PUBLISH_NS) this.publishStats(now);
    else {
      this.publishWait();
      this.stats[STATS_FIELDS.UPDATED_NS] = now;
    }
    // File I/O the kernel refused for now (EAGAIN/EBUSY) completes nothing, so nothing would wake us:
    // retry within a millisecond.
    if (this.fileRing !== null && this.fileRing.ring.unsubmitted > 0) timeoutMs = timeoutMs < 0 ? 1 : Math.min(timeoutMs, 1);
    if (this.cpuDirty) {
      const ms = Math.max(1, Math.ceil((this.cpuPublishedNs + CPU_PUBLISH_NS - now) / 1e6));
      timeoutMs = timeoutMs < 0 ? ms : Math.min(timeoutMs, ms);
    }
    this.stats[STATS_FIELDS.SLEEPING_SINCE] = now;
    const n = native.epollWait(this.epfd, this.events, timeoutMs);
    this.stats[STATS_FIELDS.SLEEPING_SINCE] = 0;
    const conns = this.conns;
    let sockets = false;
    for (let i = 0; i < n; i++) {
      const tag = this.events[2 * i]! >>> 0;
      if (tag === WAKE_TAG) {
        this.woken();
        continue;
      }
      if (tag === RING_TAG) continue; // file I/O completed: the next pass reaps it (the eventfd is edge-triggered: never read)
      sockets = true;
      for (let k = 0; k < conns.length; k++) {
        if (conns[k]!.id === tag) { conns[k]!.idlePasses = 0; break; }
      }
    }
    if (sockets) this.socketWakeups++;
    const t = this.wait.now();
    this.wait.slept(now, t, n);
    this.nowNs = t;
  }

  /** The reactor's eventfd ended a sleep (stop, new connection, another reactor). */
  private woken(): void {
    native.eventfdRead(this.wakeFd);
    this.eventfdWakeups++;
    this.forceTick = true; // a controller may have gone away: check epochs now
  }

  /** A timed sleep of coalesceMs; only the reactor's eventfd (stop, new connection, another reactor) ends it early. */
  private coalesce(now: number): void {
    if (now - this.cpuPublishedNs >= CPU_PUBLISH_NS) this.publishStats(now);
    this.stats[STATS_FIELDS.SLEEPING_SINCE] = now;
    const n = native.epollWait(this.cepfd, this.events, this.coalesceMs);
    this.stats[STATS_FIELDS.SLEEPING_SINCE] = 0;
    if (n > 0) this.woken();
    this.coalescing.began();
    const t = this.wait.now();
    this.wait.slept(now, t, n);
    this.nowNs = t;
  }

  private shutdown(): void {
    for (const c of this.conns) c.close('target stopping');
    this.conns.length = 0;
    if (this.epfd >= 0) {
      try { native.close(this.epfd); } catch { /* gone */ }
      this.epfd = -1;
    }
    if (this.cepfd >= 0) {
      try { native.close(this.cepfd); } catch { /* gone */ }
      this.cepfd = -1;
    }
    this.nvm.close();
    if (this.fileRing !== null) { this.fileRing.close(); this.fileRing = null; }
    this.flushSmart();
    this.publishStats(native.monoNs());
    this.stats[STATS_FIELDS.RUNNING] = 0;
  }
}
