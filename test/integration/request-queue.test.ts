// The host's software queue (src/host/request-queue.ts) against our built-in target started with a
// small queue (--max-queue-depth 4) and a small max transfer (--max-io-size 16 KiB): more I/Os than
// the qpair has entries, I/Os split into more commands than the whole queue has, data written then
// read back and compared, per-I/O status.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/host/controller.js';
import { RequestQueue } from '../../src/host/request-queue.js';
import { parseTrid } from '../../src/host/trid.js';
import { cliEntryPath, launchBuiltinTarget, type LaunchedTarget } from '../../src/launch/builtin-target.js';
import { native } from '../../src/native/index.js';
import { describeStatus } from '../../src/nvme/status.js';
import type { IoQpair } from '../../src/transport/transport.js';

const built = existsSync(cliEntryPath());
if (!built) console.warn(`request-queue: skipped: ${cliEntryPath()} is missing (run npm run build)`);

const DEPTH = 4;
const MAX_IO = 16 * 1024;

/** Processes completions until `done()` (bounded), recording the most I/Os seen waiting. */
function run(qp: IoQpair, rq: RequestQueue, done: () => boolean): number {
  let maxWaiting = rq.waiting;
  const deadline = performance.now() + 20_000;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`stuck: ${rq.outstanding} outstanding, ${rq.waiting} waiting`);
    qp.processCompletions();
    maxWaiting = Math.max(maxWaiting, rq.waiting);
    if (!done()) qp.waitReadable(100);
  }
  return maxWaiting;
}

describe.skipIf(!built)('RequestQueue ↔ built-in target with 4 queue entries and 16 KiB MDTS', () => {
  let tgt: LaunchedTarget | undefined;
  let ctrl: Controller | undefined;

  beforeAll(async () => {
    const cpus = native.allowedCpus();
    tgt = await launchBuiltinTarget({
      namespaces: ['ram:32MiB'], reactorCores: [cpus[cpus.length - 1] ?? 0], interruptMode: true,
      extraArgs: ['--max-queue-depth', String(DEPTH), '--max-io-size', String(MAX_IO)],
    });
    ctrl = Controller.connect(parseTrid(tgt.trid));
  }, 60_000);

  afterAll(async () => {
    ctrl?.shutdown();
    await tgt?.stop();
  });

  it('keeps 32 I/Os of 64 KiB (4 commands each) outstanding on a 4-entry qpair; data round-trips in order of issue', () => {
    const c = ctrl!;
    expect(c.maxIoQueueDepth).toBe(DEPTH);
    expect(c.maxTransferBytes).toBe(MAX_IO);
    const ns = c.namespaces[0]!;
    const bs = ns.blockSize;
    const qp = c.createIoQpair(1, DEPTH);
    const n = 32, size = 64 * 1024, nb = size / bs;
    const rq = new RequestQueue(qp, n);
    const data = randomBytes(n * size);
    const order: number[] = [];
    const statuses: number[] = [];
    rq.onComplete = (tag, st) => { order.push(tag); statuses.push(st); };
    for (let i = 0; i < n; i++) rq.submitWrite(ns.nsid, i * nb, nb, bs, data, i * size, i);
    expect(rq.outstanding).toBe(n);
    expect(qp.outstanding).toBe(DEPTH);
    expect(run(qp, rq, () => order.length === n)).toBe(n - 1);
    expect(statuses.every((s) => s === 0)).toBe(true);
    // One command per slot, FIFO: the I/Os finish in the order they were issued.
    expect(order).toEqual([...Array(n).keys()]);

    const back = new Uint8Array(n * size);
    order.length = 0;
    // Read back in reverse order of the LBAs, each into its own place.
    for (let i = 0; i < n; i++) rq.submitRead(ns.nsid, (n - 1 - i) * nb, nb, bs, back, (n - 1 - i) * size, i);
    run(qp, rq, () => order.length === n);
    expect(Buffer.compare(Buffer.from(back), data)).toBe(0);
    expect(rq.outstanding).toBe(0);
    expect(rq.waiting).toBe(0);
  });

  it('submits an I/O needing 64 commands (1 MiB at 16 KiB MDTS) child by child through 4 entries', () => {
    const c = ctrl!;
    const ns = c.namespaces[0]!;
    const bs = ns.blockSize;
    const qp = c.createIoQpair(2, DEPTH);
    const rq = new RequestQueue(qp, 3);
    const size = 1 << 20, nb = size / bs;
    const data = randomBytes(size);
    const done: Array<[number, number]> = [];
    rq.onComplete = (tag, st) => { done.push([tag, st]); };
    rq.submitWrite(ns.nsid, 4096, nb, bs, data, 0, 0);
    expect(qp.outstanding).toBe(DEPTH);
    expect(rq.waiting).toBe(1);
    run(qp, rq, () => done.length === 1);
    const back = new Uint8Array(size);
    rq.submitRead(ns.nsid, 4096, nb, bs, back, 0, 1);
    // A second I/O right behind it waits until the first one's commands are all submitted.
    const small = new Uint8Array(bs);
    rq.submitRead(ns.nsid, 4096, 1, bs, small, 0, 2);
    expect(rq.waiting).toBe(2);
    run(qp, rq, () => done.length === 3);
    expect(done.slice(1)).toEqual([[1, 0], [2, 0]]);
    expect(Buffer.compare(Buffer.from(back), data)).toBe(0);
    expect(Buffer.compare(Buffer.from(small), data.subarray(0, bs))).toBe(0);
  });

  it('reports the first error status of a split I/O once, after all of its commands finished; bad tags are refused', () => {
    const c = ctrl!;
    const ns = c.namespaces[0]!;
    const bs = ns.blockSize;
    const qp = c.createIoQpair(3, DEPTH);
    const rq = new RequestQueue(qp, 2);
    const done: Array<[number, number]> = [];
    rq.onComplete = (tag, st) => { done.push([tag, st]); };
    // 128 KiB ending 8 blocks past the namespace: the last of its 8 commands fails with LBA Out of Range.
    const nb = (128 * 1024) / bs;
    const buf = new Uint8Array(nb * bs);
    rq.submitRead(ns.nsid, ns.sizeBlocks - nb + 8, nb, bs, buf, 0, 1);
    expect(() => rq.submitRead(ns.nsid, 0, 1, bs, buf, 0, 1)).toThrow('tag 1 is outside 0..1 or still in use');
    expect(() => rq.submitRead(ns.nsid, 0, 1, bs, buf, 0, 2)).toThrow('tag 2 is outside 0..1 or still in use');
    expect(() => rq.submitRead(ns.nsid, 0, nb + 1, bs, buf, 0, 0)).toThrow(/does not fit a 131072-byte buffer/);
    run(qp, rq, () => done.length === 1);
    expect(done).toHaveLength(1);
    expect(done[0]![0]).toBe(1);
    expect(describeStatus(done[0]![1], 'nvm')).toBe('LBA Out of Range (sct 0, sc 0x80)');
    expect(qp.outstanding).toBe(0);
  });
});
