// Tests of the nvmf_native addon through its typed wrapper: real sockets on 127.0.0.1, real epoll,
// eventfd, threads and the libuv loop. No mocks.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EAGAIN,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  errnoName,
  native,
  POLLIN,
  POLLOUT,
} from '../../src/native/index.js';

const ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/nvmf_native.node', import.meta.url));

// ---------------------------------------------------------------- helpers

/** Deterministic PRNG (xorshift32) so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function randomBytes(n: number, seed: number): Uint8Array {
  const next = prng(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = next() & 0xff;
  return b;
}

/** Bitwise CRC32C reference: reflected poly 0x82F63B78, init/xorout 0xFFFFFFFF. */
function crc32cRef(buf: Uint8Array, off: number, len: number): number {
  let c = 0xffffffff;
  for (let i = off; i < off + len; i++) {
    c ^= buf[i]!;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0x82f63b78 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

const openFds = new Set<number>();
function track(fd: number): number {
  openFds.add(fd);
  return fd;
}
function closeFd(fd: number): void {
  openFds.delete(fd);
  native.close(fd);
}
afterEach(() => {
  for (const fd of openFds) {
    try {
      native.close(fd);
    } catch {
      /* already closed by the test */
    }
  }
  openFds.clear();
});

function acceptOne(listenFd: number): number {
  for (let i = 0; i < 50; i++) {
    if (native.pollFd(listenFd, POLLIN, 100) & POLLIN) {
      const fd = native.accept(listenFd);
      if (fd >= 0) return track(fd);
    }
  }
  throw new Error('accept timed out');
}

/** Listening socket on 127.0.0.1 + connected client + accepted server side. */
function tcpPair(): { listenFd: number; port: number; client: number; server: number } {
  const listenFd = track(native.tcpListen('127.0.0.1', 0, 16));
  const port = native.localPort(listenFd);
  const client = track(native.tcpConnect('127.0.0.1', port, 2000));
  const server = acceptOne(listenFd);
  return { listenFd, port, client, server };
}

function recvExact(fd: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let got = 0;
  const deadline = Date.now() + 5000;
  while (got < n) {
    if (Date.now() > deadline) throw new Error(`recvExact: got ${got} of ${n}`);
    const r = native.recv(fd, out, got, n - got);
    if (r === EAGAIN) {
      native.pollFd(fd, POLLIN, 100);
      continue;
    }
    if (r <= 0) throw new Error(`recv returned ${r} (${errnoName(r)})`);
    got += r;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function runWorker(code: string): Promise<{ messages: unknown[]; exitCode: number }> {
  return new Promise((resolve, reject) => {
    const messages: unknown[] = [];
    const w = new Worker(code, { eval: true, workerData: { addonPath: ADDON_PATH } });
    w.on('message', (m: unknown) => messages.push(m));
    w.on('error', reject);
    w.on('exit', (exitCode) => resolve({ messages, exitCode }));
  });
}

function runNode(code: string, env: Record<string, string> = {}, input?: Uint8Array, timeoutMs = 10_000) {
  return spawnSync(process.execPath, ['-e', code], {
    env: { ...process.env, ...env, ADDON_PATH },
    input,
    timeout: timeoutMs,
    encoding: 'utf8',
  });
}

// ---------------------------------------------------------------- crc32c

describe('crc32c', () => {
  it('crc32cv over segments equals crc32c over their concatenation', () => {
    const a = randomBytes(5000, 21), b = randomBytes(70_000, 22);
    const whole = new Uint8Array(3 + 4096 + 65_000);
    whole.set(a.subarray(7, 10), 0);
    whole.set(b.subarray(100, 4196), 3);
    whole.set(a.subarray(0, 0), 0);
    whole.set(b.subarray(5000, 70_000), 4099);
    const desc = new Float64Array([0, 0, 7, 3, 100, 4096, 0, 0, 5000, 65_000]);
    const bufs = [b, a, b, a, b];
    expect(native.crc32cv(bufs, desc, 1, 4)).toBe(native.crc32c(whole, 0, whole.length));
    expect(native.crc32cv(bufs, desc, 0, 0)).toBe(0);
    // continues from a seed like crc32c
    const head = native.crc32c(whole, 0, 3);
    expect(native.crc32cv(bufs, desc, 2, 3, head)).toBe(native.crc32c(whole, 0, whole.length));
  });

  it('matches the known vectors', () => {
    const ascii = new TextEncoder().encode('123456789');
    expect(native.crc32c(ascii, 0, ascii.length)).toBe(0xe3069283);
    expect(native.crc32c(new Uint8Array(32), 0, 32)).toBe(0x8a9136aa);
    expect(native.crc32c(new Uint8Array(32).fill(0xff), 0, 32)).toBe(0x62a8ab43);
    expect(native.crc32c(new Uint8Array(0), 0, 0)).toBe(0);
    // Buffer is a Uint8Array too.
    expect(native.crc32c(Buffer.from('xx123456789'), 2, 9)).toBe(0xe3069283);
  });

  it('returns unsigned values and accepts a signed seed', () => {
    const b = randomBytes(64, 7);
    const crc = native.crc32c(b, 0, 10);
    expect(crc).toBeGreaterThanOrEqual(0);
    expect(crc).toBeLessThanOrEqual(0xffffffff);
    expect(native.crc32c(b, 10, 54, crc | 0)).toBe(native.crc32c(b, 0, 64));
  });

  it('agrees with a bitwise reference and chains with seed, for lengths 0..5000 and large buffers', () => {
    const buf = randomBytes(110_016, 12345);
    const next = prng(99);
    const lengths: number[] = [];
    for (let n = 0; n <= 80; n++) lengths.push(n);
    for (const n of [255, 256, 257, 767, 768, 769, 1023, 1024, 1025, 2047, 4095, 4096, 4097, 5000]) lengths.push(n);
    for (let i = 0; i < 60; i++) lengths.push(next() % 5001);
    // 3-way interleaved paths: 3*256 and 3*8192 byte blocks and their edges; the carry-less multiply
    // folding from 512 bytes on (128 bytes a step) and its edges.
    for (const n of [24_575, 24_576, 24_577, 49_160, 100_003, 511, 512, 513, 639, 640, 641, 767]) lengths.push(n);
    // Hybrid chunks of 10,752 bytes (folding and three crc32 streams side by side) and their edges.
    for (const n of [10_751, 10_752, 10_753, 11_264, 21_504, 21_505, 32_767, 65_536, 108_000]) lengths.push(n);
    for (const len of lengths) {
      const off = next() % 16;
      const whole = native.crc32c(buf, off, len);
      expect(whole, `len ${len} off ${off}`).toBe(crc32cRef(buf, off, len));
      for (const k of [0, len >> 1, next() % (len + 1), len]) {
        const first = native.crc32c(buf, off, k);
        expect(native.crc32c(buf, off + k, len - k, first), `len ${len} split ${k}`).toBe(whole);
      }
    }
    // seed undefined behaves as 0
    expect(native.crc32c(buf, 3, 100, undefined)).toBe(native.crc32c(buf, 3, 100));
  });

  // Each slower implementation, forced at first load, gives the same results as the reference.
  const IMPLS = ['table', 'sse4.2', 'vpclmul', 'hybrid'];
  for (const [force, impl] of [['table', 'table'], ['sse42', 'sse4.2'], ['vpclmul', 'vpclmul']] as const) {
    it(`NVMF_NATIVE_CRC32C=${force}: the ${impl} path (where the CPU has it) gives the same results`, () => {
      const buf = randomBytes(140_000, 4242);
      const cases = [
        [0, 0], [1, 9], [3, 24], [5, 1000], [7, 4096], [1, 30_000], [0, 60_000],
        [0, 511], [3, 512], [1, 640], [9, 131_072], [2, 131_075],
      ] as const;
      const code = `
        const n = require(process.env.ADDON_PATH);
        const buf = new Uint8Array(require('fs').readFileSync(0));
        const cases = ${JSON.stringify(cases)};
        console.log(JSON.stringify({ impl: n.crc32cImpl, crcs: cases.map(([o, l]) => n.crc32c(buf, o, l)) }));`;
      const r = runNode(code, { NVMF_NATIVE_CRC32C: force }, buf);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as { impl: string; crcs: number[] };
      // Forcing never picks a faster path than the CPU allows (this process's default shows what it allows).
      expect(out.impl).toBe(IMPLS[Math.min(IMPLS.indexOf(impl), IMPLS.indexOf(native.crc32cImpl))]);
      expect(out.crcs).toEqual(cases.map(([o, l]) => crc32cRef(buf, o, l)));
    });
  }

  it('checks bounds and types', () => {
    const b = new Uint8Array(16);
    expect(() => native.crc32c(b, 8, 9)).toThrow(RangeError);
    expect(() => native.crc32c(b, -1, 1)).toThrow(RangeError);
    expect(() => native.crc32c(b, 0.5, 1)).toThrow(RangeError);
    // The messages name the argument (built only when the check fails).
    expect(() => native.crc32c(b, -1, 1)).toThrow('buf offset must be a non-negative integer');
    expect(() => native.crc32c(b, 0, 'x' as unknown as number)).toThrow('buf length must be a number');
    expect(() => native.copy(b, 0, b, 2.5, 1)).toThrow('src offset must be a non-negative integer');
    expect(() => native.crc32c(new Uint32Array(4) as unknown as Uint8Array, 0, 4)).toThrow(TypeError);
    expect(() => native.crc32c([1, 2, 3] as unknown as Uint8Array, 0, 3)).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------- TCP

describe('tcp', () => {
  it('connects, accepts and moves bytes with send and recv', () => {
    const { client, server } = tcpPair();
    expect(native.peerAddress(server)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(native.peerAddress(client)).toMatch(/^127\.0\.0\.1:\d+$/);

    // nothing pending yet
    const rbuf = new Uint8Array(64);
    expect(native.recv(server, rbuf, 0, 64)).toBe(EAGAIN);
    expect(errnoName(EAGAIN)).toBe('EAGAIN');

    // send() from the middle of a buffer
    const payload = randomBytes(1000, 1);
    expect(native.send(client, payload, 100, 500)).toBe(500);
    expect(recvExact(server, 500)).toEqual(payload.subarray(100, 600));

    expect(native.recv(client, rbuf, 0, 64)).toBe(EAGAIN);
  });

  it('notSentLowat sets TCP_NOTSENT_LOWAT and reads it back; 0 only reads; a negative size is refused', () => {
    const { client } = tcpPair();
    const unlimited = native.notSentLowat(client, 0); // net.ipv4.tcp_notsent_lowat (default: no limit)
    expect(native.notSentLowat(client, 16384)).toBe(unlimited);
    expect(native.notSentLowat(client, 0)).toBe(16384);
    expect(native.notSentLowat(client, 65536)).toBe(16384);
    expect(native.notSentLowat(client, 0)).toBe(65536);
    expect(() => native.notSentLowat(client, -1)).toThrow('bytes must be >= 0');
    expect(() => native.notSentLowat(-1, 0)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('sendv sends N segments from several buffers in one call and resumes at any byte', () => {
    const { client, server } = tcpPair();
    const a = randomBytes(300, 11), b = randomBytes(200_000, 12), c = randomBytes(50, 13);
    const bufs: Uint8Array[] = [a, b, a, c];
    const desc = new Float64Array([10, 24, 1000, 150_000, 200, 0, 0, 50]);
    const expected = new Uint8Array(24 + 150_000 + 50);
    expected.set(a.subarray(10, 34), 0);
    expected.set(b.subarray(1000, 151_000), 24);
    expected.set(c, 24 + 150_000);
    // Send from segment 0, then resume the remainder by trimming the segment the kernel stopped in.
    let first = 0, sent = 0;
    const got: Uint8Array[] = [];
    let received = 0;
    for (let i = 0; i < 1000 && first < 4; i++) {
      const n = native.sendv(client, bufs, desc, first, 4 - first);
      if (n === EAGAIN) {
        const r = new Uint8Array(65536);
        const m = native.recv(server, r, 0, r.length);
        if (m > 0) { got.push(r.subarray(0, m)); received += m; }
        continue;
      }
      expect(n).toBeGreaterThan(0);
      sent += n;
      let left = n;
      while (first < 4 && left >= desc[2 * first + 1]!) { left -= desc[2 * first + 1]!; first++; }
      if (first < 4) { desc[2 * first] = desc[2 * first]! + left; desc[2 * first + 1] = desc[2 * first + 1]! - left; }
    }
    expect(sent).toBe(expected.length);
    const rest = recvExact(server, expected.length - received);
    const all = new Uint8Array(expected.length);
    let o = 0;
    for (const g of got) { all.set(g, o); o += g.length; }
    all.set(rest, o);
    expect(all).toEqual(expected);
  });

  it('sendv and crc32cv check their segments', () => {
    const { client } = tcpPair();
    const b = new Uint8Array(10);
    expect(() => native.sendv(client, [b], new Float64Array([5, 6]), 0, 1)).toThrow(RangeError);
    expect(() => native.sendv(client, [b], new Float64Array([0, 10]), 0, 2)).toThrow(RangeError);
    expect(() => native.sendv(client, [null], new Float64Array([0, 1]), 0, 1)).toThrow(TypeError);
    expect(() => native.sendv(client, [b], new Int32Array([0, 1]) as unknown as Float64Array, 0, 1)).toThrow(TypeError);
    expect(() => native.crc32cv([b], new Float64Array([0, 11]), 0, 1)).toThrow(RangeError);
    expect(native.sendv(client, [b, b], new Float64Array([0, 4, 4, 6]), 0, 2)).toBe(10);
  });

  it('recv returns 0 after the peer closes, and send to a closed peer returns -errno (no SIGPIPE)', () => {
    const { client, server } = tcpPair();
    closeFd(client);
    expect(native.pollFd(server, POLLIN, 2000) & POLLIN).toBe(POLLIN);
    const rbuf = new Uint8Array(16);
    expect(native.recv(server, rbuf, 0, 16)).toBe(0);

    const chunk = new Uint8Array(4096);
    let r = 0;
    for (let i = 0; i < 200; i++) {
      r = native.send(server, chunk, 0, chunk.length);
      if (r < 0 && r !== EAGAIN) break;
      native.pollFd(server, POLLIN, 10);
    }
    expect(r).toBeLessThan(0);
    expect(['EPIPE', 'ECONNRESET']).toContain(errnoName(r));
    // sendv reports the same way
    const r2 = native.sendv(server, [chunk, chunk], new Float64Array([0, 10, 0, 10]), 0, 2);
    expect(['EPIPE', 'ECONNRESET']).toContain(errnoName(r2));
  });

  it('tcpConnect to a port where nothing listens throws ECONNREFUSED', () => {
    const l = native.tcpListen('127.0.0.1', 0, 1);
    const port = native.localPort(l);
    native.close(l);
    let err: unknown;
    try {
      native.tcpConnect('127.0.0.1', port, 2000);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect((err as Error).message).toBe(`connect 127.0.0.1:${port}: Connection refused`);
    expect((err as NodeJS.ErrnoException).errno).toBe(-111);
  });

  it('tcpListen on a busy port throws EADDRINUSE; bad addresses throw EINVAL', () => {
    const l = track(native.tcpListen('127.0.0.1', 0, 4));
    const port = native.localPort(l);
    expect(port).toBeGreaterThan(0);
    expect(() => native.tcpListen('127.0.0.1', port, 4)).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE', message: `listen 127.0.0.1:${port}: Address already in use` }),
    );
    expect(() => native.tcpConnect('not-an-ip', port, 100)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => native.tcpListen('127.0.0.1', 70_000, 4)).toThrow(RangeError);
  });

  it('accept returns -1 when nothing is pending; close throws EBADF on a double close', () => {
    const l = native.tcpListen('127.0.0.1', 0, 4);
    expect(native.accept(l)).toBe(-1);
    native.close(l);
    expect(() => native.close(l)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    // shutdown ignores errors
    expect(() => native.shutdown(l)).not.toThrow();
    // hot-path calls return -EBADF instead of throwing
    expect(errnoName(native.recv(l, new Uint8Array(4), 0, 4))).toBe('EBADF');
  });

  it('setSocketBuffers sets SO_SNDBUF/SO_RCVBUF and throws on a bad fd', () => {
    const { client } = tcpPair();
    expect(() => native.setSocketBuffers(client, 256 * 1024, 0)).not.toThrow();
    expect(() => native.setSocketBuffers(client, 0, 256 * 1024)).not.toThrow();
    expect(() => native.setSocketBuffers(-1, 4096, 4096)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('checks bounds of send and recv', () => {
    const { client } = tcpPair();
    const b = new Uint8Array(10);
    expect(() => native.send(client, b, 5, 6)).toThrow(RangeError);
    expect(() => native.send(client, b, 11, 0)).toThrow(RangeError);
    expect(() => native.send(client, b, 0, -1)).toThrow(RangeError);
    expect(() => native.recv(client, b, 0, 11)).toThrow(RangeError);
    expect(() => native.send(client, 'abc' as unknown as Uint8Array, 0, 1)).toThrow(TypeError);
    // a subarray's bounds are its own, not its backing buffer's
    const sub = new Uint8Array(100).subarray(10, 20);
    expect(() => native.send(client, sub, 0, 11)).toThrow(RangeError);
    expect(native.send(client, sub, 0, 10)).toBe(10);
  });
});

// ---------------------------------------------------------------- epoll / eventfd

describe('epoll and eventfd', () => {
  it('reports a socket becoming readable with its tag', () => {
    const { client, server } = tcpPair();
    const ep = track(native.epollCreate());
    native.epollCtl(ep, EPOLL_CTL_ADD, server, EPOLLIN | EPOLLRDHUP, 0xdeadbeef);
    const out = new Int32Array(16);
    expect(native.epollWait(ep, out, 0)).toBe(0);

    native.send(client, new Uint8Array([1, 2, 3]), 0, 3);
    const n = native.epollWait(ep, out, 2000);
    expect(n).toBe(1);
    expect(out[0]! >>> 0).toBe(0xdeadbeef);
    expect(out[1]! & EPOLLIN).toBe(EPOLLIN);

    native.epollCtl(ep, EPOLL_CTL_DEL, server, 0, 0);
    expect(native.epollWait(ep, out, 0)).toBe(0);
    expect(() => native.epollCtl(ep, EPOLL_CTL_DEL, server, 0, 0)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => native.epollWait(ep, new Int32Array(1), 0)).toThrow(RangeError);
  });

  it('reports EPOLLOUT and an edge-triggered tag with the high bit set', () => {
    const { client } = tcpPair();
    const ep = track(native.epollCreate());
    native.epollCtl(ep, EPOLL_CTL_ADD, client, EPOLLOUT | 0x80000000, 7);
    const out = new Int32Array(4);
    expect(native.epollWait(ep, out, 1000)).toBe(1);
    expect(out[0]).toBe(7);
    expect(out[1]! & EPOLLOUT).toBe(EPOLLOUT);
    // edge-triggered: no new edge, no event
    expect(native.epollWait(ep, out, 0)).toBe(0);
  });

  it('eventfd counts, reads back 0 when empty, and wakes epollWait', () => {
    const efd = track(native.eventfdCreate());
    expect(native.eventfdRead(efd)).toBe(0);
    native.eventfdWrite(efd, 3);
    expect(native.eventfdRead(efd)).toBe(3);
    expect(native.eventfdRead(efd)).toBe(0);

    const ep = track(native.epollCreate());
    native.epollCtl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 42);
    const out = new Int32Array(8);
    expect(native.epollWait(ep, out, 0)).toBe(0);
    native.eventfdWrite(efd, 1);
    native.eventfdWrite(efd, 1);
    expect(native.epollWait(ep, out, 1000)).toBe(1);
    expect(out[0]).toBe(42);
    expect(out[1]! & EPOLLIN).toBe(EPOLLIN);
    expect(native.eventfdRead(efd)).toBe(2);
  });

  it('a fractional timeout sleeps (sub-millisecond epoll_pwait2) instead of rounding down to a spin', () => {
    const ep = native.epollCreate();
    try {
      const out = new Int32Array(8);
      const t0 = native.monoNs();
      for (let i = 0; i < 20; i++) expect(native.epollWait(ep, out, 0.3)).toBe(0);
      // 20 × 0.3 ms: a timeout rounded down to 0 would return at once.
      expect(native.monoNs() - t0).toBeGreaterThan(20 * 0.25e6);
    } finally {
      native.close(ep);
    }
  });

  it('an eventfd written from a worker thread wakes a blocking epollWait', async () => {
    const efd = track(native.eventfdCreate());
    const ep = track(native.epollCreate());
    native.epollCtl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 5);
    const w = new Worker(
      `const { workerData } = require('worker_threads');
       const n = require(workerData.addonPath);
       setTimeout(() => n.eventfdWrite(workerData.efd, 9), 50);`,
      { eval: true, workerData: { addonPath: ADDON_PATH, efd } },
    );
    const exited = new Promise((resolve) => w.on('exit', resolve));
    const out = new Int32Array(2);
    const n = native.epollWait(ep, out, 5000); // blocks this thread; the worker runs on its own
    expect(n).toBe(1); // woken by the eventfd, not timed out (0)
    expect(out[0]).toBe(5);
    expect(native.eventfdRead(efd)).toBe(9);
    await exited;
  });
});

// ---------------------------------------------------------------- threads and clocks

describe('threads and clocks', () => {
  it('pins a (worker) thread to an allowed CPU and rejects CPU 9999', async () => {
    const cpus = native.allowedCpus();
    expect(cpus.length).toBeGreaterThan(0);
    expect([...cpus].sort((a, b) => a - b)).toEqual(cpus);
    // pinning happens in a worker so the test runner's own thread keeps its affinity
    const { messages, exitCode } = await runWorker(`
      const { workerData, parentPort } = require('worker_threads');
      const n = require(workerData.addonPath);
      const cpu = n.allowedCpus()[0];
      n.pinThread(cpu);
      let after = [];
      for (let i = 0; i < 20; i++) after.push(n.currentCpu());
      let err = null;
      try { n.pinThread(9999); } catch (e) { err = { code: e.code, message: e.message }; }
      parentPort.postMessage({ cpu, after, tid: n.gettid(), allowed: n.allowedCpus(), err });`);
    expect(exitCode).toBe(0);
    const m = messages[0] as {
      cpu: number;
      after: number[];
      tid: number;
      allowed: number[];
      err: { code: string; message: string } | null;
    };
    expect(m.cpu).toBe(cpus[0]);
    expect(new Set(m.after)).toEqual(new Set([m.cpu]));
    expect(m.tid).not.toBe(native.gettid());
    expect(m.allowed).toEqual(cpus); // a pinned thread does not shrink the process's set
    expect(m.err).toEqual({ code: 'EINVAL', message: 'cannot pin to CPU 9999: Invalid argument' });

    expect(() => native.pinThread(9999)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => native.pinThread(-1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(cpus).toContain(native.currentCpu());
  });

  it('timerSlackNs sets the calling thread\'s timer slack (read back from /proc), 0 only reads it', async () => {
    // In a worker, so the test runner's own thread keeps its slack.
    const { messages, exitCode } = await runWorker(`
      const { workerData, parentPort } = require('worker_threads');
      const fs = require('fs');
      const n = require(workerData.addonPath);
      const tid = n.gettid();
      const proc = () => Number(fs.readFileSync('/proc/' + tid + '/timerslack_ns', 'utf8'));
      const before = proc();
      const prevA = n.timerSlackNs(1000);
      const afterSet = proc();
      const prevB = n.timerSlackNs(0);
      const afterRead = proc();
      let err = null;
      try { n.timerSlackNs(-1); } catch (e) { err = e.message; }
      parentPort.postMessage({ before, prevA, afterSet, prevB, afterRead, err });`);
    expect(exitCode).toBe(0);
    const m = messages[0] as Record<string, number | string | null>;
    expect(m.prevA).toBe(m.before);
    expect(m.afterSet).toBe(1000);
    expect(m.prevB).toBe(1000);
    expect(m.afterRead).toBe(1000);
    expect(m.err).toBe('ns must be a non-negative integer');
    // The runner's thread is untouched.
    expect(Number(readFileSync(`/proc/${native.gettid()}/timerslack_ns`, 'utf8'))).toBe(m.before);
  });

  it('monoNs increases; thread and process CPU clocks grow with work', () => {
    const a = native.monoNs();
    const b = native.monoNs();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Number.isInteger(a)).toBe(true);
    const t0 = native.threadCpuNs();
    const p0 = native.processCpuNs();
    // Spin until this thread has used 20 ms of CPU (wall time may be longer on a loaded machine).
    const giveUp = native.monoNs() + 5e9;
    let x = 0;
    let dt = 0;
    while ((dt = native.threadCpuNs() - t0) < 20e6 && native.monoNs() < giveUp) x += Math.sqrt(x + 1);
    const wall = native.monoNs() - a;
    expect(x).toBeGreaterThan(0);
    expect(dt).toBeGreaterThanOrEqual(20e6);
    expect(wall).toBeGreaterThanOrEqual(dt * 0.95); // a thread cannot use more CPU than wall time
    expect(native.processCpuNs() - p0).toBeGreaterThanOrEqual(dt * 0.9);
  });

  it('monoClock writes CLOCK_MONOTONIC into its own thread\'s clock cell, which every monoClockCell() of that thread views', async () => {
    const mine = native.monoClockCell();
    const before = mine[0]!;
    const { messages, exitCode } = await runWorker(`
      const { workerData, parentPort } = require('worker_threads');
      const n = require(workerData.addonPath);
      const a = n.monoClockCell(), b = n.monoClockCell();
      const t0 = n.monoNs(); n.monoClock(); const va = a[0], vb = b[0]; const t1 = n.monoNs();
      parentPort.postMessage({ isF64: a instanceof Float64Array, len: a.length, t0, va, vb, t1, tid: n.gettid() });`);
    expect(exitCode).toBe(0);
    const m = messages[0] as Record<string, number | boolean>;
    expect(m.isF64).toBe(true);
    expect(m.len).toBe(1);
    expect(m.va as number).toBeGreaterThanOrEqual(m.t0 as number);
    expect(m.va as number).toBeLessThanOrEqual(m.t1 as number);
    expect(m.vb).toBe(m.va);
    // The runner thread's cell is its own: the worker's clock reads never reached it.
    expect(mine[0]).toBe(before);
    expect(before).toBeLessThan(m.t0 as number);
    const t0 = native.monoNs();
    native.monoClock();
    expect(mine[0]).toBeGreaterThanOrEqual(t0);
    expect(mine[0]).toBeLessThanOrEqual(native.monoNs());
  });

  it('threadCpuNsOf reads this and other threads of the process; -1 once gone', async () => {
    const mine = native.gettid();
    expect(mine).toBeGreaterThan(0);
    expect(native.threadCpuNsOf(mine)).toBeGreaterThanOrEqual(0);
    expect(native.threadCpuNsOf(0)).toBe(-1);
    const { messages } = await runWorker(`
      const { workerData, parentPort } = require('worker_threads');
      const n = require(workerData.addonPath);
      const end = n.monoNs() + 50e6; let x = 0;
      while (n.monoNs() < end) x += Math.sqrt(x + 1);
      parentPort.postMessage({ tid: n.gettid(), own: n.threadCpuNsOf(n.gettid()) });`);
    const m = messages[0] as { tid: number; own: number };
    expect(m.own).toBeGreaterThan(0);
    // after the worker's thread has exited its /proc entry is gone (give the kernel a moment)
    let v = native.threadCpuNsOf(m.tid);
    for (let i = 0; i < 100 && v !== -1; i++) {
      await sleep(20);
      v = native.threadCpuNsOf(m.tid);
    }
    expect(v).toBe(-1);
  });
});

// ---------------------------------------------------------------- watchFd

describe('watchFd', () => {
  it('calls back when a socket becomes readable; close() stops it', async () => {
    const { client, server } = tcpPair();
    const seen: number[] = [];
    let wake: ((ev: number) => void) | undefined;
    const w = native.watchFd(server, 1, (ev) => {
      seen.push(ev);
      // drain so level-triggered polling does not repeat
      const b = new Uint8Array(64);
      while (native.recv(server, b, 0, 64) > 0);
      wake?.(ev);
    });
    const first = new Promise<number>((resolve) => (wake = resolve));
    native.send(client, new Uint8Array([9]), 0, 1);
    expect(await first).toBe(1);
    expect(seen).toEqual([1]);

    w.close();
    w.close(); // twice is fine
    native.send(client, new Uint8Array([9]), 0, 1);
    await sleep(100);
    expect(seen).toEqual([1]);
    expect(native.pollFd(server, POLLIN, 0) & POLLIN).toBe(POLLIN); // data is there, nobody was called
    expect(() => w.ref()).not.toThrow();
    expect(() => w.unref()).not.toThrow();
  });

  it('reports writability, can close from inside the callback, and can watch again afterwards', async () => {
    const { client } = tcpPair();
    let calls = 0;
    const done = new Promise<number>((resolve) => {
      const w = native.watchFd(client, 4, (ev) => {
        calls++;
        w.close();
        resolve(ev);
      });
    });
    expect(await done).toBe(4);
    await sleep(50);
    expect(calls).toBe(1);
    // the same fd can be watched again once the previous watch is closed
    const again = await new Promise<number>((resolve) => {
      const w2 = native.watchFd(client, 5, (ev) => {
        w2.close();
        resolve(ev);
      });
    });
    expect(again & 4).toBe(4);
  });

  it('rejects bad arguments', () => {
    expect(() => native.watchFd(0, 2, () => {})).toThrow(RangeError);
    expect(() => native.watchFd(0, 1, null as unknown as () => void)).toThrow(TypeError);
    expect(() => native.watchFd(-1, 1, () => {})).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('works in worker threads, including watches still open when the worker ends', async () => {
    const { messages, exitCode } = await runWorker(`
      const { workerData, parentPort } = require('worker_threads');
      const n = require(workerData.addonPath);
      const l = n.tcpListen('127.0.0.1', 0, 4);
      const c = n.tcpConnect('127.0.0.1', n.localPort(l), 1000);
      const w = n.watchFd(l, 1, (ev) => {
        const s = n.accept(l);
        // leave this watch (and a second, unref'd one) open: env teardown must close them
        const w2 = n.watchFd(s, 1, () => {});
        w2.unref();
        w.unref();
        parentPort.postMessage({ ev, accepted: s >= 0, fds: [l, c, s] });
      });`);
    expect(exitCode).toBe(0);
    expect(messages).toEqual([{ ev: 1, accepted: true, fds: expect.any(Array) }]);
    // fds belong to the process: the worker's watches are gone, so they close cleanly here
    for (const fd of (messages[0] as { fds: number[] }).fds) native.close(fd);

    // terminate() while a referenced watch keeps the worker's loop alive
    const w = new Worker(
      `const { workerData, parentPort } = require('worker_threads');
       const n = require(workerData.addonPath);
       const e = n.eventfdCreate();
       n.watchFd(e, 1, () => {});
       parentPort.postMessage(e);`,
      { eval: true, workerData: { addonPath: ADDON_PATH } },
    );
    const efd = await new Promise<number>((resolve) => w.once('message', resolve));
    await w.terminate();
    native.close(efd);
  });

  it('keeps the process alive unless unref()ed, and routes callback exceptions to uncaughtException', () => {
    const prelude = `const n = require(process.env.ADDON_PATH);
      const l = n.tcpListen('127.0.0.1', 0, 4);`;
    const unrefd = runNode(`${prelude} n.watchFd(l, 1, () => {}).unref(); console.log('ok');`);
    expect(unrefd.status).toBe(0);
    expect(unrefd.stdout.trim()).toBe('ok');

    const refd = runNode(`${prelude} n.watchFd(l, 1, () => {}); console.log('ok');`, {}, undefined, 3000);
    expect(refd.stdout.trim()).toBe('ok');
    expect(refd.signal).toBe('SIGTERM'); // still running when the timeout hit

    const throwing = runNode(`${prelude}
      process.on('uncaughtException', (e) => { console.log('caught ' + e.message); process.exit(0); });
      n.watchFd(l, 1, () => { Promise.resolve().then(() => console.log('microtask')); throw new Error('boom'); });
      n.tcpConnect('127.0.0.1', n.localPort(l), 1000);`);
    expect(throwing.status).toBe(0);
    expect(throwing.stdout).toContain('caught boom');
  });
});

describe('pread and pwrite', () => {
  it('write at an offset, read back, end of file, and errors as -errno', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvmf-native-file-'));
    const path = join(dir, 'f');
    writeFileSync(path, Buffer.alloc(8192));
    const fd = openSync(path, 'r+');
    try {
      const src = new Uint8Array(6000);
      for (let i = 0; i < src.length; i++) src[i] = (i * 7 + 3) & 0xff;
      // bytes 1000..4999 of src, written at file offset 3000
      expect(native.pwrite(fd, src, 1000, 4000, 3000)).toBe(4000);
      const file = readFileSync(path);
      expect(Buffer.compare(file.subarray(3000, 7000), Buffer.from(src.subarray(1000, 5000)))).toBe(0);
      expect(file[2999]).toBe(0);
      const dst = new Uint8Array(5000);
      expect(native.pread(fd, dst, 500, 4000, 3000)).toBe(4000);
      expect(Buffer.compare(Buffer.from(dst.subarray(500, 4500)), Buffer.from(src.subarray(1000, 5000)))).toBe(0);
      // a read across the end of the file returns what is there; at the end, 0
      expect(native.pread(fd, dst, 0, 4096, 8192 - 100)).toBe(100);
      expect(native.pread(fd, dst, 0, 4096, 8192)).toBe(0);
      expect(native.pread(-1, dst, 0, 16, 0)).toBe(-9); // EBADF
      expect(native.pwrite(-1, dst, 0, 16, 0)).toBe(-9);
      expect(() => native.pread(fd, dst, 0, 16, -1)).toThrow('pos must be a non-negative integer');
      expect(() => native.pread(fd, dst, 4990, 16, 0)).toThrow(RangeError);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('errnoName', () => {
  it('names common errnos', () => {
    expect(errnoName(-11)).toBe('EAGAIN');
    expect(errnoName(-104)).toBe('ECONNRESET');
    expect(errnoName(-32)).toBe('EPIPE');
    expect(errnoName(-107)).toBe('ENOTCONN');
    expect(errnoName(-9)).toBe('EBADF');
    expect(errnoName(-111)).toBe('ECONNREFUSED');
    expect(errnoName(-110)).toBe('ETIMEDOUT');
    expect(errnoName(111)).toBe('ECONNREFUSED');
    expect(errnoName(-99999)).toBe('errno -99999');
  });
});
