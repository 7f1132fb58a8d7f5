// A deliberately small raw NVMe/TCP host for target tests: builds PDUs byte by byte over a real
// node:net socket, so the target under test talks to an independent implementation (only the CRC
// and the plain SQE encoders are shared).
import * as net from 'node:net';
import { crc32c } from '../../src/util/crc32c.js';
import { encodeSqe, emptySqe, type Sqe } from '../../src/nvme/sqe.js';
import { connectSqe, encodeConnectData, propertyGetSqe, propertySetSqe } from '../../src/nvme/fabrics.js';

export const HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555';

export interface CmdResult {
  /** Raw 16-byte CQE (null when the read ended with C2HData SUCCESS). */
  cqe: Buffer | null;
  status: number;
  dw0: number;
  dw1: number;
  sqhd: number;
  sqid: number;
  /** C2H data, reassembled. */
  data: Buffer;
  /** Every PDU type received for this command, in order. */
  pdus: number[];
}

export function sct(status: number): number { return (status >> 9) & 7; }
export function sc(status: number): number { return (status >> 1) & 0xff; }
export function dnr(status: number): boolean { return (status & 0x8000) !== 0; }

export class RawHost {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  closed = false;
  private closeWaiters: (() => void)[] = [];
  hdgst = false;
  ddgst = false;
  private nextCid = 1;

  private readonly onData = (d: Buffer): void => {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    this.wake();
  };

  private constructor(readonly sock: net.Socket) {
    sock.on('data', this.onData);
    const onClose = (): void => {
      this.closed = true;
      this.wake();
      for (const w of this.closeWaiters.splice(0)) w();
    };
    sock.on('end', onClose);
    sock.on('close', onClose);
    sock.on('error', () => undefined);
  }

  static open(port: number): Promise<RawHost> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawHost(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  send(b: Uint8Array): void { this.sock.write(b); }

  /** Stops collecting data (the caller reads the socket itself); returns what was buffered. */
  detach(): Buffer {
    this.sock.off('data', this.onData);
    const b = this.buf;
    this.buf = Buffer.alloc(0);
    return b;
  }

  destroy(): void { this.sock.destroy(); }

  /** Resolves when the target closed the connection (FIN or RST). */
  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`connection not closed within ${timeoutMs} ms`)), timeoutMs);
      this.closeWaiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  /** Next whole PDU (framed by PLEN). */
  async readPdu(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buf.length >= 8) {
        const plen = this.buf.readUInt32LE(4);
        if (this.buf.length >= plen) {
          const pdu = this.buf.subarray(0, plen);
          this.buf = this.buf.subarray(plen);
          return Buffer.from(pdu);
        }
      }
      if (this.closed) throw new Error(`connection closed (${this.buf.length} bytes pending)`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no PDU within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { this.waiter = null; resolve(); }, left);
        this.waiter = () => { clearTimeout(t); resolve(); };
      });
    }
  }

  /** ICReq → ICResp (returned raw). Turns digests on as requested. */
  async icreq(dgst = 0, opts: { pfv?: number; hpda?: number } = {}): Promise<Buffer> {
    const b = Buffer.alloc(128);
    b[0] = 0x00; b[2] = 128; b.writeUInt32LE(128, 4);
    b.writeUInt16LE(opts.pfv ?? 0, 8);
    b[10] = opts.hpda ?? 0;
    b[11] = dgst;
    this.send(b);
    const r = await this.readPdu();
    if (r[0] === 0x01) {
      this.hdgst = (r[11]! & 1) !== 0;
      this.ddgst = (r[11]! & 2) !== 0;
    }
    return r;
  }

  cid(): number {
    const c = this.nextCid;
    this.nextCid = (this.nextCid + 1) & 0xffff || 1;
    return c;
  }

  /** CapsuleCmd PDU with optional in-capsule data. */
  capsule(sqe: Uint8Array, icd?: Uint8Array): Buffer {
    const hd = this.hdgst ? 4 : 0;
    const hasData = icd !== undefined && icd.length > 0;
    const dd = this.ddgst && hasData ? 4 : 0;
    const pdo = hasData ? 72 + hd : 0;
    const plen = 72 + hd + (hasData ? icd!.length + dd : 0);
    const b = Buffer.alloc(plen);
    b[0] = 0x04;
    b[1] = (hd ? 1 : 0) | (dd ? 2 : 0);
    b[2] = 72; b[3] = pdo; b.writeUInt32LE(plen, 4);
    Buffer.from(sqe.buffer, sqe.byteOffset, 64).copy(b, 8);
    if (hd) b.writeUInt32LE(crc32c(b, 0, 72), 72);
    if (hasData) {
      Buffer.from(icd!.buffer, icd!.byteOffset, icd!.length).copy(b, pdo);
      if (dd) b.writeUInt32LE(crc32c(b, pdo, icd!.length), pdo + icd!.length);
    }
    return b;
  }

  h2cData(cccid: number, ttag: number, datao: number, data: Uint8Array, last: boolean): Buffer {
    const hd = this.hdgst ? 4 : 0, dd = this.ddgst ? 4 : 0;
    const pdo = 24 + hd;
    const plen = pdo + data.length + dd;
    const b = Buffer.alloc(plen);
    b[0] = 0x06;
    b[1] = (hd ? 1 : 0) | (dd ? 2 : 0) | (last ? 4 : 0);
    b[2] = 24; b[3] = pdo; b.writeUInt32LE(plen, 4);
    b.writeUInt16LE(cccid, 8); b.writeUInt16LE(ttag, 10); b.writeUInt32LE(datao, 12); b.writeUInt32LE(data.length, 16);
    if (hd) b.writeUInt32LE(crc32c(b, 0, 24), 24);
    Buffer.from(data.buffer, data.byteOffset, data.length).copy(b, pdo);
    if (dd) b.writeUInt32LE(crc32c(b, pdo, data.length), pdo + data.length);
    return b;
  }

  /**
   * Sends one command and collects its completion: C2HData are reassembled; R2Ts are answered from
   * `writeData` (in chunks of `maxh2c`). In-capsule data goes in `icd`.
   */
  async cmd(s: Sqe, opts: { icd?: Uint8Array; writeData?: Uint8Array; maxh2c?: number; timeoutMs?: number } = {}): Promise<CmdResult> {
    const sqe = new Uint8Array(64);
    encodeSqe(new DataView(sqe.buffer), 0, s);
    this.send(this.capsule(sqe, opts.icd));
    const chunks: Buffer[] = [];
    const pdus: number[] = [];
    for (;;) {
      const p = await this.readPdu(opts.timeoutMs ?? 5000);
      pdus.push(p[0]!);
      const hd = (p[1]! & 1) !== 0 ? 4 : 0;
      if (hd && crc32c(p, 0, p[2]!) !== p.readUInt32LE(p[2]!)) throw new Error(`bad header digest on PDU type ${p[0]}`);
      switch (p[0]) {
        case 0x05: {
          const cqe = p.subarray(8, 24);
          if (cqe.readUInt16LE(12) !== s.cid) throw new Error(`CapsuleResp for CID ${cqe.readUInt16LE(12)}, expected ${s.cid}`);
          const st = cqe.readUInt16LE(14);
          return { cqe: Buffer.from(cqe), status: st, dw0: cqe.readUInt32LE(0), dw1: cqe.readUInt32LE(4), sqhd: cqe.readUInt16LE(8),
            sqid: cqe.readUInt16LE(10), data: Buffer.concat(chunks), pdus };
        }
        case 0x07: {
          const pdo = p[3]!;
          const datal = p.readUInt32LE(16);
          const data = p.subarray(pdo, pdo + datal);
          if ((p[1]! & 2) !== 0 && crc32c(p, pdo, datal) !== p.readUInt32LE(pdo + datal)) throw new Error('bad data digest');
          if (p.readUInt16LE(8) !== s.cid) throw new Error(`C2HData for CID ${p.readUInt16LE(8)}`);
          chunks.push(Buffer.from(data));
          if ((p[1]! & 0x0c) === 0x0c) {
            return { cqe: null, status: 0, dw0: 0, dw1: 0, sqhd: 0, sqid: 0, data: Buffer.concat(chunks), pdus };
          }
          break;
        }
        case 0x09: {
          const ttag = p.readUInt16LE(10), r2to = p.readUInt32LE(12), r2tl = p.readUInt32LE(16);
          const wd = opts.writeData;
          if (!wd) throw new Error('unexpected R2T');
          const max = opts.maxh2c ?? r2tl;
          for (let o = 0; o < r2tl; o += max) {
            const n = Math.min(max, r2tl - o);
            this.send(this.h2cData(s.cid, ttag, r2to + o, wd.subarray(r2to + o, r2to + o + n), o + n === r2tl));
          }
          break;
        }
        case 0x03:
          throw new Error(`C2HTermReq FES ${p.readUInt16LE(8)} FEI ${p.readUInt32LE(10)}`);
        default:
          throw new Error(`unexpected PDU type ${p[0]}`);
      }
    }
  }

  async connect(qid: number, opts: { subnqn: string; cntlid?: number; hostnqn?: string; sqsize?: number; kato?: number; cattr?: number;
    recfmt?: number }): Promise<CmdResult> {
    const s = connectSqe(this.cid(), { recfmt: opts.recfmt ?? 0, qid, sqsize: opts.sqsize ?? 31, cattr: opts.cattr ?? 0, kato: opts.kato ?? 0 });
    const data = new Uint8Array(1024);
    encodeConnectData(data, 0, {
      hostId: new Uint8Array(16).fill(7), cntlid: opts.cntlid ?? 0xffff, subnqn: opts.subnqn, hostnqn: opts.hostnqn ?? HOSTNQN,
    });
    return this.cmd(s, { icd: data });
  }

  propertyGet(offset: number, size: 4 | 8): Promise<CmdResult> {
    return this.cmd(propertyGetSqe(this.cid(), offset, size));
  }

  propertySet(offset: number, value: number): Promise<CmdResult> {
    return this.cmd(propertySetSqe(this.cid(), offset, 4, BigInt(value)));
  }

  /** ICReq, admin Connect, CC.EN = 1; returns the CNTLID. */
  async bringUp(subnqn: string, opts: { dgst?: number; kato?: number; hostnqn?: string } = {}): Promise<number> {
    const ic = await this.icreq(opts.dgst ?? 0);
    if (ic[0] !== 0x01) throw new Error(`ICReq answered with PDU type ${ic[0]}`);
    const c = await this.connect(0, { subnqn, kato: opts.kato ?? 0, hostnqn: opts.hostnqn });
    if (c.status !== 0) throw new Error(`admin Connect failed: status 0x${c.status.toString(16)}`);
    const e = await this.propertySet(0x14, 0x00460001);
    if (e.status !== 0) throw new Error('Property Set CC failed');
    return c.dw0 & 0xffff;
  }
}

/** Read/Write/other NVM SQE. */
export function ioSqe(cid: number, opc: number, nsid: number, slba: number, nlb: number, blockSize: number, sglId = 0x5a, sglLen?: number): Sqe {
  const s = emptySqe();
  s.opc = opc; s.cid = cid; s.nsid = nsid;
  s.sglId = sglId;
  s.sglLen = sglLen ?? (opc === 0x01 || opc === 0x02 ? nlb * blockSize : 0);
  s.cdw10 = slba % 0x1_0000_0000;
  s.cdw11 = Math.floor(slba / 0x1_0000_0000);
  s.cdw12 = (nlb - 1) & 0xffff;
  return s;
}
