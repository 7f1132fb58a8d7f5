// Asynchronous Event Request, Namespace Attribute Changed, on the wire: namespaces added and removed
// while the target runs (RunningTarget.addNamespace / removeNamespace, and the RPC methods
// nvmf_subsystem_add_ns / nvmf_subsystem_remove_ns) complete a parked AER with DW0 = event type 2
// (Notice), information 0 (Namespace Attribute Changed), log page 04h — when the host enabled the
// notice (Asynchronous Event Configuration bit 8) — and log page 04h (Changed Namespace List) lists the
// NSIDs until it is read. Raw wire client, target in this process with two reactors (the admin queues
// of the controllers land on both).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTarget, type RunningTarget } from '../../src/target/target.js';
import { targetConfig } from '../../src/target/config.js';
import { getLogPageSqe, identifySqe, setFeaturesSqe } from '../../src/nvme/admin-commands.js';
import { emptySqe, encodeSqe, type Sqe } from '../../src/nvme/sqe.js';
import { JsonRpcClient } from '../../src/rpc/client.js';
import { JsonRpcServer } from '../../src/rpc/server.js';
import { targetRpcMethods } from '../../src/target/rpc-methods.js';
import { RawHost, ioSqe, sc, sct, type CmdResult } from './target-wire-client.js';

const NQN = 'nqn.2016-06.io.nvmf-perf:aen';
const AEN_NS_CHANGED = 0x00040002;
let target: RunningTarget;
const hosts: RawHost[] = [];

async function admin(): Promise<RawHost> {
  const h = await RawHost.open(target.port);
  hosts.push(h);
  await h.bringUp(NQN);
  return h;
}

/** Sends an AER without waiting for its completion. */
function postAer(h: RawHost, cid: number): void {
  const u = new Uint8Array(64);
  encodeSqe(new DataView(u.buffer), 0, aerSqe(cid));
  h.send(h.capsule(u));
}

function aerSqe(cid: number): Sqe {
  const s = emptySqe();
  s.opc = 0x0c;
  s.cid = cid;
  return s;
}

/** Set Features Asynchronous Event Configuration (FID 0Bh). */
async function enableNotices(h: RawHost, on: boolean): Promise<void> {
  expect((await h.cmd(setFeaturesSqe(h.cid(), 0x0b, on ? 0x100 : 0))).status).toBe(0);
}

/** Log page 04h: the NSIDs it lists (rae: Retain Asynchronous Event). */
async function changedNsList(h: RawHost, rae = false): Promise<number[]> {
  const r = await h.cmd(getLogPageSqe(h.cid(), 0x04, 4096, 0, 0, rae));
  expect(r.status).toBe(0);
  const out: number[] = [];
  for (let i = 0; i < 1024; i++) { const v = r.data.readUInt32LE(i * 4); if (v !== 0) out.push(v); }
  return out;
}

async function activeNsids(h: RawHost): Promise<number[]> {
  const d = (await h.cmd(identifySqe(h.cid(), 0x02, 0))).data;
  const out: number[] = [];
  for (let i = 0; i < 1024; i++) { const v = d.readUInt32LE(i * 4); if (v === 0) break; out.push(v); }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function within(p: Promise<CmdResult>, ms: number): Promise<CmdResult | 'pending'> {
  return Promise.race([p, sleep(ms).then(() => 'pending' as const)]);
}

beforeAll(async () => {
  const cpus = [0, 1];
  target = await startTarget(targetConfig({
    listen: [{ host: '127.0.0.1', port: 0 }], subnqn: NQN, namespaces: [{ kind: 'ram', sizeBytes: 4 << 20 }],
    logLevel: 'silent', interruptMode: true, reactorCpus: cpus,
  }));
});

afterAll(async () => {
  for (const h of hosts) h.destroy();
  await target?.stop();
});

describe('Namespace Attribute Changed', () => {
  it('a namespace added: every enabled controller with a parked AER gets the event; the log page lists the NSID once', async () => {
    const a = await admin();
    const b = await admin(); // the second admin queue goes to the other reactor (round robin)
    await enableNotices(a, true);
    await enableNotices(b, true);
    const aerA = a.cmd(aerSqe(a.cid()), { timeoutMs: 20_000 });
    const aerB = b.cmd(aerSqe(b.cid()), { timeoutMs: 20_000 });
    expect(await within(aerA, 200)).toBe('pending'); // nothing to report yet
    const nsid = target.addNamespace({ kind: 'ram', sizeBytes: 1 << 20 });
    expect(nsid).toBe(2);
    for (const r of [await aerA, await aerB]) {
      expect(r.status).toBe(0);
      expect(r.dw0).toBe(AEN_NS_CHANGED);
      expect([r.dw0 & 7, (r.dw0 >>> 8) & 0xff, (r.dw0 >>> 16) & 0xff]).toEqual([2, 0, 0x04]);
    }
    expect(await changedNsList(a, true)).toEqual([2]); // RAE: kept
    expect(await changedNsList(a)).toEqual([2]);
    expect(await changedNsList(a)).toEqual([]); // read: cleared
    expect(await changedNsList(b)).toEqual([2]);
    // The namespace is there: active list, Identify Namespace, and I/O on a new I/O queue.
    expect(await activeNsids(a)).toEqual([1, 2]);
    const idns = (await a.cmd(identifySqe(a.cid(), 0x00, 2))).data;
    expect(idns.readBigUInt64LE(0)).toBe(BigInt((1 << 20) / 512)); // NSZE
    const io = await RawHost.open(target.port);
    hosts.push(io);
    await io.icreq(0);
    const cntlid = (await a.cmd(identifySqe(a.cid(), 0x01))).data.readUInt16LE(78);
    expect((await io.connect(1, { subnqn: NQN, cntlid })).status).toBe(0);
    const data = new Uint8Array(4096).fill(0xa5);
    expect((await io.cmd(ioSqe(io.cid(), 0x01, 2, 10, 8, 512, 0x01), { icd: data })).status).toBe(0);
    const back = await io.cmd(ioSqe(io.cid(), 0x02, 2, 10, 8, 512));
    expect(Buffer.compare(back.data, Buffer.from(data))).toBe(0);
  });

  it('notice disabled: the AER stays parked, the log page still lists the change', async () => {
    const h = await admin();
    await enableNotices(h, false);
    postAer(h, 900);
    const nsid = target.addNamespace({ kind: 'null', sizeBytes: 1 << 20 });
    // Wait (bounded) until this controller's reactor has the namespace.
    for (let i = 0; i < 100 && !(await activeNsids(h)).includes(nsid); i++) await sleep(20);
    // cmd() fails on any other CID's completion: these pass only while the AER stays parked.
    expect(nsid).toBe(3);
    expect(await changedNsList(h)).toEqual([3]); // this controller came after NSID 2 was added
    expect(await activeNsids(h)).toContain(nsid);
    // The host read the log: enabling the notice now and posting another AER reports nothing stale.
    await enableNotices(h, true);
    postAer(h, 901);
    await sleep(200);
    expect(await changedNsList(h)).toEqual([]);
  });

  it('RPC: nvmf_subsystem_remove_ns raises the event and I/O to the NSID fails; a change while no AER is parked is reported by the next one', async () => {
    const path = join(tmpdir(), `nvmf-perf-aen-${process.pid}.sock`);
    const server = new JsonRpcServer(targetRpcMethods(target));
    await server.listen(path);
    const rpc = new JsonRpcClient(path);
    try {
      const h = await admin();
      await enableNotices(h, true);
      expect(await changedNsList(h)).toEqual([]); // a new controller starts with an empty list
      const added = await rpc.call('nvmf_subsystem_add_ns', { nqn: NQN, namespace: { bdev_name: 'ram:1MiB', nsid: 7 } });
      expect(added).toBe(7);
      await sleep(100);
      // No AER was parked: the event waits; the AER that comes next carries it at once.
      const r1 = await h.cmd(aerSqe(h.cid()));
      expect([r1.status, r1.dw0]).toEqual([0, AEN_NS_CHANGED]);
      expect(await changedNsList(h)).toEqual([7]);
      const aer = h.cmd(aerSqe(h.cid()), { timeoutMs: 20_000 });
      expect(await rpc.call('nvmf_subsystem_remove_ns', { nqn: NQN, nsid: 7 })).toBe(true);
      const r2 = await aer;
      expect([r2.status, r2.dw0]).toEqual([0, AEN_NS_CHANGED]);
      expect(await changedNsList(h)).toEqual([7]);
      expect(await activeNsids(h)).not.toContain(7);
      const io = await RawHost.open(target.port);
      hosts.push(io);
      await io.icreq(0);
      const cntlid = (await h.cmd(identifySqe(h.cid(), 0x01))).data.readUInt16LE(78);
      expect((await io.connect(1, { subnqn: NQN, cntlid })).status).toBe(0);
      const r = await io.cmd(ioSqe(io.cid(), 0x02, 7, 0, 1, 512));
      expect([sct(r.status), sc(r.status)]).toEqual([0, 0x0b]); // Invalid Namespace or Format
      // Bad requests get one clear error each.
      await expect(rpc.call('nvmf_subsystem_remove_ns', { nsid: 7 })).rejects.toThrow(/no namespace 7/);
      await expect(rpc.call('nvmf_subsystem_add_ns', { namespace: { bdev_name: 'disk:1G' } })).rejects.toThrow(/unknown namespace type "disk"/);
      await expect(rpc.call('nvmf_subsystem_add_ns', { namespace: { bdev_name: 'ram:1MiB', nsid: 1 } })).rejects.toThrow(/NSID 1 is in use/);
      await expect(rpc.call('nvmf_subsystem_add_ns', { namespace: { bdev_name: 'ram:1MiB', nsid: 33 } })).rejects.toThrow(/NSID 33 is out of range 1..32/);
      await expect(rpc.call('nvmf_subsystem_add_ns', { nqn: 'nqn.x', namespace: { bdev_name: 'ram:1MiB' } })).rejects.toThrow(/no subsystem "nqn.x"/);
    } finally {
      rpc.close();
      await server.close();
    }
  });
});
