// Fuzz test of the built-in target, black box over real sockets against the real process
// (dist/cli/main.js target, two reactors in interrupt mode where two CPUs are allowed).
//
// Lanes of fuzzing hosts send PDU sequences built from valid templates (ICReq, admin and discovery
// Connect, Property Set, admin commands, I/O queue Connect to the lane's own controller, reads,
// in-capsule writes, R2T writes with their H2CData sent ahead, some out of order) and then mutated
// at random with a fixed seed: PLEN/HLEN/PDO/type/flags, digests, CIDs, TTAGs, DATAO/DATAL, SGL
// fields, Connect fields, PDUs swapped, duplicated, dropped, garbage inserted, sequences cut, and
// sent in random chunks. Each sequence has its own connection: sent, FIN, read until the target
// closes. Meanwhile a bystander host writes a fresh pattern to its own namespace, reads it back and
// compares, over and over. At the end the target process must still run, have closed every fuzz
// connection, logged no internal error, and the bystander's data must be intact.
//
// NVMF_PERF_FUZZ_SEQUENCES (default 10,000) and NVMF_PERF_FUZZ_SEED (default 1) for more on demand.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../src/native/index.js';
import { crc32c } from '../../src/util/crc32c.js';
import { encodeSqe, emptySqe, type Sqe } from '../../src/nvme/sqe.js';
import { connectSqe, encodeConnectData, propertySetSqe } from '../../src/nvme/fabrics.js';
import { RawHost, ioSqe } from './target-wire-client.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const SUBNQN = 'nqn.2016-06.io.nvmf-perf:fuzz';
const DISCOVERY = 'nqn.2014-08.org.nvmexpress.discovery';
const FUZZ_HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:fuzz0000-0000-0000-0000-000000000000';
const SEQUENCES = Number(process.env['NVMF_PERF_FUZZ_SEQUENCES'] ?? 10_000);
const SEED = Number(process.env['NVMF_PERF_FUZZ_SEED'] ?? 1);
const LANES = 12;
/** NSID 1 (fuzzers) is 4 MiB; NSID 2 (the bystander's own) is 1 MiB; 512-byte blocks. */
const FUZZ_BLOCKS = 8192;
const BYSTANDER_BLOCKS = 2048;
/** Generous bound on the target closing a connection after our FIN (a hang, not a timing). */
const CLOSE_MS = 15_000;

const children: ChildProcess[] = [];
afterAll(() => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });

/** mulberry32: small, seedable, reproducible. */
class Rng {
  constructor(private s: number) {}
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number { return this.u32() % n; }
  chance(p: number): boolean { return this.u32() / 2 ** 32 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  bytes(n: number): Buffer { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff; return b; }
}

// ------------------------------------------------------------------ PDU builders (host side)

interface Dg { hd: boolean; dd: boolean }

function icreq(dgst: number, hpda = 0, pfv = 0): Buffer {
  const b = Buffer.alloc(128);
  b[0] = 0x00; b[2] = 128; b.writeUInt32LE(128, 4);
  b.writeUInt16LE(pfv, 8); b[10] = hpda; b[11] = dgst;
  b.writeUInt32LE(0, 12);
  return b;
}

function capsule(dg: Dg, s: Sqe, icd?: Buffer): Buffer {
  const hd = dg.hd ? 4 : 0;
  const has = icd !== undefined && icd.length > 0;
  const dd = dg.dd && has ? 4 : 0;
  const pdo = has ? 72 + hd : 0;
  const plen = 72 + hd + (has ? icd!.length + dd : 0);
  const b = Buffer.alloc(plen);
  b[0] = 0x04; b[1] = (hd ? 1 : 0) | (dd ? 2 : 0); b[2] = 72; b[3] = pdo; b.writeUInt32LE(plen, 4);
  encodeSqe(new DataView(b.buffer, b.byteOffset, b.length), 8, s);
  if (hd) b.writeUInt32LE(crc32c(b, 0, 72), 72);
  if (has) {
    icd!.copy(b, pdo);
    if (dd) b.writeUInt32LE(crc32c(b, pdo, icd!.length), pdo + icd!.length);
  }
  return b;
}

function h2cData(dg: Dg, cccid: number, ttag: number, datao: number, data: Buffer, last: boolean): Buffer {
  const hd = dg.hd ? 4 : 0, dd = dg.dd ? 4 : 0;
  const pdo = 24 + hd;
  const plen = pdo + data.length + dd;
  const b = Buffer.alloc(plen);
  b[0] = 0x06; b[1] = (hd ? 1 : 0) | (dd ? 2 : 0) | (last ? 4 : 0); b[2] = 24; b[3] = pdo; b.writeUInt32LE(plen, 4);
  b.writeUInt16LE(cccid, 8); b.writeUInt16LE(ttag, 10); b.writeUInt32LE(datao, 12); b.writeUInt32LE(data.length, 16);
  if (hd) b.writeUInt32LE(crc32c(b, 0, 24), 24);
  data.copy(b, pdo);
  if (dd) b.writeUInt32LE(crc32c(b, pdo, data.length), pdo + data.length);
  return b;
}

function connectPdu(dg: Dg, cid: number, o: { qid: number; subnqn: string; cntlid: number; sqsize: number; kato: number; hostnqn?: string }): Buffer {
  const data = Buffer.alloc(1024);
  encodeConnectData(data, 0, { hostId: new Uint8Array(16).fill(0x5a), cntlid: o.cntlid, subnqn: o.subnqn, hostnqn: o.hostnqn ?? FUZZ_HOSTNQN });
  return capsule(dg, connectSqe(cid, { recfmt: 0, qid: o.qid, sqsize: o.sqsize, cattr: 0, kato: o.kato }), data);
}

function adminSqe(cid: number, opc: number, nsid: number, cdw10: number, cdw11: number, dataLen: number): Sqe {
  const s = emptySqe();
  s.opc = opc; s.cid = cid; s.nsid = nsid; s.cdw10 = cdw10 >>> 0; s.cdw11 = cdw11 >>> 0;
  s.sglId = 0x5a; s.sglLen = dataLen;
  return s;
}

// ------------------------------------------------------------------ sequences

/** A sequence: PDUs in order, with what each one is (for structural mutations). */
interface Seq { pdus: Buffer[]; kinds: string[] }

function baseSequence(rng: Rng, cntlid: number): Seq {
  const pdus: Buffer[] = [], kinds: string[] = [];
  const push = (b: Buffer, k: string): void => { pdus.push(b); kinds.push(k); };
  const dgst = rng.chance(0.3) ? rng.int(4) : 0;
  const dg: Dg = { hd: (dgst & 1) !== 0, dd: (dgst & 2) !== 0 };
  push(icreq(dgst, rng.chance(0.1) ? rng.int(32) : 0, rng.chance(0.05) ? 1 : 0), 'icreq');
  let cid = 1 + rng.int(100);
  const template = rng.pick(['ic', 'admin', 'admin', 'discovery', 'io', 'io', 'io', 'io'] as const);
  if (template === 'ic') return { pdus, kinds };
  if (template === 'admin' || template === 'discovery') {
    push(connectPdu(dg, cid++, { qid: 0, subnqn: template === 'admin' ? SUBNQN : DISCOVERY, cntlid: 0xffff, sqsize: 31, kato: rng.pick([0, 0, 1000, 120_000]) }), 'connect');
    push(capsule(dg, propertySetSqe(cid++, 0x14, 4, 0x00460001n)), 'capsule');
    const n = 1 + rng.int(6);
    for (let i = 0; i < n; i++) {
      const c = cid++;
      switch (rng.int(8)) {
        case 0: push(capsule(dg, adminSqe(c, 0x06, rng.pick([0, 1, 2, 0xffffffff]), rng.pick([0, 1, 2, 3, 0x10, 0x11]), 0, 4096)), 'capsule'); break; // Identify
        case 1: push(capsule(dg, adminSqe(c, 0x02, 0xffffffff, rng.pick([0x01, 0x02, 0x03, 0x70, 0x0c, 0x7f]) | ((rng.int(1024)) << 16), 0, 4096)), 'capsule'); break; // Get Log Page
        case 2: push(capsule(dg, adminSqe(c, 0x0a, 0, rng.int(0x20), 0, 0)), 'capsule'); break; // Get Features
        case 3: push(capsule(dg, adminSqe(c, 0x09, 0, rng.int(0x20), rng.u32(), 0)), 'capsule'); break; // Set Features
        case 4: push(capsule(dg, adminSqe(c, 0x18, 0, 0, 0, 0)), 'capsule'); break; // Keep Alive
        case 5: push(capsule(dg, adminSqe(c, 0x0c, 0, 0, 0, 0)), 'capsule'); break; // Asynchronous Event Request
        case 6: push(capsule(dg, adminSqe(c, 0x08, 0, rng.int(cid) | (rng.int(3) << 16), 0, 0)), 'capsule'); break; // Abort
        default: push(capsule(dg, adminSqe(c, rng.int(256), rng.int(3), rng.u32(), rng.u32(), rng.pick([0, 512, 4096]))), 'capsule'); break;
      }
    }
    if (rng.chance(0.3)) push(capsule(dg, propertySetSqe(cid++, 0x14, 4, rng.pick([0x00460000n, 0x00464001n, 0n]))), 'capsule');
    return { pdus, kinds };
  }
  // I/O queue of the lane's controller.
  push(connectPdu(dg, cid++, { qid: 1 + rng.int(4), subnqn: SUBNQN, cntlid, sqsize: 31, kato: 0 }), 'connect');
  const n = 1 + rng.int(8);
  const r2t: { cid: number; data: Buffer }[] = [];
  for (let i = 0; i < n; i++) {
    const c = cid++;
    const nlb = 1 + rng.int(64);
    const lba = rng.int(FUZZ_BLOCKS - nlb);
    switch (rng.int(6)) {
      case 0: push(capsule(dg, ioSqe(c, 0x02, 1, lba, nlb, 512)), 'capsule'); break; // Read
      case 1: { // in-capsule Write (≤ 8 KiB)
        const m = Math.min(nlb, 16);
        push(capsule(dg, ioSqe(c, 0x01, 1, lba, m, 512, 0x01), rng.bytes(m * 512)), 'capsule');
        break;
      }
      case 2: case 3: { // R2T Write: the H2CData goes out now (TTAG predicted), sometimes after the next command
        push(capsule(dg, ioSqe(c, 0x01, 1, lba, nlb, 512)), 'capsule');
        r2t.push({ cid: c, data: rng.bytes(nlb * 512) });
        if (rng.chance(0.6)) {
          const ttag = r2t.length - 1;
          const w = r2t.pop()!;
          const chunk = rng.pick([512, 4096, w.data.length]);
          for (let o = 0; o < w.data.length; o += chunk) {
            push(h2cData(dg, w.cid, ttag, o, w.data.subarray(o, o + chunk), o + chunk >= w.data.length), 'h2c');
          }
        }
        break;
      }
      case 4: push(capsule(dg, ioSqe(c, rng.pick([0x00, 0x08, 0x09]), 1, lba, nlb, 512, 0x5a, 0)), 'capsule'); break; // Flush, Write Zeroes, DSM
      default: push(capsule(dg, ioSqe(c, rng.int(256), 1, lba, nlb, 512, rng.pick([0x5a, 0x01, 0x00, 0x40]), rng.pick([0, 512, nlb * 512]))), 'capsule');
    }
  }
  // Outstanding R2T writes: H2CData in reverse order (legal across commands).
  for (let t = r2t.length - 1; t >= 0; t--) push(h2cData(dg, r2t[t]!.cid, t, 0, r2t[t]!.data, true), 'h2c');
  if (rng.chance(0.2)) push(capsule(dg, adminSqe(cid++, 0x7f, 0x08, 0, 0, 0)), 'capsule'); // Disconnect
  return { pdus, kinds };
}

const PDU_NAMES: Record<number, string> = { 0x01: 'ICResp', 0x03: 'C2HTermReq', 0x05: 'CapsuleResp', 0x07: 'C2HData', 0x09: 'R2T' };

const MUTATIONS = ['plen', 'hlen', 'pdo', 'type', 'flags', 'digest', 'cid', 'ttag', 'datao', 'datal', 'sgl', 'connect', 'swap',
  'dup', 'drop', 'garbage', 'byte', 'cut'] as const;

/** Applies 1..3 random mutations; returns the mutated bytes and the mutation names. */
function mutate(rng: Rng, seq: Seq): { bytes: Buffer; what: string[] } {
  const what: string[] = [];
  const p = seq.pdus.map((b) => Buffer.from(b));
  const k = [...seq.kinds];
  let cutAt = -1;
  const count = 1 + rng.int(3);
  for (let m = 0; m < count; m++) {
    const mu = rng.pick(MUTATIONS);
    what.push(mu);
    const i = rng.int(p.length);
    const b = p[i]!;
    const idxOf = (kind: string): number => { const c = k.map((x, j) => (x === kind ? j : -1)).filter((j) => j >= 0); return c.length ? rng.pick(c) : i; };
    switch (mu) {
      case 'plen': if (b.length >= 8) b.writeUInt32LE(rng.pick([0, 1, 7, 8, 23, b[2]! - 1, b.length - 1, b.length + 1, b.length + 4, 0xffffffff, rng.u32() & 0xfffff]) >>> 0, 4); break;
      case 'hlen': if (b.length >= 3) b[2] = rng.pick([0, 8, 23, 24, 71, 72, 128, 255, rng.int(256)]); break;
      case 'pdo': if (b.length >= 4) b[3] = rng.pick([0, 8, 24, 28, 71, 72, 76, 255, rng.int(256)]); break;
      case 'type': b[0] = rng.pick([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x7f, 0xff, rng.int(256)]); break;
      case 'flags': if (b.length >= 2) b[1] = rng.int(256); break;
      case 'digest': if (b.length >= 8) { const o = b.length - 1 - rng.int(Math.min(8, b.length - 8)); b[o] = b[o]! ^ (1 << rng.int(8)); } break;
      case 'cid': { const j = idxOf('capsule'); if (p[j]!.length >= 12) p[j]!.writeUInt16LE(rng.pick([0, 1, 2, 0xffff, rng.int(65536)]), 10); break; }
      case 'ttag': { const j = idxOf('h2c'); if (k[j] === 'h2c') p[j]!.writeUInt16LE(rng.pick([0, 1, 2, 32, 33, 0xffff, rng.int(65536)]), 10); break; }
      case 'datao': { const j = idxOf('h2c'); if (k[j] === 'h2c') p[j]!.writeUInt32LE(rng.pick([0, 1, 512, 4096, 0xfffffe00, rng.u32()]) >>> 0, 12); break; }
      case 'datal': { const j = idxOf('h2c'); if (k[j] === 'h2c') p[j]!.writeUInt32LE(rng.pick([0, 1, 511, 513, 131072, 0xffffffff, rng.u32()]) >>> 0, 16); break; }
      case 'sgl': { const j = idxOf('capsule'); const c = p[j]!; if (c.length >= 72) { if (rng.chance(0.5)) c.writeUInt32LE(rng.pick([0, 1, 512, 8192, 8193, 131072, 131073, 0xffffffff, rng.u32()]) >>> 0, 8 + 32); else c[8 + 39] = rng.pick([0x00, 0x01, 0x5a, 0x40, 0x20, 0x0a, rng.int(256)]); if (rng.chance(0.2)) c.writeUInt32LE(rng.u32(), 8 + 24); c[9] = rng.chance(0.2) ? rng.int(256) : c[9]!; } break; }
      case 'connect': { const j = idxOf('connect'); const c = p[j]!; if (k[j] === 'connect' && c.length >= 72 + 1024) {
        switch (rng.int(7)) {
          case 0: c.writeUInt16LE(rng.pick([0, 1, 2, 127, 128, 0xffff, rng.int(65536)]), 8 + 42); break; // QID
          case 1: c.writeUInt16LE(rng.pick([0, 1, 31, 127, 128, 1024, 0xffff]), 8 + 44); break; // SQSIZE
          case 2: c.writeUInt16LE(rng.int(65536), 8 + 40); break; // RECFMT
          case 3: c.writeUInt32LE(rng.pick([0, 1, 999, 0xffffffff, rng.u32()]) >>> 0, 8 + 48); break; // KATO
          case 4: c.writeUInt16LE(rng.pick([0, 1, 0xfffe, 0xffff, rng.int(65536)]), (c[3] || 72) + 16); break; // CNTLID
          case 5: { const o = (c[3] || 72) + 256 + rng.int(256); c[o] = rng.int(256); break; } // SUBNQN byte
          default: { const o = (c[3] || 72) + 512 + rng.int(256); c[o] = rng.int(256); break; } // HOSTNQN byte
        }
        c[8 + 46] = rng.chance(0.1) ? rng.int(256) : c[8 + 46]!; // CATTR
      } break; }
      case 'swap': { const j = rng.int(p.length); [p[i], p[j]] = [p[j]!, p[i]!]; [k[i], k[j]] = [k[j]!, k[i]!]; break; }
      case 'dup': p.splice(i, 0, Buffer.from(b)); k.splice(i, 0, k[i]!); break;
      case 'drop': if (p.length > 1) { p.splice(i, 1); k.splice(i, 1); } break;
      case 'garbage': p.splice(i, 0, rng.bytes(1 + rng.int(rng.chance(0.5) ? 16 : 300))); k.splice(i, 0, 'garbage'); break;
      case 'byte': { const o = rng.int(b.length); b[o] = rng.int(256); break; }
      case 'cut': cutAt = rng.int(p.reduce((a, x) => a + x.length, 0)); break;
    }
  }
  // Keep every fuzz command off the bystander's namespace: no capsule-shaped SQE names NSID 2 or all.
  for (const b of p) {
    if (b.length >= 16) {
      const nsid = b.readUInt32LE(12);
      if (nsid === 2 || nsid === 0xffffffff) b.writeUInt32LE(1, 12);
    }
  }
  let bytes = Buffer.concat(p);
  if (cutAt >= 0) bytes = bytes.subarray(0, cutAt);
  return { bytes, what };
}

// ------------------------------------------------------------------ running it

function startTarget(): Promise<{ child: ChildProcess; port: number; stderr: () => string; exited: () => boolean }> {
  const cpus = native.allowedCpus();
  const args = [MAIN, 'target', '--listen', '127.0.0.1:0', '--subnqn', SUBNQN, '--ns', 'ram:4MiB', '--ns', 'ram:1MiB', '--interrupt-mode',
    '--reactor-mask', cpus.slice(0, 2).join(',')];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '', err = '', gone = false;
  const internal: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-20_000);
    for (const line of d.split('\n')) if (/internal error|crashed|exited unexpectedly/.test(line)) internal.push(line);
  });
  child.once('exit', () => { gone = true; });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`target not ready: ${err}`)); }, 30_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /trsvcid:(\d+)/.exec(out);
      if (m) { clearTimeout(t); resolve({ child, port: Number(m[1]), stderr: () => (internal.length ? `${internal.join('\n')}\n---\n${err}` : err), exited: () => gone }); }
    });
    child.once('exit', () => { clearTimeout(t); reject(new Error(`target exited: ${err}`)); });
  });
}

/** PDU types the target answered with, over all sequences (shows how deep the sequences got). */
const answered = new Map<number, number>();

/** Sends one sequence on its own connection in random chunks, then FIN; resolves when the target closed it. */
function runSequence(rng: Rng, port: number, bytes: Buffer): Promise<'closed' | 'hung'> {
  const chunks: Buffer[] = [];
  for (let o = 0; o < bytes.length;) {
    const n = rng.chance(0.5) ? bytes.length - o : 1 + rng.int(Math.min(200, bytes.length - o));
    chunks.push(bytes.subarray(o, o + n));
    o += n;
  }
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let done = false;
    const finish = (r: 'closed' | 'hung'): void => { if (!done) { done = true; clearTimeout(t); s.destroy(); resolve(r); } };
    const t = setTimeout(() => finish('hung'), CLOSE_MS);
    let pending = Buffer.alloc(0);
    s.on('data', (d: Buffer) => { // frame what the target answers by its PLEN, count the types
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      while (pending.length >= 8) {
        const plen = pending.readUInt32LE(4);
        if (plen < 8 || pending.length < plen) break;
        answered.set(pending[0]!, (answered.get(pending[0]!) ?? 0) + 1);
        pending = pending.subarray(plen);
      }
    });
    s.on('error', () => finish('closed')); // a reset is a close too
    s.on('close', () => finish('closed'));
    s.on('connect', () => {
      for (const c of chunks) s.write(c);
      s.end();
    });
  });
}

describe.skipIf(!existsSync(MAIN))('target fuzz (black box, real process)', () => {
  it(`${SEQUENCES} mutated PDU sequences (seed ${SEED}): the target stays up and a bystander keeps its data`, async () => {
    const t = await startTarget();
    // The bystander: its own controller, I/O on NSID 2 only, R2T writes (16 KiB > in-capsule size).
    const badm = await RawHost.open(t.port);
    const bcntlid = await badm.bringUp(SUBNQN);
    const bq = await RawHost.open(t.port);
    await bq.icreq(0);
    expect((await bq.connect(1, { subnqn: SUBNQN, cntlid: bcntlid })).status).toBe(0);
    let fuzzing = true, verified = 0;
    const mismatches: string[] = [];
    const brng = new Rng(SEED ^ 0x5eed);
    const bystander = (async () => {
      let lba = 0;
      while (fuzzing || verified < 4) {
        const nlb = 32;
        const data = brng.bytes(nlb * 512);
        const w = await bq.cmd(ioSqe(bq.cid(), 0x01, 2, lba, nlb, 512), { writeData: data, timeoutMs: 20_000 });
        if (w.status !== 0) { mismatches.push(`write at LBA ${lba}: status 0x${w.status.toString(16)}`); break; }
        const r = await bq.cmd(ioSqe(bq.cid(), 0x02, 2, lba, nlb, 512), { timeoutMs: 20_000 });
        if (r.status !== 0 || Buffer.compare(r.data, data) !== 0) { mismatches.push(`read back at LBA ${lba}: status 0x${r.status.toString(16)}, data ${Buffer.compare(r.data, data) === 0 ? 'intact' : 'DIFFERENT'}`); break; }
        verified++;
        lba = (lba + nlb) % BYSTANDER_BLOCKS;
      }
    })();

    // Lanes: each with its own controller (a valid admin queue kept open) for its I/O-queue sequences.
    const hung: string[] = [];
    const counts = new Map<string, number>();
    let next = 0, sent = 0;
    const lane = async (l: number): Promise<void> => {
      const adm = await RawHost.open(t.port);
      const cntlid = await adm.bringUp(SUBNQN, { hostnqn: FUZZ_HOSTNQN });
      try {
        while (next < SEQUENCES) {
          const n = next++;
          const rng = new Rng((SEED * 1_000_003 + n) >>> 0);
          const { bytes, what } = mutate(rng, baseSequence(rng, cntlid));
          for (const w of what) counts.set(w, (counts.get(w) ?? 0) + 1);
          sent++;
          if (await runSequence(rng, t.port, bytes) === 'hung') hung.push(`sequence ${n} (lane ${l}: ${what.join(', ')})`);
          if (t.exited()) break;
        }
      } finally {
        adm.destroy();
      }
    };
    try {
      await Promise.all(Array.from({ length: LANES }, (_v, l) => lane(l)));
    } finally {
      fuzzing = false;
    }
    await bystander;
    console.log(`fuzz: ${sent} sequences (seed ${SEED}), mutations ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}; `
      + `bystander verified ${verified} write/read pairs; connections not closed by the target: ${hung.length}; `
      + `target answered ${[...answered].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${PDU_NAMES[k] ?? `type ${k}`} ${v}`).join(', ')}`);

    expect(t.exited(), t.stderr()).toBe(false);
    // The sequences got deep: connected queues answered commands, asked for data, returned data.
    for (const type of [0x01, 0x03, 0x05, 0x07, 0x09]) expect(answered.get(type) ?? 0, PDU_NAMES[type]).toBeGreaterThan(0);
    expect(sent).toBe(SEQUENCES);
    expect(mismatches).toEqual([]);
    expect(hung).toEqual([]);
    expect(t.stderr()).not.toMatch(/internal error|crashed|exited unexpectedly/);
    // The target still takes new hosts and its bystander still works.
    const fresh = await RawHost.open(t.port);
    expect(await fresh.bringUp(SUBNQN)).toBeGreaterThan(0);
    fresh.destroy();
    badm.destroy();
    bq.destroy();
    t.child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => t.child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  }, 600_000);
});
