// Poll vs interrupt mode, reactor utilization, target RPC, open-loop rate limit, mode comparison.
// Behaviour checks (reactor counters, events), never assertions about speed, wall time or CPU share.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { launchBuiltinTarget } from '../../src/launch/builtin-target.js';
import { JsonRpcClient } from '../../src/rpc/client.js';
import type { PerfResult } from '../../src/report/result-types.js';
import { validateResult } from '../../src/report/result-validate.js';
import { perfDuring } from './perf-during.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-modes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let n = 0;
function perf(args: string[]): { code: number | null; stderr: string; stdout: string; result: PerfResult } {
  const json = join(dir, `m${n++}.json`);
  const r = spawnSync(process.execPath, [CLI, ...args, '--json', json, '--no-progress'], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return { code: r.status, stderr: r.stderr, stdout: r.stdout, result: JSON.parse(readFileSync(json, 'utf8')) as PerfResult };
}

describe('reactor accounting on the initiator', () => {
  it.each(['poll', 'interrupt'])('%s mode: busy + idle = wall time within 5 percent over a 2 s run', (mode) => {
    const { result } = perf(['-q', '4', '-s', '4096', '-w', 'randread', '-t', '2', '--mode', mode, '--target-ns', 'ram:64MiB']);
    const w = result.workers[0]!;
    const wall = result.durationSec * 1e9;
    expect(Math.abs(w.busyNs + w.idleNs - wall) / wall).toBeLessThan(0.05);
    expect(result.config.mode).toBe(mode);
  });
});

interface ReactorReply { reactors: Array<{ busy: number; idle: number; spin: number; sleep: number; sleeps: number; wakeups: number; passes: number; coalesce_us: number; coalesced_sleeps: number; coalesce_backoffs: number }> }

// The CPU an idle target uses is measured by bench/idle-cpu.mjs; here the behaviour behind it, from
// the reactor's own counters: in interrupt mode every loop pass ends in epoll_wait and nothing wakes
// it; in poll mode it never sleeps.
describe('idle built-in target', () => {
  const file = join(dir, 'ns.img');
  writeFileSync(file, Buffer.alloc(16 * 1024 * 1024));
  it.each(['ram:64MiB', 'null:1GiB', `file:${file}`])('%s: an idle interrupt-mode reactor makes no pass and no wake-up; a poll-mode one keeps passing', async (ns) => {
    for (const interrupt of [true, false]) {
      const sock = join(dir, `idle-${interrupt}.sock`);
      const t = await launchBuiltinTarget({ namespaces: [ns], reactorCores: [1], interruptMode: interrupt, extraArgs: ['--rpc-socket', sock] });
      const c = new JsonRpcClient(sock);
      try {
        await sleep(300);
        const a = ((await c.call('framework_get_reactors')) as ReactorReply).reactors[0]!;
        await sleep(3000);
        const b = ((await c.call('framework_get_reactors')) as ReactorReply).reactors[0]!;
        if (interrupt) {
          // Asleep the whole time: no timer wakes it (no keep-alive without a host), yet the sleep is accounted.
          expect(b.passes).toBe(a.passes);
          expect(b.sleeps).toBe(a.sleeps);
          expect(b.wakeups).toBe(a.wakeups);
          expect(b.busy).toBe(a.busy);
          expect(b.sleep).toBeGreaterThan(a.sleep);
          expect(b.idle - a.idle).toBe(b.sleep - a.sleep);
        } else {
          expect(b.passes).toBeGreaterThan(a.passes);
          expect(b.sleeps).toBe(0);
          expect(b.sleep).toBe(0);
          expect(b.spin).toBeGreaterThan(a.spin);
        }
      } finally {
        c.close();
        await t.stop();
      }
    }
  }, 60_000);
});

describe('spin window (counters)', () => {
  // QD 1 closed loop: between one completion and the next there is always a gap. With no spin window
  // the initiator sleeps in nearly every gap; with a window far longer than any gap it never has to.
  it('--spin-us 0 sleeps about once per I/O on both sides; --spin-us 100000 keeps both awake (spin hits instead of sleeps)', () => {
    const run = (spin: string): PerfResult => perf(['-q', '1', '-s', '4096', '-w', 'randread', '-t', '2', '--mode', 'interrupt',
      '--spin-us', spin, '--target-ns', 'ram:64MiB']).result;
    const r0 = run('0');
    const w0 = r0.workers[0]!.wait!;
    const ios0 = r0.total.total.ios;
    expect(ios0).toBeGreaterThan(100);
    expect(w0.sleeps).toBeGreaterThan(ios0 * 0.5);
    expect(w0.spinHits).toBeLessThan(w0.sleeps);
    expect(r0.config.spinUs).toBe(0);
    const rLong = run('100000');
    const w = rLong.workers[0]!.wait!;
    const ios = rLong.total.total.ios;
    expect(w.sleeps).toBeLessThan(ios * 0.05);
    expect(w.spinHits).toBeGreaterThan(ios * 0.5);
    // Target side, from the reactor samples in the timeline (cumulative counters).
    const tSleeps = (r: PerfResult): number => {
      const pts = r.timeline.filter((p) => p.targetReactors?.[0]?.sleeps !== undefined);
      return pts.at(-1)!.targetReactors![0]!.sleeps! - pts[0]!.targetReactors![0]!.sleeps!;
    };
    const tIos = (r: PerfResult): number => {
      const pts = r.timeline.filter((p) => p.targetReactors?.[0]?.sleeps !== undefined);
      return pts.slice(1).reduce((s, p) => s + p.iops * p.intervalSec, 0);
    };
    expect(tSleeps(r0)).toBeGreaterThan(tIos(r0) * 0.5);
    expect(tSleeps(rLong)).toBeLessThan(tIos(rLong) * 0.05);
    expect(validateResult(rLong)).toEqual([]);
    // The default window (50 µs) is paid for by work: one I/O per gap earns ~3 µs of spin, far less
    // than the gap at QD 1, so the initiator still sleeps in most gaps.
    const rDefault = run('50');
    expect(rDefault.workers[0]!.wait!.sleeps).toBeGreaterThan(rDefault.total.total.ios * 0.5);
    expect(tSleeps(rDefault)).toBeGreaterThan(tIos(rDefault) * 0.5); // the target earns credit per command alike
  });

  it('poll mode never sleeps; its idle time is all spin', () => {
    const { result } = perf(['-q', '1', '-s', '4096', '-w', 'randread', '-t', '1', '--target-ns', 'ram:64MiB']);
    const w = result.workers[0]!.wait!;
    expect(w.sleeps).toBe(0);
    expect(w.sleepNs).toBe(0);
    expect(w.spinNs).toBe(result.workers[0]!.idleNs);
  });

  it('open loop at a low rate: with nothing in flight the initiator sleeps until the next arrival instead of spinning', () => {
    const { result } = perf(['-q', '8', '-s', '4096', '-w', 'randread', '-t', '3', '--rate-iops', '50', '--mode', 'interrupt',
      '--spin-us', '100000', '--target-ns', 'ram:64MiB']);
    const w = result.workers[0]!.wait!;
    // 20 ms between arrivals, a 100 ms window: only the "nothing can arrive" rule makes it sleep, and
    // each sleep ends by its timeout (the next arrival), not by a socket.
    // (Without the rule a 100 ms window would never expire between arrivals 20 ms apart: no sleep at all.)
    expect(w.sleeps).toBeGreaterThanOrEqual(10);
    expect(w.timeouts).toBeGreaterThan(w.wakeups);
  });
});

describe('interrupt coalescing on the target (counters)', () => {
  // QD 8 closed loop: while the reactor waits out its coalescing time, the host gets the answers and
  // sends the next commands, so each coalesced pass finds several; with no coalescing every command
  // batch is handled as it arrives (the counter stays 0).
  it('--coalesce-us 500: busy passes end in timed sleeps that gather several commands each', async () => {
    for (const us of [500, 0]) {
      const sock = join(dir, `coalesce-${us}.sock`);
      const t = await launchBuiltinTarget({ namespaces: ['ram:64MiB'], reactorCores: [1], interruptMode: true,
        extraArgs: ['--rpc-socket', sock, '--coalesce-us', String(us)] });
      const c = new JsonRpcClient(sock);
      try {
        const a = ((await c.call('framework_get_reactors')) as ReactorReply).reactors[0]!;
        const { result } = perf(['-q', '8', '-s', '4096', '-w', 'randread', '-t', '2', '-c', '0x1', '-r', t.trid]);
        const b = ((await c.call('framework_get_reactors')) as ReactorReply).reactors[0]!;
        expect(b.coalesce_us).toBe(us);
        const ios = result.total.total.ios;
        expect(ios).toBeGreaterThan(100);
        const coalesced = b.coalesced_sleeps - a.coalesced_sleeps;
        if (us === 0) expect(coalesced).toBe(0);
        else {
          expect(coalesced).toBeGreaterThan(0);
          expect(ios / coalesced).toBeGreaterThanOrEqual(2); // commands gathered per coalesced sleep
        }
      } finally {
        c.close();
        await t.stop();
      }
    }
  }, 120_000);

  // QD 1: the host sends its next command only after the answer, so a window gathers one command at
  // most and only delays it. Coalescing pauses after a few such windows: sleeps stay a small share.
  it('--coalesce-us 500 at QD 1: futile windows pause coalescing (backoffs), so few I/Os wait out a window', async () => {
    const sock = join(dir, 'coalesce-qd1.sock');
    const t = await launchBuiltinTarget({ namespaces: ['ram:64MiB'], reactorCores: [1], interruptMode: true,
      extraArgs: ['--rpc-socket', sock, '--coalesce-us', '500'] });
    const c = new JsonRpcClient(sock);
    try {
      const a = ((await c.call('framework_get_reactors')) as ReactorReply).reactors[0]!;
      const { result } = perf(['-q', '1', '-s', '4096', '-w', 'randread', '-t', '2', '-c', '0x1', '-r', t.trid]);
      const b = ((await c.call('framework_get_reactors')) as ReactorReply).reactors[0]!;
      const ios = result.total.total.ios;
      expect(ios).toBeGreaterThan(100);
      expect(b.coalesce_backoffs - a.coalesce_backoffs).toBeGreaterThan(0);
      // Without the pauses every I/O would end in a window (coalesced ≈ ios).
      expect((b.coalesced_sleeps - a.coalesced_sleeps) / ios).toBeLessThan(0.1);
    } finally {
      c.close();
      await t.stop();
    }
  }, 120_000);
});

// Timer slack: how late the kernel may end a thread's timed sleep (50 µs by default). A loop that may
// sleep asks for 1 µs, so a --coalesce-us window or the next --rate-iops arrival ends on time.
describe('timer slack of the loops that sleep', () => {
  const slackOf = (tid: number): number => Number(readFileSync(`/proc/${tid}/timerslack_ns`, 'utf8'));
  it.each(['interrupt', 'poll'])('target reactor, %s mode: 1 µs when it may sleep, else the process default', async (mode) => {
    const interrupt = mode === 'interrupt';
    const sock = join(dir, `slack-${interrupt}.sock`);
    const t = await launchBuiltinTarget({ namespaces: ['ram:64MiB'], reactorCores: [1], interruptMode: interrupt, extraArgs: ['--rpc-socket', sock] });
    const c = new JsonRpcClient(sock);
    try {
      const r = ((await c.call('framework_get_reactors')) as { reactors: Array<{ tid: number }> }).reactors[0]!;
      expect(r.tid).toBeGreaterThan(0);
      expect(slackOf(r.tid)).toBe(interrupt ? 1000 : slackOf(t.pid));
    } finally {
      c.close();
      await t.stop();
    }
  }, 60_000);

  it.each(['interrupt', 'poll'])('initiator worker, --mode %s: 1 µs only in interrupt mode', async (mode) => {
    const t = await launchBuiltinTarget({ namespaces: ['ram:64MiB'], reactorCores: [1] });
    try {
      const run = await perfDuring(['-q', '4', '-s', '4096', '-w', 'randread', '-t', '3', '-c', '0x1', '--mode', mode,
        '-r', t.trid], join(dir, `slack-${mode}.json`), (pid) => {
        // The worker thread is running I/O.
        const slacks = readdirSync(`/proc/${pid}/task`).map((tid) => slackOf(Number(tid)));
        if (mode === 'interrupt') expect(slacks).toContain(1000);
        else expect(slacks).not.toContain(1000);
      }, 30_000);
      expect(run.code).toBe(0);
    } finally {
      await t.stop();
    }
  }, 60_000);
});

describe('target RPC', () => {
  it('framework_get_reactors answers with SPDK field names', async () => {
    const sock = join(dir, 'rpc.sock');
    const t = await launchBuiltinTarget({ namespaces: ['ram:16MiB'], reactorCores: [1], interruptMode: true, extraArgs: ['--rpc-socket', sock] });
    const c = new JsonRpcClient(sock);
    try {
      const r = await c.call('framework_get_reactors') as { tick_rate: number; reactors: Array<Record<string, unknown>> };
      expect(r.tick_rate).toBeGreaterThan(0);
      expect(r.reactors).toHaveLength(1);
      const re = r.reactors[0]!;
      expect(re).toMatchObject({ lcore: 1, in_interrupt: true });
      for (const k of ['busy', 'idle', 'connections', 'qpairs']) expect(typeof re[k]).toBe('number');
      const stats = await c.call('nvmf_get_stats') as { poll_groups: Array<Record<string, unknown>> };
      expect(stats.poll_groups).toHaveLength(1);
      expect(typeof stats.poll_groups[0]!['current_io_qpairs']).toBe('number');
      await expect(c.call('no_such_method')).rejects.toThrow(/Method not found \(code -32601\)/);
    } finally {
      c.close();
      await t.stop();
    }
  });

  it('a perf run stores the target reactor samples in its timeline', () => {
    const { result } = perf(['-q', '4', '-s', '4096', '-w', 'randread', '-t', '3', '--target-ns', 'ram:64MiB']);
    const sampled = result.timeline.filter((p) => p.targetReactors && p.targetReactors.length > 0);
    expect(sampled.length).toBeGreaterThanOrEqual(2);
    const last = sampled.at(-1)!.targetReactors![0]!;
    expect(last.busy).toBeGreaterThan(0);
    expect(validateResult(result)).toEqual([]);
  });
});

describe('open loop', () => {
  // Whether a machine sustains a rate is measured by bench/; here: the schedule is a ceiling (never
  // more I/O than scheduled over the run; a single second may hold more, when I/O scheduled during a
  // stall of the machine is issued late, as it must be).
  it('--rate-iops 2000: never more I/O than the schedule allows', () => {
    const { result, stdout } = perf(['-q', '16', '-s', '4096', '-w', 'randread', '-t', '3', '--rate-iops', '2000', '--target-ns', 'ram:64MiB']);
    expect(result.rate).toMatchObject({ requestedIops: 2000 });
    expect(typeof result.rate!.sustained).toBe('boolean');
    expect(result.total.total.ios).toBeGreaterThan(0);
    expect(result.total.total.ios).toBeLessThanOrEqual(Math.ceil(2000 * result.durationSec) + 16);
    expect(stdout).toMatch(/requested 2,?000 IOPS/);
  });

  it('a stalled target shows up as latency at least as long as the stall (no coordinated omission)', async () => {
    const stallMs = 1200;
    const t = await launchBuiltinTarget({ namespaces: ['ram:64MiB'], reactorCores: [1] });
    const json = join(dir, `stall-${stallMs}.json`);
    try {
      const run = await perfDuring(['-q', '32', '-s', '4096', '-w', 'randread', '-t', '6', '--rate-iops', '1000', '-r', t.trid], json, async () => {
        process.kill(t.pid, 'SIGSTOP'); // the pause: the target process does nothing for at least stallMs
        await sleep(stallMs);
        process.kill(t.pid, 'SIGCONT');
      }, 30_000);
      expect(run.code).toBe(0);
    } finally {
      process.kill(t.pid, 'SIGCONT');
      await t.stop();
    }
    const res = JSON.parse(readFileSync(json, 'utf8')) as PerfResult;
    // I/O scheduled during the stall waited for it: its latency counts from the scheduled time, so
    // the largest latency is at least the stall (a lower bound a slow machine can only exceed).
    expect(res.total.total.maxUs).toBeGreaterThanOrEqual(stallMs * 1000 * 0.95);
  }, 60_000);
});

describe('--compare-modes', () => {
  it('writes the three results (poll, interrupt, adaptive) and the comparison, and prints the side-by-side table', () => {
    const rd = join(dir, 'cmp');
    const r = spawnSync(process.execPath, [CLI, '-q', '8', '-s', '4096', '-w', 'randread', '-t', '1', '--compare-modes',
      '--idle-time', '1', '--results-dir', rd, '--target-ns', 'ram:64MiB', '--no-progress'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const files = readdirSync(rd);
    expect(files.filter((f) => f.startsWith('nvmf-perf-randread-'))).toHaveLength(3);
    const cmpFile = files.find((f) => f.startsWith('nvmf-perf-compare-modes-'))!;
    const cmp = JSON.parse(readFileSync(join(rd, cmpFile), 'utf8')) as { rows: Array<{ mode: string; variant: string; spinUs: number;
      iops: number; targetIdleCores: number; initiatorSleepsPerIo: number; targetSleepsPerIo: number }> };
    expect(cmp.rows.map((x) => [x.variant, x.mode, x.spinUs])).toEqual([['poll', 'poll', 0], ['interrupt', 'interrupt', 0], ['adaptive', 'interrupt', 50]]);
    expect(cmp.rows.every((x) => x.iops > 0)).toBe(true);
    expect(cmp.rows[0]!.initiatorSleepsPerIo).toBe(0);
    expect(cmp.rows[0]!.targetSleepsPerIo).toBeLessThanOrEqual(0); // 0, or -1 when a 1 s run has fewer than two samples
    expect(cmp.rows[1]!.initiatorSleepsPerIo).toBeGreaterThan(0);
    // Which mode idles cheaper is measured by bench/compare-modes.mjs; here that it was measured.
    expect(cmp.rows.every((x) => Number.isFinite(x.targetIdleCores) && x.targetIdleCores >= 0)).toBe(true);
    expect(r.stdout).toMatch(/interrupt vs poll/);
    expect(r.stdout).toMatch(/adaptive vs poll/);
    expect(r.stdout).toMatch(/target sleeps\/IO/);
    expect(r.stdout).toMatch(/target idle CPU/);
  });
});
