// SQE/CQE/status/register layouts pinned to byte vectors (offsets per ../shared/docs/nvme-tcp-notes.md §4–5,
// which match struct nvme_command / nvme_completion in the Linux kernel's include/linux/nvme.h).
import { describe, expect, it } from 'vitest';
import {
  AdminOpcode, Cns, CNTLID_DYNAMIC, connectSqe, decodeConnectData, decodeCqe, decodeSqe, describeStatus,
  encodeConnectData, encodeCqe, encodeRwSqe, encodeSqe, encodeStatus, FabricsStatus, GenericStatus, getLogPageSqe,
  getLogPageLength, hostCcValue, identifySqe, NvmeStatusError, NvmOpcode, propertyGetSqe, propertySetSqe, SglId,
  sqeSlba, statusOk, StatusCodeType, encodeCap, decodeCap, encodeVersion, formatVersion, numberOfQueuesValue,
  encodeIdentifyController, decodeIdentifyController, encodeIdentifyNamespace, decodeIdentifyNamespace,
  namespaceBlockSize, encodeDiscoveryLog, decodeDiscoveryLogHeader, decodeDiscoveryLogEntry, encodeActiveNsList,
  decodeActiveNsList, type IdentifyController,
} from '../../src/nvme/index.js';

const hex = (u8: Uint8Array): string => Buffer.from(u8).toString('hex');

describe('status field', () => {
  it('encodes the examples of notes §4.3', () => {
    expect(encodeStatus(0, GenericStatus.InvalidOpcode, true)).toBe(0x8002);
    expect(encodeStatus(0, GenericStatus.InvalidField, true)).toBe(0x8004);
    expect(encodeStatus(0, GenericStatus.InvalidNamespace, true)).toBe(0x8016);
    expect(encodeStatus(0, GenericStatus.CommandSequenceError, true)).toBe(0x8018);
    expect(encodeStatus(0, GenericStatus.DataSglLengthInvalid, true)).toBe(0x801e);
    expect(encodeStatus(0, GenericStatus.LbaOutOfRange, true)).toBe(0x8100);
    expect(encodeStatus(1, FabricsStatus.IncompatibleFormat, true)).toBe(0x8300);
    expect(encodeStatus(1, FabricsStatus.ConnectInvalidHost, true)).toBe(0x8308);
    expect(encodeStatus(0, GenericStatus.TransientTransportError)).toBe(0x0044);
    expect(statusOk(0x0001)).toBe(true); // phase bit ignored
    expect(statusOk(0x8100)).toBe(false);
  });
  it('names statuses for messages', () => {
    expect(describeStatus(encodeStatus(StatusCodeType.CommandSpecific, 0x84, true), 'fabrics'))
      .toBe('Connect Invalid Host (sct 1, sc 0x84)');
    expect(describeStatus(0x8100, 'nvm')).toBe('LBA Out of Range (sct 0, sc 0x80)');
    const e = new NvmeStatusError('Connect rejected', 0x8308, 'fabrics');
    expect(e.message).toBe('Connect rejected: Connect Invalid Host (sct 1, sc 0x84)');
    expect([e.sct, e.sc, e.dnr]).toEqual([1, 0x84, true]);
  });
});

describe('SQE', () => {
  it('Read at SLBA 0x1_0000_0001, 8 blocks, SGL 0x5A', () => {
    const b = new Uint8Array(64);
    encodeRwSqe(new DataView(b.buffer), 0, NvmOpcode.Read, 0x1234, 1, 0x1_0000_0001, 7, SglId.TransportDataBlock, 4096);
    expect(hex(b)).toBe(
      '02' + '40' + '3412' + '01000000' + '00'.repeat(8) + '00'.repeat(8) // OPC, PSDT, CID, NSID, CDW2-3, MPTR
      + '00'.repeat(8) + '00100000' + '000000' + '5a'                     // SGL: addr, len 4096, id 0x5A
      + '01000000' + '01000000' + '07000000' + '00'.repeat(12));           // SLBA lo/hi, NLB 7 (0's based)
    expect(sqeSlba(new DataView(b.buffer), 0)).toBe(0x1_0000_0001);
  });
  it('round-trips through encode/decode', () => {
    const b = new Uint8Array(64);
    const s = identifySqe(7, Cns.Controller);
    encodeSqe(new DataView(b.buffer), 0, s);
    expect(b[0]).toBe(AdminOpcode.Identify);
    expect(b[1]).toBe(0x40);
    expect(b[39]).toBe(0x5a);
    expect(b[32]).toBe(0x00); expect(b[33]).toBe(0x10); // 4096
    expect(b[40]).toBe(1);
    expect(decodeSqe(new DataView(b.buffer), 0)).toEqual(s);
  });
  it('Connect: RECFMT 40, QID 42, SQSIZE 44, CATTR 46, KATO 48, SGL 0x01 len 1024', () => {
    const b = new Uint8Array(64);
    encodeSqe(new DataView(b.buffer), 0, connectSqe(3, { recfmt: 0, qid: 2, sqsize: 127, cattr: 4, kato: 0 }));
    expect(b[0]).toBe(0x7f); expect(b[4]).toBe(0x01);
    expect(hex(b.subarray(24, 40))).toBe('0000000000000000' + '00040000' + '000000' + '01');
    expect(hex(b.subarray(40, 52))).toBe('0000' + '0200' + '7f00' + '04' + '00' + '00000000');
    encodeSqe(new DataView(b.buffer), 0, connectSqe(0, { recfmt: 0, qid: 0, sqsize: 31, cattr: 0, kato: 30000 }));
    expect(hex(b.subarray(44, 52))).toBe('1f000000' + '30750000');
  });
  it('Connect data: HOSTID 0, CNTLID 16, SUBNQN 256, HOSTNQN 512', () => {
    const d = new Uint8Array(1024);
    const hostId = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    encodeConnectData(d, 0, { hostId, cntlid: CNTLID_DYNAMIC, subnqn: 'nqn.a:sub', hostnqn: 'nqn.b:host' });
    expect(hex(d.subarray(0, 18))).toBe('0102030405060708090a0b0c0d0e0f10ffff');
    expect(Buffer.from(d.subarray(256, 265)).toString()).toBe('nqn.a:sub');
    expect(d[265]).toBe(0);
    expect(Buffer.from(d.subarray(512, 522)).toString()).toBe('nqn.b:host');
    expect(decodeConnectData(d, 0)).toEqual({ hostId, cntlid: 0xffff, subnqn: 'nqn.a:sub', hostnqn: 'nqn.b:host' });
  });
  it('Property Get CAP (8 bytes) and Property Set CC', () => {
    const b = new Uint8Array(64);
    encodeSqe(new DataView(b.buffer), 0, propertyGetSqe(1, 0x00, 8));
    expect([b[0], b[4], b[40], b[44]]).toEqual([0x7f, 0x04, 1, 0x00]);
    encodeSqe(new DataView(b.buffer), 0, propertySetSqe(2, 0x14, 4, BigInt(hostCcValue(true))));
    expect([b[4], b[40], b[44]]).toEqual([0x00, 0, 0x14]);
    expect(hex(b.subarray(48, 56))).toBe('0100460000000000'); // CC = 0x00460001
  });
  it('Get Log Page: NUMDL/NUMDU 0\'s based dwords, LPO', () => {
    const s = getLogPageSqe(1, 0x70, 4096, 1024);
    expect(s.cdw10 & 0xff).toBe(0x70);
    expect(s.cdw10 >>> 16).toBe(1023);
    expect(s.cdw12).toBe(1024);
    expect(getLogPageLength(s)).toBe(4096);
    expect(() => getLogPageSqe(1, 2, 6)).toThrow(/multiple of 4/);
  });
  it('Number of Queues value is 0\'s based', () => {
    expect(numberOfQueuesValue(4, 4)).toBe(0x00030003);
  });
});

describe('CQE', () => {
  it('DW0 0, DW1 4, SQHD 8, SQID 10, CID 12, STATUS 14', () => {
    const b = new Uint8Array(16);
    encodeCqe(new DataView(b.buffer), 0, 0x11223344, 0x55667788, 0x0009, 0x0002, 0xabcd, 0x8100);
    expect(hex(b)).toBe('44332211' + '88776655' + '0900' + '0200' + 'cdab' + '0081');
    expect(decodeCqe(new DataView(b.buffer), 0)).toEqual({ dw0: 0x11223344, dw1: 0x55667788, sqhd: 9, sqid: 2, cid: 0xabcd, status: 0x8100 });
  });
});

describe('registers', () => {
  it('CAP bit fields', () => {
    const cap = encodeCap({ mqes: 127, cqr: true, to: 30, dstrd: 0, css: 1, mpsmin: 0, mpsmax: 0 });
    expect(cap).toBe(0x0000_0020_1e01_007fn); // CSS bit 37 = bit 5 of byte 4
    expect(decodeCap(cap)).toEqual({ mqes: 127, cqr: true, to: 30, dstrd: 0, css: 1, mpsmin: 0, mpsmax: 0 });
    expect(hostCcValue(false)).toBe(0x00460000);
    expect(encodeVersion(1, 4)).toBe(0x00010400);
    expect(formatVersion(0x00010400)).toBe('1.4');
  });
});

describe('Identify', () => {
  const ctrl: IdentifyController = {
    vid: 0x1b36, ssvid: 0x1af4, sn: 'SN123', mn: 'nvmf-perf target', fr: '0.1.0', rab: 6, ieee: 0x123456, cmic: 2,
    mdts: 5, cntlid: 7, ver: 0x00010400, rtd3r: 0, rtd3e: 0, oaes: 0, ctratt: 0, cntrltype: 1, oacs: 0, acl: 3, aerl: 3,
    frmw: 3, lpa: 4, elpe: 0, npss: 0, kas: 10, sqes: 0x66, cqes: 0x44, maxcmd: 128, nn: 2, oncs: 0x0c, fuses: 0,
    fna: 0, vwc: 1, awun: 0, awupf: 0, sgls: 0x100001, subnqn: 'nqn.2016-06.io.spdk:cnode1', ioccsz: 516,
    ioresz: 1, icdoff: 0, fcatt: 0, msdbd: 1, ofcs: 0,
  };
  it('controller fields sit at the offsets of notes §6.2', () => {
    const b = new Uint8Array(4096);
    encodeIdentifyController(b, ctrl);
    expect(Buffer.from(b.subarray(4, 24)).toString()).toBe('SN123'.padEnd(20));
    expect(Buffer.from(b.subarray(24, 64)).toString()).toBe('nvmf-perf target'.padEnd(40));
    expect([b[77], b[78], b[79], b[111], b[320], b[512], b[513]]).toEqual([5, 7, 0, 1, 10, 0x66, 0x44]);
    expect(hex(b.subarray(514, 522))).toBe('8000' + '02000000' + '0c00');
    expect(b[525]).toBe(1);
    expect(hex(b.subarray(536, 540))).toBe('01001000');
    expect(Buffer.from(b.subarray(768, 794)).toString()).toBe('nqn.2016-06.io.spdk:cnode1');
    expect(hex(b.subarray(1792, 1804))).toBe('04020000' + '01000000' + '0000' + '00' + '01');
    expect(decodeIdentifyController(b)).toEqual(ctrl);
  });
  it('namespace: NSZE, FLBAS, LBAF and block size', () => {
    const b = new Uint8Array(4096);
    const ns = { nsze: 2097152n, ncap: 2097152n, nuse: 2097152n, nsfeat: 0, nlbaf: 1, flbas: 1, mc: 0, dpc: 0, dps: 0,
      nmic: 0, dlfeat: 1, nsattr: 0, nguid: new Uint8Array(16).fill(7), eui64: new Uint8Array(8).fill(9),
      lbaf: [{ ms: 0, lbads: 9, rp: 0 }, { ms: 0, lbads: 12, rp: 0 }] };
    encodeIdentifyNamespace(b, ns);
    expect(hex(b.subarray(0, 8))).toBe('0000200000000000');
    expect([b[25], b[26], b[33]]).toEqual([1, 1, 1]);
    expect(hex(b.subarray(128, 136))).toBe('00000900' + '00000c00');
    const d = decodeIdentifyNamespace(b);
    expect(d).toEqual(ns);
    expect(namespaceBlockSize(d)).toBe(4096);
  });
  it('active namespace list is zero terminated', () => {
    const b = new Uint8Array(4096);
    encodeActiveNsList(b, [1, 2, 5]);
    expect(hex(b.subarray(0, 16))).toBe('01000000020000000500000000000000');
    expect(decodeActiveNsList(b)).toEqual([1, 2, 5]);
  });
});

describe('discovery log', () => {
  it('header and entry offsets of notes §6.4', () => {
    const b = new Uint8Array(2048);
    encodeDiscoveryLog(b, 5n, [{ trtype: 3, adrfam: 1, subtype: 2, treq: 2, portid: 1, cntlid: 0xffff, asqsz: 32,
      eflags: 0, trsvcid: '4420', subnqn: 'nqn.x:y', traddr: '127.0.0.1', sectype: 0 }]);
    expect(hex(b.subarray(0, 18))).toBe('0500000000000000' + '0100000000000000' + '0000');
    expect(hex(b.subarray(1024, 1036))).toBe('03010202' + '0100' + 'ffff' + '2000' + '0000');
    expect(Buffer.from(b.subarray(1024 + 32, 1024 + 36)).toString()).toBe('4420');
    expect(Buffer.from(b.subarray(1024 + 256, 1024 + 263)).toString()).toBe('nqn.x:y');
    expect(Buffer.from(b.subarray(1024 + 512, 1024 + 521)).toString()).toBe('127.0.0.1');
    expect(decodeDiscoveryLogHeader(b)).toEqual({ genctr: 5n, numrec: 1n, recfmt: 0 });
    expect(decodeDiscoveryLogEntry(b, 1024).subnqn).toBe('nqn.x:y');
  });
});
