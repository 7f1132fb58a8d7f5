// End to end: `nvmf-perf run` on every shipped job file, and --verify against real targets — the
// launched one (0 mismatches) and one with a file namespace whose block we corrupt behind the host's
// back (reported as a mismatch at that LBA).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { validateResult } from '../../src/report/result-validate.js';
import type { PerfResult } from '../../src/report/result-types.js';
import { launchBuiltinTarget } from '../../src/launch/builtin-target.js';
import { parseJobFile } from '../../src/cli/job-file.js';
import { VERIFY_MAGIC } from '../../src/engine/verifier.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const WORKLOADS = fileURLToPath(new URL('../../workloads/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-workloads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function results(d: string): PerfResult[] {
  return readdirSync(d).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(readFileSync(join(d, f), 'utf8')) as PerfResult)
    .sort((a, b) => a.timestamp.localeCompare(b.timestamp));
}

describe('shipped workloads', () => {
  const files = readdirSync(WORKLOADS).filter((f) => f.endsWith('.fio')).sort();
  it('the curated set is there, each starting with a one-line comment', () => {
    expect(files).toEqual(['latency-at-load.fio', 'mission.fio', 'mix-70-30.fio', 'qd1-latency.fio', 'randwrite-4k.fio',
      'seq-128k.fio', 'verify.fio', 'zipf-hotset.fio']);
    for (const f of files) expect(readFileSync(join(WORKLOADS, f), 'utf8'), f).toMatch(/^; \S.*\n\[/);
  });
  it.each(files)('%s parses and runs for 1 s per job against the launched target', (f) => {
    const out = join(dir, f);
    const r = spawnSync(process.execPath, [CLI, 'run', join(WORKLOADS, f), '--runtime', '1', '--results-dir', out,
      '--target-ns', 'ram:64MiB', '--no-progress'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const sections = parseJobFile(readFileSync(join(WORKLOADS, f), 'utf8'), f, {}).map((j) => j.name);
    const res = results(out);
    expect(res.map((x) => x.workload?.section)).toEqual(sections);
    for (const x of res) {
      expect(validateResult(x)).toEqual([]);
      expect(x.status).toBe('complete');
      expect(x.workload!.file).toBe(join(WORKLOADS, f));
      expect(x.workload!.sections).toEqual(sections);
      expect(x.total.total.ios).toBeGreaterThan(0);
      expect(x.total.total.errors).toBe(0);
      expect(x.config.timeSec).toBe(1);
      if (x.config.verify) expect(x.verify!.mismatches).toBe(0);
    }
    expect(r.stderr).toMatch(new RegExp(`job 1/${sections.length}: ${f} \\[${sections[0]}\\]`));
  });
});

describe('--verify', () => {
  it('randrw with mixed sizes against the launched target: the range is written, reads are checked, 0 mismatches', () => {
    const json = join(dir, 'verify.json');
    const r = spawnSync(process.execPath, [CLI, '-q', '16', '-w', 'randrw', '-M', '60', '--bssplit', '4k/50:16k/30:64k/20',
      '--random-distribution', 'zipf:1.1', '--verify', '-t', '2', '-c', '0x3', '--target-ns', 'ram:32MiB', '--json', json, '--no-progress'],
    { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(json, 'utf8')) as PerfResult;
    expect(validateResult(res)).toEqual([]);
    expect(res.config.verify).toBe(true);
    expect(res.config.randomDistribution).toBe('zipf:1.1');
    const blocks = (32 * 2 ** 20) / res.targets[0]!.namespaces[0]!.blockSize;
    expect(res.verify!.blocksWritten).toBeGreaterThan(blocks); // the whole range first, then the workload's writes
    expect(res.verify!.blocksChecked).toBeGreaterThan(1000);
    expect(res.verify!.mismatches).toBe(0);
    expect(res.verify!.details).toEqual([]);
    expect(r.stdout).toMatch(/verify: \d+ blocks written, \d+ blocks checked, 0 mismatch\(es\)/);
  });

  it('a write-only workload is checked by the read-back pass at the end: every block of the range', () => {
    const json = join(dir, 'verify-write.json');
    const r = spawnSync(process.execPath, [CLI, '-q', '8', '-s', '4k', '-w', 'randwrite', '--verify', '-t', '1',
      '--target-ns', 'ram:16MiB', '--json', json, '--no-progress'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(json, 'utf8')) as PerfResult;
    expect(res.total.read.ios).toBe(0);
    expect(res.verify!.blocksChecked).toBe((16 * 2 ** 20) / res.targets[0]!.namespaces[0]!.blockSize);
    expect(res.verify!.mismatches).toBe(0);
  });

  it('a block overwritten in the file namespace behind the host is reported as a mismatch at its LBA (exit 1)', async () => {
    const BS = 4096, LBA = 100, RANGE_BLOCKS = 256;
    const path = join(dir, 'ns.img');
    const fd0 = openSync(path, 'w');
    ftruncateSync(fd0, 8 * 2 ** 20);
    closeSync(fd0);
    const target = await launchBuiltinTarget({ namespaces: [`file:${path}`], reactorCores: [1], interruptMode: true, extraArgs: ['--block-size', String(BS)] });
    try {
      const json = join(dir, 'corrupt.json');
      const perf = spawn(process.execPath, [CLI, '-r', target.trid, '-q', '4', '-s', '4k', '-w', 'randread', '--verify',
        '--range', `0:${RANGE_BLOCKS * BS}`, '-t', '4', '-c', '0', '--json', json, '--no-progress'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      perf.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      perf.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const exited = new Promise<number | null>((res) => perf.on('exit', (c) => res(c)));
      try {
        // Wait until the host has written the range (the last block carries the pattern), then damage LBA 100.
        const fd = openSync(path, 'r+');
        try {
          const block = Buffer.alloc(BS);
          const deadline = Date.now() + 30_000;
          for (;;) {
            readSync(fd, block, 0, BS, (RANGE_BLOCKS - 1) * BS);
            if (block.readUInt32LE(0) === VERIFY_MAGIC) break;
            if (Date.now() > deadline) throw new Error(`the range was not written within 30 s: ${stderr}`);
            await new Promise((r) => setTimeout(r, 20));
          }
          await new Promise((r) => setTimeout(r, 300));
          readSync(fd, block, 0, BS, LBA * BS);
          expect(block.readUInt32LE(0)).toBe(VERIFY_MAGIC);
          block[2000] ^= 0xff; // one flipped byte in the body
          writeSync(fd, block, 0, BS, LBA * BS);
        } finally {
          closeSync(fd);
        }
        const code = await exited;
        expect(code, stderr).toBe(1);
        const res = JSON.parse(readFileSync(json, 'utf8')) as PerfResult;
        expect(validateResult(res)).toEqual([]);
        expect(res.verify!.mismatches).toBeGreaterThan(0);
        const lbas = new Set(res.verify!.details.map((d) => d.lba));
        expect([...lbas]).toEqual([LBA]);
        expect(res.verify!.details[0]!.what).toMatch(/^checksum /);
        expect(res.error).toMatch(/^verify: \d+ block\(s\) did not match what was written; first: NSID 1 LBA 100: checksum/);
        expect(stdout).toMatch(/mismatch NSID 1 LBA 100: checksum/);
      } finally {
        if (perf.exitCode === null) perf.kill('SIGKILL');
      }
    } finally {
      await target.stop();
    }
  });
});
