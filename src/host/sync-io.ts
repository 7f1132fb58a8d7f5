// Blocking I/O helpers over any IoQpair, for tools and tests (not the perf hot path). Each submits one
// I/O with a private negative tag, polls until it completes and throws NvmeStatusError on a non-zero
// status. Other completions that arrive meanwhile go to the qpair's own onComplete.
import { native } from '../native/index.js';
import { NvmeStatusError } from '../nvme/status.js';
import { TransportError } from '../transport/errors.js';
import type { IoQpair, LbaRange } from '../transport/transport.js';

export const DEFAULT_SYNC_TIMEOUT_MS = 30_000;
const POLLIN = 1;

let nextTag = 0;

interface Waitable { waitReadable(ms: number): void }

function waitOn(qp: IoQpair, ms: number): void {
  const w = qp as Partial<Waitable>;
  if (typeof w.waitReadable === 'function') w.waitReadable(ms);
  else native.pollFd(qp.fd, POLLIN, Math.min(ms, 1));
}

/** Runs one I/O to completion; returns its raw status (0 = success). */
export function runSync(qp: IoQpair, what: string, submit: (tag: number) => boolean,
  timeoutMs = DEFAULT_SYNC_TIMEOUT_MS): number {
  nextTag = (nextTag + 1) % 0x40000000;
  const tag = -1 - nextTag;
  const prev = qp.onComplete;
  let done = false;
  let status = 0;
  qp.onComplete = (t, s) => {
    if (t === tag) { done = true; status = s; } else prev(t, s);
  };
  let restore = true;
  try {
    if (!submit(tag)) throw new TransportError(`${what}: no free command slot on qid ${qp.qid}`, 'TIMEOUT');
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      qp.processCompletions();
      if (done) return status;
      const left = deadline - performance.now();
      if (left <= 0) {
        // Keep swallowing the late completion, then hand the callback back.
        restore = false;
        qp.onComplete = (t, s) => {
          if (t === tag) qp.onComplete = prev; else prev(t, s);
        };
        throw new TransportError(`${what} on qid ${qp.qid} did not complete within ${timeoutMs} ms`, 'TIMEOUT');
      }
      waitOn(qp, Math.min(left, 1000));
    }
  } finally {
    if (restore) qp.onComplete = prev;
  }
}

function check(what: string, status: number): void {
  if (status !== 0) throw new NvmeStatusError(`${what} failed`, status, 'nvm');
}

export function readSync(qp: IoQpair, nsid: number, slba: number, nblocks: number, blockSize: number,
  buf: Uint8Array, off = 0, timeoutMs?: number): void {
  check('Read', runSync(qp, 'Read', (t) => qp.submitRead(nsid, slba, nblocks, blockSize, buf, off, t), timeoutMs));
}

export function writeSync(qp: IoQpair, nsid: number, slba: number, nblocks: number, blockSize: number,
  buf: Uint8Array, off = 0, timeoutMs?: number): void {
  check('Write', runSync(qp, 'Write', (t) => qp.submitWrite(nsid, slba, nblocks, blockSize, buf, off, t), timeoutMs));
}

export function flushSync(qp: IoQpair, nsid: number, timeoutMs?: number): void {
  check('Flush', runSync(qp, 'Flush', (t) => qp.submitFlush(nsid, t), timeoutMs));
}

export function writeZeroesSync(qp: IoQpair, nsid: number, slba: number, nblocks: number, timeoutMs?: number): void {
  check('Write Zeroes', runSync(qp, 'Write Zeroes', (t) => qp.submitWriteZeroes(nsid, slba, nblocks, t), timeoutMs));
}

export function deallocateSync(qp: IoQpair, nsid: number, ranges: ReadonlyArray<LbaRange>, timeoutMs?: number): void {
  check('Dataset Management', runSync(qp, 'Dataset Management', (t) => qp.submitDeallocate(nsid, ranges, t), timeoutMs));
}
