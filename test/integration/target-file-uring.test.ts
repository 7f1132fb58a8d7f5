// The built-in target's file namespace on io_uring (file-io-ring.ts), poll and interrupt mode: our
// host's perf run with --verify (4 KiB to 1 MiB randrw), writes read back from the file with fs,
// connections closed with file I/O in flight (no slot leaks, a bystander keeps working), the
// synchronous path (--file-io sync) and the flag's usage error.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEntryPath } from '../../src/launch/builtin-target.js';
import { native } from '../../src/native/index.js';
import { encodeSqe } from '../../src/nvme/sqe.js';
import { targetConfig, type TargetConfig } from '../../src/target/config.js';
import { FileIoRing } from '../../src/target/file-io-ring.js';
import { startTarget, type RunningTarget } from '../../src/target/target.js';
import { RawHost, ioSqe } from './target-wire-client.js';

const NQN = 'nqn.2016-06.io.nvmf-perf:file-uring';
const cpus = native.allowedCpus();
const built = fs.existsSync(cliEntryPath());
if (!built) console.warn(`target-file-uring: perf runs skipped: ${cliEntryPath()} is missing (run npm run build)`);
const MiB = 1024 * 1024;
let ringOk = true;
try { new FileIoRing(4096, false).close(); } catch { ringOk = false; }
if (!ringOk) console.warn('target-file-uring: io_uring unavailable here: ring cases skipped (they fail under CI=true)');
const ringCases = ringOk || process.env.CI === 'true';

const hosts: RawHost[] = [];
const targets: RunningTarget[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmf-perf-file-uring-'));

afterAll(async () => {
  for (const h of hosts) h.destroy();
  for (const t of targets) await t.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function makeFile(name: string, bytes: number): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, Buffer.alloc(bytes));
  return f;
}

async function start(file: string, over: Partial<TargetConfig>): Promise<RunningTarget> {
  const t = await startTarget(targetConfig({
    listen: [{ host: '127.0.0.1', port: 0 }], subnqn: NQN, namespaces: [{ kind: 'file', path: file }],
    reactorCpus: [cpus[cpus.length - 1] ?? 0], maxIoSize: MiB, logLevel: 'silent', ...over,
  }, cpus));
  targets.push(t);
  return t;
}

async function ioQueue(t: RunningTarget): Promise<RawHost> {
  const a = await RawHost.open(t.port);
  hosts.push(a);
  const cntlid = await a.bringUp(NQN);
  const q = await RawHost.open(t.port);
  hosts.push(q);
  await q.icreq(0);
  expect((await q.connect(1, { subnqn: NQN, cntlid, sqsize: 127 })).status).toBe(0);
  return q;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliEntryPath(), ...args], { timeout: 120_000, maxBuffer: 16 * MiB }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until the reactor has no ring slot taken; returns its stats then. */
async function settled(t: RunningTarget): Promise<ReturnType<RunningTarget['stats']>[number]> {
  for (let i = 0; i < 250; i++) {
    const s = t.stats()[0]!;
    if (s.fileRingSlotsUsed === 0) return s;
    await sleep(20);
  }
  return t.stats()[0]!;
}

const pattern = (len: number, seed: number): Uint8Array => {
  const d = new Uint8Array(len);
  for (let i = 0; i < len; i += 4) d[i] = seed, d[i + 1] = i >> 2 & 0xff, d[i + 2] = i >> 10 & 0xff, d[i + 3] = i >> 18 & 0xff;
  return d;
};

describe.skipIf(!ringCases).each([['poll', false], ['interrupt', true]] as const)('file namespace on io_uring, %s mode', (_mode, interruptMode) => {
  it.skipIf(!built)('our host: randrw with --verify at 4 KiB, 128 KiB and 1 MiB', async () => {
    const file = makeFile(`perf-${_mode}.img`, 64 * MiB);
    const t = await start(file, { interruptMode });
    const before = t.stats()[0]!;
    for (const size of [4096, 128 * 1024, MiB]) {
      const r = await run(['-r', `trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:${t.port} subnqn:${NQN}`,
        '-q', '16', '-o', String(size), '-w', 'randrw', '-M', '50', '-t', '1', '--verify', '--json', path.join(dir, `result-${size}.json`)]);
      expect(r.stderr + r.stdout).toMatch(/verify: \d+ blocks written, \d+ blocks checked, 0 mismatch\(es\)/);
      expect(r.code).toBe(0);
    }
    const s = await settled(t);
    expect(s.fileRing).toBe(true);
    expect(s.fileRingCompletions).toBeGreaterThan(before.fileRingCompletions);
    expect(s.fileRingSlotsUsed).toBe(0);
  }, 240_000);

  // (Many commands in flight at once: the perf runs above, QD16.)
  it('writes of 512 B to 1 MiB (in-capsule and R2T) land in the file; reads return them', async () => {
    const file = makeFile(`wire-${_mode}.img`, 16 * MiB);
    const t = await start(file, { interruptMode });
    const q = await ioQueue(t);
    const cases = [[512, 1], [4096, 8], [8192, 100], [65536, 300], [MiB, 4096], [MiB, 32768 - 2048]] as const;
    const written = cases.map(([len], i) => pattern(len, 0x10 + i));
    for (const [i, [len, lba]] of cases.entries()) {
      const r = len <= 8192
        ? await q.cmd(ioSqe(q.cid(), 0x01, 1, lba, len / 512, 512, 0x01), { icd: written[i] })
        : await q.cmd(ioSqe(q.cid(), 0x01, 1, lba, len / 512, 512), { writeData: written[i] });
      expect(r.status).toBe(0);
    }
    expect((await q.cmd(ioSqe(q.cid(), 0x00, 1, 0, 1, 512, 0x5a, 0))).status).toBe(0); // Flush: an fsync SQE
    const onDisk = fs.readFileSync(file);
    cases.forEach(([len, lba], i) => {
      expect(Buffer.compare(onDisk.subarray(lba * 512, lba * 512 + len), Buffer.from(written[i]!))).toBe(0);
    });
    for (const [i, [len, lba]] of cases.entries()) {
      const r = await q.cmd(ioSqe(q.cid(), 0x02, 1, lba, len / 512, 512));
      expect(r.status).toBe(0);
      expect(Buffer.compare(r.data, Buffer.from(written[i]!))).toBe(0);
    }
    const s = await settled(t);
    // 6 writes + flush + 6 reads, each one CQE or more (a short transfer is continued).
    expect(s.fileRingCompletions).toBeGreaterThanOrEqual(13);
    expect(s.fileRingSlotsUsed).toBe(0);
  }, 60_000);

  it('a connection closed with reads and R2T writes in flight: no slot leaks, a bystander keeps working', async () => {
    const file = makeFile(`close-${_mode}.img`, 64 * MiB);
    const t = await start(file, { interruptMode });
    const bystander = await ioQueue(t);
    const victim = await ioQueue(t);
    // 64 reads of 256 KiB and 8 writes whose data we never send (each holds a ring slot for its R2T).
    const burst: Buffer[] = [];
    for (let i = 0; i < 64; i++) {
      const s = new Uint8Array(64);
      encodeSqe(new DataView(s.buffer), 0, ioSqe(victim.cid(), 0x02, 1, i * 512, 512, 512));
      burst.push(victim.capsule(s));
      if (i < 8) {
        const w = new Uint8Array(64);
        encodeSqe(new DataView(w.buffer), 0, ioSqe(victim.cid(), 0x01, 1, 100_000 + i * 512, 512, 512));
        burst.push(victim.capsule(w));
      }
    }
    victim.send(Buffer.concat(burst));
    victim.destroy();
    // The bystander's I/O on the same reactor and file, while the victim's is being torn down.
    for (let i = 0; i < 8; i++) {
      const d = pattern(65536, 0x80 + i);
      expect((await bystander.cmd(ioSqe(bystander.cid(), 0x01, 1, 40_000 + i * 128, 128, 512), { writeData: d })).status).toBe(0);
      const r = await bystander.cmd(ioSqe(bystander.cid(), 0x02, 1, 40_000 + i * 128, 128, 512));
      expect(Buffer.compare(r.data, Buffer.from(d))).toBe(0);
    }
    const s = await settled(t);
    expect(s.fileRingSlotsUsed).toBe(0);
    expect(s.connections).toBeGreaterThanOrEqual(2); // bystander's admin and I/O queues
    const st = t.stats()[0]!;
    console.log(`target-file-uring (${_mode}): ${st.fileRingCompletions} ring completions, ${st.fileRingOrphaned} orphaned by the close`);
  }, 60_000);
});

describe('--file-io sync', () => {
  it('keeps file I/O synchronous (no ring) and the data right', async () => {
    const file = makeFile('sync.img', 4 * MiB);
    const t = await start(file, { fileIo: 'sync' });
    const q = await ioQueue(t);
    const d = pattern(65536, 0x42);
    expect((await q.cmd(ioSqe(q.cid(), 0x01, 1, 256, 128, 512), { writeData: d })).status).toBe(0);
    expect(Buffer.compare(fs.readFileSync(file).subarray(256 * 512, 256 * 512 + 65536), Buffer.from(d))).toBe(0);
    const r = await q.cmd(ioSqe(q.cid(), 0x02, 1, 256, 128, 512));
    expect(Buffer.compare(r.data, Buffer.from(d))).toBe(0);
    const s = t.stats()[0]!;
    expect(s.fileRing).toBe(false);
    expect(s.fileRingCompletions).toBe(0);
  });

  it.skipIf(!built)('a bad --file-io value is a usage error naming the flag', async () => {
    const r = await run(['target', '--listen', '127.0.0.1:0', '--ns', 'ram:1MiB', '--file-io', 'aio']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('nvmf-perf: --file-io "aio": expected uring or sync\n');
  });
});
