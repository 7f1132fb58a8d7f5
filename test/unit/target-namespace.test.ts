// Namespace backends: ram (with copies across chunk boundaries, using a small injected chunk
// size), null, and file (on a temp file).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileNamespace, NullNamespace, RamNamespace, openNamespace } from '../../src/target/namespace.js';

function pattern(len: number, seed: number): Uint8Array {
  const u = new Uint8Array(len);
  for (let i = 0; i < len; i++) u[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return u;
}

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

describe('RamNamespace', () => {
  it('allocates ≤ chunk-sized SharedArrayBuffers', () => {
    const sabs = RamNamespace.allocate(10 * 4096 + 512, 4096);
    expect(sabs.length).toBe(11);
    expect(sabs.every((s) => s instanceof SharedArrayBuffer)).toBe(true);
    expect(sabs.slice(0, 10).every((s) => s.byteLength === 4096)).toBe(true);
    expect(sabs[10]!.byteLength).toBe(512);
  });

  it('locate/locateWrite give the namespace memory of a range inside one chunk (zero-copy reads and writes), null across chunks', () => {
    const chunk = 8192;
    const sabs = RamNamespace.allocate(4 * chunk, chunk);
    const ns = new RamNamespace(4 * chunk, 512, chunk, sabs);
    const data = pattern(1024, 3);
    ns.write(data, 0, chunk + 512, 1024);
    const mem = ns.locate(chunk + 512, 1024);
    expect(mem).not.toBeNull();
    expect(mem!.buffer).toBe(sabs[1]);
    expect(ns.refOff).toBe(512);
    expect(Buffer.compare(mem!.subarray(512, 1536), data)).toBe(0);
    // A write landing at locateWrite's place is read back by read().
    const w = ns.locateWrite(3 * chunk, 512)!;
    w.set(pattern(512, 4), ns.refOff);
    const back = new Uint8Array(512);
    ns.read(back, 0, 3 * chunk, 512);
    expect(Buffer.compare(back, pattern(512, 4))).toBe(0);
    expect(ns.locate(chunk - 512, 1024)).toBeNull();
    expect(ns.locateWrite(chunk - 512, 1024)).toBeNull();
  });

  it('null: reads locate one zero buffer, writes a separate discard buffer; file: no direct access', () => {
    const ns = new NullNamespace(1 << 20, 512);
    const z = ns.locate(4096, 65536)!;
    expect(z.length).toBeGreaterThanOrEqual(65536);
    const d = ns.locateWrite(0, 65536)!;
    expect(d).not.toBe(z);
    d.fill(0xff);
    expect(ns.locate(0, 65536)!.subarray(0, 65536).every((x) => x === 0)).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmf-ns-'));
    dirs.push(dir);
    const f = path.join(dir, 'f');
    fs.writeFileSync(f, new Uint8Array(8192));
    const fns = new FileNamespace(f, 8192, 512);
    expect(fns.locate()).toBeNull();
    expect(fns.locateWrite()).toBeNull();
    fns.close();
  });

  it('writes, reads and zeroes across chunk boundaries', () => {
    const chunk = 8192;
    const size = 8 * chunk;
    const sabs = RamNamespace.allocate(size, chunk);
    const ns = new RamNamespace(size, 512, chunk, sabs);
    expect(ns.blocks).toBe(size / 512);
    // Spans three chunks: starts 512 bytes before the first boundary.
    const data = pattern(3 * chunk, 1);
    ns.write(data, 0, chunk - 512, data.length);
    const back = new Uint8Array(data.length + 100);
    ns.read(back, 100, chunk - 512, data.length);
    expect(Buffer.compare(back.subarray(100), data)).toBe(0);
    // The bytes landed in the right chunks.
    expect(new Uint8Array(sabs[0]!)[chunk - 512]).toBe(data[0]);
    expect(new Uint8Array(sabs[1]!)[0]).toBe(data[512]);
    expect(new Uint8Array(sabs[3]!)[0]).toBe(data[512 + 2 * chunk]);
    // A second view (another reactor) sees the same data.
    const other = new RamNamespace(size, 512, chunk, sabs);
    const b2 = new Uint8Array(1024);
    other.read(b2, 0, 2 * chunk - 512, 1024);
    expect(Buffer.compare(b2, data.subarray(chunk, chunk + 1024))).toBe(0);
    // Zero a range that crosses a boundary.
    ns.zero(2 * chunk - 1024, 2048);
    const z = new Uint8Array(4096);
    ns.read(z, 0, 2 * chunk - 2048, 4096);
    const at = (nsOff: number): number => nsOff - (chunk - 512); // index into `data` of a namespace offset
    const zb = 2 * chunk - 2048;
    expect(Buffer.compare(z.subarray(0, 1024), data.subarray(at(zb), at(zb + 1024)))).toBe(0);
    expect(z.subarray(1024, 3072).every((x) => x === 0)).toBe(true);
    expect(Buffer.compare(z.subarray(3072), data.subarray(at(zb + 3072), at(zb + 4096)))).toBe(0);
    // The last block.
    const last = pattern(512, 9);
    ns.write(last, 0, size - 512, 512);
    const lb = new Uint8Array(512);
    ns.read(lb, 0, size - 512, 512);
    expect(Buffer.compare(lb, last)).toBe(0);
  });

  it('rounds the size down to whole blocks', () => {
    const ns = new RamNamespace(5000, 4096, 8192, RamNamespace.allocate(5000, 8192));
    expect(ns.blocks).toBe(1);
    expect(ns.sizeBytes).toBe(4096);
  });
});

describe('NullNamespace', () => {
  it('reads zeroes and discards writes', () => {
    const ns = new NullNamespace(1024 ** 4, 4096);
    expect(ns.blocks).toBe(1024 ** 4 / 4096);
    ns.write();
    const b = new Uint8Array(8192).fill(0xaa);
    ns.read(b, 4096, 12345 * 4096, 4096);
    expect(b.subarray(0, 4096).every((x) => x === 0xaa)).toBe(true);
    expect(b.subarray(4096).every((x) => x === 0)).toBe(true);
  });
});

describe('FileNamespace', () => {
  it('probes, writes, reads, zeroes and flushes a file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmf-perf-ns-'));
    dirs.push(dir);
    const file = path.join(dir, 'ns.img');
    fs.writeFileSync(file, Buffer.alloc(0));
    fs.truncateSync(file, 1024 * 1024 + 300);
    expect(FileNamespace.probe(file, 512)).toBe(1024 * 1024);
    expect(FileNamespace.probe(path.join(dir, 'missing'), 512)).toBe('no such file');
    const tiny = path.join(dir, 'tiny');
    fs.writeFileSync(tiny, Buffer.alloc(100));
    expect(FileNamespace.probe(tiny, 512)).toBe('the file is smaller than one block (100 < 512 bytes)');
    expect(FileNamespace.probe(dir, 512)).toBe('not a regular file');

    const ns = openNamespace({ kind: 'file', path: file, sizeBytes: 1024 * 1024, blockSize: 512 });
    const data = pattern(64 * 1024, 4);
    ns.write(data, 0, 4096, data.length);
    ns.flush();
    const back = new Uint8Array(data.length);
    ns.read(back, 0, 4096, data.length);
    expect(Buffer.compare(back, data)).toBe(0);
    // Independently of our fd: the bytes are in the file.
    const onDisk = fs.readFileSync(file).subarray(4096, 4096 + data.length);
    expect(Buffer.compare(onDisk, data)).toBe(0);
    ns.zero(8192, 4096);
    const z = new Uint8Array(4096);
    ns.read(z, 0, 8192, 4096);
    expect(z.every((x) => x === 0)).toBe(true);
    ns.close();
  });
});
