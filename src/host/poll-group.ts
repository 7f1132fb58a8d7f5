// PollGroup: the qpairs one reactor thread owns, of any transport (only the IoQpair interface is used).
// Poll mode: processCompletions() polls them all. Interrupt mode: waitForEvents() blocks in epoll_wait on
// their file descriptors plus an eventfd and remembers which qpairs epoll reported; processReady() then
// handles only those. wake() — or native.eventfdWrite(wakeFd, 1) from another thread — ends a wait early.
import { EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLET, EPOLLIN, EPOLLOUT, native } from '../native/index.js';
import type { IoQpair, QpairConnectParams, TransportOps } from '../transport/transport.js';
import { connectIoQpair } from './io-qpair.js';

export class PollGroup {
  readonly epfd: number;
  /** eventfd that ends waitForEvents(); any thread may write it. */
  readonly wakeFd: number;
  private readonly list: IoQpair[] = [];
  private readonly fds: number[] = [];
  private readonly outArmed: boolean[] = [];
  /** EPOLLET for qpairs whose fd is never drained (IoQpair.edgeTriggeredFd), else 0. */
  private readonly trigger: number[] = [];
  /** Qpair by file descriptor (epoll reports fds). */
  private readonly byFd: (IoQpair | undefined)[] = [];
  /** Qpairs the last waitForEvents() found ready: ready[0, readyCount). */
  private ready: IoQpair[] = [];
  private readyCount = 0;
  private events = new Int32Array(2 * 16);
  private closed = false;

  constructor() {
    this.epfd = native.epollCreate();
    this.wakeFd = native.eventfdCreate();
    native.epollCtl(this.epfd, EPOLL_CTL_ADD, this.wakeFd, EPOLLIN, this.wakeFd >>> 0);
  }

  get qpairs(): ReadonlyArray<IoQpair> { return this.list; }
  get size(): number { return this.list.length; }

  /**
   * Connects an I/O qpair through `transport`'s ops table (default: the one registered for
   * params.trtype) and adds it.
   */
  connect(params: QpairConnectParams, transport?: TransportOps): IoQpair {
    const qp = connectIoQpair(params, transport);
    try {
      this.add(qp);
    } catch (e) {
      qp.disconnect();
      throw e;
    }
    return qp;
  }

  add(qp: IoQpair): void {
    if (this.list.includes(qp)) return;
    const trigger = qp.edgeTriggeredFd === true ? EPOLLET : 0;
    native.epollCtl(this.epfd, EPOLL_CTL_ADD, qp.fd, (EPOLLIN | trigger) >>> 0, qp.fd >>> 0);
    this.list.push(qp);
    this.fds.push(qp.fd);
    this.outArmed.push(false);
    this.trigger.push(trigger);
    this.byFd[qp.fd] = qp;
    if (this.events.length < 2 * (this.list.length + 1)) this.events = new Int32Array(2 * (this.list.length + 16));
    if (this.ready.length < this.list.length) this.ready = new Array<IoQpair>(this.list.length + 16).fill(qp);
    this.readyCount = 0;
  }

  /** Removes qp (does not disconnect it). */
  remove(qp: IoQpair): void {
    const i = this.list.indexOf(qp);
    if (i < 0) return;
    try {
      native.epollCtl(this.epfd, EPOLL_CTL_DEL, this.fds[i]!, 0, 0);
    } catch {
      // The socket may already be closed (closing removes it from the epoll set).
    }
    if (this.byFd[this.fds[i]!] === qp) this.byFd[this.fds[i]!] = undefined;
    this.list.splice(i, 1);
    this.fds.splice(i, 1);
    this.outArmed.splice(i, 1);
    this.trigger.splice(i, 1);
    this.readyCount = 0;
  }

  /** processCompletions() of every qpair (poll mode); returns the I/Os completed. TransportErrors propagate. */
  processCompletions(): number {
    let n = 0;
    const l = this.list;
    for (let i = 0; i < l.length; i++) n += l[i]!.processCompletions();
    return n;
  }

  /**
   * processCompletions() of only the qpairs the last waitForEvents() reported ready (interrupt mode);
   * each is handled once. Returns the I/Os completed.
   */
  processReady(): number {
    let n = 0;
    const r = this.ready;
    const k = this.readyCount;
    this.readyCount = 0;
    for (let i = 0; i < k; i++) n += r[i]!.processCompletions();
    return n;
  }

  /** Qpairs the last waitForEvents() found ready (until processReady() consumes them). */
  get readyQpairs(): ReadonlyArray<IoQpair> { return this.ready.slice(0, this.readyCount); }

  /**
   * Blocks until a qpair is readable (or writable while it has bytes queued), wake() was called, or
   * timeoutMs passed (0 = just look, -1 = no limit). Remembers the ready qpairs for processReady().
   * Returns the number of ready file descriptors, the wake eventfd included (0 on timeout).
   */
  waitForEvents(timeoutMs: number): number {
    const l = this.list;
    for (let i = 0; i < l.length; i++) {
      const want = l[i]!.pendingSendBytes > 0;
      // Edge-triggered: writability is reported once per arming, so re-arm on every wait while wanted.
      if (want !== this.outArmed[i] || (want && this.trigger[i] !== 0)) {
        native.epollCtl(this.epfd, EPOLL_CTL_MOD, this.fds[i]!, ((want ? EPOLLIN | EPOLLOUT : EPOLLIN) | this.trigger[i]!) >>> 0, this.fds[i]! >>> 0);
        this.outArmed[i] = want;
      }
    }
    this.readyCount = 0;
    const n = native.epollWait(this.epfd, this.events, timeoutMs);
    if (n <= 0) return 0;
    const ev = this.events;
    for (let i = 0; i < n; i++) {
      const fd = ev[2 * i]!;
      if (fd === this.wakeFd) { native.eventfdRead(this.wakeFd); continue; }
      const qp = this.byFd[fd];
      if (qp !== undefined) this.ready[this.readyCount++] = qp;
    }
    return n;
  }

  /** Ends a waitForEvents() in progress (or the next one). */
  wake(): void {
    native.eventfdWrite(this.wakeFd, 1);
  }

  /** Closes the epoll and event fds (not the qpairs). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    native.close(this.epfd);
    native.close(this.wakeFd);
    this.list.length = 0;
    this.fds.length = 0;
    this.outArmed.length = 0;
    this.trigger.length = 0;
    this.byFd.length = 0;
    this.readyCount = 0;
  }
}
