// NVMe/TCP PDUs pinned to byte vectors: layouts per ../shared/docs/nvme-tcp-notes.md §1–3, matching
// struct nvme_tcp_{icreq,icresp,term,cmd,rsp,data,r2t}_pdu in the Linux kernel's include/linux/nvme-tcp.h.
import { describe, expect, it } from 'vitest';
import {
  decodeIcReq, decodeIcResp, dataOffsetFor, encodeIcReq, encodeIcResp, encodeTermReq,
} from '../../src/transport/tcp/pdu-codec.js';
import { Fes, PduFlags, PduType } from '../../src/transport/tcp/pdu-types.js';
import { PduReceiver, RX_ERROR, RX_OK, type PduHandler } from '../../src/transport/tcp/pdu-receiver.js';
import { PduSendQueue } from '../../src/transport/tcp/pdu-send-queue.js';
import { crc32c } from '../../src/util/crc32c.js';
import { EAGAIN, native } from '../../src/native/index.js';

const hex = (u8: Uint8Array): string => Buffer.from(u8).toString('hex');
const fromHex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('CRC32C check values (notes §1.4)', () => {
  it('matches the published vectors', () => {
    expect(crc32c(Buffer.from('123456789'), 0, 9)).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32), 0, 32)).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff), 0, 32)).toBe(0x62a8ab43);
  });
});

describe('IC PDUs', () => {
  it('ICReq from a Linux host without digests (notes §2.2 example)', () => {
    const b = new Uint8Array(128);
    expect(encodeIcReq(b, 0, { pfv: 0, hpda: 0, hdgst: false, ddgst: false, maxr2t: 0 })).toBe(128);
    expect(hex(b)).toBe('00008000800000000000000000000000' + '00'.repeat(112));
    expect(decodeIcReq(b, 0)).toEqual({ pfv: 0, hpda: 0, hdgst: false, ddgst: false, maxr2t: 0 });
  });
  it('ICReq with both digests sets DGST = 3 at byte 11', () => {
    const b = new Uint8Array(128);
    encodeIcReq(b, 0, { pfv: 0, hpda: 0, hdgst: true, ddgst: true, maxr2t: 0 });
    expect(b[11]).toBe(3);
  });
  it('ICResp: CPDA 10, DGST 11, MAXH2CDATA 12 (Linux nvmet: 0x400000)', () => {
    const b = new Uint8Array(128);
    encodeIcResp(b, 0, { pfv: 0, cpda: 0, hdgst: true, ddgst: false, maxh2cdata: 0x400000 });
    expect(hex(b.subarray(0, 16))).toBe('01008000800000000000' + '0001' + '00004000');
    expect(decodeIcResp(b, 0)).toEqual({ pfv: 0, cpda: 0, hdgst: true, ddgst: false, maxh2cdata: 0x400000 });
  });
});

/** A send queue with the given digests and PDA 0, as both roles configure it after the IC exchange. */
function queue(hdgst: boolean, ddgst: boolean, cpda = 0): PduSendQueue {
  const q = new PduSendQueue(64, 4); // tiny: arena and segment growth are exercised too
  q.configure(hdgst, ddgst, dataOffsetFor(72, hdgst, cpda), dataOffsetFor(24, hdgst, cpda));
  return q;
}

describe('capsule and data PDUs (PduSendQueue)', () => {
  it('CapsuleResp with HDGST, CID 1: the worked example of notes §1.4', () => {
    const q = queue(true, false);
    q.putCapsuleResp(1, 0, 0, 0, 0, 0);
    expect(hex(q.take())).toBe('0501180' + '01c000000' + '00'.repeat(12) + '01000000' + '23b84654');
  });
  it('R2T: CCCID 8, TTAG 10, R2TO 12, R2TL 16, PLEN 24', () => {
    const q = queue(false, false);
    q.putR2T(0x0102, 0x0304, 0x1000, 0x20000);
    expect(hex(q.take())).toBe('0900180018000000' + '0201' + '0403' + '00100000' + '00000200' + '00000000');
  });
  it('C2HData with LAST_PDU|SUCCESS, HDGST+DDGST: PDO 28, PLEN = 28 + data + 4, data referenced in two pieces', () => {
    expect(dataOffsetFor(24, true, 0)).toBe(28);
    expect(dataOffsetFor(72, true, 0)).toBe(76);
    expect(dataOffsetFor(72, false, 0)).toBe(72);
    expect(dataOffsetFor(24, true, 7)).toBe(32); // 32-byte alignment
    const q = queue(true, true);
    const data = Uint8Array.from({ length: 512 }, (_, i) => i & 0xff);
    q.beginDataPdu(PduType.C2HData, PduFlags.LAST_PDU | PduFlags.SUCCESS, 5, 0, 0, 512);
    q.payload(data, 0, 100);
    q.payload(data, 100, 412);
    q.endDataPdu();
    const b = q.take();
    expect(b.length).toBe(544);
    expect(hex(b.subarray(0, 8))).toBe('070f181c20020000');
    expect(hex(b.subarray(8, 24))).toBe('0500' + '0000' + '00000000' + '00020000' + '00000000');
    const dv = new DataView(b.buffer);
    expect(dv.getUint32(24, true)).toBe(crc32c(b, 0, 24));
    expect(b.subarray(28, 540)).toEqual(data);
    expect(dv.getUint32(540, true)).toBe(crc32c(data, 0, 512));
  });
  it.each([[false, false], [true, true]])('C2HData with a copied payload larger than the arena, then a CapsuleResp (HDGST %s, DDGST %s)', (hd, dd) => {
    // The 64-byte arena must grow for the copy: the bytes must land in the arena the segment points to.
    const q = queue(hd, dd);
    const data = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
    q.beginDataPdu(PduType.C2HData, PduFlags.LAST_PDU, 9, 0, 0, data.length);
    q.payloadCopy(data, 0, data.length);
    data.fill(0); // a snapshot: later changes to the source are not sent
    q.endDataPdu();
    q.putCapsuleResp(9, 0, 0, 0, 3, 1);
    const b = q.take();
    const pdo = hd ? 28 : 24, dlen = dd ? 4 : 0, respLen = hd ? 28 : 24;
    expect(b.length).toBe(pdo + 3000 + dlen + respLen);
    const want = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
    expect(b.subarray(pdo, pdo + 3000)).toEqual(want);
    const dv = new DataView(b.buffer);
    if (dd) expect(dv.getUint32(pdo + 3000, true)).toBe(crc32c(want, 0, 3000));
    const r = pdo + 3000 + dlen;
    expect(b[r]).toBe(PduType.CapsuleResp);
    expect(dv.getUint16(r + 8 + 12, true)).toBe(9); // CQE CID
  });
  it('CapsuleCmd with in-capsule data: PDO from the controller PDA (zero padding), data digest', () => {
    const q = queue(true, true, 7); // 32-byte alignment: PDO 96
    const icd = Uint8Array.from({ length: 40 }, (_, i) => 0xa0 + i);
    const sqe = q.beginCapsuleCmd(icd.length);
    q.arena.fill(0x11, sqe, sqe + 64);
    q.endCapsuleCmd(sqe, icd, 0, icd.length);
    const b = q.take();
    expect(b.length).toBe(96 + 40 + 4);
    expect(hex(b.subarray(0, 8))).toBe('040348608c000000'); // PLEN 140
    const dv = new DataView(b.buffer);
    expect(dv.getUint32(72, true)).toBe(crc32c(b, 0, 72));
    expect(hex(b.subarray(76, 96))).toBe('00'.repeat(20));
    expect(b.subarray(96, 136)).toEqual(icd);
    expect(dv.getUint32(136, true)).toBe(crc32c(icd, 0, 40));
  });
  it('TermReq: FES 8, FEI unaligned at 10, offending header copied from 24', () => {
    const b = new Uint8Array(152);
    const offending = Uint8Array.from({ length: 24 }, (_, i) => i);
    const n = encodeTermReq(b, 0, PduType.C2HTermReq, Fes.InvalidHeaderField, 2, offending);
    expect(n).toBe(48);
    expect(hex(b.subarray(0, 24))).toBe('0300180030000000' + '0100' + '02000000' + '00'.repeat(10));
    expect(b.subarray(24, 48)).toEqual(offending);
    const q = queue(false, false);
    q.putTermReq(PduType.C2HTermReq, Fes.InvalidHeaderField, 2, offending);
    expect(q.take()).toEqual(b.subarray(0, 48));
  });
});

function capsuleResp(cid: number, hdgst: boolean): Uint8Array {
  const q = queue(hdgst, false);
  q.putCapsuleResp(cid, 0, 0, 0, 0, 1);
  return q.take();
}

function c2hData(cid: number, data: Uint8Array, hdgst: boolean, ddgst: boolean): Uint8Array {
  const q = queue(hdgst, ddgst);
  q.beginDataPdu(PduType.C2HData, PduFlags.LAST_PDU, cid, 0, 0, data.length);
  q.payload(data, 0, data.length);
  q.endDataPdu();
  return q.take();
}

/** Records what a receiver delivers; C2HData lands in `dest` at its DATAO. */
class Recorder implements PduHandler {
  seen: string[] = [];
  ddgst: boolean[] = [];
  constructor(readonly dest: Uint8Array | null) {}
  onHeader(r: PduReceiver): void {
    if (this.dest && r.type === PduType.C2HData) r.into(this.dest, r.hdv.getUint32(12, true));
  }
  onPdu(r: PduReceiver): void {
    this.seen.push(`${r.type}:${r.hdv.getUint16(r.type === PduType.CapsuleResp ? 20 : 8, true)}`);
    this.ddgst.push(r.ddgstOk);
    if (!this.dest && r.type === PduType.C2HData) this.inline = hex(r.buf.subarray(r.dataOff, r.dataOff + r.dataLen));
  }
  inline = '';
}

describe('PduReceiver', () => {
  it('frames PDUs split at every byte boundary, data into its destination or gathered in the buffer', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
    const stream = Buffer.concat([capsuleResp(1, true), c2hData(2, data, true, true), capsuleResp(3, true)]);
    for (const direct of [true, false]) {
      for (const chunk of [1, 5, 24, 29, 1000]) {
        const dest = direct ? new Uint8Array(300) : null;
        const rec = new Recorder(dest);
        const r = new PduReceiver('host', rec, 512);
        r.hdgst = true; r.ddgst = true;
        for (let i = 0; i < stream.length; i += chunk) expect(r.push(stream.subarray(i, i + chunk))).toBe(RX_OK);
        expect(rec.seen).toEqual(['5:1', '7:2', '5:3']);
        expect(rec.ddgst).toEqual([true, true, true]);
        if (dest) expect(hex(dest)).toBe(hex(data));
        else expect(rec.inline).toBe(hex(data));
        expect(r.atBoundary).toBe(true);
      }
    }
  });
  it('flags a data digest mismatch without failing the stream', () => {
    const pdu = c2hData(9, new Uint8Array(64).fill(1), false, true);
    pdu[30] ^= 0xff;
    for (const dest of [new Uint8Array(64), null]) {
      const rec = new Recorder(dest);
      const r = new PduReceiver('host', rec);
      r.ddgst = true;
      expect(r.push(Buffer.concat([pdu, capsuleResp(9, false)]))).toBe(RX_OK);
      expect(rec.ddgst).toEqual([false, true]);
    }
  });
  it('rejects a header digest mismatch with FES 0x03', () => {
    const pdu = capsuleResp(1, true);
    pdu[26] ^= 1;
    const r = new PduReceiver('host', new Recorder(null));
    r.hdgst = true;
    expect(r.push(pdu)).toBe(RX_ERROR);
    expect([r.fes, r.error, r.failed]).toEqual([Fes.HeaderDigestError, 'CapsuleResp header digest mismatch', true]);
    expect(r.offendingHeader()).toEqual(pdu.subarray(0, 24));
  });
  it('rejects PDU types not allowed in the direction (FEI 0), bad HLEN (FEI 2), bad PLEN (FEI 4), DATAL (FEI 16)', () => {
    const cases: Array<[PduReceiver['role'], string, number, number]> = [
      ['controller', '05001800' + '18000000' + '00'.repeat(16), 1, 0],      // CapsuleResp sent to a controller
      ['host', '05001c00' + '1c000000' + '00'.repeat(20), 1, 2],            // CapsuleResp with HLEN 28
      ['host', '05001800' + '10000000' + '00'.repeat(16), 1, 4],            // PLEN 16 < HLEN 24
      ['controller', '0000800000010000' + '00'.repeat(120), 1, 4],          // ICReq with PLEN 256
      ['host', '07041800' + '1c000000' + '0100000000000000' + '08000000' + '00000000' + 'aabbccdd', 1, 16],
    ];
    for (const [role, h, fes, fei] of cases) {
      const r = new PduReceiver(role, new Recorder(null));
      expect(r.push(fromHex(h)), h).toBe(RX_ERROR);
      expect([r.fes, r.fei], h).toEqual([fes, fei]);
      expect(r.offendingHeader().length).toBeGreaterThanOrEqual(8);
    }
  });
  it('lands a PDU much larger than its buffer without growing it; refuses one that must be gathered', () => {
    const data = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 13) & 0xff);
    const pdu = Buffer.concat([c2hData(1, data, false, true), capsuleResp(2, false)]);
    const dest = new Uint8Array(200_000);
    const rec = new Recorder(dest);
    const r = new PduReceiver('host', rec, 1024);
    r.ddgst = true;
    const buf = r.buf;
    for (let i = 0; i < pdu.length; i += 4096) expect(r.push(pdu.subarray(i, i + 4096))).toBe(RX_OK);
    expect(r.buf).toBe(buf);
    expect(r.buf.length).toBe(1024);
    expect(rec.seen).toEqual(['7:1', '5:2']);
    expect(rec.ddgst).toEqual([true, true]);
    expect(Buffer.compare(dest, data)).toBe(0);
    const r2 = new PduReceiver('host', new Recorder(null), 1024);
    r2.ddgst = true;
    expect(r2.push(pdu.subarray(0, 4096))).toBe(RX_ERROR);
    expect(r2.fes).toBe(Fes.DataTransferLimitExceeded);
  });
});

/**
 * A connected loopback TCP pair (c connects, s is accepted); close() closes both and the listener.
 * tight: 4 KiB send buffer on c and receive buffer on s, so sends are partial.
 */
function tcpPair(tight = false): { c: number; s: number; close(): void } {
  const l = native.tcpListen('127.0.0.1', 0, 1);
  const c = native.tcpConnect('127.0.0.1', native.localPort(l), 2000);
  let s = -1;
  for (let i = 0; i < 1000 && s < 0; i++) { s = native.accept(l); if (s < 0) native.pollFd(l, 1, 10); }
  if (tight && s >= 0) {
    native.setSocketBuffers(c, 4096, 0);
    native.setSocketBuffers(s, 0, 4096);
  }
  return { c, s, close: () => { for (const fd of [c, s, l]) if (fd >= 0) native.close(fd); } };
}

/** A send queue with both digests on (PDO 76 for capsules, 28 for data PDUs). */
function digestQueue(arenaBytes: number, segments: number): PduSendQueue {
  const q = new PduSendQueue(arenaBytes, segments);
  q.configure(true, true, 76, 28);
  return q;
}

describe('PduReceiver over a socket', () => {
  it('reads a large payload that follows another straight into its destination, not through the buffer', () => {
    const { c, s, close } = tcpPair();
    try {
      native.setSocketBuffers(c, 1 << 21, 0);
      native.setSocketBuffers(s, 0, 1 << 21);
      const size = 128 * 1024, count = 4;
      const data = Uint8Array.from({ length: size * count }, (_, i) => (i * 31 + (i >> 12)) & 0xff);
      // Four 128 KiB C2HData PDUs (data digests on), all in the socket before the receiver starts.
      const q = digestQueue(4096, 32);
      for (let i = 0; i < count; i++) {
        q.beginDataPdu(PduType.C2HData, PduFlags.LAST_PDU, i, 0, i * size, size);
        q.payload(data, i * size, size);
        q.endDataPdu();
      }
      for (let i = 0; i < 1000 && q.pendingBytes > 0; i++) { q.flush(c); if (q.pendingBytes > 0) native.pollFd(c, 4, 5); }
      expect(q.pendingBytes).toBe(0);
      const dest = new Uint8Array(size * count);
      const buffered: number[] = [];
      const rec = new (class extends Recorder {
        override onPdu(r: PduReceiver): void { super.onPdu(r); buffered.push(r.bufferedPayloadBytes); }
      })(dest);
      const r = new PduReceiver('host', rec, 128 * 1024);
      r.hdgst = r.ddgst = true;
      for (let i = 0; i < 1000 && rec.seen.length < count; i++) {
        const n = r.receive(s);
        if (n === EAGAIN) native.pollFd(s, 1, 20);
        else expect(n).toBeGreaterThan(0);
      }
      expect(rec.seen).toEqual(['7:0', '7:1', '7:2', '7:3']);
      expect(rec.ddgst).toEqual([true, true, true, true]);
      expect(Buffer.compare(dest, data)).toBe(0);
      // The first payload may come through the buffer (nothing told the receiver it would be large);
      // of each later one at most the 2 KiB read ahead for the next header does.
      for (let i = 1; i < count; i++) expect(buffered[i]! - buffered[i - 1]!).toBeLessThanOrEqual(2048);
    } finally {
      close();
    }
  });
});

describe('PduSendQueue over a socket', () => {
  it('keeps the byte order through partial sends while more PDUs are queued behind them', () => {
    const { c, s, close } = tcpPair(true);
    try {
      const q = digestQueue(1024, 8);
      const data = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 29) & 0xff);
      // What the stream must be: the same PDUs queued on a second queue and taken whole.
      const ref = digestQueue(1 << 20, 4096);
      const got: Uint8Array[] = [];
      let received = 0, empties = 0;
      const rb = new Uint8Array(65536);
      // The peer reads about as fast as PDUs are queued, never all: the queue rarely empties.
      const read = (max: number): void => {
        const n = native.recv(s, rb, 0, max);
        if (n <= 0) return;
        got.push(rb.slice(0, n));
        received += n;
      };
      const drain = (): void => { for (let k = 0; k < 64; k++) read(rb.length); };
      for (let i = 0; i < 120; i++) {
        for (const x of [q, ref]) {
          x.putCapsuleResp(i, 0, i, 0, 0, 1);
          x.beginDataPdu(PduType.C2HData, PduFlags.LAST_PDU, i, 0, 0, 2000);
          x.payload(data, (i * 97) % 60_000, 2000);
          x.endDataPdu();
        }
        const n = q.flush(c);
        expect(n).toBeGreaterThanOrEqual(0);
        if (q.pendingBytes === 0) empties++;
        read(1500);
      }
      const want = ref.take();
      for (let i = 0; i < 10_000 && q.pendingBytes > 0; i++) {
        const n = q.flush(c);
        expect(n === EAGAIN ? 0 : n).toBeGreaterThanOrEqual(0);
        drain();
        native.pollFd(c, 4, 5);
      }
      expect(q.pendingBytes).toBe(0);
      for (let i = 0; i < 100 && received < want.length; i++) { native.pollFd(s, 1, 20); drain(); }
      expect(received).toBe(want.length);
      expect(Buffer.compare(Buffer.concat(got), want)).toBe(0);
      expect(empties).toBeLessThan(120); // most flushes were partial
    } finally {
      close();
    }
  });

  it('lent payloads: keepLent() before the lender changes its memory keeps what is unsent intact (digests too); without it the stream carries the change', () => {
    const run = (keep: boolean): { same: boolean; kept: number } => {
      const { c, s, close } = tcpPair(true);
      try {
        const q = digestQueue(1024, 8);
        const ref = digestQueue(1 << 20, 4096);
        const mem = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31 + 7) & 0xff);
        const orig = mem.slice();
        let listed = 0, kept = 0;
        for (let i = 0; i < 16; i++) {
          const off = i * 40_000, len = 32_768;
          q.beginDataPdu(PduType.C2HData, PduFlags.LAST_PDU, i, 0, 0, len);
          if (q.payloadLent(mem, off, len)) { listed++; q.lentListed = true; }
          q.endDataPdu();
          ref.beginDataPdu(PduType.C2HData, PduFlags.LAST_PDU, i, 0, 0, len);
          ref.payload(orig, off, len);
          ref.endDataPdu();
          expect(q.flush(c)).toBeGreaterThanOrEqual(0); // the socket takes a little: the rest stays lent
          // The lender is about to write: the unsent lent bytes are copied first (or not, to show why).
          if (keep) { kept += q.lentSegments; q.keepLent(); q.lentListed = false; expect(q.lentSegments).toBe(0); }
          mem.fill(0xee, off, off + len);
        }
        expect(listed).toBeGreaterThan(0);
        const want = ref.take();
        const got: Uint8Array[] = [];
        const rb = new Uint8Array(65536);
        let received = 0;
        for (let i = 0; i < 10_000 && (q.pendingBytes > 0 || received < want.length); i++) {
          if (q.pendingBytes > 0) expect(q.flush(c)).toBeGreaterThanOrEqual(0);
          const n = native.recv(s, rb, 0, rb.length);
          if (n > 0) { got.push(rb.slice(0, n)); received += n; } else native.pollFd(s, 1, 5);
        }
        expect(received).toBe(want.length);
        return { same: Buffer.compare(Buffer.concat(got), want) === 0, kept };
      } finally {
        close();
      }
    };
    const kept = run(true);
    expect(kept.kept).toBeGreaterThan(0); // lent bytes were still unsent when the memory changed
    expect(kept.same).toBe(true);
    expect(run(false).same).toBe(false);
  });

  it('reuses its header arena as a ring when the queue never empties (no growth)', () => {
    const { c, s, close } = tcpPair();
    try {
      const q = new PduSendQueue(1024, 8);
      q.configure(false, false, 72, 24);
      const data = new Uint8Array(65536);
      const rb = new Uint8Array(100_000);
      let partial = 0, cid = 0;
      for (let i = 0; i < 1000; i++) {
        // Keep 8 PDUs (48 bytes of headers each) queued behind what the socket takes.
        while (q.pendingBytes < 8 * 65_560) {
          q.beginDataPdu(PduType.C2HData, PduFlags.LAST_PDU, cid, 0, 0, 65536);
          q.payload(data, 0, 65536);
          q.endDataPdu();
          q.putCapsuleResp(cid, 0, 0, 0, 0, 1);
          cid = (cid + 1) & 0xffff;
        }
        expect(q.flush(c)).toBeGreaterThanOrEqual(0);
        if (q.pendingBytes > 0) partial++;
        native.recv(s, rb, 0, rb.length);
      }
      expect(partial).toBeGreaterThan(500); // the queue rarely emptied
      expect(q.arena.length).toBe(1024);
    } finally {
      close();
    }
  });
});
