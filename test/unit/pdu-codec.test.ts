// NVMe/TCP PDUs pinned to byte vectors: layouts per ../shared/docs/nvme-tcp-notes.md §1–3, matching
// struct nvme_tcp_{icreq,icresp,term,cmd,rsp,data,r2t}_pdu in the Linux kernel's include/linux/nvme-tcp.h.
import { describe, expect, it } from 'vitest';
import {
  decodeIcReq, decodeIcResp, decodeTermReq, dataOffsetFor, encodeCapsuleRespHeader, encodeDataPduHeader,
  encodeIcReq, encodeIcResp, encodeTermReq, pduLength, writeHeaderDigest,
} from '../../src/transport/tcp/pdu-codec.js';
import { Fes, PduFlags, PduType } from '../../src/transport/tcp/pdu-types.js';
import { PDU_ERROR, PDU_NEED_MORE, PDU_READY, PduReader } from '../../src/transport/tcp/pdu-reader.js';
import { crc32c } from '../../src/util/crc32c.js';
import { encodeCqe } from '../../src/nvme/cqe.js';

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

describe('capsule and data PDUs', () => {
  it('CapsuleResp with HDGST, CID 1: the worked example of notes §1.4', () => {
    const b = new Uint8Array(28);
    const dv = new DataView(b.buffer);
    expect(encodeCapsuleRespHeader(dv, 0, true)).toBe(28);
    encodeCqe(dv, 8, 0, 0, 0, 0, 1, 0);
    writeHeaderDigest(b, dv, 0, 24);
    expect(hex(b)).toBe('0501180' + '01c000000' + '00'.repeat(12) + '01000000' + '23b84654');
  });
  it('R2T: CCCID 8, TTAG 10, R2TO 12, R2TL 16, PLEN 24', () => {
    const b = new Uint8Array(24);
    encodeDataPduHeader(new DataView(b.buffer), 0, PduType.R2T, 0, 0, 24, 0x0102, 0x0304, 0x1000, 0x20000);
    expect(hex(b)).toBe('0900180018000000' + '0201' + '0403' + '00100000' + '00000200' + '00000000');
  });
  it('C2HData with LAST_PDU|SUCCESS, HDGST+DDGST: PDO 28 and PLEN = 28 + data + 4', () => {
    const pdo = dataOffsetFor(24, true, 0);
    expect(pdo).toBe(28);
    expect(dataOffsetFor(72, true, 0)).toBe(76);
    expect(dataOffsetFor(72, false, 0)).toBe(72);
    expect(dataOffsetFor(24, true, 7)).toBe(32); // 32-byte alignment
    const plen = pduLength(pdo, 512, true);
    expect(plen).toBe(544);
    const b = new Uint8Array(24);
    encodeDataPduHeader(new DataView(b.buffer), 0, PduType.C2HData,
      PduFlags.HDGSTF | PduFlags.DDGSTF | PduFlags.LAST_PDU | PduFlags.SUCCESS, pdo, plen, 5, 0, 0, 512);
    expect(hex(b.subarray(0, 8))).toBe('070f181c20020000');
  });
  it('TermReq: FES 8, FEI unaligned at 10, offending header copied from 24', () => {
    const b = new Uint8Array(152);
    const offending = Uint8Array.from({ length: 24 }, (_, i) => i);
    const n = encodeTermReq(b, 0, PduType.C2HTermReq, Fes.InvalidHeaderField, 2, offending);
    expect(n).toBe(48);
    expect(hex(b.subarray(0, 24))).toBe('0300180030000000' + '0100' + '02000000' + '00'.repeat(10));
    expect(decodeTermReq(b, 0)).toEqual({ type: 3, fes: 1, fei: 2, offending });
  });
});

function capsuleResp(cid: number, hdgst: boolean): Uint8Array {
  const b = new Uint8Array(hdgst ? 28 : 24);
  const dv = new DataView(b.buffer);
  encodeCapsuleRespHeader(dv, 0, hdgst);
  encodeCqe(dv, 8, 0, 0, 0, 1, cid, 0);
  if (hdgst) writeHeaderDigest(b, dv, 0, 24);
  return b;
}

function c2hData(cid: number, data: Uint8Array, hdgst: boolean, ddgst: boolean): Uint8Array {
  const pdo = dataOffsetFor(24, hdgst, 0);
  const plen = pduLength(pdo, data.length, ddgst);
  const b = new Uint8Array(plen);
  const dv = new DataView(b.buffer);
  encodeDataPduHeader(dv, 0, PduType.C2HData, (hdgst ? 1 : 0) | (ddgst ? 2 : 0) | PduFlags.LAST_PDU, pdo, plen, cid, 0, 0, data.length);
  if (hdgst) writeHeaderDigest(b, dv, 0, 24);
  b.set(data, pdo);
  if (ddgst) dv.setUint32(plen - 4, crc32c(b, pdo, data.length), true);
  return b;
}

describe('PduReader', () => {
  it('frames PDUs split at every byte boundary', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
    const stream = Buffer.concat([capsuleResp(1, true), c2hData(2, data, true, true), capsuleResp(3, true)]);
    for (const chunk of [1, 5, 24, 29, 1000]) {
      const r = new PduReader('host', 64);
      r.hdgst = true; r.ddgst = true;
      const seen: string[] = [];
      for (let i = 0; i < stream.length; i += chunk) {
        r.push(stream.subarray(i, i + chunk));
        let st: number;
        while ((st = r.next()) === PDU_READY) {
          if (r.type === PduType.C2HData) {
            expect(r.ddgstOk).toBe(true);
            expect(hex(r.buf.subarray(r.dataOff, r.dataOff + r.dataLen))).toBe(hex(data));
          }
          seen.push(`${r.type}:${r.dv.getUint16(r.start + (r.type === PduType.CapsuleResp ? 20 : 8), true)}`);
        }
        expect(st).toBe(PDU_NEED_MORE);
      }
      expect(seen).toEqual(['5:1', '7:2', '5:3']);
    }
  });
  it('flags a data digest mismatch without failing the stream', () => {
    const pdu = c2hData(9, new Uint8Array(64).fill(1), false, true);
    pdu[30] ^= 0xff;
    const r = new PduReader('host');
    r.ddgst = true;
    r.push(pdu);
    expect(r.next()).toBe(PDU_READY);
    expect(r.ddgstOk).toBe(false);
  });
  it('rejects a header digest mismatch with FES 0x03', () => {
    const pdu = capsuleResp(1, true);
    pdu[26] ^= 1;
    const r = new PduReader('host');
    r.hdgst = true;
    r.push(pdu);
    expect(r.next()).toBe(PDU_ERROR);
    expect([r.fes, r.error]).toEqual([Fes.HeaderDigestError, 'CapsuleResp header digest mismatch']);
  });
  it('rejects PDU types not allowed in the direction (FEI 0), bad HLEN (FEI 2), bad PLEN (FEI 4), DATAL (FEI 16)', () => {
    const cases: Array<[PduReader['role'], string, number, number]> = [
      ['controller', '05001800' + '18000000' + '00'.repeat(16), 1, 0],      // CapsuleResp sent to a controller
      ['host', '05001c00' + '1c000000' + '00'.repeat(20), 1, 2],            // CapsuleResp with HLEN 28
      ['host', '05001800' + '10000000' + '00'.repeat(16), 1, 4],            // PLEN 16 < HLEN 24
      ['controller', '0000800000010000' + '00'.repeat(120), 1, 4],          // ICReq with PLEN 256
      ['host', '07041800' + '1c000000' + '0100000000000000' + '08000000' + '00000000' + 'aabbccdd', 1, 16],
    ];
    for (const [role, h, fes, fei] of cases) {
      const r = new PduReader(role);
      r.push(fromHex(h));
      expect(r.next(), h).toBe(PDU_ERROR);
      expect([r.fes, r.fei], h).toEqual([fes, fei]);
      expect(r.offendingHeader().length).toBeGreaterThanOrEqual(8);
    }
  });
  it('grows for a PDU larger than its buffer', () => {
    const data = new Uint8Array(200_000).fill(0x5a);
    const r = new PduReader('host', 1024);
    const pdu = c2hData(1, data, false, false);
    for (let i = 0; i < pdu.length; i += 4096) {
      r.prepareRecv(4096);
      const n = Math.min(4096, pdu.length - i);
      r.buf.set(pdu.subarray(i, i + n), r.writeOffset);
      r.commit(n);
      if (i + n < pdu.length) expect(r.next()).toBe(PDU_NEED_MORE);
    }
    expect(r.next()).toBe(PDU_READY);
    expect(r.dataLen).toBe(200_000);
    expect(r.buf[r.dataOff + 199_999]).toBe(0x5a);
  });
});
