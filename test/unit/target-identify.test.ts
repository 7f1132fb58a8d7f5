// The data structures the target produces, checked at raw byte offsets (NVMe base spec /
// notes §6.2–6.4): Identify Controller, Identify Namespace, NS descriptors, discovery log,
// SMART log, CAP; plus the controller registry's cross-reactor rules.
import { describe, expect, it } from 'vitest';
import {
  buildActiveNsList, buildDiscoveryLog, buildFirmwareSlotLog, buildIdentifyController, buildIdentifyNamespace,
  buildNsDescriptors, buildSmartLog, discoveryEntries, mdtsFor,
} from '../../src/target/identify-data.js';
import { capHalves } from '../../src/target/fabrics-handlers.js';
import { ControllerRegistry, CtrlState } from '../../src/target/registry.js';
import { deriveNamespaceIds, deriveSerial, type SubsystemDescriptor } from '../../src/target/subsystem.js';

const NQN = 'nqn.2016-06.io.nvmf-perf:unit';
const serial = deriveSerial(NQN);
const sub: SubsystemDescriptor = {
  nqn: NQN, serial, model: 'nvmf-perf target', firmware: '0.1.0', allowHosts: [],
  namespaces: [1, 2].map((nsid) => ({ nsid, kind: 'ram' as const, blocks: 2048, blockSize: 4096, label: 'ram:8MiB',
    ...deriveNamespaceIds(NQN, serial, nsid) })),
};
const limits = { maxQueueDepth: 128, inCapsuleDataSize: 8192, maxIoSize: 131072 };

function ascii(u: Uint8Array, off: number, len: number): string {
  return Buffer.from(u.subarray(off, off + len)).toString('latin1');
}

describe('Identify Controller (CNS 1)', () => {
  it('I/O controller fields at their offsets', () => {
    const u = new Uint8Array(4096);
    buildIdentifyController(u, sub, false, limits, 0x1234);
    const dv = new DataView(u.buffer);
    expect(ascii(u, 4, 20)).toBe(serial.padEnd(20, ' '));
    expect(serial.length).toBeLessThanOrEqual(20);
    expect(ascii(u, 24, 40)).toBe('nvmf-perf target'.padEnd(40, ' '));
    expect(ascii(u, 64, 8)).toBe('0.1.0   ');
    expect(u[76]).toBe(0x03); // CMIC: multi-port, multi-controller
    expect(u[77]).toBe(5); // MDTS: 2^5 × 4 KiB = 128 KiB
    expect(dv.getUint16(78, true)).toBe(0x1234);
    expect(dv.getUint32(80, true)).toBe(0x00010300);
    expect(u[111]).toBe(1); // CNTRLTYPE I/O
    expect(u[259]).toBe(3); // AERL
    expect(dv.getUint16(320, true)).toBe(10); // KAS
    expect(u[512]).toBe(0x66);
    expect(u[513]).toBe(0x44);
    expect(dv.getUint16(514, true)).toBe(128); // MAXCMD
    expect(dv.getUint32(516, true)).toBe(32); // NN: NSIDs up to 32 may be added at run time
    expect(dv.getUint32(92, true)).toBe(0x100); // OAES: Namespace Attribute Notices
    expect(dv.getUint16(520, true)).toBe(0x0c); // ONCS: DSM + Write Zeroes
    expect(u[525]).toBe(1); // VWC
    expect(dv.getUint32(536, true)).toBe(0x100001); // SGLS
    expect(ascii(u, 768, NQN.length)).toBe(NQN);
    expect(u[768 + NQN.length]).toBe(0);
    expect(dv.getUint32(1792, true)).toBe(516); // IOCCSZ = (64 + 8192) / 16
    expect(dv.getUint32(1796, true)).toBe(1); // IORCSZ
    expect(dv.getUint16(1800, true)).toBe(0); // ICDOFF
    expect(u[1803]).toBe(1); // MSDBD
  });

  it('discovery controller', () => {
    const u = new Uint8Array(4096);
    buildIdentifyController(u, sub, true, limits, 7);
    const dv = new DataView(u.buffer);
    expect(u[111]).toBe(2);
    expect(dv.getUint32(516, true)).toBe(0);
    expect(ascii(u, 768, 36)).toBe('nqn.2014-08.org.nvmexpress.discovery');
    expect(dv.getUint16(320, true)).toBe(10);
    expect(dv.getUint32(536, true) & 3).toBe(1);
    expect(dv.getUint16(514, true)).toBe(128);
  });

  it('MDTS from the max I/O size', () => {
    expect(mdtsFor(4096)).toBe(0);
    expect(mdtsFor(131072)).toBe(5);
    expect(mdtsFor(1024 * 1024)).toBe(8);
  });
});

describe('namespace structures', () => {
  it('Identify Namespace (CNS 0)', () => {
    const u = new Uint8Array(4096);
    buildIdentifyNamespace(u, sub.namespaces[0]!);
    const dv = new DataView(u.buffer);
    expect(dv.getBigUint64(0, true)).toBe(2048n); // NSZE
    expect(dv.getBigUint64(8, true)).toBe(2048n); // NCAP
    expect(dv.getBigUint64(16, true)).toBe(2048n); // NUSE
    expect(u[25]).toBe(0); // NLBAF
    expect(u[26]).toBe(0); // FLBAS
    expect(u[30]).toBe(1); // NMIC shared
    expect(u[33]).toBe(0x09); // DLFEAT
    expect([...u.subarray(104, 120)]).toEqual([...sub.namespaces[0]!.nguid]);
    expect([...u.subarray(120, 128)]).toEqual([...sub.namespaces[0]!.eui64]);
    expect(dv.getUint16(128, true)).toBe(0); // LBAF0 MS
    expect(u[130]).toBe(12); // LBADS: 4096
  });

  it('NGUID/EUI64 are unique per namespace and non-zero', () => {
    const [a, b] = sub.namespaces;
    expect(Buffer.compare(a!.nguid, b!.nguid)).not.toBe(0);
    expect(Buffer.compare(a!.eui64, b!.eui64)).not.toBe(0);
    expect(a!.nguid.some((x) => x !== 0)).toBe(true);
  });

  it('NS descriptor list (CNS 3) and active list (CNS 2)', () => {
    const u = new Uint8Array(4096);
    buildNsDescriptors(u, sub.namespaces[1]!);
    expect([u[0], u[1]]).toEqual([1, 8]); // EUI64
    expect([...u.subarray(4, 12)]).toEqual([...sub.namespaces[1]!.eui64]);
    expect([u[12], u[13]]).toEqual([2, 16]); // NGUID
    expect([...u.subarray(16, 32)]).toEqual([...sub.namespaces[1]!.nguid]);
    expect([u[32], u[33], u[36]]).toEqual([4, 1, 0]); // CSI = NVM
    expect(u[37]).toBe(0); // terminator
    const l = new Uint8Array(4096);
    buildActiveNsList(l, sub, 0);
    const dv = new DataView(l.buffer);
    expect([dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true)]).toEqual([1, 2, 0]);
    buildActiveNsList(l, sub, 1);
    expect([dv.getUint32(0, true), dv.getUint32(4, true)]).toEqual([2, 0]);
  });
});

describe('log pages', () => {
  it('discovery log: one entry per (subsystem, listener), filtered by allowed host', () => {
    const listeners = [{ host: '127.0.0.1', port: 4420, portId: 1 }, { host: '10.0.0.5', port: 4421, portId: 2 }];
    const log = buildDiscoveryLog(discoveryEntries([sub], listeners, 'nqn.x:any'));
    const dv = new DataView(log.buffer);
    expect(log.length).toBe(1024 + 2 * 1024);
    expect(dv.getBigUint64(0, true)).toBe(1n); // GENCTR
    expect(dv.getBigUint64(8, true)).toBe(2n); // NUMREC
    expect(dv.getUint16(16, true)).toBe(0); // RECFMT
    const e = 2048; // second entry
    expect([log[e], log[e + 1], log[e + 2], log[e + 3]]).toEqual([3, 1, 2, 0x04]); // TCP, IPv4, NVM subsystem, TREQ
    expect(dv.getUint16(e + 4, true)).toBe(2); // PORTID
    expect(dv.getUint16(e + 6, true)).toBe(0xffff); // CNTLID
    expect(dv.getUint16(e + 8, true)).toBe(32); // ASQSZ
    expect(ascii(log, e + 32, 4)).toBe('4421');
    expect(log[e + 36]).toBe(0);
    expect(ascii(log, e + 256, NQN.length)).toBe(NQN);
    expect(ascii(log, e + 512, 8)).toBe('10.0.0.5');
    expect(log[e + 768]).toBe(0); // SECTYPE
    const restricted = { ...sub, allowHosts: ['nqn.x:only'] };
    expect(discoveryEntries([restricted], listeners, 'nqn.x:other')).toEqual([]);
    expect(discoveryEntries([restricted], listeners, 'nqn.x:only').length).toBe(2);
  });

  it('SMART log counters and data units (thousands of 512-byte units, rounded up)', () => {
    const u = new Uint8Array(512);
    buildSmartLog(u, { readCommands: 5n, writeCommands: 7n, readUnits512: 1001n, writeUnits512: 1000n, powerOnHours: 2n });
    const dv = new DataView(u.buffer);
    expect(u[0]).toBe(0);
    expect(dv.getUint16(1, true)).toBeGreaterThan(273);
    expect(u[3]).toBe(100);
    expect(dv.getBigUint64(32, true)).toBe(2n);
    expect(dv.getBigUint64(48, true)).toBe(1n);
    expect(dv.getBigUint64(64, true)).toBe(5n);
    expect(dv.getBigUint64(80, true)).toBe(7n);
    expect(dv.getBigUint64(128, true)).toBe(2n);
    const fw = new Uint8Array(512);
    buildFirmwareSlotLog(fw, '0.1.0');
    expect(fw[0]).toBe(1);
    expect(ascii(fw, 8, 8)).toBe('0.1.0   ');
  });

  it('CAP: MQES, CQR, TO, CSS NVM, MPSMIN 0', () => {
    const [lo, hi] = capHalves(128);
    expect(lo & 0xffff).toBe(127);
    expect((lo >>> 16) & 1).toBe(1);
    expect(lo >>> 24).toBe(15);
    expect(hi & 0xf).toBe(0); // DSTRD
    expect((hi >>> 5) & 0xff).toBe(1); // CSS bit 0 = NVM
    expect((hi >>> 16) & 0xf).toBe(0); // MPSMIN
  });
});

describe('ControllerRegistry', () => {
  const host = Buffer.from('nqn.2014-08.org.example:h');
  it('allocates CNTLIDs, gates I/O Connects, bumps epochs', () => {
    const r = new ControllerRegistry();
    const view = new ControllerRegistry(r.sab); // another reactor's view
    const a = r.allocate(1, host, 4)!;
    const b = r.allocate(1, host, 4)!;
    expect(a.cntlid).toBeGreaterThanOrEqual(1);
    expect(b.cntlid).not.toBe(a.cntlid);
    expect(view.state(a.slot)).toBe(CtrlState.Connected);
    expect(view.connectIo(a.cntlid, 1, host, 1)).toEqual({ ok: false, why: 'not-ready' });
    r.setReady(a.slot);
    const ok = view.connectIo(a.cntlid, 1, host, 1);
    expect(ok.ok).toBe(true);
    expect(view.connectIo(a.cntlid, 1, host, 1)).toEqual({ ok: false, why: 'qid-in-use' });
    expect(view.connectIo(a.cntlid, 1, host, 5)).toEqual({ ok: false, why: 'qid-range' });
    expect(view.connectIo(a.cntlid, 1, Buffer.from('nqn.other:h'), 2)).toEqual({ ok: false, why: 'host' });
    expect(view.connectIo(a.cntlid, 2, host, 2)).toEqual({ ok: false, why: 'subsystem' });
    expect(view.connectIo(0x7777, 1, host, 2)).toEqual({ ok: false, why: 'no-controller' });
    const epoch = ok.ok ? ok.epoch : -1;
    expect(view.epoch(a.slot)).toBe(epoch);
    r.setNotReady(a.slot); // CC.EN = 0: I/O queues must go
    expect(view.epoch(a.slot)).not.toBe(epoch);
    r.setReady(a.slot);
    expect(view.connectIo(a.cntlid, 1, host, 1).ok).toBe(true); // QID free again
    r.free(a.slot);
    expect(view.connectIo(a.cntlid, 1, host, 1)).toEqual({ ok: false, why: 'no-controller' });
    expect(r.count()).toBe(1);
  });
});
