// End to end: the perf command as a user runs it (node dist/cli/main.js), against the target it launches
// or one we start, checking what it prints, writes and exits with.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { validateResult } from '../../src/report/result-validate.js';
import type { PerfResult } from '../../src/report/result-types.js';
import { launchBuiltinTarget } from '../../src/launch/builtin-target.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function perf(args: string[], timeoutMs = 60_000): { code: number | null; stdout: string; stderr: string; result?: PerfResult } {
  const json = join(dir, `r${n++}.json`);
  const r = spawnSync(process.execPath, [CLI, ...args, '--json', json, '--target-ns', 'ram:64MiB'], { encoding: 'utf8', timeout: timeoutMs });
  let result: PerfResult | undefined;
  try { result = JSON.parse(readFileSync(json, 'utf8')) as PerfResult; } catch { /* none written */ }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, result };
}

describe('nvmf-perf against the launched target', () => {
  it('q 1: progress lines, summary, per-core line, a valid result', () => {
    const r = perf(['-q', '1', '-s', '4096', '-w', 'randread', '-t', '2']);
    expect(r.stderr).toMatch(/launched the built-in target \(ram:64MiB\)/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/IOPS/g)?.length ?? 0).toBeGreaterThanOrEqual(1);
    expect(r.stdout).toMatch(/Total/);
    expect(r.stdout).toMatch(/core 0: busy/);
    expect(validateResult(r.result)).toEqual([]);
    expect(r.result!.status).toBe('complete');
    expect(r.result!.total.read.ios).toBeGreaterThan(0);
    expect(r.result!.total.write.ios).toBe(0);
    expect(r.result!.durationSec).toBeGreaterThan(1); // about the -t 2 asked for (not a timing check)
    expect(r.result!.timeline.length).toBeGreaterThanOrEqual(2);
    // Per-second deltas (not cumulative) that together cover the whole measured run.
    const sum = r.result!.timeline.reduce((a, p) => a + p.iops * p.intervalSec, 0);
    expect(Math.abs(sum / r.result!.total.total.ios - 1)).toBeLessThan(0.01);
  });

  it('q 32, -P 2, -c 0x3: two workers, four qpairs, one row per namespace per core', () => {
    const r = perf(['-q', '32', '-s', '4k', '-w', 'randread', '-t', '2', '-P', '2', '-c', '0x3', '-L']);
    expect(r.code, r.stderr).toBe(0);
    const res = r.result!;
    expect(validateResult(res)).toEqual([]);
    expect(res.workers.map((w) => w.core)).toEqual([0, 1]);
    expect(res.namespaces).toHaveLength(2);
    expect(res.workers.every((w) => w.io.total.ios > 0)).toBe(true);
    expect(res.latency.percentiles.find((p) => p.percentile === 99)!.us).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/99\.00000%/);
  });

  it('randrw -M 70: the read share from the counters is 70 %', () => {
    const r = perf(['-q', '16', '-s', '4096', '-w', 'randrw', '-M', '70', '-t', '2', '--seed', '7']);
    expect(r.code, r.stderr).toBe(0);
    const t = r.result!.total;
    expect(t.read.ios + t.write.ios).toBe(t.total.ios);
    expect(Math.abs(t.read.ios / t.total.ios - 0.7)).toBeLessThan(0.03);
  });

  it('warm-up is excluded: -a 1 -t 1 measures 1 s, and the timeline covers only that second', () => {
    const warm = perf(['-q', '8', '-s', '4096', '-w', 'randread', '-t', '1', '-a', '1']);
    expect(warm.code, warm.stderr).toBe(0);
    const res = warm.result!;
    expect(res.config.warmupSec).toBe(1);
    // The measured time is the -t second, not -a + -t (2 s). (How exactly a busy machine keeps to
    // the second is not this test's business.)
    expect(res.durationSec).toBeGreaterThan(0.5);
    expect(res.durationSec).toBeLessThan(1.5);
    // The warm-up second is printed as such and kept out of the timeline and the totals.
    expect(warm.stderr).toMatch(/warm/i);
    expect(res.timeline.reduce((a, p) => a + p.intervalSec, 0)).toBeLessThan(1.5);
  });

  it('writes into --results-dir with the default name when no --json is given', () => {
    const rd = join(dir, 'results');
    const r = spawnSync(process.execPath, [CLI, '-q', '4', '-s', '4096', '-w', 'write', '-t', '1', '--results-dir', rd,
      '--target-ns', 'ram:16MiB', '--no-progress'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const files = readdirSync(rd);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^nvmf-perf-write-q4-4k-\d{8}-\d{6}\.json$/);
  });
});

describe('failures', () => {
  it('a target killed mid-run: non-zero exit and a result marked partial', async () => {
    const t = await launchBuiltinTarget({ namespaces: ['ram:64MiB'], reactorCores: [1] });
    const json = join(dir, 'killed.json');
    const child = spawn(process.execPath, [CLI, '-q', '16', '-s', '4096', '-w', 'randread', '-t', '20', '-r', t.trid,
      '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // The first progress line: the run is under way.
    for (let i = 0; i < 600 && !/IOPS/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
    process.kill(t.pid, 'SIGKILL');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await t.stop();
    expect(code, stderr).toBe(1);
    const res = JSON.parse(readFileSync(json, 'utf8')) as PerfResult;
    expect(res.status).toBe('partial');
    expect(res.error).toBeTruthy();
    expect(res.total.total.ios).toBeGreaterThan(0);
    expect(validateResult(res)).toEqual([]);
    expect(stderr).toMatch(/run ended early/);
  });

  it('a perf process killed with SIGKILL leaves no launched target spinning', async () => {
    const child = spawn(process.execPath, [CLI, '-q', '4', '-s', '4096', '-w', 'randread', '-t', '30', '--no-progress',
      '--target-ns', 'ram:16MiB', '--json', join(dir, 'k9.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // Bounded waits for events (a loaded machine is slow to get there; the bounds only stop a hang).
    for (let i = 0; i < 600 && !/\(pid \d+\)/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
    const m = /\(pid (\d+)\)/.exec(stderr);
    expect(m, `no "(pid N)" line from the launched target within 60 s: ${stderr}`).not.toBeNull();
    const pid = Number(m![1]);
    child.kill('SIGKILL');
    const alive = (): boolean => {
      try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
    };
    for (let i = 0; i < 300 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    const stillAlive = alive();
    if (stillAlive) process.kill(pid, 'SIGKILL');
    expect(stillAlive).toBe(false);
  }, 120_000);

  it('SIGINT: stops cleanly, prints and writes what was measured, marked interrupted', async () => {
    const json = join(dir, 'int.json');
    const child = spawn(process.execPath, [CLI, '-q', '8', '-s', '4096', '-w', 'randread', '-t', '30', '--json', json,
      '--target-ns', 'ram:64MiB'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // Wait until the run is under way (first progress line), then interrupt.
    for (let i = 0; i < 100 && !/IOPS/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code, stderr).toBe(130);
    const res = JSON.parse(readFileSync(json, 'utf8')) as PerfResult;
    expect(res.status).toBe('interrupted');
    expect(res.durationSec).toBeLessThan(30); // stopped before the -t 30 it was given
    expect(res.total.total.ios).toBeGreaterThan(0);
    expect(stdout).toMatch(/Total/);
  });

  it('SIGTERM while the target has stopped answering: exits 130 with the result written, without waiting on the target', async () => {
    const t = await launchBuiltinTarget({ namespaces: ['ram:64MiB'], reactorCores: [1], interruptMode: true });
    const json = join(dir, 'stalled-term.json');
    const child = spawn(process.execPath, [CLI, '-q', '8', '-s', '4096', '-w', 'randread', '-t', '60', '-r', t.trid, '--json', json],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      for (let i = 0; i < 600 && !/IOPS/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
      process.kill(t.pid, 'SIGSTOP'); // the target stops answering (its sockets stay open)
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
      // A generous bound on a hang (the controller shutdown alone would wait 30 s per command).
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
      expect(code, stderr).toBe(130);
      const res = JSON.parse(readFileSync(json, 'utf8')) as PerfResult;
      expect(res.status).toBe('interrupted');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      process.kill(t.pid, 'SIGCONT');
      await t.stop();
    }
  }, 60_000);

  it.each([
    [['-q', '0', '-s', '4096', '-w', 'randread'], 2, /^nvmf-perf: -q\/--io-depth: expected an integer from 1 to 65536, got "0"\n$/],
    [['-q', '4', '-s', '4096', '-w', 'randread', '-r', 'trtype:TCP traddr:1.2.3'], 2, /^nvmf-perf: .*traddr.*\n$/],
    [['-q', '4', '-s', '4096', '-w', 'randread', '-r', 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:1 subnqn:nqn.2016-06.io.spdk:cnode1'], 3, /^nvmf-perf: .*127\.0\.0\.1:1.*refused.*\n$/i],
    [['-q', '4', '-s', '4096', '-w', 'randread', '--bogus'], 2, /^nvmf-perf: unknown option '--bogus'\n$/],
    [['-q', '4', '-s', '4096', '-w', 'randread', '--json', '/proc/nope/r.json'], 2, /^nvmf-perf: --json \/proc\/nope\/r\.json: directory \/proc\/nope cannot be created\n$/],
    [['-q', '4', '-s', '4096', '-w', 'randread', '--results-dir', '/etc/passwd/x'], 2, /^nvmf-perf: --results-dir \/etc\/passwd\/x: a path component is not a directory\n$/],
    [['-q', '4', '-s', '4096', '-w', 'randread', '--target-ns', 'ram:12XB'], 2, /^nvmf-perf: --target-ns "ram:12XB": unknown size unit "XB".*\n$/],
    [['-q', '4', '-s', '4096', '-w', 'randread', '--target-ns', 'file:/nonexistent/ns.img'], 2, /^nvmf-perf: --target-ns "file:\/nonexistent\/ns\.img": .*\n$/],
    [['-q', '100000', '-s', '4096', '-w', 'randread'], 2, /^nvmf-perf: -q\/--io-depth: expected an integer from 1 to 65536, got "100000"\n$/],
    [['-q', '4', '-s', '4096', '-w', 'randread', '--target', 'foo'], 2, /^nvmf-perf: --target: expected builtin, spdk or linux, got "foo"\n$/],
    [['-q', '4', '-s', '4096', '-w', 'randread', '--target', 'spdk', '--spdk-bin', '/nonexistent/nvmf_tgt'], 2, /^nvmf-perf: --spdk-bin \/nonexistent\/nvmf_tgt: no such file\n$/],
    [['-q', '4', '-s', '4096', '-w', 'randread', '--target', 'spdk', '--spdk-bin', '/etc/passwd'], 2, /^nvmf-perf: --spdk-bin \/etc\/passwd: not an executable file\n$/],
  ])('bad input %j → one line, exit %i', (args, code, re) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(code);
    expect(r.stderr).toMatch(re);
  });

  it('-q 128 -s 1m against a target granting 128 entries (8 per I/O at 128 KiB MDTS): runs, data verified, the wait in the host counts in the latency', async () => {
    const t = await launchBuiltinTarget({ namespaces: ['ram:64MiB'], reactorCores: [1], extraArgs: ['--max-queue-depth', '128'] });
    try {
      const json = join(dir, 'q128.json');
      const r = spawnSync(process.execPath, [CLI, '-q', '128', '-s', '1m', '-w', 'read', '--verify', '-t', '2', '-r', t.trid, '--json', json, '--no-progress'],
        { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^nvmf-perf: note: -q 128 × 8 command\(s\) per 1048576-byte I\/O needs 1024 queue entries but .* grants 128; the rest wait in the host's software queue/m);
      const res = JSON.parse(readFileSync(json, 'utf8')) as PerfResult;
      expect(validateResult(res)).toEqual([]);
      expect(res.status).toBe('complete');
      expect(res.total.total.errors).toBe(0);
      expect(res.total.total.ios).toBeGreaterThan(0);
      // --verify wrote the namespace through the same queue first; every block read back matched.
      expect(res.verify!.mismatches).toBe(0);
      expect(res.verify!.blocksChecked).toBeGreaterThan(0);
      // Little's law: 128 I/Os always outstanding from the engine's point of view, so mean latency ×
      // IOPS ≈ 128; were the time queued in the host left out it would be ≈ 16 (what fits the queue).
      const inFlight = res.total.total.avgUs * res.total.total.iops / 1e6;
      expect(inFlight).toBeGreaterThan(64);
      expect(inFlight).toBeLessThan(192);
    } finally {
      await t.stop();
    }
  });

  it('-q 128 -s 1m against the launched target: sized for the run (1024 entries), nothing waits in the host', () => {
    const r = perf(['-q', '128', '-s', '1m', '-w', 'read', '-t', '1', '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/software queue/);
    expect(r.result!.status).toBe('complete');
    expect(r.result!.total.read.ios).toBeGreaterThan(0);
  });

  it('an I/O size that is not a multiple of the block size fails before the run', async () => {
    const t = await launchBuiltinTarget({ namespaces: ['ram:16MiB'], reactorCores: [1], extraArgs: ['--block-size', '4096'] });
    try {
      const r = spawnSync(process.execPath, [CLI, '-q', '4', '-s', '512', '-w', 'randread', '-t', '1', '-r', t.trid],
        { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^nvmf-perf: -s\/--io-size 512 is not a multiple of the block size 4096 of NSID 1 at .*\n$/);
    } finally {
      await t.stop();
    }
  });
});
