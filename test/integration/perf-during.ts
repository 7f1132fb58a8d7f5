// Runs the perf CLI, calls `during` once its first progress line is out (the run is under way), and
// resolves when it exits: the shared shape of tests that act on a run in flight (restart its target,
// hold its commands). Every wait is bounded; a perf that does not exit is killed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { PerfResult } from '../../src/report/result-types.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface PerfRun { code: number | null; stderr: string; stdout: string; result: PerfResult }

/** perf with `args` plus `--json json`; `hangMs` bounds the wait for its exit after `during`. */
export async function perfDuring(args: string[], json: string, during: (perfPid: number) => void | Promise<void>, hangMs: number): Promise<PerfRun> {
  const child = spawn(process.execPath, [CLI, ...args, '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '', stdout = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  try {
    // The first measured progress line (warm-up lines do not count).
    const measuring = (): boolean => /IOPS/.test(stderr.replace(/.*warm.*\n/gi, ''));
    for (let i = 0; i < 1200 && !measuring() && child.exitCode === null; i++) await sleep(50);
    expect(measuring(), `no progress line: ${stderr}`).toBe(true);
    await during(child.pid!);
    const code = await Promise.race([exited, sleep(hangMs).then(() => 'hang' as const)]);
    expect(code, `perf did not exit: ${stderr}`).not.toBe('hang');
    return { code: code as number | null, stderr, stdout, result: JSON.parse(readFileSync(json, 'utf8')) as PerfResult };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
