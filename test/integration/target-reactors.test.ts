// Reactor behaviour: controllers spanning reactors (admin queue on one, I/O queue on another),
// interrupt mode (an idle target only sleeps; a dying controller wakes the other reactors),
// busy/idle accounting, and a file namespace end to end.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../src/native/index.js';
import { targetConfig, type TargetConfig } from '../../src/target/config.js';
import { startTarget, type RunningTarget } from '../../src/target/target.js';
import { identifySqe } from '../../src/nvme/admin-commands.js';
import { RawHost, ioSqe } from './target-wire-client.js';

const NQN = 'nqn.2016-06.io.nvmf-perf:reactors';
const cpus = native.allowedCpus();
const twoCpus = cpus.length >= 2;
if (!twoCpus) console.warn(`target-reactors: only CPU ${cpus.join(',')} allowed: multi-reactor cases skipped`);

const hosts: RawHost[] = [];
const targets: RunningTarget[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const h of hosts) h.destroy();
  for (const t of targets) await t.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function start(over: Partial<TargetConfig>): Promise<RunningTarget> {
  const t = await startTarget(targetConfig({
    listen: [{ host: '127.0.0.1', port: 0 }], subnqn: NQN, namespaces: [{ kind: 'ram', sizeBytes: 8 << 20 }], logLevel: 'silent', ...over,
  }, cpus));
  targets.push(t);
  return t;
}

async function open(t: RunningTarget): Promise<RawHost> {
  const h = await RawHost.open(t.port);
  hosts.push(h);
  return h;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function adminAndIo(t: RunningTarget): Promise<[RawHost, RawHost]> {
  const a = await open(t);
  const cntlid = await a.bringUp(NQN);
  const q = await open(t);
  await q.icreq(0);
  const c = await q.connect(1, { subnqn: NQN, cntlid });
  expect(c.status).toBe(0);
  return [a, q];
}

async function roundTrip(q: RawHost, lba: number): Promise<void> {
  const d = new Uint8Array(4096).map((_v, i) => (i * 7 + lba) & 0xff);
  expect((await q.cmd(ioSqe(q.cid(), 0x01, 1, lba, 8, 512, 0x01), { icd: d })).status).toBe(0);
  const r = await q.cmd(ioSqe(q.cid(), 0x02, 1, lba, 8, 512));
  expect(Buffer.compare(r.data, Buffer.from(d))).toBe(0);
}

describe.skipIf(!twoCpus)('two reactors', () => {
  it.each([false, true])('admin queue on reactor 0, I/O queue on reactor 1 (interrupt mode %s)', async (interruptMode) => {
    const t = await start({ reactorCpus: cpus.slice(0, 2), interruptMode });
    const [a, q] = await adminAndIo(t);
    await roundTrip(q, 64);
    await sleep(50);
    expect(t.stats().map((s) => s.connections)).toEqual([1, 1]);
    // Disabling the controller on reactor 0 closes its I/O queue on reactor 1; in interrupt mode
    // reactor 0 wakes reactor 1 through its eventfd instead of leaving it to its next timeout.
    const w0 = t.stats()[1]!.eventfdWakeups;
    expect((await a.propertySet(0x14, 0x00460000)).status).toBe(0);
    await q.waitClosed(5000);
    if (interruptMode) {
      // Reactor 1 may notice the epoch on its own tick first and count the wake-up a pass later.
      for (let i = 0; i < 100 && t.stats()[1]!.eventfdWakeups <= w0; i++) await sleep(20);
      expect(t.stats()[1]!.eventfdWakeups).toBeGreaterThan(w0);
    }
    // Re-enable; a new I/O queue connects (the QID is free again).
    expect((await a.propertySet(0x14, 0x00460001)).status).toBe(0);
    const q2 = await open(t);
    await q2.icreq(0);
    expect((await q2.connect(1, { subnqn: NQN, cntlid: await cntlidOf(a) })).status).toBe(0);
    await roundTrip(q2, 128);
    // Closing the admin socket removes the controller; its I/O queue on the other reactor closes.
    a.destroy();
    await q2.waitClosed(2000);
    await sleep(20);
    expect(t.controllers()).toBe(0);
    await t.stop();
  });
});

/** CNTLID of the controller behind an admin queue (from Identify Controller). */
async function cntlidOf(a: RawHost): Promise<number> {
  const r = await a.cmd(identifySqe(a.cid(), 1));
  return r.data.readUInt16LE(78);
}

describe('interrupt mode', () => {
  it('an idle target with connected queues sleeps: no pass, no wake-up, the sleep accounted as idle; a command wakes it', async () => {
    const t = await start({ interruptMode: true });
    const [, q] = await adminAndIo(t);
    await roundTrip(q, 8);
    // Counters, not CPU time (bench/idle-cpu.mjs measures that).
    // The reactor writes its statistics row field by field: read until two reads agree.
    const read = (): ReturnType<RunningTarget['stats']>[number] => {
      for (;;) {
        const a = t.stats()[0]!, b = t.stats()[0]!;
        if (JSON.stringify({ ...a, idleNs: 0, sleepNs: 0 }) === JSON.stringify({ ...b, idleNs: 0, sleepNs: 0 })) return b;
      }
    };
    // Asleep once the pass counter stops moving (after the spin window of the last command).
    let s0 = read();
    for (let i = 0; i < 100; i++) {
      await sleep(50);
      const s = read();
      if (s.passes === s0.passes && s.sleeps > 0) { s0 = s; break; }
      s0 = s;
    }
    await sleep(500);
    const s1 = read();
    expect(s1.passes).toBe(s0.passes); // no timer wakes it
    expect(s1.sleeps).toBe(s0.sleeps);
    expect(s1.socketWakeups).toBe(s0.socketWakeups);
    expect(s1.eventfdWakeups).toBe(s0.eventfdWakeups);
    expect(s1.busyNs).toBe(s0.busyNs);
    expect(s1.idleNs).toBeGreaterThan(s0.idleNs); // the sleep so far is accounted
    expect(s1.commands).toBeGreaterThan(0);
    await roundTrip(q, 16); // and a command wakes it
    const s2 = read();
    expect(s2.socketWakeups).toBeGreaterThan(s1.socketWakeups);
    await t.stop();
  });
});

describe('poll mode accounting', () => {
  it('counts busy and idle time and the reactor thread CPU', async () => {
    const t = await start({});
    const [, q] = await adminAndIo(t);
    for (let i = 0; i < 20; i++) await roundTrip(q, i * 8);
    await sleep(50);
    const s = t.stats()[0]!;
    expect(s.busyNs).toBeGreaterThan(0);
    expect(s.idleNs).toBeGreaterThan(0);
    expect(s.cpuNs).toBeGreaterThan(0);
    expect(s.passes).toBeGreaterThanOrEqual(40); // at least one pass per command
    expect(s.sleeps).toBe(0); // poll mode never sleeps
    expect(s.commands).toBeGreaterThanOrEqual(40);
    await t.stop();
    expect(t.stats()[0]!.connections).toBe(0);
  });
});

describe('large ram namespace', () => {
  it('3 GiB in 1 GiB shared-memory chunks: one I/O across each chunk boundary', async () => {
    const GiB = 1024 ** 3;
    const t = await start({ namespaces: [{ kind: 'ram', sizeBytes: 3 * GiB }] });
    expect(t.subsystem.namespaces[0]!.blocks).toBe(3 * GiB / 512);
    const [, q] = await adminAndIo(t);
    for (const boundary of [GiB, 2 * GiB]) {
      const lba = boundary / 512 - 64; // 32 KiB before the boundary, 64 KiB long
      const d = new Uint8Array(65536).map((_v, i) => (i * 29 + boundary / GiB) & 0xff);
      expect((await q.cmd(ioSqe(q.cid(), 0x01, 1, lba, 128, 512), { writeData: d })).status).toBe(0);
      const r = await q.cmd(ioSqe(q.cid(), 0x02, 1, lba, 128, 512));
      expect(Buffer.compare(r.data, Buffer.from(d))).toBe(0);
      const half = await q.cmd(ioSqe(q.cid(), 0x02, 1, boundary / 512, 64, 512)); // second half only
      expect(Buffer.compare(half.data, Buffer.from(d.subarray(32768)))).toBe(0);
    }
    await roundTrip(q, 3 * GiB / 512 - 8); // the last 4 KiB
    await t.stop();
  });
});

describe('file namespace', () => {
  it('writes land in the file; reads, flush and 4 KiB blocks work over the wire', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmf-perf-tgt-'));
    dirs.push(dir);
    const file = path.join(dir, 'ns.img');
    fs.writeFileSync(file, Buffer.alloc(1024 * 1024 + 100));
    const t = await start({ namespaces: [{ kind: 'file', path: file }], blockSize: 4096 });
    expect(t.subsystem.namespaces[0]!.blocks).toBe(256);
    const a = await open(t);
    const cntlid = await a.bringUp(NQN);
    const q = await open(t);
    await q.icreq(3);
    expect((await q.connect(1, { subnqn: NQN, cntlid })).status).toBe(0);
    const d = new Uint8Array(65536).map((_v, i) => (i * 13) & 0xff);
    expect((await q.cmd(ioSqe(q.cid(), 0x01, 1, 10, 16, 4096), { writeData: d })).status).toBe(0);
    expect((await q.cmd(ioSqe(q.cid(), 0x00, 1, 0, 1, 4096, 0x5a, 0))).status).toBe(0);
    expect(Buffer.compare(fs.readFileSync(file).subarray(40960, 40960 + 65536), Buffer.from(d))).toBe(0);
    const r = await q.cmd(ioSqe(q.cid(), 0x02, 1, 10, 16, 4096));
    expect(Buffer.compare(r.data, Buffer.from(d))).toBe(0);
    const oor = await q.cmd(ioSqe(q.cid(), 0x02, 1, 255, 2, 4096));
    expect((oor.status >> 1) & 0xff).toBe(0x80);
    await t.stop();
  });

  it('a missing file is a usage error naming the flag', async () => {
    await expect(start({ namespaces: [{ kind: 'file', path: '/nonexistent/ns.img' }] }))
      .rejects.toThrow('--ns "file:/nonexistent/ns.img": no such file');
  });
});
