// `nvmf-perf --target spdk`: the perf command launches SPDK's nvmf_tgt (the shared peer's binary via
// --spdk-bin), configures it over JSON-RPC, samples its reactors, and never leaves it behind.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEntryPath } from '../../src/launch/builtin-target.js';
import type { PerfResult } from '../../src/report/result-types.js';
import { validateResult } from '../../src/report/result-validate.js';
import { SPDK_NVMF_TGT, peerGate, pidAlive } from './spdk-peer.js';

const SUITE = 'nvmf-perf --target spdk (launched nvmf_tgt)';
const CLI = cliEntryPath();

if (peerGate(SUITE)) {
  describe(SUITE, () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-tgt-spdk-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    let n = 0;
    const perf = (args: string[], timeoutMs = 120_000): { code: number | null; stdout: string; stderr: string; result?: PerfResult } => {
      const json = join(dir, `r${n++}.json`);
      const r = spawnSync(process.execPath, [CLI, ...args, '--target', 'spdk', '--spdk-bin', SPDK_NVMF_TGT, '--json', json],
        { encoding: 'utf8', timeout: timeoutMs });
      let result: PerfResult | undefined;
      try { result = JSON.parse(readFileSync(json, 'utf8')) as PerfResult; } catch { /* none written */ }
      return { code: r.status, stdout: r.stdout, stderr: r.stderr, result };
    };
    const launchedPid = (stderr: string): number => Number(/launched the SPDK nvmf_tgt .*\(pid (\d+)\)/.exec(stderr)?.[1]);

    it('randread 4 KiB QD 32 on a Malloc bdev: result names nvmf_tgt, timeline has its reactor each second, target gone after', () => {
      const r = perf(['-q', '32', '-s', '4096', '-w', 'randread', '-t', '2', '--target-ns', 'ram:64MiB']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/no -r given: launched the SPDK nvmf_tgt \(ram:64MiB\) at traddr:127\.0\.0\.1 trsvcid:\d+ subnqn:nqn\.2016-06\.io\.spdk:cnode1 on core 1 \(pid \d+\)/);
      const res = r.result!;
      expect(validateResult(res)).toEqual([]);
      expect(res.status).toBe('complete');
      expect(res.total.read.ios).toBeGreaterThan(0);
      expect(res.total.total.errors).toBe(0);
      const t = res.targets[0]!;
      expect(t.sn).toBe('SPDK00000000000001');
      expect(t.namespaces[0]).toMatchObject({ nsid: 1, blockSize: 512, sizeBytes: 64 << 20 });
      expect(t.launched).toMatchObject({ kind: 'spdk', namespace: 'ram:64MiB', reactorCores: [1], mode: 'poll' });
      expect(res.timeline.length).toBeGreaterThanOrEqual(2);
      for (const p of res.timeline) {
        expect(p.targetReactors?.map((x) => x.lcore)).toEqual([1]);
        expect(p.targetReactors![0]!.inInterrupt).toBe(false);
      }
      // Cumulative busy+idle grows from one sample to the next (SPDK counts ticks of its reactor loop).
      const tot = res.timeline.map((p) => p.targetReactors![0]!.busy + p.targetReactors![0]!.idle);
      expect(tot[tot.length - 1]!).toBeGreaterThan(tot[0]!);
      expect(res.targetCpu!.pid).toBe(t.launched!.pid);
      expect(res.targetCpu!.cpuNs).toBeGreaterThan(0);
      expect(pidAlive(t.launched!.pid)).toBe(false);
    }, 180_000);

    it('Null bdev, -c 0x3 (no spare core: nvmf_tgt in interrupt mode), randwrite 64 KiB -P 2 -H -I', () => {
      const r = perf(['-q', '8', '-s', '64k', '-w', 'randwrite', '-t', '1', '-c', '0x3', '-P', '2', '-H', '-I', '--target-ns', 'null:256MiB', '--no-progress']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/in interrupt mode because it shares that core with a worker/);
      expect(r.result!.targets[0]!.launched).toMatchObject({ kind: 'spdk', mode: 'interrupt' });
      expect(r.result!.total.write.ios).toBeGreaterThan(0);
      expect(r.result!.workers.every((w) => w.io.total.ios > 0)).toBe(true);
      expect(r.result!.timeline.at(-1)?.targetReactors?.[0]?.inInterrupt).toBe(true);
    }, 180_000);

    it('AIO bdev on a file: rw 4 KiB; the file exists afterwards and nvmf_tgt is gone', () => {
      const img = join(dir, 'aio.img');
      spawnSync('truncate', ['-s', '16M', img]);
      const r = perf(['-q', '16', '-s', '4096', '-w', 'rw', '-t', '1', '--target-ns', `file:${img}`, '--no-progress']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.result!.targets[0]!.namespaces[0]!.sizeBytes).toBe(16 << 20);
      expect(r.result!.total.read.ios).toBeGreaterThan(0);
      expect(r.result!.total.write.ios).toBeGreaterThan(0);
      expect(pidAlive(launchedPid(r.stderr))).toBe(false);
    }, 180_000);

    it('a perf process killed with SIGKILL leaves no nvmf_tgt behind', async () => {
      const child = spawn(process.execPath, [CLI, '-q', '4', '-s', '4096', '-w', 'randread', '-t', '60', '--no-progress',
        '--target', 'spdk', '--spdk-bin', SPDK_NVMF_TGT, '--target-ns', 'ram:16MiB', '--json', join(dir, 'k9.json')],
      { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      for (let i = 0; i < 300 && !/\(pid \d+\)/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
      const pid = launchedPid(stderr);
      expect(pid, stderr).toBeGreaterThan(1);
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('nvmf_tgt');
      await new Promise((r) => setTimeout(r, 1000));
      child.kill('SIGKILL');
      for (let i = 0; i < 150 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      const stillAlive = pidAlive(pid);
      if (stillAlive && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nvmf_tgt')) process.kill(pid, 'SIGKILL');
      expect(stillAlive).toBe(false);
    }, 60_000);

    it('--compare-modes --target spdk: poll, interrupt and adaptive runs (nvmf_tgt restarted with --interrupt-mode), comparison', () => {
      const rd = join(dir, 'cmp');
      const r = spawnSync(process.execPath, [CLI, '-q', '8', '-s', '4096', '-w', 'randread', '-t', '1', '--compare-modes',
        '--idle-time', '1', '--results-dir', rd, '--target', 'spdk', '--spdk-bin', SPDK_NVMF_TGT, '--target-ns', 'null:64MiB',
        '--no-progress'], { encoding: 'utf8', timeout: 180_000 });
      expect(r.status, r.stderr).toBe(0);
      const files = readdirSync(rd);
      const runs = files.filter((f) => f.startsWith('nvmf-perf-randread-')).map((f) => JSON.parse(readFileSync(join(rd, f), 'utf8')) as PerfResult);
      // poll, interrupt (--spin-us 0) and adaptive (the initiator spins; nvmf_tgt has no such knob).
      expect(runs).toHaveLength(3);
      expect(runs.map((x) => x.config.mode).sort()).toEqual(['interrupt', 'interrupt', 'poll']);
      const byMode = new Map(runs.map((x) => [x.config.mode, x]));
      for (const x of runs) {
        const mode = x.config.mode;
        expect(validateResult(x)).toEqual([]);
        expect(x.status).toBe('complete');
        expect(x.total.read.ios).toBeGreaterThan(0);
        expect(x.targets[0]!.sn).toBe('SPDK00000000000001');
        // The launched nvmf_tgt itself runs in the mode of the run.
        expect(x.timeline.at(-1)?.targetReactors?.[0]?.inInterrupt).toBe(mode === 'interrupt');
      }
      expect(byMode.get('poll')!.targetCpu!.pid).not.toBe(byMode.get('interrupt')!.targetCpu!.pid);
      const cmpFile = files.find((f) => f.startsWith('nvmf-perf-compare-modes-'))!;
      const cmp = JSON.parse(readFileSync(join(rd, cmpFile), 'utf8')) as { rows: Array<{ variant: string; iops: number; targetIdleCores: number }> };
      expect(cmp.rows.map((x) => x.variant)).toEqual(['poll', 'interrupt', 'adaptive']);
      expect(cmp.rows.every((x) => x.iops > 0 && x.targetIdleCores >= 0)).toBe(true);
      expect(r.stdout).toMatch(/interrupt vs poll/);
      for (const x of runs) expect(pidAlive(x.targetCpu!.pid)).toBe(false);
    }, 240_000);

    it.each([
      [['--target-ns', 'ram:1000'], /^nvmf-perf: --target-ns "ram:1000": the size must be a non-zero multiple of 512 bytes\n$/],
      [['--target-ns', 'file:/nonexistent/ns.img'], /^nvmf-perf: --target-ns "file:\/nonexistent\/ns\.img": \/nonexistent\/ns\.img does not exist .*\n$/],
      [['--spdk-args', '-m 0x2'], /^nvmf-perf: --spdk-args: -m is not allowed: .*\n$/],
    ])('bad input %j → one line naming the flag, exit 2, nothing started', (extra, re) => {
      const r = perf(['-q', '4', '-s', '4096', '-w', 'randread', '-t', '1', ...extra]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(re);
    });

    it('--spdk-args reaches nvmf_tgt: an option it rejects is a usage error naming --spdk-args, exit 2', () => {
      const r = perf(['-q', '4', '-s', '4096', '-w', 'randread', '-t', '1', '--spdk-args', '--no-such-nvmf-tgt-option']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^nvmf-perf: --spdk-args: nvmf_tgt: unrecognized option '--no-such-nvmf-tgt-option'\n$/);
    }, 60_000);

    it('a binary that is not nvmf_tgt fails the launch with its exit status, exit 1', () => {
      const r = spawnSync(process.execPath, [CLI, '-q', '4', '-s', '4096', '-w', 'randread', '-t', '1', '--target', 'spdk',
        '--spdk-bin', '/bin/false', '--json', join(dir, 'false.json')], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^nvmf-perf: SPDK nvmf_tgt \(\/bin\/false\) exited before it was ready \(exit code 1\)\n$/);
    }, 60_000);
  });
}
