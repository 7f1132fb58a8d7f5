// What the NVMe/TCP host puts on the wire, and how it reacts to what a controller sends.
// The host side is the real TcpQpair on a real TCP socket; the "controller" is the other end of the
// same loopback connection (native.tcpListen + accept), written and read byte by byte here. Replies
// the host waits for synchronously (ICResp, Connect response) are queued on the socket beforehand.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { PollGroup } from '../../src/host/poll-group.js';
import { native } from '../../src/native/index.js';
import { TransportError, ConnectError } from '../../src/transport/errors.js';
import { icExchange, setupTcpQpair } from '../../src/transport/tcp/tcp-connect.js';
import { TcpQpair } from '../../src/transport/tcp/tcp-qpair.js';
import type { QpairConnectParams } from '../../src/transport/transport.js';

// ---------------------------------------------------------------- independent CRC32C (bitwise)
function crc32c(u8: Uint8Array, off = 0, len = u8.length - off): number {
  let c = 0xffffffff;
  for (let i = off; i < off + len; i++) {
    c ^= u8[i]!;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------- sockets
const fds: number[] = [];
const qpairs: TcpQpair[] = [];
afterEach(() => {
  for (const q of qpairs.splice(0)) q.disconnect();
  for (const fd of fds.splice(0)) {
    try { native.close(fd); } catch { /* already closed */ }
  }
});

function socketPair(): { host: number; peer: number } {
  const lfd = native.tcpListen('127.0.0.1', 0, 4);
  try {
    const host = native.tcpConnect('127.0.0.1', native.localPort(lfd), 2000);
    let peer = -1;
    for (let i = 0; i < 200 && peer < 0; i++) {
      peer = native.accept(lfd);
      if (peer < 0) native.pollFd(lfd, 1, 10);
    }
    if (peer < 0) throw new Error('accept failed');
    fds.push(peer);
    return { host, peer };
  } finally {
    native.close(lfd);
  }
}

function peerSend(peer: number, u8: Uint8Array): void {
  let off = 0;
  while (off < u8.length) {
    const n = native.send(peer, u8, off, u8.length - off);
    if (n > 0) off += n;
    else if (n === -11) native.pollFd(peer, 4, 100);
    else throw new Error(`peer send: ${n}`);
  }
}

/** Reads exactly n bytes from the peer end (while pumping the qpair, if given, so it can answer R2Ts and send). */
function peerRecv(peer: number, n: number, qp?: TcpQpair, timeoutMs = 3000): Uint8Array {
  const out = new Uint8Array(n);
  let got = 0;
  const deadline = performance.now() + timeoutMs;
  while (got < n) {
    const r = native.recv(peer, out, got, n - got);
    if (r > 0) { got += r; continue; }
    if (r === 0) throw new Error(`peer: connection closed after ${got} of ${n} bytes`);
    if (performance.now() > deadline) throw new Error(`peer: timed out after ${got} of ${n} bytes`);
    if (qp) qp.processCompletions();
    native.pollFd(peer, 1, 5);
  }
  return out;
}

/** Bytes available at the peer end right now (after a short wait). */
function peerDrain(peer: number, waitMs = 30): Uint8Array {
  const parts: Uint8Array[] = [];
  native.pollFd(peer, 1, waitMs);
  for (;;) {
    const b = new Uint8Array(65536);
    const r = native.recv(peer, b, 0, b.length);
    if (r <= 0) break;
    parts.push(b.subarray(0, r));
  }
  return Uint8Array.from(Buffer.concat(parts));
}

function hex(u8: Uint8Array): string {
  return Buffer.from(u8).toString('hex');
}

function u16(u8: Uint8Array, o: number): number { return u8[o]! | (u8[o + 1]! << 8); }
function u32(u8: Uint8Array, o: number): number { return (u8[o]! | (u8[o + 1]! << 8) | (u8[o + 2]! << 16) | (u8[o + 3]! << 24)) >>> 0; }
function put16(u8: Uint8Array, o: number, v: number): void { u8[o] = v & 0xff; u8[o + 1] = (v >>> 8) & 0xff; }
function put32(u8: Uint8Array, o: number, v: number): void {
  put16(u8, o, v & 0xffff);
  put16(u8, o + 2, (v >>> 16) & 0xffff);
}

// ---------------------------------------------------------------- controller-side PDUs (built by hand)
function icResp(o: { pfv?: number; cpda?: number; dgst?: number; maxh2cdata?: number } = {}): Uint8Array {
  const b = new Uint8Array(128);
  b[0] = 0x01; b[2] = 128; put32(b, 4, 128);
  put16(b, 8, o.pfv ?? 0);
  b[10] = o.cpda ?? 0;
  b[11] = o.dgst ?? 0;
  put32(b, 12, o.maxh2cdata ?? 131072);
  return b;
}

function withHdgst(b: Uint8Array, hlen: number, hd: boolean): Uint8Array {
  if (!hd) return b;
  b[1]! |= 0x01;
  put32(b, hlen, crc32c(b, 0, hlen));
  return b;
}

function capsuleResp(cid: number, status = 0, dw0 = 0, hd = false): Uint8Array {
  const b = new Uint8Array(hd ? 28 : 24);
  b[0] = 0x05; b[2] = 24; put32(b, 4, b.length);
  put32(b, 8, dw0);
  put16(b, 20, cid);
  put16(b, 22, status);
  return withHdgst(b, 24, hd);
}

function c2hData(cid: number, datao: number, data: Uint8Array, flags: number, o: { hd?: boolean; dd?: boolean; badDd?: boolean } = {}): Uint8Array {
  const hd = o.hd ? 4 : 0, dd = o.dd ? 4 : 0;
  const pdo = 24 + hd;
  const b = new Uint8Array(pdo + data.length + dd);
  b[0] = 0x07; b[1] = flags | (dd ? 0x02 : 0); b[2] = 24; b[3] = pdo; put32(b, 4, b.length);
  put16(b, 8, cid); put32(b, 12, datao); put32(b, 16, data.length);
  b.set(data, pdo);
  if (dd) put32(b, pdo + data.length, (crc32c(data) ^ (o.badDd ? 1 : 0)) >>> 0);
  return withHdgst(b, 24, !!o.hd);
}

function r2t(cid: number, ttag: number, r2to: number, r2tl: number, hd = false): Uint8Array {
  const b = new Uint8Array(hd ? 28 : 24);
  b[0] = 0x09; b[2] = 24; put32(b, 4, b.length);
  put16(b, 8, cid); put16(b, 10, ttag); put32(b, 12, r2to); put32(b, 16, r2tl);
  return withHdgst(b, 24, hd);
}

function c2hTermReq(fes: number, fei: number): Uint8Array {
  const b = new Uint8Array(24);
  b[0] = 0x03; b[2] = 24; put32(b, 4, 24);
  put16(b, 8, fes); put32(b, 10, fei);
  return b;
}

// ---------------------------------------------------------------- connected qpairs
const HOST_ID = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const SUBNQN = 'nqn.2016-06.io.spdk:cnode1';
const HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf';

function params(o: Partial<QpairConnectParams> = {}): QpairConnectParams {
  return {
    traddr: '127.0.0.1', trsvcid: 4420, subnqn: SUBNQN, hostnqn: HOSTNQN, hostId: HOST_ID, cntlid: 5, qid: 1,
    depth: 32, kato: 0, hdgst: false, ddgst: false, ioccsz: 4, maxTransferBytes: 1 << 20,
    disableSqFlowControl: true, connectTimeoutMs: 2000, ...o,
  };
}

interface Conn { qp: TcpQpair; peer: number; icReq: Uint8Array; connect: Uint8Array }

/** A qpair after a real IC exchange and Connect; `connect` holds the Connect capsule bytes. */
function connect(p: Partial<QpairConnectParams> = {}, ic: Parameters<typeof icResp>[0] = {}): Conn {
  const pp = params(p);
  const { host, peer } = socketPair();
  const dgst = (pp.hdgst ? 1 : 0) | (pp.ddgst ? 2 : 0);
  peerSend(peer, icResp({ dgst, ...ic }));
  peerSend(peer, capsuleResp(0, 0, 0x0007, pp.hdgst));
  const qp = setupTcpQpair(host, pp);
  qpairs.push(qp);
  const icReq = peerRecv(peer, 128);
  const hd = pp.hdgst ? 4 : 0, dd = pp.ddgst ? 4 : 0;
  const cpda = ic.cpda ?? 0;
  const align = (cpda + 1) * 4;
  const pdo = Math.ceil((72 + hd) / align) * align;
  const connectBytes = peerRecv(peer, pdo + 1024 + dd);
  return { qp, peer, icReq, connect: connectBytes };
}

function pump(qp: TcpQpair, until: () => boolean, timeoutMs = 3000): void {
  const deadline = performance.now() + timeoutMs;
  while (!until()) {
    qp.processCompletions();
    if (until()) return;
    if (performance.now() > deadline) throw new Error('pump: timed out');
    qp.waitReadable(5);
  }
}

function completions(qp: TcpQpair): Array<[number, number]> {
  const got: Array<[number, number]> = [];
  qp.onComplete = (tag, status) => { got.push([tag, status]); };
  return got;
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b[i] = x & 0xff; }
  return b;
}

// ================================================================== tests

describe('CRC32C used by these tests', () => {
  it('matches the check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });
});

describe('ICReq / ICResp', () => {
  it('sends exactly the notes §2.2 ICReq without digests', () => {
    const { host, peer } = socketPair();
    fds.push(host);
    peerSend(peer, icResp());
    const r = icExchange(host, 'peer', false, false, 1000);
    expect(r).toEqual({ cpda: 0, maxh2cdata: 131072, leftover: new Uint8Array(0) });
    const got = peerRecv(peer, 128);
    expect(hex(got)).toBe('00008000800000000000000000000000' + '00'.repeat(112));
  });

  it('asks for digests in DGST', () => {
    const { host, peer } = socketPair();
    fds.push(host);
    peerSend(peer, icResp({ dgst: 3 }));
    icExchange(host, 'peer', true, true, 1000);
    expect(hex(peerRecv(peer, 16))).toBe('00008000800000000000000300000000');
  });

  const bad: Array<[string, Parameters<typeof icResp>[0], boolean, boolean, string]> = [
    ['PFV', { pfv: 1 }, false, false, 'peer: ICResp PFV 1 is not supported (expected 0)'],
    ['CPDA', { cpda: 32 }, false, false, 'peer: ICResp CPDA 32 is above 31'],
    ['MAXH2CDATA small', { maxh2cdata: 2048 }, false, false, 'peer: ICResp MAXH2CDATA 2048 is invalid (must be >= 4096 and a multiple of 4)'],
    ['MAXH2CDATA odd', { maxh2cdata: 4098 }, false, false, 'peer: ICResp MAXH2CDATA 4098 is invalid (must be >= 4096 and a multiple of 4)'],
    ['header digest', { dgst: 0 }, true, false, 'peer granted header digest off but on was requested'],
    ['data digest', { dgst: 3 }, true, false, 'peer granted data digest on but off was requested'],
  ];
  for (const [name, ic, hd, dd, msg] of bad) {
    it(`rejects a bad ICResp: ${name}`, () => {
      const { host, peer } = socketPair();
      fds.push(host);
      peerSend(peer, icResp(ic));
      expect(() => icExchange(host, 'peer', hd, dd, 1000)).toThrow(new ConnectError(msg));
    });
  }

  it('reports a C2HTermReq instead of ICResp, and a timeout', () => {
    let { host, peer } = socketPair();
    fds.push(host);
    peerSend(peer, c2hTermReq(0x01, 10));
    expect(() => icExchange(host, 'peer', false, false, 1000))
      .toThrow('peer rejected ICReq: C2HTermReq Invalid PDU Header Field');
    ({ host, peer } = socketPair());
    fds.push(host);
    const t0 = performance.now();
    expect(() => icExchange(host, 'peer', false, false, 100)).toThrow(TransportError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95); // it waited for the timeout it was given
  });
});

describe('Fabrics Connect capsule', () => {
  it('I/O queue: PLEN 1096, SGL 0x01/1024, QID, SQSIZE, CATTR bit 2, KATO 0, data fields', () => {
    const { qp, connect: b } = connect({ qid: 3, depth: 128, cntlid: 0x0007, kato: 5000 });
    expect(qp.cntlid).toBe(7);
    expect(hex(b.subarray(0, 8))).toBe('04004848' + '48040000');
    const s = b.subarray(8, 72);
    expect(s[0]).toBe(0x7f);
    expect(s[1]).toBe(0x40);
    expect(u16(s, 2)).toBe(0); // CID = slot 0
    expect(s[4]).toBe(0x01); // FCTYPE Connect
    expect(hex(s.subarray(24, 40))).toBe('0000000000000000' + '00040000' + '00000001');
    expect(u16(s, 40)).toBe(0); // RECFMT
    expect(u16(s, 42)).toBe(3); // QID
    expect(u16(s, 44)).toBe(127); // SQSIZE 0's based
    expect(s[46]).toBe(0x04); // CATTR: disable SQ flow control
    expect(u32(s, 48)).toBe(0); // KATO only on the admin queue
    const d = b.subarray(72);
    expect(d.length).toBe(1024);
    expect(hex(d.subarray(0, 16))).toBe(hex(HOST_ID));
    expect(u16(d, 16)).toBe(7);
    expect(Buffer.from(d.subarray(256, 256 + SUBNQN.length)).toString()).toBe(SUBNQN);
    expect(d[256 + SUBNQN.length]).toBe(0);
    expect(Buffer.from(d.subarray(512, 512 + HOSTNQN.length)).toString()).toBe(HOSTNQN);
    expect(d.subarray(512 + HOSTNQN.length).every((x) => x === 0)).toBe(true);
  });

  it('admin queue: CNTLID 0xFFFF, KATO in ms, no CATTR', () => {
    const { connect: b } = connect({ qid: 0, depth: 32, cntlid: 0xffff, kato: 30000 });
    const s = b.subarray(8, 72);
    expect(u16(s, 42)).toBe(0);
    expect(u16(s, 44)).toBe(31);
    expect(s[46]).toBe(0);
    expect(u32(s, 48)).toBe(30000);
    expect(u16(b, 72 + 16)).toBe(0xffff);
  });

  it('CATTR bit 2 can be turned off', () => {
    const { connect: b } = connect({ disableSqFlowControl: false });
    expect(b[8 + 46]).toBe(0);
  });

  it('with digests: HDGSTF|DDGSTF, PDO 76, PLEN 1104, both CRC32C', () => {
    const { connect: b } = connect({ hdgst: true, ddgst: true });
    expect(hex(b.subarray(0, 8))).toBe('0403484c' + '50040000');
    expect(u32(b, 72)).toBe(crc32c(b, 0, 72));
    expect(u32(b, 76 + 1024)).toBe(crc32c(b, 76, 1024));
  });

  it('pads in-capsule data to the CPDA alignment', () => {
    // CPDA 3 → 16-byte alignment: 72 + 4 (HDGST) rounds up to PDO 80.
    const { connect: b } = connect({ hdgst: true }, { cpda: 3 });
    expect(b[3]).toBe(80);
    expect(u32(b, 4)).toBe(80 + 1024);
    expect(hex(b.subarray(76, 80))).toBe('00000000');
    expect(u16(b, 80 + 16)).toBe(5);
  });

  function rejected(status: number, dw0: number): string {
    const { host, peer } = socketPair();
    peerSend(peer, icResp());
    peerSend(peer, capsuleResp(0, status, dw0));
    try {
      setupTcpQpair(host, params());
    } catch (e) {
      expect(e).toBeInstanceOf(ConnectError);
      expect((e as ConnectError).status).toBe(status);
      return (e as Error).message;
    }
    throw new Error('Connect was not rejected');
  }

  it('names the status of a rejected Connect', () => {
    // SCT 1, SC 0x84 → (1 << 9) | (0x84 << 1)
    expect(rejected(0x0308, 0)).toBe(
      `Connect rejected: Connect Invalid Host (sct 1, sc 0x84): host ${HOSTNQN} is not allowed to access ${SUBNQN}`);
    expect(rejected(0x8304, 256 | (1 << 16))).toBe(
      'Connect rejected: Connect Invalid Parameters (sct 1, sc 0x82): invalid parameter at byte 256 of the Connect data (SUBNQN): ' +
      `subsystem ${SUBNQN} is not served at 127.0.0.1:4420`);
    expect(rejected(0x8304, 44)).toBe(
      'Connect rejected: Connect Invalid Parameters (sct 1, sc 0x82): invalid parameter at byte 44 of the Connect command (SQSIZE): ' +
      'queue depth 32 is not accepted');
    expect(rejected(0x0302, 0)).toBe('Connect rejected: Controller Busy (sct 1, sc 0x81)');
  });
});

describe('I/O capsules', () => {
  it('Read at SLBA 0x1_0000_0001, 8 blocks: SQE bytes, SGL 0x5A; C2HData SUCCESS completes it', () => {
    const { qp, peer } = connect();
    const got = completions(qp);
    const buf = new Uint8Array(4096 + 16);
    expect(qp.submitRead(1, 0x1_0000_0001, 8, 512, buf, 16, 77)).toBe(true);
    expect(qp.outstanding).toBe(1);
    qp.flush();
    const b = peerRecv(peer, 72);
    expect(hex(b)).toBe(
      '04004800' + '48000000' + // CH: CapsuleCmd, HLEN 72, PDO 0, PLEN 72
      '02400000' + '01000000' + // OPC Read, PSDT 01b, CID 0, NSID 1
      '00'.repeat(16) + // CDW2..5
      '0000000000000000' + '00100000' + '0000005a' + // SGL: addr 0, len 4096, id 0x5A
      '01000000' + '01000000' + '07000000' + // SLBA lo/hi, NLB 7
      '00'.repeat(12)); // CDW13..15
    const data = pattern(4096, 1);
    peerSend(peer, c2hData(0, 0, data, 0x0c));
    pump(qp, () => got.length > 0);
    expect(got).toEqual([[77, 0]]);
    expect(hex(buf.subarray(16))).toBe(hex(data));
    expect(qp.outstanding).toBe(0);
  });

  it('in-capsule Write with HDGST+DDGST: flags 0x03, PDO 76, PLEN, digests', () => {
    const { qp, peer } = connect({ hdgst: true, ddgst: true, ioccsz: 260 }, { maxh2cdata: 65536 });
    const got = completions(qp);
    const data = pattern(4096, 2);
    expect(qp.submitWrite(1, 0x20, 8, 512, data, 0, 5)).toBe(true);
    qp.flush();
    const b = peerRecv(peer, 76 + 4096 + 4);
    expect(hex(b.subarray(0, 8))).toBe('0403484c' + '50100000'); // HLEN 72, PDO 76, PLEN 4176
    expect(b[8]).toBe(0x01);
    expect(hex(b.subarray(8 + 24, 8 + 40))).toBe('0000000000000000' + '00100000' + '00000001'); // SGL 0x01, 4096
    expect(u32(b, 8 + 40)).toBe(0x20);
    expect(u16(b, 8 + 48)).toBe(7);
    expect(u32(b, 72)).toBe(crc32c(b, 0, 72));
    expect(hex(b.subarray(76, 76 + 4096))).toBe(hex(data));
    expect(u32(b, 76 + 4096)).toBe(crc32c(data));
    peerSend(peer, capsuleResp(0, 0, 0, true));
    pump(qp, () => got.length > 0);
    expect(got).toEqual([[5, 0]]);
  });

  it('writes above the ICD limit go out with SGL 0x5A and wait for an R2T', () => {
    // IOCCSZ 260 → 4096 bytes in-capsule; 4608 bytes do not fit.
    const { qp, peer } = connect({ ioccsz: 260 });
    qp.submitWrite(1, 0, 9, 512, new Uint8Array(4608), 0, 1);
    qp.flush();
    const b = peerRecv(peer, 72);
    expect(u32(b, 4)).toBe(72);
    expect(hex(b.subarray(8 + 24, 8 + 40))).toBe('0000000000000000' + '00120000' + '0000005a');
    expect(peerDrain(peer).length).toBe(0);
  });

  it('H2CData answers an R2T in MAXH2CDATA chunks, LAST_PDU on the chunk that ends each R2T', () => {
    const { qp, peer } = connect({ ioccsz: 4 }, { maxh2cdata: 8192 });
    const got = completions(qp);
    const data = pattern(40 * 512, 3);
    qp.submitWrite(1, 100, 40, 512, data, 0, 9);
    qp.flush();
    peerRecv(peer, 72);
    // First R2T: 12288 bytes → 8192 + 4096 (LAST); second R2T: 8192 (LAST).
    peerSend(peer, r2t(0, 0xbeef, 0, 12288));
    const seen: Array<[number, number, number, number]> = [];
    const readH2C = (): void => {
      const h = peerRecv(peer, 24, qp);
      expect(h[0]).toBe(0x06);
      expect(h[2]).toBe(24);
      expect(h[3]).toBe(24);
      const datal = u32(h, 16);
      expect(u32(h, 4)).toBe(24 + datal);
      expect(u16(h, 8)).toBe(0); // CCCID
      expect(u16(h, 10)).toBe(0xbeef); // TTAG echoed
      const datao = u32(h, 12);
      const payload = peerRecv(peer, datal, qp);
      expect(hex(payload)).toBe(hex(data.subarray(datao, datao + datal)));
      seen.push([h[1]!, datao, datal, u32(h, 20)]);
    };
    readH2C();
    readH2C();
    peerSend(peer, r2t(0, 0xbeef, 12288, 8192));
    readH2C();
    expect(seen).toEqual([[0x00, 0, 8192, 0], [0x04, 8192, 4096, 0], [0x04, 12288, 8192, 0]]);
    peerSend(peer, capsuleResp(0));
    pump(qp, () => got.length > 0);
    expect(got).toEqual([[9, 0]]);
  });

  it('H2CData with digests and CPDA padding', () => {
    // CPDA 1 → 8-byte alignment: 24 + 4 (HDGST) rounds up to PDO 32.
    const { qp, peer } = connect({ hdgst: true, ddgst: true, ioccsz: 4 }, { maxh2cdata: 4096, cpda: 1 });
    const data = pattern(6144, 4);
    qp.submitWrite(1, 0, 12, 512, data, 0, 1);
    qp.flush();
    const cap = peerRecv(peer, 76);
    expect(cap[1]).toBe(0x01); // no data → only HDGSTF
    expect(cap[3]).toBe(0); // PDO 0 without data
    peerSend(peer, r2t(0, 7, 0, 6144, true));
    const a = peerRecv(peer, 32 + 4096 + 4, qp);
    expect(hex(a.subarray(0, 8))).toBe('06031820' + '24100000');
    expect(u32(a, 24)).toBe(crc32c(a, 0, 24));
    expect(hex(a.subarray(28, 32))).toBe('00000000');
    expect(u32(a, 32 + 4096)).toBe(crc32c(data, 0, 4096));
    const b = peerRecv(peer, 32 + 2048 + 4, qp);
    expect(hex(b.subarray(0, 8))).toBe('06071820' + '24080000');
    expect(u32(b, 12)).toBe(4096);
    expect(hex(b.subarray(32, 32 + 2048))).toBe(hex(data.subarray(4096)));
    expect(u32(b, 32 + 2048)).toBe(crc32c(data, 4096, 2048));
  });

  it('Flush, Write Zeroes and Deallocate SQEs', () => {
    const { qp, peer } = connect({ ioccsz: 260 });
    const got = completions(qp);
    qp.submitFlush(0xffffffff, 1);
    qp.submitWriteZeroes(2, 0x1_0000_0000, 0x10001, 2); // split at 65536 blocks
    qp.submitDeallocate(3, [{ slba: 10, nblocks: 5 }, { slba: 0x2_0000_0000, nblocks: 0xffffffff }], 3);
    qp.flush();
    const f = peerRecv(peer, 72);
    expect(hex(f.subarray(8, 16))).toBe('00400000' + 'ffffffff');
    expect(f.subarray(16, 72).every((x, i) => (i === 31 ? x === 0x5a : x === 0))).toBe(true);
    const w1 = peerRecv(peer, 72);
    const w2 = peerRecv(peer, 72);
    expect(hex(w1.subarray(8, 16))).toBe('08400100' + '02000000');
    expect(w1[8 + 39]).toBe(0x5a);
    expect(u32(w1, 8 + 32)).toBe(0);
    expect(u32(w1, 8 + 40)).toBe(0);
    expect(u32(w1, 8 + 44)).toBe(1);
    expect(u32(w1, 8 + 48)).toBe(0xffff);
    expect(u16(w2, 8 + 2)).toBe(2);
    expect(u32(w2, 8 + 40)).toBe(0x10000);
    expect(u32(w2, 8 + 44)).toBe(1);
    expect(u32(w2, 8 + 48)).toBe(0);
    const d = peerRecv(peer, 72 + 32);
    expect(hex(d.subarray(0, 8))).toBe('04004848' + '68000000');
    expect(hex(d.subarray(8, 16))).toBe('09400300' + '03000000');
    expect(hex(d.subarray(8 + 24, 8 + 40))).toBe('0000000000000000' + '20000000' + '00000001');
    expect(u32(d, 8 + 40)).toBe(1); // NR 0's based
    expect(u32(d, 8 + 44)).toBe(4); // AD
    expect(hex(d.subarray(72))).toBe(
      '00000000' + '05000000' + '0a00000000000000' +
      '00000000' + 'ffffffff' + '0000000002000000');
    peerSend(peer, Buffer.concat([capsuleResp(2), capsuleResp(0), capsuleResp(1), capsuleResp(3)]));
    pump(qp, () => got.length === 3);
    expect(got).toEqual([[1, 0], [2, 0], [3, 0]]);
  });
});

describe('split I/O', () => {
  it('splits above maxTransferBytes, needs slots for all children, completes once with the first error', () => {
    const { qp, peer } = connect({ maxTransferBytes: 8192, depth: 4 });
    const got = completions(qp);
    const buf = new Uint8Array(40 * 512);
    expect(qp.submitRead(1, 1000, 40, 512, buf, 0, 42)).toBe(true);
    expect(qp.outstanding).toBe(3);
    // Two more children would be needed: nothing is queued.
    expect(qp.submitRead(1, 0, 17, 512, buf, 0, 43)).toBe(false);
    expect(qp.outstanding).toBe(3);
    qp.flush();
    const cmds = [peerRecv(peer, 72), peerRecv(peer, 72), peerRecv(peer, 72)];
    expect(peerDrain(peer).length).toBe(0);
    expect(cmds.map((c) => [u16(c, 10), u32(c, 48), u16(c, 56), u32(c, 40)])).toEqual([
      [0, 1000, 15, 8192], [1, 1016, 15, 8192], [2, 1032, 7, 4096],
    ]);
    const data = pattern(40 * 512, 5);
    // Out of order; the middle child fails with LBA Out of Range, the last with Invalid Field.
    peerSend(peer, c2hData(2, 0, data.subarray(16384), 0x0c));
    peerSend(peer, capsuleResp(1, 0x8100));
    peerSend(peer, capsuleResp(0, 0x8004)); // reaches "first non-zero" after 0x8100 arrived
    pump(qp, () => got.length > 0);
    expect(got).toEqual([[42, 0x8100]]);
    expect(qp.outstanding).toBe(0);
    expect(hex(buf.subarray(16384))).toBe(hex(data.subarray(16384)));
  });

  it('reuses CIDs after completion and handles reads spread over several C2HData PDUs', () => {
    const { qp, peer } = connect({ depth: 2 });
    const got = completions(qp);
    const buf = new Uint8Array(8192);
    for (let round = 0; round < 3; round++) {
      qp.submitRead(1, round, 16, 512, buf, 0, round);
      qp.flush();
      const c = peerRecv(peer, 72);
      const cid = u16(c, 10);
      const data = pattern(8192, 10 + round);
      peerSend(peer, c2hData(cid, 0, data.subarray(0, 1000), 0));
      peerSend(peer, c2hData(cid, 1000, data.subarray(1000, 8000), 0));
      peerSend(peer, c2hData(cid, 8000, data.subarray(8000), 0x04));
      peerSend(peer, capsuleResp(cid, 0, 0));
      pump(qp, () => got.length === round + 1);
      expect(hex(buf)).toBe(hex(data));
    }
    expect(got).toEqual([[0, 0], [1, 0], [2, 0]]);
  });
});

describe('errors from the controller', () => {
  it('data digest mismatch on C2HData → Data Transfer Error (sct 0, sc 0x04); the qpair stays usable', () => {
    const { qp, peer } = connect({ hdgst: true, ddgst: true });
    const got = completions(qp);
    const buf = new Uint8Array(4096);
    qp.submitRead(1, 0, 8, 512, buf, 0, 1);
    qp.flush();
    peerRecv(peer, 76);
    peerSend(peer, c2hData(0, 0, pattern(4096, 6), 0x0c, { hd: true, dd: true, badDd: true }));
    pump(qp, () => got.length > 0);
    expect(got).toEqual([[1, 0x0008]]);
    // Also when a CapsuleResp follows (its success status does not hide the digest error).
    qp.submitRead(1, 0, 8, 512, buf, 0, 2);
    qp.flush();
    peerRecv(peer, 76);
    peerSend(peer, c2hData(0, 0, pattern(4096, 6), 0x04, { hd: true, dd: true, badDd: true }));
    peerSend(peer, capsuleResp(0, 0, 0, true));
    pump(qp, () => got.length > 1);
    expect(got[1]).toEqual([2, 0x0008]);
    const good = pattern(4096, 7);
    qp.submitRead(1, 0, 8, 512, buf, 0, 3);
    qp.flush();
    peerRecv(peer, 76);
    peerSend(peer, c2hData(0, 0, good, 0x0c, { hd: true, dd: true }));
    pump(qp, () => got.length > 2);
    expect(got[2]).toEqual([3, 0]);
    expect(hex(buf)).toBe(hex(good));
  });

  function fatal(qp: TcpQpair): TransportError {
    const deadline = performance.now() + 3000;
    for (;;) {
      try {
        qp.processCompletions();
      } catch (e) {
        expect(e).toBeInstanceOf(TransportError);
        return e as TransportError;
      }
      if (performance.now() > deadline) throw new Error('no fatal error');
      qp.waitReadable(5);
    }
  }

  it('header digest mismatch → PROTOCOL, H2CTermReq FES 0x03 sent, socket closed', () => {
    const { qp, peer } = connect({ hdgst: true });
    completions(qp);
    qp.submitRead(1, 0, 1, 512, new Uint8Array(512), 0, 1);
    qp.flush();
    peerRecv(peer, 76);
    const resp = capsuleResp(0, 0, 0, true);
    resp[24]! ^= 0xff;
    peerSend(peer, resp);
    const e = fatal(qp);
    expect(e.code).toBe('PROTOCOL');
    expect(e.message).toBe('protocol error from 127.0.0.1:4420 (qid 1): CapsuleResp header digest mismatch');
    const term = peerDrain(peer);
    expect(term[0]).toBe(0x02);
    expect(u16(term, 8)).toBe(0x03);
    expect(hex(term.subarray(24, 48))).toBe(hex(resp.subarray(0, 24)));
    expect(qp.fd).toBe(-1);
    expect(() => qp.processCompletions()).toThrow(e);
    expect(() => qp.submitFlush(1, 1)).toThrow(e);
  });

  it('C2HTermReq → TERMINATED naming the FES', () => {
    const { qp, peer } = connect();
    peerSend(peer, c2hTermReq(0x04, 0));
    const e = fatal(qp);
    expect(e.code).toBe('TERMINATED');
    expect(e.message).toBe(
      '127.0.0.1:4420 terminated the connection (qid 1): C2HTermReq Data Transfer Out of Range (FES 0x4, FEI 0x0)');
  });

  it('peer close → CLOSED', () => {
    const { qp, peer } = connect();
    native.close(peer);
    fds.splice(fds.indexOf(peer), 1);
    const e = fatal(qp);
    expect(e.code).toBe('CLOSED');
    expect(e.message).toBe('127.0.0.1:4420 closed the connection (qid 1)');
  });

  const violations: Array<[string, (qp: TcpQpair, peer: number) => Uint8Array, string]> = [
    ['CapsuleResp for an idle CID', () => capsuleResp(9), 'CapsuleResp for CID 9, which has no command in flight'],
    ['CID beyond the depth', () => capsuleResp(4000), 'CapsuleResp for CID 4000, which has no command in flight'],
    ['C2HData for a write', (qp) => { qp.submitWrite(1, 0, 1, 512, new Uint8Array(512), 0, 1); return c2hData(0, 0, new Uint8Array(512), 0x0c); },
      'C2HData for CID 0, which is not a read'],
    ['C2HData with a gap', (qp) => { qp.submitRead(1, 0, 2, 512, new Uint8Array(1024), 0, 1); return c2hData(0, 512, new Uint8Array(512), 0x0c); },
      'C2HData for CID 0 at offset 512, expected 0'],
    ['C2HData beyond the transfer', (qp) => { qp.submitRead(1, 0, 1, 512, new Uint8Array(512), 0, 1); return c2hData(0, 0, new Uint8Array(1024), 0x0c); },
      'C2HData for CID 0 carries bytes 0..1024 of a 512-byte transfer'],
    ['short read marked last', (qp) => { qp.submitRead(1, 0, 2, 512, new Uint8Array(1024), 0, 1); return c2hData(0, 0, new Uint8Array(512), 0x0c); },
      'C2HData for CID 0 marked last after 512 of 1024 bytes'],
    ['SUCCESS without LAST_PDU', (qp) => { qp.submitRead(1, 0, 2, 512, new Uint8Array(1024), 0, 1); return c2hData(0, 0, new Uint8Array(512), 0x08); },
      'C2HData for CID 0 with SUCCESS but without LAST_PDU'],
    ['successful CapsuleResp before all read data', (qp) => { qp.submitRead(1, 0, 2, 512, new Uint8Array(1024), 0, 1); return capsuleResp(0); },
      'CapsuleResp with success for CID 0 after 0 of 1024 data bytes'],
    ['R2T for a read', (qp) => { qp.submitRead(1, 0, 1, 512, new Uint8Array(512), 0, 1); return r2t(0, 1, 0, 512); },
      'R2T for CID 0, which has no data to send on request'],
    ['R2T for an in-capsule write', (qp) => { qp.submitWrite(1, 0, 1, 512, new Uint8Array(512), 0, 1); return r2t(0, 1, 0, 512); },
      'R2T for CID 0, which has no data to send on request'],
    ['zero-length R2T', (qp) => { qp.submitWrite(1, 0, 16, 512, new Uint8Array(8192), 0, 1); return r2t(0, 1, 0, 0); },
      'R2T for CID 0 with length 0'],
    ['R2T beyond the transfer', (qp) => { qp.submitWrite(1, 0, 16, 512, new Uint8Array(8192), 0, 1); return r2t(0, 1, 4096, 8192); },
      'R2T for CID 0 asks for bytes 4096..12288 of a 8192-byte transfer'],
  ];
  for (const [name, make, msg] of violations) {
    it(`protocol violation: ${name}`, () => {
      const { qp, peer } = connect({ ioccsz: 36 }); // 512 bytes in-capsule
      completions(qp);
      const pdu = make(qp, peer);
      qp.flush();
      peerSend(peer, pdu);
      const e = fatal(qp);
      expect(e.code).toBe('PROTOCOL');
      expect(e.message).toBe(`protocol error from 127.0.0.1:4420 (qid 1): ${msg}`);
    });
  }

  it('backwards R2T after data was requested → PROTOCOL', () => {
    const { qp, peer } = connect({ ioccsz: 4 });
    completions(qp);
    qp.submitWrite(1, 0, 16, 512, new Uint8Array(8192), 0, 1);
    qp.flush();
    peerRecv(peer, 72);
    peerSend(peer, r2t(0, 1, 0, 4096));
    peerRecv(peer, 24 + 4096, qp);
    peerSend(peer, r2t(0, 1, 2048, 4096));
    const e = fatal(qp);
    expect(e.message).toBe('protocol error from 127.0.0.1:4420 (qid 1): R2T for CID 0 at offset 2048, but 4096 bytes were already requested');
  });
});

describe('send buffer', () => {
  it('keeps what the socket does not take and sends it in order later (partial sends, growth)', () => {
    const { qp, peer } = connect({ ioccsz: 4, maxTransferBytes: 8 << 20 }, { maxh2cdata: 65536 });
    native.setSocketBuffers(qp.fd, 65536, 0);
    native.setSocketBuffers(peer, 0, 65536);
    const got = completions(qp);
    const size = 8 << 20;
    const data = pattern(size, 8);
    qp.submitWrite(1, 0, size / 512, 512, data, 0, 1);
    qp.flush();
    peerRecv(peer, 72);
    peerSend(peer, r2t(0, 3, 0, size));
    pump(qp, () => qp.pendingSendBytes > 0);
    // The socket cannot take 8 MiB at once.
    expect(qp.pendingSendBytes).toBeGreaterThan(0);
    const chunks = size / 65536;
    let off = 0;
    for (let i = 0; i < chunks; i++) {
      const h = peerRecv(peer, 24, qp);
      const datal = u32(h, 16);
      expect(u32(h, 12)).toBe(off);
      expect(h[1]).toBe(i === chunks - 1 ? 0x04 : 0);
      const p = peerRecv(peer, datal, qp);
      expect(Buffer.compare(p, data.subarray(off, off + datal))).toBe(0);
      off += datal;
    }
    expect(off).toBe(size);
    expect(qp.pendingSendBytes).toBe(0);
    peerSend(peer, capsuleResp(0));
    pump(qp, () => got.length > 0);
    expect(got).toEqual([[1, 0]]);
  });

  it('batches the capsules of one pass into the buffer and flushes them together', () => {
    const { qp, peer } = connect({ depth: 64 });
    completions(qp);
    const buf = new Uint8Array(512);
    for (let i = 0; i < 64; i++) expect(qp.submitRead(1, i, 1, 512, buf, 0, i)).toBe(true);
    expect(qp.submitRead(1, 0, 1, 512, buf, 0, 99)).toBe(false);
    expect(qp.pendingSendBytes).toBe(64 * 72);
    qp.flush();
    expect(qp.pendingSendBytes).toBe(0);
    const all = peerRecv(peer, 64 * 72);
    for (let i = 0; i < 64; i++) {
      expect(u16(all, i * 72 + 10)).toBe(i);
      expect(u32(all, i * 72 + 48)).toBe(i);
    }
  });
});

describe('blocking execute()', () => {
  it('times out with TransportError(TIMEOUT) and drops the late completion', () => {
    const { qp, peer } = connect({ qid: 0, depth: 4 });
    const got = completions(qp);
    const sqe = new Uint8Array(64);
    sqe[0] = 0x18; // Keep Alive
    expect(() => qp.execute(sqe, null, null, 50)).toThrow(
      new TransportError('command (CID 0) on 127.0.0.1:4420 qid 0 did not complete within 50 ms', 'TIMEOUT'));
    const c = peerRecv(peer, 72);
    expect(c[8]).toBe(0x18);
    peerSend(peer, capsuleResp(0, 0, 0));
    pump(qp, () => qp.outstanding === 0);
    expect(got).toEqual([]);
    // The freed slot 0 is used again; execute() returns DW0/DW1 of the response.
    peerSend(peer, capsuleResp(0, 0, 0xabcd));
    const r = qp.execute(sqe, null, null, 1000);
    expect(r).toEqual({ status: 0, dw0: 0xabcd, dw1: 0 });
  });
});

describe('PollGroup', () => {
  it('waits on qpair sockets, counts completions of all qpairs, and wakes from another thread', async () => {
    const a = connect({ depth: 4 });
    const b = connect({ depth: 4 });
    const group = new PollGroup();
    try {
      group.add(a.qp);
      group.add(b.qp);
      group.add(a.qp);
      expect(group.size).toBe(2);
      const ga = completions(a.qp), gb = completions(b.qp);
      const buf = new Uint8Array(512);
      a.qp.submitRead(1, 0, 1, 512, buf, 0, 1);
      b.qp.submitFlush(1, 2);
      b.qp.submitFlush(1, 3);
      expect(group.processCompletions()).toBe(0);
      let t0 = performance.now();
      expect(group.waitForEvents(50)).toBe(0);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
      peerRecv(a.peer, 72);
      peerRecv(b.peer, 144);
      peerSend(b.peer, Buffer.concat([capsuleResp(0), capsuleResp(1)]));
      expect(group.waitForEvents(2000)).toBe(1);
      peerSend(a.peer, c2hData(0, 0, new Uint8Array(512).fill(9), 0x0c));
      let n = 0;
      const deadline = performance.now() + 2000;
      while (n < 3 && performance.now() < deadline) {
        n += group.processCompletions();
        if (n < 3) group.waitForEvents(100);
      }
      expect(n).toBe(3);
      expect(ga).toEqual([[1, 0]]);
      expect(gb).toEqual([[2, 0], [3, 0]]);
      // wake() from a worker thread through the eventfd.
      const addon = fileURLToPath(new URL('../../native/build/Release/nvmf_native.node', import.meta.url));
      const w = new Worker(`const a = require(${JSON.stringify(addon)}); setTimeout(() => a.eventfdWrite(${group.wakeFd}, 1), 100);`, { eval: true });
      expect(group.waitForEvents(5000)).toBe(1); // woken (1), not timed out (0)
      await w.terminate();
      // The wake counter was consumed: the next wait times out.
      expect(group.waitForEvents(20)).toBe(0);
      group.remove(b.qp);
      expect(group.size).toBe(1);
    } finally {
      group.close();
    }
  });
});
