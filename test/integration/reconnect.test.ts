// --ctrl-loss-tmo end to end: perf (node dist/cli/main.js) against a built-in target we start on a fixed
// port, SIGKILL it mid-run, restart it on the same port (or not), and check the exit code, the outage in
// the timeline and the disconnect / reconnect / loss the result records.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { validateResult } from '../../src/report/result-validate.js';
import { launchBuiltinTarget, type LaunchedTarget } from '../../src/launch/builtin-target.js';
import { perfDuring, type PerfRun } from './perf-during.js';

const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-reconnect-'));
const targets: LaunchedTarget[] = [];
afterEach(async () => { for (const t of targets.splice(0)) await t.stop(); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A port nothing listens on now (the kernel picks it; we keep it for both target lives). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function target(port: number): Promise<LaunchedTarget> {
  const t = await launchBuiltinTarget({ namespaces: ['ram:64MiB'], reactorCores: [1], listen: `127.0.0.1:${port}` });
  targets.push(t);
  return t;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Run = PerfRun;

/** Starts perf; `during` runs once the first progress line is out; resolves when perf exits (bounded: a hang fails). */
function perfWith(args: string[], during: () => Promise<void>): Promise<Run> {
  return perfDuring(args, join(dir, `r${Date.now()}.json`), during, 90_000);
}

describe('perf --ctrl-loss-tmo', () => {
  it('target killed and restarted on the same port: the run reconnects and exits 0, the outage in its timeline', async () => {
    const port = await freePort();
    const first = await target(port);
    const run = await perfWith(['-q', '16', '-s', '4096', '-w', 'randread', '-t', '8', '-r', first.trid, '--ctrl-loss-tmo', '10'],
      async () => {
        process.kill(first.pid, 'SIGKILL');
        await first.exited;
        await sleep(1500);
        await target(port);
      });
    expect(run.code, run.stderr).toBe(0);
    const res = run.result;
    expect(validateResult(res)).toEqual([]);
    expect(res.status).toBe('complete');
    expect(res.total.total.errors).toBe(0);
    const c = res.connection!;
    expect(c).toMatchObject({ ctrlLossTmoSec: 10, reconnectDelaySec: 1, fastIoFailTmoSec: -1 });
    expect(c.events.map((e) => e.kind)).toEqual(['disconnect', 'reconnect']);
    const [down, up] = c.events;
    expect(up!.t).toBeGreaterThan(down!.t);
    expect(up!.outageSec).toBeGreaterThan(1); // the target was away ~1.5 s: at least the first attempt failed
    expect(up!.attempts).toBeGreaterThanOrEqual(2);
    expect(up!.cntlid).toBeGreaterThan(0);
    // The timeline: I/O before, a second with none while the target was away, I/O after.
    const tl = res.timeline;
    const zero = tl.findIndex((p) => p.iops === 0);
    expect(zero, JSON.stringify(tl.map((p) => p.iops))).toBeGreaterThan(0);
    expect(tl.slice(zero).some((p) => p.iops > 0)).toBe(true);
    expect(tl.every((p) => p.errors !== undefined && p.retries !== undefined)).toBe(true);
    // The I/Os in flight at the loss were resubmitted after the reconnect (16 per qpair at most).
    expect(c.retriedIos).toBeLessThanOrEqual(16);
    expect(tl.reduce((n, p) => n + p.retries!, 0)).toBe(c.retriedIos);
    expect(run.stderr).toMatch(/connection lost; reconnecting every 1 s for up to 10 s/);
    expect(run.stderr).toMatch(/reconnected after/);
    expect(run.stdout).toMatch(/connection: 1 disconnect\(s\), 1 reconnect\(s\)/);
  }, 120_000);

  it('--fast-io-fail-tmo 1: the I/Os in flight at the loss fail with Host Pathing Error instead of being retried', async () => {
    const port = await freePort();
    const first = await target(port);
    const run = await perfWith(['-q', '8', '-s', '4096', '-w', 'randread', '-t', '8', '-r', first.trid, '--ctrl-loss-tmo', '10',
      '--fast-io-fail-tmo', '1'], async () => {
      process.kill(first.pid, 'SIGKILL');
      await first.exited;
      await sleep(2500);
      await target(port);
    });
    expect(run.code, run.stderr).toBe(1); // I/O errors
    const res = run.result;
    expect(validateResult(res)).toEqual([]);
    expect(res.connection!.events.map((e) => e.kind)).toEqual(['disconnect', 'reconnect']);
    expect(res.connection!.retriedIos).toBe(0);
    expect(res.total.total.errors).toBeGreaterThan(0);
    expect(res.total.total.errors).toBeLessThanOrEqual(8);
    expect(res.timeline.reduce((n, p) => n + p.errors!, 0)).toBe(res.total.total.errors);
    expect(res.error).toMatch(/Host Pathing Error/);
    expect(res.timeline.at(-1)!.iops).toBeGreaterThan(0);
  }, 120_000);

  it('--ctrl-loss-tmo 2 and no restart: exit 1 with partial results and the loss recorded', async () => {
    const port = await freePort();
    const t = await target(port);
    const run = await perfWith(['-q', '16', '-s', '4096', '-w', 'randread', '-t', '30', '-r', t.trid, '--ctrl-loss-tmo', '2'],
      async () => { process.kill(t.pid, 'SIGKILL'); await t.exited; });
    expect(run.code, run.stderr).toBe(1);
    const res = run.result;
    expect(validateResult(res)).toEqual([]);
    expect(res.status).toBe('partial');
    expect(res.error).toMatch(/controller lost: not reconnected within --ctrl-loss-tmo 2 s/);
    expect(res.total.total.ios).toBeGreaterThan(0);
    const ev = res.connection!.events;
    expect(ev.map((e) => e.kind)).toEqual(['disconnect', 'lost']);
    expect(ev[1]!.outageSec).toBeGreaterThanOrEqual(2);
    expect(ev[1]!.attempts).toBeGreaterThanOrEqual(1);
    // Given up long before the 30 s asked for (a generous bound: this only catches a run that waits it out).
    expect(res.durationSec).toBeLessThan(25);
    expect(run.stdout).toMatch(/LOST after/);
  }, 120_000);

  it('the run ends while still disconnected: exit 1, partial, the open outage named', async () => {
    const port = await freePort();
    const t = await target(port);
    const run = await perfWith(['-q', '4', '-s', '4096', '-w', 'randread', '-t', '4', '-r', t.trid, '--ctrl-loss-tmo', '60'],
      async () => { process.kill(t.pid, 'SIGKILL'); await t.exited; });
    expect(run.code, run.stderr).toBe(1);
    expect(run.result.status).toBe('partial');
    expect(run.result.error).toMatch(/the run ended while disconnected/);
    expect(run.result.connection!.events.map((e) => e.kind)).toEqual(['disconnect']);
    expect(validateResult(run.result)).toEqual([]);
  }, 120_000);
});
