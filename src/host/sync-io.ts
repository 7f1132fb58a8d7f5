// Blocking I/O over any IoQpair, for tools and tests (not the perf hot path): submit one I/O and wait
// for it with the qpair's own wait (IoQpair.waitLast, the one blocking wait path). Throws
// NvmeStatusError on a non-zero status. Other completions that arrive meanwhile go to onComplete.
import { NvmeStatusError } from '../nvme/status.js';
import { TransportError } from '../transport/errors.js';
import type { IoQpair, LbaRange } from '../transport/transport.js';

export const DEFAULT_SYNC_TIMEOUT_MS = 30_000;

/** Submits one I/O (tag −1, never passed to onComplete) and waits for it; returns its raw status (0 = success). */
export function runSync(qp: IoQpair, what: string, submit: (tag: number) => boolean,
  timeoutMs = DEFAULT_SYNC_TIMEOUT_MS): number {
  if (!submit(-1)) throw new TransportError(`${what}: no free command slot on qid ${qp.qid}`, 'TIMEOUT');
  return qp.waitLast(timeoutMs).status;
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
