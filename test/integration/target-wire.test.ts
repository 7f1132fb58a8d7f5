// The built-in target on 127.0.0.1 (ephemeral port), driven with raw NVMe/TCP bytes over real TCP
// sockets: IC exchange, admin bring-up, Identify, I/O with and without digests, error statuses,
// and malformed input (C2HTermReq, then close, while other connections keep working).
// Needs dist/ (the reactor worker runs compiled code): `npm test` builds first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTarget, type RunningTarget } from '../../src/target/target.js';
import { targetConfig } from '../../src/target/config.js';
import { decodeIdentifyController, decodeIdentifyNamespace, decodeNsDescriptors, decodeActiveNsList } from '../../src/nvme/identify.js';
import { identifySqe, getLogPageSqe, setFeaturesSqe, getFeaturesSqe, keepAliveSqe } from '../../src/nvme/admin-commands.js';
import { decodeSmartLog } from '../../src/nvme/log-pages.js';
import { emptySqe, encodeSqe, type Sqe } from '../../src/nvme/sqe.js';
import { HOSTNQN, RawHost, dnr, ioSqe, sc, sct } from './target-wire-client.js';
import { crc32c } from '../../src/util/crc32c.js';

const NQN = 'nqn.2016-06.io.nvmf-perf:wire-test';
const NS_BYTES = 16 * 1024 * 1024;
const BS = 512;
const NS_BLOCKS = NS_BYTES / BS;

let target: RunningTarget;
const hosts: RawHost[] = [];

async function host(): Promise<RawHost> {
  const h = await RawHost.open(target.port);
  hosts.push(h);
  return h;
}

/** Admin queue up and enabled, plus I/O queue 1 connected; returns [admin, io, cntlid]. */
async function ioPair(dgst = 0, cattr = 0): Promise<[RawHost, RawHost, number]> {
  const a = await host();
  const cntlid = await a.bringUp(NQN, { dgst });
  const q = await host();
  await q.icreq(dgst);
  const c = await q.connect(1, { subnqn: NQN, cntlid, sqsize: 63, cattr });
  expect(c.status).toBe(0);
  return [a, q, cntlid];
}

function rawSqe(s: Sqe): Uint8Array {
  const u = new Uint8Array(64);
  encodeSqe(new DataView(u.buffer), 0, s);
  return u;
}

function pattern(len: number, seed: number): Uint8Array {
  const u = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; u[i] = x & 0xff; }
  return u;
}

beforeAll(async () => {
  target = await startTarget(targetConfig({
    listen: [{ host: '127.0.0.1', port: 0 }], subnqn: NQN, namespaces: [{ kind: 'ram', sizeBytes: NS_BYTES }],
    blockSize: BS, logLevel: 'silent',
  }));
});

afterAll(async () => {
  for (const h of hosts) h.destroy();
  await target?.stop();
});

describe('IC exchange', () => {
  it.each([0, 1, 2, 3])('answers ICReq DGST=%i with an ICResp echoing the digests', async (dgst) => {
    const h = await host();
    const r = await h.icreq(dgst);
    expect(r.length).toBe(128);
    // CH: type 0x01, flags 0, HLEN 128, PDO 0, PLEN 128
    expect([...r.subarray(0, 8)]).toEqual([0x01, 0, 128, 0, 128, 0, 0, 0]);
    expect(r.readUInt16LE(8)).toBe(0); // PFV
    expect(r[10]).toBe(0); // CPDA
    expect(r[11]).toBe(dgst); // DGST echoed
    expect(r.readUInt32LE(12)).toBe(128 * 1024); // MAXH2CDATA = max I/O size
    expect(r.subarray(16).every((b) => b === 0)).toBe(true);
  });

  it('rejects PFV 1 with C2HTermReq FES 0x01 FEI 8 and closes', async () => {
    const h = await host();
    const r = await h.icreq(0, { pfv: 1 });
    expect(r[0]).toBe(0x03);
    expect(r.readUInt16LE(8)).toBe(0x01);
    expect(r.readUInt32LE(10)).toBe(8);
    expect(r.readUInt32LE(4)).toBe(24 + 128); // header copy of the ICReq
    expect(r[24]).toBe(0x00);
    await h.waitClosed();
  });

  it('pads C2HData to the host\'s HPDA', async () => {
    const a = await host();
    const ic = await a.icreq(0, { hpda: 3 }); // 16-byte alignment
    expect(ic[0]).toBe(0x01);
    expect((await a.connect(0, { subnqn: NQN })).status).toBe(0);
    expect((await a.propertySet(0x14, 0x00460001)).status).toBe(0);
    const r = await a.cmd(identifySqe(a.cid(), 1));
    expect(r.status).toBe(0);
    expect(r.data.length).toBe(4096);
  });
});

describe('admin queue', () => {
  it('Connect returns a CNTLID; CAP, CC.EN → CSTS.RDY, VS', async () => {
    const h = await host();
    await h.icreq(0);
    const c = await h.connect(0, { subnqn: NQN, kato: 5000 });
    expect(c.status).toBe(0);
    expect(c.dw0 & 0xffff).toBeGreaterThanOrEqual(1);
    expect(c.dw0 & 0xffff).toBeLessThanOrEqual(0xffef);
    expect(c.sqid).toBe(0);

    const cap = await h.propertyGet(0x00, 8);
    expect(cap.status).toBe(0);
    expect(cap.dw0 & 0xffff).toBe(127); // MQES = max queue depth − 1
    expect((cap.dw0 >>> 24) & 0xff).toBeGreaterThan(0); // TO
    expect(cap.dw1 & (1 << 5)).toBe(1 << 5); // CSS bit 37: NVM
    expect((cap.dw1 >>> 16) & 0xf).toBe(0); // MPSMIN
    expect(cap.dw1 & 0xf).toBe(0); // DSTRD

    expect((await h.propertyGet(0x1c, 4)).dw0 & 1).toBe(0); // not ready yet
    expect((await h.propertySet(0x14, 0x00460000)).status).toBe(0); // config write, EN = 0
    expect((await h.propertyGet(0x1c, 4)).dw0 & 1).toBe(0);
    // Admin commands before CSTS.RDY: Command Sequence Error + DNR.
    const early = await h.cmd(identifySqe(h.cid(), 1));
    expect([sct(early.status), sc(early.status), dnr(early.status)]).toEqual([0, 0x0c, true]);
    expect((await h.propertySet(0x14, 0x00460001)).status).toBe(0);
    expect((await h.propertyGet(0x1c, 4)).dw0 & 1).toBe(1);
    expect((await h.propertyGet(0x14, 4)).dw0).toBe(0x00460001);
    expect((await h.propertyGet(0x08, 4)).dw0).toBe(0x00010300);
    // Unknown property offset: Invalid Field + DNR.
    const bad = await h.propertyGet(0x40, 4);
    expect([sct(bad.status), sc(bad.status), dnr(bad.status)]).toEqual([0, 0x02, true]);

    // Shutdown: SHST = complete.
    expect((await h.propertySet(0x14, 0x00464001)).status).toBe(0);
    expect(((await h.propertyGet(0x1c, 4)).dw0 >>> 2) & 3).toBe(2);
  });

  it('Identify Controller / Namespace / NS list / descriptors', async () => {
    const h = await host();
    const cntlid = await h.bringUp(NQN);
    const r = await h.cmd(identifySqe(h.cid(), 1));
    expect(r.status).toBe(0);
    expect(r.pdus).toEqual([0x07, 0x05]);
    const id = decodeIdentifyController(new Uint8Array(r.data));
    expect(id.cntlid).toBe(cntlid);
    expect(id.mn).toBe('nvmf-perf target');
    expect(id.sn).toBe(target.subsystem.serial);
    expect(id.sn.length).toBeLessThanOrEqual(20);
    expect(id.fr.length).toBeGreaterThan(0);
    expect(id.subnqn).toBe(NQN);
    expect(id.mdts).toBe(5); // 128 KiB
    expect(id.ioccsz).toBe((64 + 8192) / 16);
    expect(id.ioresz).toBe(1);
    expect(id.icdoff).toBe(0);
    expect(id.sgls & 3).toBe(1);
    expect(id.kas).toBe(10);
    expect(id.maxcmd).toBe(128);
    expect(id.nn).toBe(32); // NSIDs up to 32 may be added at run time (SPDK's default)
    expect(id.oncs & 0x0c).toBe(0x0c); // DSM + Write Zeroes
    expect(id.vwc & 1).toBe(1);
    expect(id.sqes).toBe(0x66);
    expect(id.cqes).toBe(0x44);
    expect(id.cntrltype).toBe(1);
    expect(id.ver).toBe(0x00010300);

    const ns = await h.cmd(identifySqe(h.cid(), 0, 1));
    const idns = decodeIdentifyNamespace(new Uint8Array(ns.data));
    expect(idns.nsze).toBe(BigInt(NS_BLOCKS));
    expect(idns.ncap).toBe(BigInt(NS_BLOCKS));
    expect(idns.lbaf[0]!.lbads).toBe(9);
    expect(idns.nguid.some((b) => b !== 0)).toBe(true);

    const list = await h.cmd(identifySqe(h.cid(), 2, 0));
    expect(decodeActiveNsList(new Uint8Array(list.data))).toEqual([1]);
    const descs = decodeNsDescriptors(new Uint8Array((await h.cmd(identifySqe(h.cid(), 3, 1))).data));
    expect(descs.map((d) => d.nidt)).toEqual([1, 2, 4]);
    expect([...descs[1]!.nid]).toEqual([...idns.nguid]);

    // Inactive NSID: zero-filled data, success. NSID 0 for CNS 0: Invalid Namespace.
    const inactive = await h.cmd(identifySqe(h.cid(), 0, 7));
    expect(inactive.status).toBe(0);
    expect(inactive.data.every((b) => b === 0)).toBe(true);
    const ns0 = await h.cmd(identifySqe(h.cid(), 0, 0));
    expect([sct(ns0.status), sc(ns0.status)]).toEqual([0, 0x0b]);
    const badCns = await h.cmd(identifySqe(h.cid(), 0x42, 0));
    expect([sct(badCns.status), sc(badCns.status), dnr(badCns.status)]).toEqual([0, 0x02, true]);
  });

  it('features, keep alive, AER, unknown opcode', async () => {
    const h = await host();
    await h.bringUp(NQN);
    const nq = await h.cmd(setFeaturesSqe(h.cid(), 0x07, (3 << 16) | 3));
    expect(nq.status).toBe(0);
    expect(nq.dw0).toBe((3 << 16) | 3);
    const nqBad = await h.cmd(setFeaturesSqe(h.cid(), 0x07, 0xffff));
    expect([sct(nqBad.status), sc(nqBad.status), dnr(nqBad.status)]).toEqual([0, 0x02, true]);
    expect((await h.cmd(setFeaturesSqe(h.cid(), 0x0f, 4000))).status).toBe(0);
    expect((await h.cmd(getFeaturesSqe(h.cid(), 0x0f))).dw0).toBe(4000);
    expect((await h.cmd(getFeaturesSqe(h.cid(), 0x06))).dw0).toBe(1);
    const unk = await h.cmd(getFeaturesSqe(h.cid(), 0x77));
    expect([sct(unk.status), sc(unk.status), dnr(unk.status)]).toEqual([0, 0x02, true]);
    expect((await h.cmd(keepAliveSqe(h.cid()))).status).toBe(0);
    // Four AERs are parked (no completion); the fifth exceeds AERL.
    const aer = (): Uint8Array => {
      const a = emptySqe(); a.opc = 0x0c; a.cid = h.cid();
      return rawSqe(a);
    };
    for (let i = 0; i < 4; i++) h.send(h.capsule(aer()));
    const s5 = emptySqe(); s5.opc = 0x0c; s5.cid = 900;
    const fifth = await h.cmd(s5);
    expect([sct(fifth.status), sc(fifth.status)]).toEqual([1, 0x05]);
    const op = emptySqe(); op.opc = 0x80; op.cid = h.cid();
    const r = await h.cmd(op);
    expect([sct(r.status), sc(r.status), dnr(r.status)]).toEqual([0, 0x01, true]);
  });

  it('SMART log counts host reads and writes', async () => {
    const [a, q] = await ioPair();
    const before = decodeSmartLog(new Uint8Array((await a.cmd(getLogPageSqe(a.cid(), 0x02, 512, 0, 0xffffffff))).data));
    const data = pattern(4096, 5);
    for (let i = 0; i < 3; i++) expect((await q.cmd(ioSqe(q.cid(), 0x01, 1, 100 + i * 8, 8, BS, 0x01), { icd: data })).status).toBe(0);
    for (let i = 0; i < 5; i++) expect((await q.cmd(ioSqe(q.cid(), 0x02, 1, 100, 8, BS))).status).toBe(0);
    const r = await a.cmd(getLogPageSqe(a.cid(), 0x02, 512, 0, 0xffffffff));
    expect(r.status).toBe(0);
    const after = decodeSmartLog(new Uint8Array(r.data));
    expect(after.hostWriteCommands - before.hostWriteCommands).toBe(3n);
    expect(after.hostReadCommands - before.hostReadCommands).toBe(5n);
    expect(after.dataUnitsRead).toBeGreaterThanOrEqual(1n);
    // Partial read at an offset: exactly the requested length.
    const part = await a.cmd(getLogPageSqe(a.cid(), 0x02, 16, 64, 0xffffffff));
    expect(part.data.length).toBe(16);
    expect(part.data.readBigUInt64LE(0)).toBe(after.hostReadCommands);
  });
});

describe('I/O queue', () => {
  it.each([[0, 'no digests'], [3, 'header+data digests']])('writes and reads back data (%i: %s)', async (dgst) => {
    const [, q] = await ioPair(dgst as number);
    // In-capsule 4 KiB write.
    const small = pattern(4096, 1);
    const w1 = await q.cmd(ioSqe(q.cid(), 0x01, 1, 8, 8, BS, 0x01), { icd: small });
    expect(w1.status).toBe(0);
    expect(w1.sqid).toBe(1);
    // 64 KiB write through R2T + H2CData in 3 chunks.
    const big = pattern(65536, 2);
    const w2 = await q.cmd(ioSqe(q.cid(), 0x01, 1, 1000, 128, BS), { writeData: big, maxh2c: 24576 });
    expect(w2.status).toBe(0);
    expect(w2.pdus).toEqual([0x09, 0x05]);
    const r1 = await q.cmd(ioSqe(q.cid(), 0x02, 1, 8, 8, BS));
    expect(r1.status).toBe(0);
    expect(Buffer.compare(r1.data, Buffer.from(small))).toBe(0);
    const r2 = await q.cmd(ioSqe(q.cid(), 0x02, 1, 1000, 128, BS));
    expect(Buffer.compare(r2.data, Buffer.from(big))).toBe(0);
    // Last block of the namespace.
    const last = pattern(512, 3);
    expect((await q.cmd(ioSqe(q.cid(), 0x01, 1, NS_BLOCKS - 1, 1, BS, 0x01), { icd: last })).status).toBe(0);
    expect(Buffer.compare((await q.cmd(ioSqe(q.cid(), 0x02, 1, NS_BLOCKS - 1, 1, BS))).data, Buffer.from(last))).toBe(0);
  });

  it('ends successful reads with C2HData SUCCESS when the host disabled SQ flow control', async () => {
    const [, q] = await ioPair(0, 0x04);
    const r = await q.cmd(ioSqe(q.cid(), 0x02, 1, 0, 8, BS));
    expect(r.pdus).toEqual([0x07]);
    expect(r.cqe).toBeNull();
  });

  it('Flush, Write Zeroes and Dataset Management (deallocate) zero the data', async () => {
    const [, q] = await ioPair();
    const d = pattern(8192, 9);
    expect((await q.cmd(ioSqe(q.cid(), 0x01, 1, 2000, 16, BS, 0x01), { icd: d })).status).toBe(0);
    expect((await q.cmd(ioSqe(q.cid(), 0x00, 1, 0, 1, BS, 0x5a, 0))).status).toBe(0);
    expect((await q.cmd(ioSqe(q.cid(), 0x08, 1, 2000, 4, BS, 0x5a, 0))).status).toBe(0);
    const r = await q.cmd(ioSqe(q.cid(), 0x02, 1, 2000, 16, BS));
    expect(r.data.subarray(0, 2048).every((b) => b === 0)).toBe(true);
    expect(Buffer.compare(r.data.subarray(2048), Buffer.from(d.subarray(2048)))).toBe(0);
    // DSM: one range (1-based length 8 at LBA 2004), AD set.
    const range = Buffer.alloc(16);
    range.writeUInt32LE(8, 4);
    range.writeBigUInt64LE(2004n, 8);
    const dsm = ioSqe(q.cid(), 0x09, 1, 0, 1, BS, 0x01, 16);
    dsm.cdw10 = 0; dsm.cdw11 = 0x4; dsm.cdw12 = 0;
    expect((await q.cmd(dsm, { icd: range })).status).toBe(0);
    const r2 = await q.cmd(ioSqe(q.cid(), 0x02, 1, 2000, 16, BS));
    expect(r2.data.subarray(0, 6144).every((b) => b === 0)).toBe(true);
    expect(Buffer.compare(r2.data.subarray(6144), Buffer.from(d.subarray(6144)))).toBe(0);
  });

  it('returns LBA Out of Range, Invalid Namespace, Invalid Opcode, SGL Length Invalid', async () => {
    const [, q] = await ioPair();
    const oor = await q.cmd(ioSqe(q.cid(), 0x02, 1, NS_BLOCKS - 4, 8, BS));
    expect([sct(oor.status), sc(oor.status)]).toEqual([0, 0x80]);
    expect(oor.pdus).toEqual([0x05]);
    const oorW = await q.cmd(ioSqe(q.cid(), 0x01, 1, NS_BLOCKS, 8, BS, 0x01), { icd: new Uint8Array(4096) });
    expect([sct(oorW.status), sc(oorW.status)]).toEqual([0, 0x80]);
    const badNs = await q.cmd(ioSqe(q.cid(), 0x02, 2, 0, 8, BS));
    expect([sct(badNs.status), sc(badNs.status), dnr(badNs.status)]).toEqual([0, 0x0b, true]);
    const ns0 = await q.cmd(ioSqe(q.cid(), 0x02, 0, 0, 8, BS));
    expect(sc(ns0.status)).toBe(0x0b);
    const op = await q.cmd(ioSqe(q.cid(), 0x7e, 1, 0, 1, BS, 0x5a, 0));
    expect([sct(op.status), sc(op.status), dnr(op.status)]).toEqual([0, 0x01, true]);
    const sgl = await q.cmd(ioSqe(q.cid(), 0x02, 1, 0, 8, BS, 0x5a, 2048));
    expect([sct(sgl.status), sc(sgl.status), dnr(sgl.status)]).toEqual([0, 0x0f, true]);
    // A data digest error in in-capsule data: Transient Transport Error for that command only.
    const [, qd] = await ioPair(2);
    const pdu = qd.capsule(rawSqe(ioSqe(qd.cid(), 0x01, 1, 0, 8, BS, 0x01)), new Uint8Array(4096).fill(1));
    pdu[pdu.length - 1]! ^= 0xff;
    qd.send(pdu);
    const resp = await qd.readPdu();
    expect(resp[0]).toBe(0x05);
    expect([sct(resp.readUInt16LE(22)), sc(resp.readUInt16LE(22))]).toEqual([0, 0x22]);
    expect((await qd.cmd(ioSqe(qd.cid(), 0x02, 1, 0, 8, BS))).status).toBe(0);
  });

  it('a data digest error in H2CData: Transient Transport Error, nothing written, the queue lives on', async () => {
    const [, q] = await ioPair(2);
    const orig = pattern(16384, 11);
    expect((await q.cmd(ioSqe(q.cid(), 0x01, 1, 3000, 32, BS), { writeData: orig })).status).toBe(0);
    const cid = q.cid();
    q.send(q.capsule(rawSqe(ioSqe(cid, 0x01, 1, 3000, 32, BS))));
    const r2t = await q.readPdu();
    expect(r2t[0]).toBe(0x09);
    const pdu = q.h2cData(cid, r2t.readUInt16LE(10), 0, new Uint8Array(16384).fill(0xee), true);
    pdu[pdu.length - 2]! ^= 0x01; // corrupt the data digest
    q.send(pdu);
    const resp = await q.readPdu();
    expect(resp[0]).toBe(0x05);
    expect(resp.readUInt16LE(20)).toBe(cid);
    expect([sct(resp.readUInt16LE(22)), sc(resp.readUInt16LE(22)), dnr(resp.readUInt16LE(22))]).toEqual([0, 0x22, false]);
    const back = await q.cmd(ioSqe(q.cid(), 0x02, 1, 3000, 32, BS));
    expect(Buffer.compare(back.data, Buffer.from(orig))).toBe(0);
  });

  it('refuses I/O Connects with a wrong CNTLID, a QID already connected, or before CC.EN', async () => {
    const [, , cntlid] = await ioPair();
    const q2 = await host();
    await q2.icreq(0);
    const dup = await q2.connect(1, { subnqn: NQN, cntlid });
    expect([sct(dup.status), sc(dup.status)]).toEqual([0, 0x0c]);
    const wrong = await q2.connect(2, { subnqn: NQN, cntlid: (cntlid + 500) & 0xffff || 1 });
    expect([sct(wrong.status), sc(wrong.status)]).toEqual([1, 0x82]);
    expect(wrong.dw0).toBe((1 << 16) | 16); // IATTR 1 (data), IPO 16 (CNTLID)
    const otherHost = await q2.connect(2, { subnqn: NQN, cntlid, hostnqn: 'nqn.2014-08.org.example:other' });
    expect([sct(otherHost.status), sc(otherHost.status)]).toEqual([1, 0x82]);
    const ok = await q2.connect(2, { subnqn: NQN, cntlid });
    expect(ok.status).toBe(0);
    const again = await q2.connect(3, { subnqn: NQN, cntlid });
    expect([sct(again.status), sc(again.status)]).toEqual([1, 0x81]); // queue already connected

    // Controller connected but not enabled.
    const a = await host();
    await a.icreq(0);
    const c = await a.connect(0, { subnqn: NQN });
    const q3 = await host();
    await q3.icreq(0);
    const early = await q3.connect(1, { subnqn: NQN, cntlid: c.dw0 & 0xffff });
    expect([sct(early.status), sc(early.status)]).toEqual([1, 0x82]);
  });

  it('refuses unknown subsystems, bad SQSIZE, RECFMT ≠ 0, admin CNTLID ≠ 0xFFFF', async () => {
    const h = await host();
    await h.icreq(0);
    const unk = await h.connect(0, { subnqn: 'nqn.2016-06.io.nvmf-perf:nope' });
    expect([sct(unk.status), sc(unk.status)]).toEqual([1, 0x82]);
    expect(unk.dw0).toBe((1 << 16) | 256);
    const sq0 = await h.connect(0, { subnqn: NQN, sqsize: 0 });
    expect([sct(sq0.status), sc(sq0.status)]).toEqual([1, 0x82]);
    expect(sq0.dw0).toBe(44);
    const fmt = await h.connect(0, { subnqn: NQN, recfmt: 1 });
    expect([sct(fmt.status), sc(fmt.status)]).toEqual([1, 0x80]);
    const cnt = await h.connect(0, { subnqn: NQN, cntlid: 5 });
    expect([sct(cnt.status), sc(cnt.status)]).toEqual([1, 0x82]);
    // A command before Connect: Invalid Opcode + DNR.
    const early = await h.cmd(identifySqe(h.cid(), 1));
    expect([sct(early.status), sc(early.status), dnr(early.status)]).toEqual([0, 0x01, true]);
    expect((await h.connect(0, { subnqn: NQN })).status).toBe(0);
  });

  it('closes the I/O queues of a controller that is disabled (CC.EN = 0)', async () => {
    const [a, q] = await ioPair();
    expect((await a.propertySet(0x14, 0x00460000)).status).toBe(0);
    await q.waitClosed(3000);
  });

  it('drops an association whose keep-alive timeout expires, I/O queues included', async () => {
    const a = await host();
    // Taken before the Connect that starts the keep-alive timer: the drop can only come later than
    // KATO after t0, however slow the machine (a lower bound, never a race with the load).
    const t0 = Date.now();
    const cntlid = await a.bringUp(NQN, { kato: 1000 });
    const q = await host();
    await q.icreq(0);
    expect((await q.connect(1, { subnqn: NQN, cntlid })).status).toBe(0);
    await a.waitClosed(5000);
    await q.waitClosed(2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });
});

describe('discovery controller', () => {
  it('serves the discovery log with LPO and partial reads', async () => {
    const h = await host();
    const cntlid = await h.bringUp('nqn.2014-08.org.nvmexpress.discovery');
    const id = decodeIdentifyController(new Uint8Array((await h.cmd(identifySqe(h.cid(), 1))).data));
    expect(id.cntrltype).toBe(2);
    expect(id.cntlid).toBe(cntlid);
    expect(id.subnqn).toBe('nqn.2014-08.org.nvmexpress.discovery');
    const hdr = await h.cmd(getLogPageSqe(h.cid(), 0x70, 20));
    expect(hdr.status).toBe(0);
    expect(hdr.data.length).toBe(20);
    const numrec = Number(hdr.data.readBigUInt64LE(8));
    expect(numrec).toBe(1);
    expect(hdr.data.readBigUInt64LE(0)).toBeGreaterThan(0n); // GENCTR
    const e = (await h.cmd(getLogPageSqe(h.cid(), 0x70, 1024, 1024))).data;
    expect(e[0]).toBe(3); // TCP
    expect(e[1]).toBe(1); // IPv4
    expect(e[2]).toBe(2); // NVM subsystem
    expect(e.readUInt16LE(4)).toBe(1); // PORTID
    expect(e.readUInt16LE(6)).toBe(0xffff);
    expect(e.readUInt16LE(8)).toBe(32); // ASQSZ
    expect(e.subarray(32, 64).toString('latin1').replace(/\0+$/, '')).toBe(String(target.port));
    expect(e.subarray(256, 512).toString('latin1').replace(/\0+$/, '')).toBe(NQN);
    expect(e.subarray(512, 768).toString('latin1').replace(/\0+$/, '')).toBe('127.0.0.1');
    expect(e[768]).toBe(0); // SECTYPE none
    // Past the end of the log: zero-filled to the requested length.
    const tail = (await h.cmd(getLogPageSqe(h.cid(), 0x70, 4096, 1024))).data;
    expect(tail.length).toBe(4096);
    expect(tail.subarray(1024).every((b) => b === 0)).toBe(true);
    // Identify Namespace is not for discovery controllers.
    expect(sc((await h.cmd(identifySqe(h.cid(), 0, 1))).status)).toBe(0x02);
    // No I/O queues on the discovery subsystem.
    const q = await host();
    await q.icreq(0);
    const io = await q.connect(1, { subnqn: 'nqn.2014-08.org.nvmexpress.discovery', cntlid });
    expect([sct(io.status), sc(io.status)]).toEqual([1, 0x82]);
  });
});

describe('malformed input', () => {
  /** A working admin queue to prove the target survived. */
  async function stillWorks(): Promise<void> {
    const h = await host();
    const cntlid = await h.bringUp(NQN);
    expect(cntlid).toBeGreaterThan(0);
    expect((await h.cmd(identifySqe(h.cid(), 1))).status).toBe(0);
  }

  it('bad PDU type: C2HTermReq FES 0x01 FEI 0 with the header, then close; another connection keeps working', async () => {
    const other = await host();
    await other.bringUp(NQN);
    const h = await host();
    await h.icreq(0);
    const bad = Buffer.alloc(24);
    bad[0] = 0x05; bad[2] = 24; bad.writeUInt32LE(24, 4); // a CapsuleResp (C→H type) from the host
    h.send(bad);
    const t = await h.readPdu();
    expect(t[0]).toBe(0x03);
    expect(t[2]).toBe(24);
    expect(t.readUInt16LE(8)).toBe(0x01);
    expect(t.readUInt32LE(10)).toBe(0);
    expect(t.readUInt32LE(4)).toBe(t.length);
    expect(t[24]).toBe(0x05); // copy of the offending header
    await h.waitClosed();
    expect((await other.cmd(identifySqe(other.cid(), 1))).status).toBe(0);
    await stillWorks();
  });

  it('header digest mismatch: FES 0x03', async () => {
    const h = await host();
    await h.icreq(1);
    const sqe = new Uint8Array(64);
    sqe[0] = 0x18; sqe[1] = 0x40; sqe[39] = 0x5a;
    const pdu = h.capsule(sqe);
    pdu[72]! ^= 0x5a; // corrupt the header digest
    h.send(pdu);
    const t = await h.readPdu();
    expect(t[0]).toBe(0x03);
    expect(t.readUInt16LE(8)).toBe(0x03);
    expect(t.readUInt32LE(10)).toBe(pdu.readUInt32LE(72)); // FEI: the digest received
    await h.waitClosed();
    await stillWorks();
  });

  it('PLEN < HLEN: FES 0x01 FEI 4', async () => {
    const h = await host();
    await h.icreq(0);
    const b = Buffer.alloc(72);
    b[0] = 0x04; b[2] = 72; b.writeUInt32LE(40, 4);
    h.send(b);
    const t = await h.readPdu();
    expect([t[0], t.readUInt16LE(8), t.readUInt32LE(10)]).toEqual([0x03, 0x01, 4]);
    await h.waitClosed();
  });

  it('wrong HLEN: FES 0x01 FEI 2', async () => {
    const h = await host();
    await h.icreq(0);
    const b = Buffer.alloc(64);
    b[0] = 0x04; b[2] = 64; b.writeUInt32LE(64, 4);
    h.send(b);
    const t = await h.readPdu();
    expect([t[0], t.readUInt16LE(8), t.readUInt32LE(10)]).toEqual([0x03, 0x01, 2]);
    await h.waitClosed();
  });

  it('CapsuleCmd before ICReq and a second ICReq: FES 0x02', async () => {
    const h = await host();
    const sqe = new Uint8Array(64);
    sqe[0] = 0x18; sqe[1] = 0x40;
    h.send(h.capsule(sqe));
    const t = await h.readPdu();
    expect([t[0], t.readUInt16LE(8)]).toEqual([0x03, 0x02]);
    await h.waitClosed();
    const h2 = await host();
    await h2.icreq(0);
    const t2 = await h2.icreq(0);
    expect([t2[0], t2.readUInt16LE(8)]).toEqual([0x03, 0x02]);
    await h2.waitClosed();
  });

  it('H2CData for an unknown TTAG: FES 0x02; wrong DATAO: FES 0x04', async () => {
    const [, q] = await ioPair();
    q.send(q.h2cData(1, 77, 0, new Uint8Array(512), true));
    const t = await q.readPdu();
    expect([t[0], t.readUInt16LE(8)]).toEqual([0x03, 0x02]);
    expect(t[24]).toBe(0x06);
    await q.waitClosed();

    const [, q2] = await ioPair();
    const cid = q2.cid();
    q2.send(q2.capsule(rawSqe(ioSqe(cid, 0x01, 1, 0, 64, BS))));
    const r2t = await q2.readPdu();
    expect(r2t[0]).toBe(0x09);
    expect(r2t.readUInt32LE(16)).toBe(32768); // one R2T for everything
    q2.send(q2.h2cData(cid, r2t.readUInt16LE(10), 512, new Uint8Array(512), false));
    const t2 = await q2.readPdu();
    expect([t2[0], t2.readUInt16LE(8)]).toEqual([0x03, 0x04]);
    await q2.waitClosed();
    await stillWorks();
  });

  it('in-capsule data above the advertised size: FES 0x05', async () => {
    const [, q] = await ioPair();
    q.send(q.capsule(rawSqe(ioSqe(q.cid(), 0x01, 1, 0, 32, BS, 0x01)), new Uint8Array(16384)));
    const t = await q.readPdu();
    expect([t[0], t.readUInt16LE(8)]).toEqual([0x03, 0x05]);
    await q.waitClosed();
  });

  it('garbage bytes and a huge PLEN never take the target down', async () => {
    for (const junk of [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from([0, 0, 128, 0, 0xff, 0xff, 0xff, 0x7f])]) {
      const h = await host();
      h.send(junk);
      await h.readPdu().catch(() => undefined);
      await h.waitClosed();
    }
    const h = await host();
    h.send(Buffer.alloc(3)); // a partial header, then hang up
    h.destroy();
    await stillWorks();
  });

  it('a host that vanishes mid-R2T does not disturb others', async () => {
    const [, q] = await ioPair(3);
    q.send(q.capsule(rawSqe(ioSqe(q.cid(), 0x01, 1, 0, 64, BS))));
    expect((await q.readPdu())[0]).toBe(0x09);
    q.destroy();
    await stillWorks();
  });
});

describe('flow control', () => {
  it('a host that stops reading is throttled (bounded buffering) and then gets every response', async () => {
    const [, q] = await ioPair();
    const left = q.detach();
    expect(left.length).toBe(0);
    q.sock.pause();
    const N = 600;
    const cmds: Uint8Array[] = [];
    for (let i = 0; i < N; i++) cmds.push(q.capsule(rawSqe(ioSqe(i + 1, 0x02, 1, (i * 128) % (NS_BLOCKS - 128), 128, BS))));
    const io0 = target.stats()[0]!.ioCommands;
    q.send(Buffer.concat(cmds));
    // 600 × 64 KiB = 37.5 MiB of responses are due. The target stops taking commands once about
    // 8 MiB wait for the socket: wait until its command counter stands still, then check that it
    // stopped short of N and that no connection's buffers grew past the cap (counters, not RSS).
    let last = -1, still = 0;
    for (let i = 0; i < 400 && still < 10; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const io = target.stats()[0]!.ioCommands - io0;
      still = io === last ? still + 1 : 0;
      last = io;
    }
    expect(still).toBe(10);
    expect(last).toBeLessThan(N);
    expect(target.stats()[0]!.connBufferMax).toBeLessThanOrEqual(17 * 1024 * 1024);
    // Other connections are served meanwhile.
    const other = await host();
    await other.bringUp(NQN);
    expect((await other.cmd(identifySqe(other.cid(), 1))).status).toBe(0);
    // Now read everything.
    const done = new Promise<number>((resolve, reject) => {
      let pending = Buffer.alloc(0);
      let resps = 0, bytes = 0;
      q.sock.on('data', (d: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, d]) : d;
        let o = 0;
        while (pending.length - o >= 8) {
          const plen = pending.readUInt32LE(o + 4);
          if (pending.length - o < plen) break;
          if (pending[o] === 0x07) bytes += pending.readUInt32LE(o + 16);
          if (pending[o] === 0x05) {
            if (pending.readUInt16LE(o + 22) !== 0) reject(new Error('error status'));
            if (++resps === N) resolve(bytes);
          }
          o += plen;
        }
        pending = pending.subarray(o);
      });
      setTimeout(() => reject(new Error(`only ${resps} responses`)), 20_000);
    });
    q.sock.resume();
    expect(await done).toBe(N * 65536);
  });
});

describe('large RAM reads sent by reference (one reactor)', () => {
  // 60 reads of 128 KiB are answered while the host reads nothing, so most of their data waits in
  // the target's send queue, by reference to namespace memory. A write then lands in the blocks of
  // the last read, through another queue: the reads were answered before it arrived and must carry
  // the old data, whole, with data digests that match.
  for (const dgst of [0, 2]) {
    it(`a write landing before a read's data is sent does not tear the read (${dgst ? 'data digest' : 'no digests'})`, async () => {
      const [, q1, cntlid] = await ioPair(dgst);
      const q2 = await host();
      await q2.icreq(dgst);
      expect((await q2.connect(2, { subnqn: NQN, cntlid, sqsize: 63 })).status).toBe(0);
      const N = 60, NLB = 256, LEN = NLB * BS, SLBA0 = 8192;
      const old = pattern(N * LEN, 77 + dgst);
      for (let i = 0; i < N; i++) {
        const w = await q2.cmd(ioSqe(q2.cid(), 0x01, 1, SLBA0 + i * NLB, NLB, BS), { writeData: old.subarray(i * LEN, (i + 1) * LEN) });
        expect(w.status).toBe(0);
      }
      // Hold q1's data back: no reading. The kernel then holds a few MiB of it (the send buffer grows to
      // tcp_wmem's 4 MiB at most; the receive buffer stays small while nothing is read); the rest, with
      // the last reads, waits in the target.
      q1.sock.pause();
      await new Promise((r) => setTimeout(r, 100)); // the writes' counts are published every few ms
      const io0 = target.stats()[0]!.ioCommands;
      const cids: number[] = [];
      const reads: Uint8Array[] = [];
      for (let i = 0; i < N; i++) {
        cids.push(q1.cid());
        reads.push(q1.capsule(rawSqe(ioSqe(cids[i]!, 0x02, 1, SLBA0 + i * NLB, NLB, BS))));
      }
      q1.send(Buffer.concat(reads));
      for (let i = 0; i < 200 && target.stats()[0]!.ioCommands - io0 < N; i++) await new Promise((r) => setTimeout(r, 25));
      expect(target.stats()[0]!.ioCommands - io0).toBe(N); // every read answered (queued) before the write below
      const fresh = new Uint8Array(LEN).fill(0xa5);
      expect((await q2.cmd(ioSqe(q2.cid(), 0x01, 1, SLBA0 + (N - 1) * NLB, NLB, BS), { writeData: fresh })).status).toBe(0);
      q1.sock.resume();
      const got = new Map<number, Buffer[]>();
      let resps = 0;
      while (resps < N) {
        const p = await q1.readPdu(10_000);
        if (p[0] === 0x05) { expect(p.readUInt16LE(22)).toBe(0); resps++; continue; }
        expect(p[0]).toBe(0x07);
        const pdo = p[3]!, datal = p.readUInt32LE(16);
        if (dgst) expect(crc32c(p, pdo, datal), 'C2HData data digest').toBe(p.readUInt32LE(pdo + datal));
        const cid = p.readUInt16LE(8);
        got.set(cid, [...(got.get(cid) ?? []), Buffer.from(p.subarray(pdo, pdo + datal))]);
      }
      for (let i = 0; i < N; i++) {
        const d = Buffer.concat(got.get(cids[i]!) ?? []);
        expect(Buffer.compare(d, Buffer.from(old.subarray(i * LEN, (i + 1) * LEN))), `read ${i} carries the data as it was`).toBe(0);
      }
      // And the write did land.
      const back = await q2.cmd(ioSqe(q2.cid(), 0x02, 1, SLBA0 + (N - 1) * NLB, NLB, BS));
      expect(Buffer.compare(back.data, Buffer.from(fresh))).toBe(0);
    });
  }
});

describe('--allow-host', () => {
  it('refuses a host NQN that is not allowed: sct 1 sc 0x84', async () => {
    const t2 = await startTarget(targetConfig({
      listen: [{ host: '127.0.0.1', port: 0 }], subnqn: NQN, namespaces: [{ kind: 'null', sizeBytes: 1 << 30 }],
      allowHosts: ['nqn.2014-08.org.example:allowed'], logLevel: 'silent',
    }));
    try {
      const h = await RawHost.open(t2.port);
      hosts.push(h);
      await h.icreq(0);
      const r = await h.connect(0, { subnqn: NQN, hostnqn: HOSTNQN });
      expect([sct(r.status), sc(r.status), dnr(r.status)]).toEqual([1, 0x84, true]);
      const ok = await h.connect(0, { subnqn: NQN, hostnqn: 'nqn.2014-08.org.example:allowed' });
      expect(ok.status).toBe(0);
      // The discovery subsystem accepts anyone but lists only what that host may use.
      const d = await RawHost.open(t2.port);
      hosts.push(d);
      await d.bringUp('nqn.2014-08.org.nvmexpress.discovery');
      const hdr = await d.cmd(getLogPageSqe(d.cid(), 0x70, 20));
      expect(hdr.data.readBigUInt64LE(8)).toBe(0n);
    } finally {
      await t2.stop();
    }
  });
});
