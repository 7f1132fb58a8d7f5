// The addon's io_uring layer (native/src/uring.c through src/native/uring.ts) and the local qpair on
// real files in a temp dir: reads of known content compared byte for byte, writes read back with
// plain fs, eventfd signalling, and the errors the kernel returns. No mocks.
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { native, POLLIN } from '../../src/native/index.js';
import { IOSQE_FIXED_FILE, UringRing } from '../../src/native/uring.js';
import { localTransport } from '../../src/transport/local/local-transport.js';
import { PollGroup } from '../../src/host/poll-group.js';
import { hint } from '../../src/transport/local/uring-qpair.js';
import { describeOpenError } from '../../src/transport/local/open-errors.js';
import type { QpairConnectParams } from '../../src/transport/transport.js';

const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-uring-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic bytes (xorshift32) so failures reproduce. */
function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; b[i] = s & 0xff; }
  return b;
}

const FILE_SIZE = 4 * 1024 * 1024;
const content = pattern(FILE_SIZE, 12345);
const file = join(dir, 'known.bin');
writeFileSync(file, content);

/** Reaps until `want` completions arrived (bounded); returns (user_data → res). */
function reapAll(ring: UringRing, want: number): Map<number, number> {
  const out = new Int32Array(3 * ring.cqEntries);
  const got = new Map<number, number>();
  const deadline = Date.now() + 10_000;
  while (got.size < want && Date.now() < deadline) {
    const n = ring.pass(out, ring.cqEntries);
    expect(n).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < n; i++) got.set(out[3 * i]!, out[3 * i + 1]!);
    if (got.size < want) ring.wait(1, 100);
  }
  return got;
}

describe('io_uring ring layer', () => {
  for (const fixed of [false, true]) {
    it(`${fixed ? 'READ_FIXED (registered buffer)' : 'READ'}: 64 O_DIRECT reads of known content in one pass, bytes compared`, () => {
      const fd = openSync(file, constants.O_RDONLY | constants.O_DIRECT);
      const ring = new UringRing(native, { entries: 64 });
      try {
        ring.registerFiles([fd]);
        const buf = new Uint8Array(native.allocAligned(64 * 8192, 4096));
        expect(ring.setBuffers([buf], fixed)).toBe(0);
        const offs: number[] = [];
        for (let i = 0; i < 64; i++) {
          const off = ((i * 7919) % (FILE_SIZE / 4096 - 2)) * 4096;
          offs.push(off);
          const len = i % 2 === 0 ? 4096 : 8192;
          ring.prepRw(false, fixed, 0, IOSQE_FIXED_FILE, off, 0, i * 8192, len, 1000 + i);
        }
        expect(ring.pending).toBe(64);
        const got = reapAll(ring, 64);
        expect(got.size).toBe(64);
        for (let i = 0; i < 64; i++) {
          const len = i % 2 === 0 ? 4096 : 8192;
          expect(got.get(1000 + i)).toBe(len);
          expect(Buffer.from(buf.subarray(i * 8192, i * 8192 + len)).equals(Buffer.from(content.subarray(offs[i]!, offs[i]! + len)))).toBe(true);
        }
      } finally { ring.close(); closeSync(fd); }
    });
  }

  it('SQPOLL: a kernel thread submits; 16 reads of known content complete, bytes compared', () => {
    const fd = openSync(file, constants.O_RDONLY | constants.O_DIRECT);
    const ring = new UringRing(native, { entries: 16, sqpoll: true, sqThreadIdleMs: 10 });
    try {
      ring.registerFiles([fd]);
      const buf = new Uint8Array(native.allocAligned(16 * 4096, 4096));
      ring.setBuffers([buf], true);
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 16; i++) ring.prepRw(false, true, 0, IOSQE_FIXED_FILE, (i * 3 + round) * 4096, 0, i * 4096, 4096, i);
        const got = reapAll(ring, 16);
        expect([...got.values()].every((r) => r === 4096)).toBe(true);
        for (let i = 0; i < 16; i++) {
          const at = (i * 3 + round) * 4096;
          expect(Buffer.from(buf.subarray(i * 4096, (i + 1) * 4096)).equals(Buffer.from(content.subarray(at, at + 4096)))).toBe(true);
        }
        // Let the SQ thread go idle (10 ms) so the second round needs the IORING_SQ_NEED_WAKEUP path.
        const until = Date.now() + 50; while (Date.now() < until) { /* wait */ }
      }
    } finally { ring.close(); closeSync(fd); }
  });

  it('WRITE then FSYNC: the bytes are in the file (read back with fs)', () => {
    const path = join(dir, 'w.bin');
    writeFileSync(path, new Uint8Array(1024 * 1024));
    const fd = openSync(path, constants.O_RDWR | constants.O_DIRECT);
    const ring = new UringRing(native, { entries: 8 });
    try {
      const buf = new Uint8Array(native.allocAligned(3 * 65536, 4096));
      buf.set(pattern(buf.length, 99));
      expect(ring.setBuffers([buf], true)).toBe(0);
      for (let i = 0; i < 3; i++) ring.prepRw(true, i !== 1, fd, 0, (1 + 4 * i) * 65536, 0, i * 65536, 65536, i);
      expect(reapAll(ring, 3)).toEqual(new Map([[0, 65536], [1, 65536], [2, 65536]]));
      ring.prepFsync(fd, 0, false, 7);
      expect(reapAll(ring, 1).get(7)).toBe(0);
      const back = readFileSync(path);
      for (let i = 0; i < 3; i++) {
        const at = (1 + 4 * i) * 65536;
        expect(back.subarray(at, at + 65536).equals(Buffer.from(buf.subarray(i * 65536, (i + 1) * 65536)))).toBe(true);
      }
      expect(back.subarray(0, 65536).every((x) => x === 0)).toBe(true);
    } finally { ring.close(); closeSync(fd); }
  });

  it('a registered eventfd becomes readable when a completion is posted (interrupt mode)', () => {
    const fd = openSync(file, constants.O_RDONLY);
    const efd = native.eventfdCreate();
    const ring = new UringRing(native, { entries: 4 });
    try {
      ring.registerEventfd(efd);
      const buf = new Uint8Array(4096);
      ring.setBuffers([buf], false);
      expect(native.pollFd(efd, POLLIN, 0)).toBe(0);
      ring.prepRw(false, false, fd, 0, 8192, 0, 0, 4096, 5);
      const out = new Int32Array(3 * ring.cqEntries);
      let n = ring.pass(out, 0); // submit only
      expect(n).toBe(0);
      expect(native.pollFd(efd, POLLIN, 5000) & POLLIN).toBe(POLLIN);
      n = ring.pass(out, ring.cqEntries);
      expect(n).toBe(1);
      expect([out[0], out[1]]).toEqual([5, 4096]);
      expect(native.eventfdRead(efd)).toBeGreaterThan(0);
      expect(native.pollFd(efd, POLLIN, 0)).toBe(0);
      expect(Buffer.from(buf).equals(Buffer.from(content.subarray(8192, 8192 + 4096)))).toBe(true);
    } finally { ring.close(); native.close(efd); closeSync(fd); }
  });

  it('a completion posted while the eventfd is muted (a NOP completes inside the submitting enter) still signals it', () => {
    const ring = new UringRing(native, { entries: 4 });
    const efd = native.eventfdCreate();
    try {
      ring.registerEventfd(efd);
      ring.prepNop(77);
      const out = new Int32Array(3 * ring.cqEntries);
      // Submit only (no room for completions): the NOP's CQE stays in the ring, so the eventfd must say so.
      expect(ring.pass(out, 0)).toBe(0);
      expect(native.pollFd(efd, POLLIN, 1000)).toBeGreaterThan(0);
      expect(ring.pass(out, ring.cqEntries)).toBe(1);
      expect([out[0], out[1]]).toEqual([77, 0]);
    } finally { ring.close(); native.close(efd); }
  });

  it('SQEs the kernel did not take (it stops a batch at an SQE it rejects) are reported and offered again on the next pass', () => {
    const ring = new UringRing(native, { entries: 8 });
    try {
      const out = new Int32Array(3 * ring.cqEntries);
      // SQE flag bit 7 is undefined: io_uring_enter fails that SQE (CQE -EINVAL) and submits nothing after it.
      ring.prepNop(1); ring.prepFsync(-1, 0x80, false, 2); ring.prepNop(3); ring.prepNop(4);
      let n = ring.pass(out, ring.cqEntries);
      expect(n).toBe(2);
      expect([...out.subarray(0, 6)]).toEqual([1, 0, 0, 2, -22, 0]);
      expect(ring.unsubmitted).toBe(2); // a caller must not sleep on the eventfd now: nothing would wake it
      n = ring.pass(out, ring.cqEntries); // nothing new prepared: the two left over go in
      expect(n).toBe(2);
      expect([out[0], out[1], out[3], out[4]]).toEqual([3, 0, 4, 0]);
      expect(ring.unsubmitted).toBe(0);
    } finally { ring.close(); }
  });

  it('completions beyond the CQ ring (overflow kept by the kernel) are all delivered', () => {
    const ring = new UringRing(native, { entries: 1 });
    try {
      const out = new Int32Array(3 * ring.cqEntries);
      const total = 4 * ring.cqEntries + 1;
      for (let i = 0; i < total; i++) {
        ring.prepNop(100 + i);
        expect(ring.pass(out, 0)).toBe(0); // submit only: the CQ ring fills, then overflows
      }
      const got: number[] = [];
      for (let k = 0; k < 4 * total && got.length < total; k++) {
        const n = ring.pass(out, ring.cqEntries);
        for (let i = 0; i < n; i++) got.push(out[3 * i]!);
      }
      expect(got).toEqual(Array.from({ length: total }, (_, i) => 100 + i));
    } finally { ring.close(); }
  });

  it('kernel errors come back as negative errno: misaligned O_DIRECT read → -EINVAL, bad buffer → -EINVAL', () => {
    const fd = openSync(file, constants.O_RDONLY | constants.O_DIRECT);
    const ring = new UringRing(native, { entries: 4 });
    try {
      const buf = new Uint8Array(native.allocAligned(8192, 4096));
      ring.setBuffers([buf], false);
      ring.prepRw(false, false, fd, 0, 100, 0, 0, 4096, 1); // offset 100: not block aligned
      expect(reapAll(ring, 1).get(1)).toBe(-22);
      const out = new Int32Array(30);
      ring.prepRw(false, false, fd, 0, 0, 0, 4096, 8192, 2); // beyond the 8 KiB buffer
      expect(ring.pass(out, 10)).toBe(-22);
      expect(() => new UringRing(native, { entries: 0 })).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'io_uring_setup' }));
    } finally { ring.close(); closeSync(fd); }
  });
});

function params(path: string, over: Partial<NonNullable<QpairConnectParams['local']>> = {}, depth = 16): QpairConnectParams {
  return {
    trtype: 'local', traddr: '', trsvcid: 0, subnqn: '', hostnqn: '', hostId: '', cntlid: 0, qid: 1, depth, kato: 0,
    hdgst: false, ddgst: false, ioccsz: 0, maxTransferBytes: 1 << 26, disableSqFlowControl: false, connectTimeoutMs: 0,
    local: { path, kind: 'file', direct: true, iopoll: false, interrupt: false, nsid: 1, blockSize: 4096, fixedBuffers: true, ...over },
  };
}

describe('local qpair (IoQpair over io_uring)', () => {
  for (const interrupt of [false, true]) {
    it(`${interrupt ? 'interrupt' : 'poll'} mode: writes then reads through submit/processCompletions, bytes compared`, () => {
      const path = join(dir, `qp-${interrupt}.bin`);
      writeFileSync(path, new Uint8Array(2 * 1024 * 1024));
      const qp = localTransport.connectQpair(params(path, { interrupt }));
      try {
        const data = qp.allocBuffer!(16 * 65536);
        const src = pattern(16 * 65536, 7);
        data.set(src);
        const done: number[] = [];
        qp.onComplete = (tag, status) => { expect(status).toBe(0); done.push(tag); };
        for (let t = 0; t < 16; t++) expect(qp.submitWrite(1, t * 16, 16, 4096, data, t * 65536, t)).toBe(true);
        expect(qp.freeSlots).toBe(0);
        expect(qp.submitWrite(1, 0, 1, 4096, data, 0, 99)).toBe(false);
        const deadline = Date.now() + 10_000;
        while (done.length < 16 && Date.now() < deadline) { qp.processCompletions(); if (done.length < 16) qp.waitReadable(100); }
        expect(done.sort((a, b) => a - b)).toEqual([...Array(16).keys()]);
        expect(Buffer.from(readFileSync(path).subarray(0, 16 * 65536)).equals(Buffer.from(src))).toBe(true);
        data.fill(0);
        done.length = 0;
        for (let t = 0; t < 16; t++) qp.submitRead(1, (15 - t) * 16, 16, 4096, data, t * 65536, t);
        while (done.length < 16 && Date.now() < deadline) { qp.processCompletions(); if (done.length < 16) qp.waitReadable(100); }
        expect(done).toHaveLength(16);
        for (let t = 0; t < 16; t++) {
          expect(Buffer.from(data.subarray(t * 65536, (t + 1) * 65536)).equals(Buffer.from(src.subarray((15 - t) * 65536, (16 - t) * 65536)))).toBe(true);
        }
        // waitLast: the last command's completion is returned, not passed to onComplete.
        qp.submitFlush(1, 42);
        expect(qp.waitLast(5000).status).toBe(0);
        expect(done).toHaveLength(16);
      } finally { qp.disconnect(); }
    });
  }

  it('interrupt mode in a PollGroup: one wake per completion batch; once reaped, the next wait sleeps (edge-triggered eventfd, muted while we reap)', () => {
    const path = join(dir, 'qp-group.bin');
    writeFileSync(path, content.subarray(0, 1024 * 1024));
    const qp = localTransport.connectQpair(params(path, { interrupt: true }));
    const group = new PollGroup();
    try {
      group.add(qp);
      const data = qp.allocBuffer!(8 * 4096);
      const done: number[] = [];
      qp.onComplete = (tag, status) => { expect(status).toBe(0); done.push(tag); };
      for (let round = 0; round < 3; round++) {
        done.length = 0;
        for (let t = 0; t < 8; t++) expect(qp.submitRead(1, round * 8 + t, 1, 4096, data, t * 4096, t)).toBe(true);
        qp.flush();
        const deadline = Date.now() + 10_000;
        while (done.length < 8 && Date.now() < deadline) {
          // A wake is for a completion: the qpair is reported ready (0 = the wait was interrupted: EINTR).
          if (group.waitForEvents(5000) > 0) expect(group.readyQpairs).toEqual([qp]);
          group.processReady();
        }
        expect(done.sort((a, b) => a - b)).toEqual([...Array(8).keys()]);
        for (let t = 0; t < 8; t++) {
          const at = (round * 8 + t) * 4096;
          expect(Buffer.from(data.subarray(t * 4096, (t + 1) * 4096)).equals(Buffer.from(content.subarray(at, at + 4096)))).toBe(true);
        }
        // Nothing in flight and the eventfd never read: a level-triggered watch would report it at once,
        // and so would the signals the kernel posts while our own enter reaps (muted during that enter).
        expect(group.waitForEvents(50)).toBe(0);
      }
    } finally { group.close(); qp.disconnect(); }
  });

  it('a read past the end of the file fails with a one-line error naming the file, offset and errno', () => {
    const path = join(dir, 'short.bin');
    writeFileSync(path, new Uint8Array(8192));
    const qp = localTransport.connectQpair(params(path, { direct: false }));
    try {
      const data = qp.allocBuffer!(4096);
      qp.onComplete = () => undefined;
      qp.submitRead(1, 0, 1, 4096, data, 0, 0);
      // Short read at EOF: reported as the NVMe status LBA Out of Range (0x80), as a controller would.
      let status = -1;
      qp.onComplete = (_t, s) => { status = s; };
      qp.submitRead(1, 5, 1, 4096, data, 0, 1);
      const deadline = Date.now() + 5000;
      while (status === -1 && Date.now() < deadline) { qp.processCompletions(); qp.waitReadable(50); }
      expect(status).toBe(0x80 << 1);
    } finally { qp.disconnect(); }
  });

  it('O_DIRECT with a misaligned offset: TransportError naming the file and the alignment rule', () => {
    const path = join(dir, 'mis.bin');
    writeFileSync(path, new Uint8Array(65536));
    const qp = localTransport.connectQpair(params(path, { blockSize: 512 }));
    try {
      const data = qp.allocBuffer!(4096);
      // 512-byte blocks on a file system whose O_DIRECT needs larger alignment succeed; a 100-byte block size never does.
      qp.submitRead(1, 1, 1, 100, data, 0, 0);
      const deadline = Date.now() + 5000;
      let err: Error | undefined;
      while (!err && Date.now() < deadline) {
        try { qp.processCompletions(); qp.waitReadable(50); } catch (e) { err = e as Error; }
      }
      expect(err?.message).toBe(`${path}: read of 100 bytes at offset 100 failed: EINVAL (O_DIRECT needs offsets, sizes and buffers aligned to the logical block size)`);
    } finally { qp.disconnect(); }
  });

  it('errno hints: what EINVAL, EOPNOTSUPP, ENOMEM mean on a local device', () => {
    expect(hint(-22, { direct: true, iopoll: false })).toBe(' (O_DIRECT needs offsets, sizes and buffers aligned to the logical block size)');
    expect(hint(-95, { direct: true, iopoll: true })).toBe(' (the device does not support polled I/O: IOPOLL needs O_DIRECT and poll queues)');
    expect(hint(-12, { direct: false, iopoll: false })).toBe(' (out of memory: locked-memory limit too low for io_uring? see ulimit -l)');
    expect(hint(-5, { direct: false, iopoll: false })).toBe(' (I/O error)');
  });

  it('open errors: one line naming the path (real ENOENT/EISDIR; EACCES/EROFS as open(2) reports them to non-root users)', () => {
    const openErr = (p: string): unknown => { try { openSync(p, constants.O_RDWR); } catch (e) { return e; } return undefined; };
    expect(describeOpenError('/nope/x', openErr('/nope/x'))).toBe('/nope/x: no such file or device');
    expect(describeOpenError(dir, openErr(dir))).toBe(`${dir}: is a directory (give a file or a block device)`);
    expect(describeOpenError('/f', Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('/f: permission denied (run as a user that may read and write it)');
    expect(describeOpenError('/f', Object.assign(new Error('x'), { code: 'EROFS' }))).toBe('/f: read-only file system (a read-write open is needed)');
  });

  it('a missing device: ConnectError naming the path', () => {
    expect(() => localTransport.connectQpair(params(join(dir, 'nope.bin')))).toThrow(`${join(dir, 'nope.bin')}: no such file or device`);
  });
});
