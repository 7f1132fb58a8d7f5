// The verification pattern and the verifier's bookkeeping, on real buffers: a block written by
// fillBlock checks clean; each kind of damage is reported as what it is.
import { describe, expect, it } from 'vitest';
import { checkBlock, fillBlock, Verifier, VERIFY_MAGIC } from '../../src/engine/verifier.js';
import { crc32c } from '../../src/util/crc32c.js';

const BS = 4096;
const WORDS = BS / 4;

function buffer(blocks: number): { u8: Uint8Array; u32: Uint32Array } {
  const u8 = new Uint8Array(blocks * BS);
  return { u8, u32: new Uint32Array(u8.buffer) };
}

describe('block pattern', () => {
  it('header: magic, CRC32C of the rest, LBA, generation, seed (little-endian words)', () => {
    const { u8, u32 } = buffer(1);
    fillBlock(u8, u32, 0, WORDS, 2 ** 33 + 5, 7, 0xabcdef01);
    const dv = new DataView(u8.buffer);
    expect(dv.getUint32(0, true)).toBe(VERIFY_MAGIC);
    expect(dv.getUint32(4, true)).toBe(crc32c(u8, 8, BS - 8));
    expect(dv.getUint32(8, true)).toBe(5);
    expect(dv.getUint32(12, true)).toBe(2);
    expect(dv.getUint32(16, true)).toBe(7);
    expect(dv.getUint32(20, true)).toBe(0xabcdef01);
    expect(checkBlock(u8, u32, 0, WORDS, 2 ** 33 + 5, 7, 7, 0xabcdef01)).toBeUndefined();
  });
  it('the pattern differs by LBA, generation and seed', () => {
    const a = buffer(1), b = buffer(1), c = buffer(1);
    fillBlock(a.u8, a.u32, 0, WORDS, 10, 1, 1);
    fillBlock(b.u8, b.u32, 0, WORDS, 11, 1, 1);
    fillBlock(c.u8, c.u32, 0, WORDS, 10, 2, 1);
    expect(Buffer.from(a.u8.subarray(24)).equals(Buffer.from(b.u8.subarray(24)))).toBe(false);
    expect(Buffer.from(a.u8.subarray(24)).equals(Buffer.from(c.u8.subarray(24)))).toBe(false);
  });
  it('names each kind of damage', () => {
    const { u8, u32 } = buffer(2);
    fillBlock(u8, u32, 0, WORDS, 100, 3, 9);
    fillBlock(u8, u32, BS, WORDS, 101, 3, 9);
    expect(checkBlock(u8, u32, BS, WORDS, 100, 3, 3, 9)).toMatch(/^header LBA 101, expected 100/);
    expect(checkBlock(u8, u32, 0, WORDS, 100, 4, 5, 9)).toMatch(/^generation 3, expected 4\.\.5 \(stale or lost write\)/);
    expect(checkBlock(u8, u32, 0, WORDS, 100, 3, 3, 8)).toMatch(/^seed 0x00000009, expected 0x00000008/);
    u8[1000] ^= 0x10;
    expect(checkBlock(u8, u32, 0, WORDS, 100, 3, 3, 9)).toMatch(/^checksum 0x[0-9a-f]{8}, header says/);
    const zero = buffer(1);
    expect(checkBlock(zero.u8, zero.u32, 0, WORDS, 100, 3, 3, 9)).toMatch(/^magic 0x00000000/);
  });
});

describe('Verifier', () => {
  it('write → read checks clean; a read racing a write accepts the old or the new generation; damage is counted with its LBA', () => {
    const v = new Verifier(1000, 16, BS, 5);
    const slot = v.reserveSlots(4, 2);
    const w = buffer(2), r = buffer(2);
    // First write of LBAs 1000-1001 (generation 1), completed.
    v.beginWrite(1000, 2, w.u8, w.u32, 0);
    v.endWrite(1000, 2);
    r.u8.set(w.u8);
    v.beginRead(slot, 1000, 2);
    v.endRead(slot, 1000, 2, r.u8, r.u32, 0);
    expect(v.totals()).toMatchObject({ blocksWritten: 2, blocksChecked: 2, mismatches: 0 });

    // A second write is in flight when the read is submitted: generation 1 (old) is fine …
    const old = new Uint8Array(w.u8);
    v.beginWrite(1000, 2, w.u8, w.u32, 0);
    v.beginRead(slot + 2, 1000, 2);
    v.endWrite(1000, 2);
    r.u8.set(old);
    v.endRead(slot + 2, 1000, 2, r.u8, r.u32, 0);
    expect(v.totals().mismatches).toBe(0);
    // … and so is 2 (new); but once the write completed before the read, 1 is stale.
    v.beginRead(slot, 1000, 2);
    r.u8.set(old);
    v.endRead(slot, 1000, 2, r.u8, r.u32, 0);
    const t = v.totals();
    expect(t.mismatches).toBe(2);
    expect(t.details.map((d) => d.lba)).toEqual([1000, 1001]);
    expect(t.details[0]!.what).toMatch(/^generation 1, expected 2/);
  });
  it('never-written blocks are not checked; overlapping writes are refused; an aborted write is undone', () => {
    const v = new Verifier(0, 8, BS, 1);
    const slot = v.reserveSlots(1, 1);
    const z = buffer(1);
    v.beginRead(slot, 3, 1);
    v.endRead(slot, 3, 1, z.u8, z.u32, 0);
    expect(v.totals().blocksChecked).toBe(0);
    const w = buffer(2);
    v.beginWrite(2, 2, w.u8, w.u32, 0);
    expect(v.canWrite(3, 1)).toBe(false);
    expect(v.canWrite(4, 1)).toBe(true);
    v.abortWrite(2, 2);
    expect(v.canWrite(3, 1)).toBe(true);
    v.beginRead(slot, 3, 1);
    v.endRead(slot, 3, 1, z.u8, z.u32, 0);
    expect(v.totals().blocksChecked).toBe(0); // generation back at 0: still never written
  });
});
