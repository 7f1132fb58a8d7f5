// PollGroup: the qpairs one reactor thread owns. processCompletions() polls them all (poll mode);
// waitForEvents() blocks in epoll_wait on their sockets plus an eventfd (interrupt mode). wake() —
// or native.eventfdWrite(wakeFd, 1) from another thread — ends a wait early.
import { native } from '../native/index.js';
import type { IoQpair } from '../transport/transport.js';

const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;
const EPOLLIN = 1;
const EPOLLOUT = 4;

/** Qpairs that can report bytes still waiting to be sent (TcpQpair). */
interface HasPendingSend { readonly pendingSendBytes: number }
function pendingSend(qp: IoQpair): number {
  const p = (qp as Partial<HasPendingSend>).pendingSendBytes;
  return typeof p === 'number' ? p : 0;
}

export class PollGroup {
  readonly epfd: number;
  /** eventfd that ends waitForEvents(); any thread may write it. */
  readonly wakeFd: number;
  private readonly list: IoQpair[] = [];
  private readonly fds: number[] = [];
  private readonly outArmed: boolean[] = [];
  private events = new Int32Array(2 * 16);
  private closed = false;

  constructor() {
    this.epfd = native.epollCreate();
    this.wakeFd = native.eventfdCreate();
    native.epollCtl(this.epfd, EPOLL_CTL_ADD, this.wakeFd, EPOLLIN, this.wakeFd >>> 0);
  }

  get qpairs(): ReadonlyArray<IoQpair> { return this.list; }
  get size(): number { return this.list.length; }

  add(qp: IoQpair): void {
    if (this.list.includes(qp)) return;
    native.epollCtl(this.epfd, EPOLL_CTL_ADD, qp.fd, EPOLLIN, qp.fd >>> 0);
    this.list.push(qp);
    this.fds.push(qp.fd);
    this.outArmed.push(false);
    if (this.events.length < 2 * (this.list.length + 1)) this.events = new Int32Array(2 * (this.list.length + 16));
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
    this.list.splice(i, 1);
    this.fds.splice(i, 1);
    this.outArmed.splice(i, 1);
  }

  /** processCompletions() of every qpair; returns the I/Os completed. TransportErrors propagate. */
  processCompletions(): number {
    let n = 0;
    const l = this.list;
    for (let i = 0; i < l.length; i++) n += l[i]!.processCompletions();
    return n;
  }

  /**
   * Blocks until a qpair socket is readable (or writable while it has bytes queued), wake() was called,
   * or timeoutMs passed (-1 = no limit). Returns the number of ready file descriptors (0 on timeout).
   */
  waitForEvents(timeoutMs: number): number {
    const l = this.list;
    for (let i = 0; i < l.length; i++) {
      const want = pendingSend(l[i]!) > 0;
      if (want !== this.outArmed[i]) {
        native.epollCtl(this.epfd, EPOLL_CTL_MOD, this.fds[i]!, want ? EPOLLIN | EPOLLOUT : EPOLLIN, this.fds[i]! >>> 0);
        this.outArmed[i] = want;
      }
    }
    const n = native.epollWait(this.epfd, this.events, timeoutMs);
    if (n <= 0) return 0;
    for (let i = 0; i < n; i++) {
      if (this.events[2 * i] === this.wakeFd) native.eventfdRead(this.wakeFd);
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
  }
}
