// Run commands of this project inside a Linux VM (test/peers/linux-nvme-vm.sh run --serve): the
// guest has an emulated NVMe PCIe controller at 0000:00:04.0 (nvme.poll_queues=2), nvmet and
// io_uring, and sees the host's / read-only, so the same `node` and the same checkout run there.
// One boot serves several commands: exec() drops cmd.N into the run dir, the guest runs it and
// writes out.N, err.N and rc.N back. QEMU is killed by PID like every VM of linux-vm.ts.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LINUX_VM_SCRIPT, isQemuRunning, killNowSync, makeTempDir, track, untrack, type Running } from './linux-vm.js';

/** PCI address of the guest's emulated NVMe controller (fixed by the script). */
export const VM_NVME_TRADDR = '0000:00:04.0';

export interface VmCommandResult {
  /** Exit status of the command; 124 when it did not finish within its time limit (it is then killed in the guest). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface VmSessionOptions {
  /** Bound for the whole session, boot to poweroff (default 900 s). */
  timeoutSec?: number;
  /** Size of the emulated NVMe namespace (default 64 MiB). */
  nvmeMib?: number;
}

export interface VmExecOptions {
  /** Working directory in the guest (default: this process's cwd, the checkout). */
  cwd?: string;
  /** Extra environment for the command. */
  env?: Record<string, string>;
  /** Bound for this command, including the wait for the boot when it is the first (default 600 s). */
  timeoutSec?: number;
}

export interface VmSession {
  /** The run dir, shared writable into the guest at the same path (a place for files both sides see). */
  dir: string;
  exec(argv: string[], opts?: VmExecOptions): Promise<VmCommandResult>;
  /** Guest console so far (kernel messages, NVMEVM lines). */
  console(): string;
  /** Asks the guest to power off, waits (bounded), kills QEMU if needed, removes the dir. Idempotent. */
  stop(): Promise<void>;
}

/** Single-quoted for /bin/sh. */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function readOr(file: string, def: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return def;
  }
}

/** Boots the VM; commands run as soon as the guest is up (exec() may be called at once). */
export function startVm(opts: VmSessionOptions = {}): VmSession {
  const timeoutSec = opts.timeoutSec ?? 900;
  const dir = makeTempDir('nvmevm-run-');
  const entry: Running = { dir, pidfile: path.join(dir, 'qemu.pid') };
  const logFile = path.join(dir, 'console.log');
  track(entry);
  const args = ['run', '--serve', '--dir', dir, '--pidfile', entry.pidfile, '--log', logFile,
    '--timeout', String(timeoutSec), '--nvme-mib', String(opts.nvmeMib ?? 64)];
  const script: ChildProcess = spawn('bash', [LINUX_VM_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  entry.script = script;
  let scriptOut = '';
  let exited = false;
  const add = (c: Buffer): void => { scriptOut = (scriptOut + c.toString('utf8')).slice(-20_000); };
  script.stdout?.on('data', add);
  script.stderr?.on('data', add);
  const done = new Promise<void>((resolve) => {
    script.on('error', (e) => { add(Buffer.from(`spawn failed: ${e.message}\n`)); exited = true; resolve(); });
    script.on('close', () => { exited = true; resolve(); });
  });
  const hardLimit = setTimeout(() => killNowSync(entry), (timeoutSec + 30) * 1000);
  hardLimit.unref();

  let n = 0;
  let stopping: Promise<void> | undefined;
  const consoleText = (): string => readOr(logFile, '').replace(/\r/g, '');

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try { fs.writeFileSync(path.join(dir, 'quit'), ''); } catch { /* dir gone */ }
      for (let i = 0; i < 600 && !exited; i++) await sleep(100);
      clearTimeout(hardLimit);
      killNowSync(entry);
      const pid = entry.qemuPid;
      if (pid !== undefined) for (let i = 0; i < 50 && isQemuRunning(pid, dir); i++) await sleep(100);
      untrack(entry);
    })();
    return stopping;
  };

  const exec = async (argv: string[], eo: VmExecOptions = {}): Promise<VmCommandResult> => {
    if (stopping) throw new Error('VM session already stopped');
    const i = ++n;
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp', TMPDIR: '/tmp', ...eo.env };
    if (process.env['CI'] !== undefined && eo.env?.['CI'] === undefined) env['CI'] = process.env['CI'];
    const lines = Object.entries(env).map(([k, v]) => `export ${k}=${shq(v)}`);
    lines.push(`cd ${shq(eo.cwd ?? process.cwd())} || exit 127`, `exec ${argv.map(shq).join(' ')}`);
    const tmp = path.join(dir, `cmd.${i}.tmp`);
    fs.writeFileSync(tmp, lines.join('\n') + '\n');
    fs.renameSync(tmp, path.join(dir, `cmd.${i}`));
    const deadline = Date.now() + (eo.timeoutSec ?? 600) * 1000;
    const rcFile = path.join(dir, `rc.${i}`);
    while (!fs.existsSync(rcFile) && !exited && Date.now() < deadline) await sleep(100);
    const rcText = readOr(rcFile, '').trim();
    const stdout = readOr(path.join(dir, `out.${i}`), '');
    let stderr = readOr(path.join(dir, `err.${i}`), '');
    if (rcText !== '') return { code: Number(rcText), stdout, stderr };
    const why = exited ? 'the VM ended before the command did' : `the command did not finish within ${eo.timeoutSec ?? 600} s (killed)`;
    if (!exited) {
      // The guest SIGKILLs it (kill.N) and goes on with the next command; stop the VM only if it does not.
      fs.writeFileSync(path.join(dir, `kill.${i}`), '');
      const until = Date.now() + 30_000;
      while (!fs.existsSync(rcFile) && !exited && Date.now() < until) await sleep(100);
      if (!fs.existsSync(rcFile)) await stop();
    }
    stderr += `\nrunInVm: ${why}\n--- linux-nvme-vm.sh ---\n${scriptOut.trim()}\n--- guest console (last 40 lines) ---\n`
      + consoleText().trimEnd().split('\n').slice(-40).join('\n') + '\n';
    return { code: 124, stdout: readOr(path.join(dir, `out.${i}`), stdout), stderr };
  };

  void done.then(() => clearTimeout(hardLimit));
  return { dir, exec, console: consoleText, stop };
}

/** Boots a VM, runs one command in it, powers it off. */
export async function runInVm(argv: string[], opts: VmSessionOptions & VmExecOptions = {}): Promise<VmCommandResult> {
  const vm = startVm(opts);
  try {
    return await vm.exec(argv, opts);
  } finally {
    await vm.stop();
  }
}
