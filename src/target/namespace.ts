// Namespace backends behind one interface. A backend is opened once per reactor thread from a
// structured-clonable NamespaceShared (ram: the SharedArrayBuffers every reactor shares; file: the
// path, opened per thread). All calls are synchronous and allocate nothing on the I/O path (ram
// copies use native.copy: dst.set(src.subarray(...)) would create a 96-byte view per I/O).
import * as fs from 'node:fs';
import { errnoName, native } from '../native/index.js';
import type { LentReads } from './lent-reads.js';

/**
 * What a read may do with the memory locate() returns: send it by reference (it never changes), lend
 * it (it may change, but only on this thread, which calls LentReads.keepAll() first), or copy it.
 */
export const READ_STABLE = 0, READ_LENT = 1, READ_COPY = 2;
export type ReadMemory = typeof READ_STABLE | typeof READ_LENT | typeof READ_COPY;

export interface NamespaceBackend {
  readonly kind: 'ram' | 'null' | 'file';
  readonly blockSize: number;
  /** Size in logical blocks (NSZE). */
  readonly blocks: number;
  /** blocks × blockSize. */
  readonly sizeBytes: number;
  /**
   * Zero-copy access: when [byteOff, byteOff+len) is one contiguous piece of memory, returns it and sets
   * refOff to the range's offset in it; else null (use read/write).
   */
  locate(byteOff: number, len: number): Uint8Array | null;
  /**
   * Where a write of [byteOff, byteOff+len) may land directly (RAM: the namespace's memory; null: a
   * discard buffer), with its offset in refOff; null when it must go through write().
   */
  locateWrite(byteOff: number, len: number): Uint8Array | null;
  /** Offset set by the last successful locate() / locateWrite(). */
  refOff: number;
  /** How reads may use memory from locate() (null: stable zeroes; RAM: lent with one reactor, else copied). */
  readonly readMemory: ReadMemory;
  /** Copies [byteOff, byteOff+len) of the namespace into dst at dstOff. */
  read(dst: Uint8Array, dstOff: number, byteOff: number, len: number): void;
  /** Copies src[srcOff, srcOff+len) into the namespace at byteOff. */
  write(src: Uint8Array, srcOff: number, byteOff: number, len: number): void;
  /** Zeroes [byteOff, byteOff+len) (Write Zeroes, deallocate). */
  zero(byteOff: number, len: number): void;
  /** Makes written data durable (file: fdatasync). */
  flush(): void;
  close(): void;
}

/** What a reactor thread needs to open a backend (passed through workerData). */
export type NamespaceShared =
  | { kind: 'ram'; sizeBytes: number; blockSize: number; chunkSize: number; chunks: SharedArrayBuffer[] }
  | { kind: 'null'; sizeBytes: number; blockSize: number }
  | { kind: 'file'; sizeBytes: number; blockSize: number; path: string };

export const DEFAULT_RAM_CHUNK = 1024 * 1024 * 1024;

/** RAM namespace: SharedArrayBuffer chunks (≤ 1 GiB each) shared by all reactors; copies split at chunk edges. */
export class RamNamespace implements NamespaceBackend {
  readonly kind = 'ram';
  readonly readMemory: ReadMemory;
  readonly blocks: number;
  readonly sizeBytes: number;
  private readonly chunks: Uint8Array[];

  /** lender: the reactor's LentReads when it is the only thread that writes this memory, else null. */
  constructor(sizeBytes: number, readonly blockSize: number, private readonly chunkSize: number,
    sabs: SharedArrayBuffer[], private readonly lender: LentReads | null = null) {
    this.readMemory = lender !== null ? READ_LENT : READ_COPY;
    this.blocks = Math.floor(sizeBytes / blockSize);
    this.sizeBytes = this.blocks * blockSize;
    this.chunks = sabs.map((s) => new Uint8Array(s));
    const have = this.chunks.reduce((a, c) => a + c.length, 0);
    if (have < this.sizeBytes) throw new RangeError(`ram namespace: ${have} bytes of memory for ${this.sizeBytes}`);
  }

  /**
   * Allocates the shared memory for a ram namespace of `sizeBytes`, and touches every page once: the
   * OS would otherwise commit pages lazily, and a benchmark's first seconds would measure page faults
   * in the target (SPDK's Malloc bdev lives in pre-faulted hugepages). About 0.3 s per GiB.
   */
  static allocate(sizeBytes: number, chunkSize = DEFAULT_RAM_CHUNK): SharedArrayBuffer[] {
    const out: SharedArrayBuffer[] = [];
    for (let off = 0; off < sizeBytes; off += chunkSize) {
      const sab = new SharedArrayBuffer(Math.min(chunkSize, sizeBytes - off));
      const mem = new Uint8Array(sab);
      native.adviseHugePages(mem); // as SPDK's hugepage memory: fewer TLB misses on random 4 KiB copies
      mem.fill(0);
      out.push(sab);
    }
    return out;
  }

  refOff = 0;

  locate(byteOff: number, len: number): Uint8Array | null {
    const c = Math.floor(byteOff / this.chunkSize);
    const w = byteOff - c * this.chunkSize;
    if (w + len > this.chunkSize) return null;
    this.refOff = w;
    return this.chunks[c]!;
  }

  locateWrite(byteOff: number, len: number): Uint8Array | null { return this.locate(byteOff, len); }

  static open(s: Extract<NamespaceShared, { kind: 'ram' }>, lender: LentReads | null): RamNamespace {
    return new RamNamespace(s.sizeBytes, s.blockSize, s.chunkSize, s.chunks, lender);
  }

  /** Before memory changes here: reads lent from it take their copies (see lent-reads.ts). */
  beforeChange(): void {
    const l = this.lender;
    if (l !== null && l.count > 0) l.keepAll();
  }

  read(dst: Uint8Array, dstOff: number, byteOff: number, len: number): void {
    const cs = this.chunkSize;
    while (len > 0) {
      const c = Math.floor(byteOff / cs);
      const w = byteOff - c * cs;
      const n = Math.min(len, cs - w);
      native.copy(dst, dstOff, this.chunks[c]!, w, n);
      dstOff += n; byteOff += n; len -= n;
    }
  }

  write(src: Uint8Array, srcOff: number, byteOff: number, len: number): void {
    this.beforeChange();
    const cs = this.chunkSize;
    while (len > 0) {
      const c = Math.floor(byteOff / cs);
      const w = byteOff - c * cs;
      const n = Math.min(len, cs - w);
      native.copy(this.chunks[c]!, w, src, srcOff, n);
      srcOff += n; byteOff += n; len -= n;
    }
  }

  zero(byteOff: number, len: number): void {
    this.beforeChange();
    const cs = this.chunkSize;
    while (len > 0) {
      const c = Math.floor(byteOff / cs);
      const w = byteOff - c * cs;
      const n = Math.min(len, cs - w);
      this.chunks[c]!.fill(0, w, w + n);
      byteOff += n; len -= n;
    }
  }

  flush(): void { /* memory */ }
  close(): void { this.chunks.length = 0; }
}

/** Null namespace (like SPDK's null bdev): no storage; reads return zeroes, writes are discarded. */
export class NullNamespace implements NamespaceBackend {
  readonly kind = 'null';
  readonly readMemory = READ_STABLE;
  readonly blocks: number;
  readonly sizeBytes: number;
  constructor(sizeBytes: number, readonly blockSize: number) {
    this.blocks = Math.floor(sizeBytes / blockSize);
    this.sizeBytes = this.blocks * blockSize;
  }
  refOff = 0;
  /**
   * Reads come from one zero buffer and writes land in one discard buffer, both shared by the
   * namespaces of a thread and grown to the largest I/O seen (reads only ever see zeroes).
   */
  private static zeroes = new Uint8Array(0);
  private static discard = new Uint8Array(0);
  /** Reads: the shared zero buffer. */
  locate(_byteOff: number, len: number): Uint8Array | null {
    if (NullNamespace.zeroes.length < len) NullNamespace.zeroes = new Uint8Array(Math.max(len, 128 * 1024));
    this.refOff = 0;
    return NullNamespace.zeroes;
  }
  /** Writes: a buffer whose contents nobody reads. */
  locateWrite(_byteOff: number, len: number): Uint8Array | null {
    if (NullNamespace.discard.length < len) NullNamespace.discard = new Uint8Array(Math.max(len, 128 * 1024));
    this.refOff = 0;
    return NullNamespace.discard;
  }
  read(dst: Uint8Array, dstOff: number, _byteOff: number, len: number): void { dst.fill(0, dstOff, dstOff + len); }
  write(): void { /* discarded */ }
  zero(): void { /* nothing stored */ }
  flush(): void { /* nothing stored */ }
  close(): void { /* nothing held */ }
}

/**
 * File namespace: a file descriptor opened read-write by each reactor thread. Its synchronous calls are
 * the --file-io sync path (and Write Zeroes / Deallocate); with the reactor's io_uring, Read, Write and
 * Flush go through file-io-ring.ts on fileDescriptor instead.
 */
export class FileNamespace implements NamespaceBackend {
  readonly kind = 'file';
  readonly readMemory = READ_COPY;
  readonly blocks: number;
  readonly sizeBytes: number;
  private fd: number;
  /** The descriptor (io_uring SQEs name it). */
  get fileDescriptor(): number { return this.fd; }
  private zeroBuf: Uint8Array | null = null;
  refOff = 0;
  locate(): Uint8Array | null { return null; }
  locateWrite(): Uint8Array | null { return null; }

  constructor(readonly path: string, sizeBytes: number, readonly blockSize: number) {
    this.blocks = Math.floor(sizeBytes / blockSize);
    this.sizeBytes = this.blocks * blockSize;
    this.fd = fs.openSync(path, 'r+');
  }

  /** Size a file namespace gets (file size rounded down to the block size), or why it cannot be used. */
  static probe(path: string, blockSize: number): number | string {
    let st: fs.Stats;
    try {
      st = fs.statSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT' ? 'no such file' : `cannot stat: ${code ?? String(e)}`;
    }
    if (!st.isFile() && !st.isBlockDevice()) return 'not a regular file';
    try {
      fs.accessSync(path, fs.constants.R_OK | fs.constants.W_OK);
    } catch {
      return 'not readable and writable by this user';
    }
    const size = Math.floor(st.size / blockSize) * blockSize;
    if (size < blockSize) return `the file is smaller than one block (${st.size} < ${blockSize} bytes)`;
    return size;
  }

  // pread/pwrite through the addon: fs.readSync/writeSync allocate a context object per call.
  read(dst: Uint8Array, dstOff: number, byteOff: number, len: number): void {
    while (len > 0) {
      const n = native.pread(this.fd, dst, dstOff, len, byteOff);
      if (n < 0) throw new Error(`pread of ${this.path} at ${byteOff}: ${errnoName(n)}`);
      if (n === 0) { dst.fill(0, dstOff, dstOff + len); return; } // file shrank underneath us: zeroes
      dstOff += n; byteOff += n; len -= n;
    }
  }

  write(src: Uint8Array, srcOff: number, byteOff: number, len: number): void {
    while (len > 0) {
      const n = native.pwrite(this.fd, src, srcOff, len, byteOff);
      if (n <= 0) throw new Error(`pwrite of ${this.path} at ${byteOff}: ${n < 0 ? errnoName(n) : 'nothing written'}`);
      srcOff += n; byteOff += n; len -= n;
    }
  }

  zero(byteOff: number, len: number): void {
    if (!this.zeroBuf) this.zeroBuf = new Uint8Array(Math.min(1024 * 1024, Math.max(len, this.blockSize)));
    const z = this.zeroBuf;
    while (len > 0) {
      const n = Math.min(len, z.length);
      this.write(z, 0, byteOff, n);
      byteOff += n; len -= n;
    }
  }

  flush(): void { fs.fdatasyncSync(this.fd); }

  close(): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** lender: the reactor's LentReads when it is the target's only reactor (RAM reads are then lent). */
export function openNamespace(s: NamespaceShared, lender: LentReads | null = null): NamespaceBackend {
  switch (s.kind) {
    case 'ram': return RamNamespace.open(s, lender);
    case 'null': return new NullNamespace(s.sizeBytes, s.blockSize);
    case 'file': return new FileNamespace(s.path, s.sizeBytes, s.blockSize);
  }
}
