// FileIoRing on a real io_uring and a real file, with a minimal queue in place of a connection (no
// network involved): reads past the end of the file come back as zeroes, a CQE whose connection
// closed (or whose request slot was reused) answers nobody and gives its slot back, a failing
// syscall becomes Internal Error.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileIoRing, FILE_IO_ERROR } from '../../src/target/file-io-ring.js';
import { ConnState } from '../../src/target/conn-state.js';
import { TargetRequest, type TargetQueue } from '../../src/target/request.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmf-perf-file-io-ring-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let ringOk = true;
try { new FileIoRing(4096, false).close(); } catch (e) { ringOk = false; console.warn(`file-io-ring: io_uring unavailable (${(e as Error).message}): skipped`); }

/** What the ring asks of a queue: its state, a context for logs and counters, and the answers. */
function queue(): TargetQueue & { answers: Array<{ status: number; data?: Buffer }>; state: number } {
  const answers: Array<{ status: number; data?: Buffer }> = [];
  const q = {
    state: ConnState.Active as number, answers,
    ctx: { counters: { readCmds: 0, writeCmds: 0, readUnits: 0, writeUnits: 0 }, log: () => undefined },
    describe: () => 'test queue',
    complete: (req: TargetRequest, status: number) => { answers.push({ status }); req.gen++; },
    completeRead: (req: TargetRequest, buf: Uint8Array, off: number, len: number) => {
      answers.push({ status: 0, data: Buffer.from(buf.subarray(off, off + len)) });
      req.gen++;
    },
  };
  return q as unknown as TargetQueue & typeof q;
}

async function reapAll(ring: FileIoRing): Promise<void> {
  for (let i = 0; i < 500 && ring.inFlight > 0; i++) {
    ring.reap();
    if (ring.inFlight > 0) await new Promise((r) => setTimeout(r, 2));
  }
}

// Under CI=true a kernel without io_uring fails these instead of skipping them.
describe.skipIf(!ringOk && process.env.CI !== 'true')('FileIoRing', () => {
  it('writes then reads a file; a read past the end of the file gets zeroes for the missing part', async () => {
    const f = path.join(dir, 'a.img');
    fs.writeFileSync(f, Buffer.alloc(8192, 0x11));
    const fd = fs.openSync(f, 'r+');
    const ring = new FileIoRing(65536, false);
    try {
      const q = queue();
      const req = new TargetRequest(q, 0, new ArrayBuffer(64));
      const s = ring.take();
      const data = Buffer.alloc(4096).map((_v, i) => i & 0xff);
      ring.buffer(s).set(data, ring.bufferOffset(s));
      ring.write(s, req, fd, 4096, 4096);
      ring.submit();
      await reapAll(ring);
      expect(q.answers).toEqual([{ status: 0 }]);
      expect(Buffer.compare(fs.readFileSync(f).subarray(4096), data)).toBe(0);
      // 8 KiB from offset 4096 of an 8 KiB file: 4 KiB of data, then zeroes.
      const s2 = ring.take();
      ring.buffer(s2).fill(0xee, ring.bufferOffset(s2), ring.bufferOffset(s2) + 8192);
      ring.read(s2, req, fd, 4096, 8192);
      await reapAll(ring);
      expect(q.answers.length).toBe(2);
      expect(Buffer.compare(q.answers[1]!.data!, Buffer.concat([data, Buffer.alloc(4096)]))).toBe(0);
      expect(ring.slotsUsed).toBe(0);
    } finally {
      ring.close();
      fs.closeSync(fd);
    }
  });

  it('a CQE for a closed connection or a reused request slot answers nobody and frees its slot', async () => {
    const f = path.join(dir, 'b.img');
    fs.writeFileSync(f, Buffer.alloc(65536, 0x22));
    const fd = fs.openSync(f, 'r+');
    const ring = new FileIoRing(4096, true);
    try {
      const closed = queue();
      const live = queue();
      const r1 = new TargetRequest(closed, 0, new ArrayBuffer(64));
      const r2 = new TargetRequest(live, 0, new ArrayBuffer(64));
      ring.read(ring.take(), r1, fd, 0, 4096);
      ring.read(ring.take(), r2, fd, 4096, 4096);
      ring.submit();
      closed.state = ConnState.Closed; // the host went away while the kernel holds the read
      r2.gen++; // and this request slot was freed and reused meanwhile
      await reapAll(ring);
      expect(closed.answers).toEqual([]);
      expect(live.answers).toEqual([]);
      expect(ring.orphaned).toBe(2);
      expect(ring.completions).toBe(2);
      expect(ring.slotsUsed).toBe(0);
    } finally {
      ring.close();
      fs.closeSync(fd);
    }
  });

  it('a failing read (bad descriptor) completes with Internal Error', async () => {
    const ring = new FileIoRing(4096, false);
    try {
      const q = queue();
      const req = new TargetRequest(q, 0, new ArrayBuffer(64));
      ring.read(ring.take(), req, 1_000_000, 0, 4096);
      await reapAll(ring);
      expect(q.answers).toEqual([{ status: FILE_IO_ERROR }]);
      expect((FILE_IO_ERROR >> 1) & 0xff).toBe(0x06); // Generic Command Status 06h
      expect(ring.slotsUsed).toBe(0);
    } finally {
      ring.close();
    }
  });
});
