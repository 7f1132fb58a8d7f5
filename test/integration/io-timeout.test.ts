// --io-timeout end to end: perf (node dist/cli/main.js) against a built-in target in this process whose
// test-only knob (RunningTarget.holdIo) holds a few I/O commands unanswered mid-run. Held commands that
// may be aborted: each is counted as timed out, aborted with the Abort command and completes with
// Command Abort Requested; the qpair is never reset. Held commands that may not be aborted: the Abort
// reports "not aborted" and the qpair is reset (disconnected, its I/O failed, connected again), and
// the run goes on. Counts are asserted, not times.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTarget, type RunningTarget } from '../../src/target/target.js';
import { targetConfig } from '../../src/target/config.js';
import { validateResult } from '../../src/report/result-validate.js';
import { perfDuring, type PerfRun } from './perf-during.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const NQN = 'nqn.2016-06.io.nvmf-perf:iotimeout';
const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-iotimeout-'));
let target: RunningTarget;

beforeAll(async () => {
  target = await startTarget(targetConfig({
    listen: [{ host: '127.0.0.1', port: 0 }], subnqn: NQN, namespaces: [{ kind: 'ram', sizeBytes: 64 << 20 }],
    logLevel: 'silent', interruptMode: true,
  }));
});
afterAll(async () => {
  target?.holdIo(0, true);
  await target?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Run = PerfRun;

/** Runs perf; `during` runs once the first progress line is out; resolves when perf exits (bounded). */
function perf(args: string[], during: () => void): Promise<Run> {
  const trid = `trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:${target.port} subnqn:${NQN}`;
  return perfDuring(['-r', trid, ...args], join(dir, `r${Date.now()}.json`), during, 150_000);
}

describe('perf --io-timeout', () => {
  it('held commands that can be aborted: counted, aborted (Command Abort Requested), no qpair reset', async () => {
    // A long timeout: each Abort's round trip (through perf's main thread) must beat it, or the qpair is reset.
    // Two held commands: the second one's Abort waits for the first one's answer.
    const run = await perf(['-q', '8', '-s', '4096', '-w', 'randread', '-t', '12', '-P', '1', '--io-timeout', '2000'],
      () => target.holdIo(2, true));
    const res = run.result;
    expect(validateResult(res)).toEqual([]);
    expect(res.status, run.stderr).toBe('complete');
    expect(res.ioTimeouts).toEqual({ timeoutMs: 2000, timedOut: 2, abortsSent: 2, aborted: 2, notAborted: 0, abortsFailed: 0,
      qpairResets: 0, resetFailedIos: 0 });
    expect(res.workers[0]!.timeouts).toBe(2);
    // The two aborted reads are the run's only errors: I/O errors make the exit code 1.
    expect(res.total.total.errors).toBe(2);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/timeouts: 2 command\(s\) without completion within 2000 ms; 2 Abort\(s\) sent \(2 aborted, 0 not aborted, 0 failed\); 0 qpair reset\(s\)/);
    expect(run.stdout + run.stderr).toMatch(/Command Abort Requested/);
    expect(res.total.total.ios).toBeGreaterThan(0);
  }, 180_000);

  it('held commands that cannot be aborted: not aborted, the qpair is reset and the run goes on', async () => {
    const run = await perf(['-q', '8', '-s', '4096', '-w', 'randread', '-t', '8', '-P', '1', '--io-timeout', '1000'],
      () => target.holdIo(2, false));
    const res = run.result;
    expect(validateResult(res)).toEqual([]);
    expect(res.status, run.stderr).toBe('complete');
    const t = res.ioTimeouts!;
    // One timed-out command is handled at a time per qpair: the first one's failed Abort resets the qpair,
    // which fails every I/O it held (both held reads among them, at most -q 8).
    expect(t).toMatchObject({ timeoutMs: 1000, timedOut: 1, abortsSent: 1, aborted: 0, notAborted: 1, abortsFailed: 0, qpairResets: 1 });
    expect(t.resetFailedIos).toBeGreaterThanOrEqual(2);
    expect(t.resetFailedIos).toBeLessThanOrEqual(8);
    expect(res.total.total.errors).toBe(t.resetFailedIos);
    expect(run.code).toBe(1);
    // I/O went on after the reset: the last second of the timeline has completions.
    expect(res.timeline.at(-1)!.iops).toBeGreaterThan(0);
    expect(run.stdout + run.stderr).toMatch(/Command Aborted due to SQ Deletion/);
  }, 180_000);

  it('a bad value is a usage error: one line naming the flag, exit 2', async () => {
    const child = spawn(process.execPath, [CLI, '-q', '4', '-s', '4096', '-w', 'randread', '-t', '1', '--io-timeout', 'soon'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual(['nvmf-perf: --io-timeout: expected an integer from 1 to 3600000, got "soon"']);
  }, 180_000);

  it('without --io-timeout: no ioTimeouts in the result, none per worker', async () => {
    const run = await perf(['-q', '4', '-s', '4096', '-w', 'randread', '-t', '2', '-P', '1', '-c', '0'], () => undefined);
    expect(run.code, run.stderr).toBe(0);
    expect(run.result.ioTimeouts).toBeUndefined();
    expect(run.result.workers[0]!.timeouts).toBeUndefined();
  }, 180_000);
});
