// End to end: nvmf-perf on local files given as positional arguments (io_uring), as a user runs it.
// Data is written then read back and compared (--verify: every block carries its LBA, generation and
// a CRC; every read is checked), and the written file is checked again independently with fs.
// Errors a user can make get one exact line and exit code 2.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { validateResult } from '../../src/report/result-validate.js';
import type { PerfResult } from '../../src/report/result-types.js';
import { native } from '../../src/native/index.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const twoCores = native.allowedCpus().length >= 2;

let n = 0;
function perf(args: string[], timeoutMs = 120_000): { code: number | null; stdout: string; stderr: string; result?: PerfResult } {
  const json = join(dir, `r${n++}.json`);
  const r = spawnSync(process.execPath, [CLI, ...args, '--json', json, '--no-progress'], { encoding: 'utf8', timeout: timeoutMs });
  let result: PerfResult | undefined;
  try { result = JSON.parse(readFileSync(json, 'utf8')) as PerfResult; } catch { /* none written */ }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, result };
}

function dataFile(name: string, bytes: number): string {
  const p = join(dir, name);
  writeFileSync(p, new Uint8Array(bytes));
  return p;
}

describe('positional files: data written, read back and compared', () => {
  const cases: { pattern: string; size: string; mode: 'poll' | 'interrupt'; extra?: string[] }[] = [
    { pattern: 'randread', size: '4k', mode: 'poll' },
    { pattern: 'randwrite', size: '128k', mode: 'interrupt' },
    { pattern: 'randrw', size: '1m', mode: 'poll' },
    { pattern: 'read', size: '4k', mode: 'interrupt' },
    { pattern: 'write', size: '1m', mode: 'interrupt' },
    { pattern: 'rw', size: '64k', mode: 'poll' },
    { pattern: 'randrw', size: '4k', mode: 'interrupt', extra: twoCores ? ['-c', '0x3', '-P', '2'] : ['-P', '2'] },
  ];
  for (const c of cases) {
    it(`${c.pattern} ${c.size} ${c.mode}${c.extra ? ` ${c.extra.join(' ')}` : ''}: --verify finds every block as written`, () => {
      const file = dataFile(`d-${c.pattern}-${c.size}-${c.mode}.bin`, 16 * 1024 * 1024);
      const r = perf(['-q', '8', '-s', c.size, '-w', c.pattern, '-t', '1', '--mode', c.mode, '--verify', '--seed', '11', ...(c.extra ?? []), file]);
      expect(r.code, r.stderr).toBe(0);
      const res = r.result!;
      expect(validateResult(res)).toEqual([]);
      expect(res.status).toBe('complete');
      expect(res.verify!.mismatches).toBe(0);
      expect(res.verify!.blocksWritten).toBeGreaterThanOrEqual(16 * 1024 * 1024 / 4096);
      expect(res.verify!.blocksChecked).toBeGreaterThan(0);
      expect(res.total.total.errors).toBe(0);
      expect(res.targets[0]!.local).toMatchObject({ transport: 'local', device: file, kind: 'file', engine: 'io_uring', kernelPath: 'O_DIRECT' });
      // IOPOLL on a file needs a device with poll queues: used when the probe read worked, else said in one line.
      if (c.mode === 'interrupt') expect(res.targets[0]!.local!.iopoll).toBe(false);
      expect(res.config.transportIds).toEqual([file]);
      expect(res.config.mode).toBe(c.mode);
      expect(res.namespaces[0]!.label).toBe(`file ${file} NSID 1 (io_uring O_DIRECT${res.targets[0]!.local!.iopoll ? ', iopoll' : ''})`);
      if (c.mode === 'poll' && !res.targets[0]!.local!.iopoll) expect(r.stderr).toContain(`poll mode: ${file} does not support IOPOLL`);
      if (c.pattern.includes('read') && c.pattern !== 'randrw' && c.pattern !== 'rw') expect(res.total.write.ios).toBe(0);
    });
  }

  it('the blocks a write run left in the file carry their own LBA and the verifier magic (checked with fs)', () => {
    const file = dataFile('indep.bin', 4 * 1024 * 1024);
    const r = perf(['-q', '4', '-s', '64k', '-w', 'write', '-t', '1', '--verify', file]);
    expect(r.code, r.stderr).toBe(0);
    const bs = r.result!.targets[0]!.namespaces[0]!.blockSize;
    expect(bs).toBe(4096);
    const bytes = readFileSync(file);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let lba = 0; lba < bytes.length / bs; lba++) {
      expect(dv.getUint32(lba * bs, true)).toBe(0x3146564e); // "NVF1"
      expect(dv.getUint32(lba * bs + 8, true)).toBe(lba);
      expect(native.crc32c(bytes, lba * bs + 8, bs - 8)).toBe(dv.getUint32(lba * bs + 4, true));
    }
  });

  it('--compare-modes works on a local file (poll, interrupt, adaptive)', () => {
    const file = dataFile('cmp.bin', 8 * 1024 * 1024);
    const out = join(dir, 'cmp');
    mkdirSync(out);
    const r = spawnSync(process.execPath, [CLI, '-q', '4', '-s', '4k', '-w', 'randread', '-t', '1', '--compare-modes', '--idle-time', '0',
      '--results-dir', out, '--no-progress', file], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/full load: poll mode \(local devices\)/);
    expect(r.stderr).toMatch(/full load: adaptive mode \(spin 50 us\) \(local devices\)/);
    expect(r.stderr).toMatch(/comparison written to/);
  }, 180_000);
});

describe('block device: a loop device over a file (root only)', () => {
  it('randrw 4k --verify on /dev/loopN: sized by BLKGETSIZE64, 512-byte logical blocks, data checked', (ctx) => {
    const backing = dataFile('loop.bin', 8 * 1024 * 1024);
    const l = spawnSync('losetup', ['-f', '--show', backing], { encoding: 'utf8' });
    if (l.status !== 0) {
      console.log(`skipped: cannot create a loop device (${(l.stderr || l.error?.message || 'losetup failed').trim()}); needs root and the loop driver`);
      ctx.skip();
      return;
    }
    const dev = l.stdout.trim();
    try {
      const r = perf(['-q', '8', '-s', '4k', '-w', 'randrw', '-t', '1', '--verify', '--mode', 'interrupt', dev]);
      expect(r.code, r.stderr).toBe(0);
      const res = r.result!;
      expect(validateResult(res)).toEqual([]);
      expect(res.verify!.mismatches).toBe(0);
      expect(res.verify!.blocksChecked).toBeGreaterThan(0);
      expect(res.targets[0]!.local).toMatchObject({ device: dev, kind: 'block', kernelPath: 'O_DIRECT' });
      expect(res.targets[0]!.namespaces[0]).toEqual({ nsid: 1, blockSize: 512, sizeBlocks: 16384, sizeBytes: 8 * 1024 * 1024 });
    } finally {
      spawnSync('losetup', ['-d', dev]);
    }
  });
});

describe('positional files: errors', () => {
  const err = (args: string[]): { code: number | null; line: string } => {
    const r = perf(['-q', '4', '-s', '4096', '-w', 'randread', '-t', '1', ...args]);
    return { code: r.code, line: r.stderr.trim() };
  };
  it('missing, empty, too small, a directory: one line naming the path, exit 2', () => {
    const missing = join(dir, 'missing.bin');
    expect(err([missing])).toEqual({ code: 2, line: `nvmf-perf: ${missing}: no such file or device` });
    const empty = dataFile('empty.bin', 0);
    expect(err([empty])).toEqual({ code: 2, line: `nvmf-perf: ${empty}: the file is empty (write it first, e.g. fio or dd, to the size to test)` });
    const small = dataFile('small.bin', 2048);
    expect(err([small])).toEqual({ code: 2, line: `nvmf-perf: ${small}: 2048 bytes is smaller than one I/O (-s/--io-size 4096)` });
    expect(err([dir])).toEqual({ code: 2, line: `nvmf-perf: ${dir}: is a directory (give a file or a block device)` });
  });
  it('combinations that do not apply', () => {
    const f = dataFile('combo.bin', 1024 * 1024);
    expect(err([f, '-r', 'trtype:TCP traddr:127.0.0.1 trsvcid:4420 subnqn:nqn.2016-06.io.spdk:cnode1'])).toEqual(
      { code: 2, line: `nvmf-perf: give either local devices (${f}) or -r targets, not both` });
    expect(err([f, '-H'])).toEqual({ code: 2, line: 'nvmf-perf: -H (NVMe/TCP digests) does not apply to local devices' });
    expect(err([f, '--target-ns', 'ram:1GiB'])).toEqual({ code: 2, line: 'nvmf-perf: --target-ns applies only to the launched target, not to local devices' });
    expect(err([f, '--ctrl-loss-tmo', '5'])).toEqual({ code: 2, line: 'nvmf-perf: --ctrl-loss-tmo applies only with -r (a launched target is not restarted)' });
    expect(err([f, f])).toEqual({ code: 2, line: `nvmf-perf: ${f} is given twice` });
    expect(err(['randread'])).toEqual({ code: 2, line: 'nvmf-perf: unknown command or stray argument "randread" (see nvmf-perf --help; a local file is given as a path, e.g. ./randread)' });
  });
  it('-r trtype:PCIe with an address that does not exist: exit 3, one line', () => {
    expect(err(['-r', 'trtype:PCIe traddr:0000:7f:1f.7'])).toEqual(
      { code: 3, line: 'nvmf-perf: PCIe 0000:7f:1f.7: no such PCI device (lspci -D lists the addresses)' });
  });
});
