// The built-in target's Abort (base spec, Abort command) on the wire, with its test-only fault knob
// (RunningTarget.holdIo): a command the target holds is completed with Command Abort Requested and
// the Abort's DW0 bit 0 is 0; an Abort of anything else (nothing held under that CID, a held command
// marked not abortable, the admin queue) reports "not aborted" (DW0 bit 0 = 1). Raw wire client,
// target in this process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTarget, type RunningTarget } from '../../src/target/target.js';
import { targetConfig } from '../../src/target/config.js';
import { abortSqe } from '../../src/nvme/admin-commands.js';
import { JsonRpcClient } from '../../src/rpc/client.js';
import { JsonRpcServer } from '../../src/rpc/server.js';
import { targetRpcMethods } from '../../src/target/rpc-methods.js';
import { RawHost, ioSqe, sc, sct, type CmdResult } from './target-wire-client.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NQN = 'nqn.2016-06.io.nvmf-perf:abort';
let target: RunningTarget;
const hosts: RawHost[] = [];

async function host(): Promise<RawHost> {
  const h = await RawHost.open(target.port);
  hosts.push(h);
  return h;
}

/** An admin queue and I/O queue 1 of one controller. */
async function association(): Promise<{ admin: RawHost; io: RawHost; cntlid: number }> {
  const admin = await host();
  const cntlid = await admin.bringUp(NQN);
  const io = await host();
  await io.icreq(0);
  expect((await io.connect(1, { subnqn: NQN, cntlid, sqsize: 31 })).status).toBe(0);
  return { admin, io, cntlid };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The command's completion if it came within ms, else 'pending' (the promise keeps waiting). */
async function within(p: Promise<CmdResult>, ms: number): Promise<CmdResult | 'pending'> {
  return Promise.race([p, sleep(ms).then(() => 'pending' as const)]);
}

beforeAll(async () => {
  target = await startTarget(targetConfig({
    listen: [{ host: '127.0.0.1', port: 0 }], subnqn: NQN, namespaces: [{ kind: 'ram', sizeBytes: 4 << 20 }],
    logLevel: 'silent', interruptMode: true,
  }));
});

afterAll(async () => {
  for (const h of hosts) h.destroy();
  target?.holdIo(0, true);
  await target?.stop();
});

describe('Abort', () => {
  it('a held read is aborted: Command Abort Requested for the read, DW0 bit 0 = 0 for the Abort', async () => {
    const { admin, io } = await association();
    target.holdIo(1, true);
    const cid = io.cid();
    const read = io.cmd(ioSqe(cid, 0x02, 1, 8, 8, 512), { timeoutMs: 20_000 });
    expect(await within(read, 300)).toBe('pending'); // held: no answer
    const ab = await admin.cmd(abortSqe(admin.cid(), 1, cid));
    expect(ab.status).toBe(0);
    expect(ab.dw0 & 1).toBe(0);
    const r = await read;
    expect([sct(r.status), sc(r.status)]).toEqual([0, 0x07]);
    // The queue goes on: the next read is served (the knob held only one command).
    const next = await io.cmd(ioSqe(io.cid(), 0x02, 1, 8, 8, 512));
    expect(next.status).toBe(0);
    expect(next.data.length).toBe(8 * 512);
  });

  it('a held write (before its R2T) is aborted the same way', async () => {
    const { admin, io } = await association();
    target.holdIo(1, true);
    const cid = io.cid();
    const data = new Uint8Array(16 * 1024).fill(0x5a); // above the in-capsule limit: would need an R2T
    const write = io.cmd(ioSqe(cid, 0x01, 1, 64, 32, 512), { writeData: data, timeoutMs: 20_000 });
    expect(await within(write, 300)).toBe('pending');
    const ab = await admin.cmd(abortSqe(admin.cid(), 1, cid));
    expect([ab.status, ab.dw0 & 1]).toEqual([0, 0]);
    const w = await write;
    expect([sct(w.status), sc(w.status)]).toEqual([0, 0x07]);
    expect(w.pdus).toEqual([0x05]); // no R2T was sent for it
  });

  it('nothing held under that CID, or the admin queue: not aborted (DW0 bit 0 = 1)', async () => {
    const { admin } = await association();
    const a = await admin.cmd(abortSqe(admin.cid(), 1, 0x1234));
    expect([a.status, a.dw0 & 1]).toEqual([0, 1]);
    const b = await admin.cmd(abortSqe(admin.cid(), 0, 1));
    expect([b.status, b.dw0 & 1]).toEqual([0, 1]);
  });

  it('a held command marked not abortable stays held: not aborted; it goes away with its queue', async () => {
    const { admin, io, cntlid } = await association();
    target.holdIo(1, false);
    const cid = io.cid();
    const read = io.cmd(ioSqe(cid, 0x02, 1, 0, 1, 512), { timeoutMs: 20_000 });
    read.catch(() => undefined);
    expect(await within(read, 300)).toBe('pending');
    const ab = await admin.cmd(abortSqe(admin.cid(), 1, cid));
    expect([ab.status, ab.dw0 & 1]).toEqual([0, 1]);
    expect(await within(read, 300)).toBe('pending');
    // What a host does next (a qpair reset): close the queue and connect it again with the same QID.
    io.destroy();
    let again: RawHost | undefined;
    for (let i = 0; i < 100 && !again; i++) {
      const h = await host();
      await h.icreq(0);
      if ((await h.connect(1, { subnqn: NQN, cntlid, sqsize: 31 })).status === 0) again = h;
      else { h.destroy(); await sleep(20); }
    }
    expect(again, 'QID 1 was not free again').toBeDefined();
    const r = await again!.cmd(ioSqe(again!.cid(), 0x02, 1, 0, 1, 512));
    expect(r.status).toBe(0);
  });

  it('RPC nvmf_perf_test_hold_io sets the knob and rejects bad parameters', async () => {
    const path = join(tmpdir(), `nvmf-perf-abort-${process.pid}.sock`);
    const server = new JsonRpcServer(targetRpcMethods(target));
    await server.listen(path);
    const rpc = new JsonRpcClient(path);
    try {
      await expect(rpc.call('nvmf_perf_test_hold_io', { count: -1 })).rejects.toThrow(/"count" must be an integer/);
      await expect(rpc.call('nvmf_perf_test_hold_io', { count: 1, abortable: 'yes' })).rejects.toThrow(/"abortable" must be a boolean/);
      expect(await rpc.call('nvmf_perf_test_hold_io', { count: 1 })).toBe(true);
      const { admin, io } = await association();
      const cid = io.cid();
      const read = io.cmd(ioSqe(cid, 0x02, 1, 0, 1, 512), { timeoutMs: 20_000 });
      expect(await within(read, 300)).toBe('pending');
      expect((await admin.cmd(abortSqe(admin.cid(), 1, cid))).dw0 & 1).toBe(0);
      expect(sc((await read).status)).toBe(0x07);
    } finally {
      rpc.close();
      await server.close();
    }
  });
});
