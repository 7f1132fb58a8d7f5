// Helpers for interop tests against a real Linux NVMe/TCP peer (nvmet target or nvme-tcp host)
// running in a small QEMU VM, driven by test/peers/linux-nvme-vm.sh (see test/peers/README.md).
//
// Safety rules: every process is spawned with an argument vector (no shell strings), every
// address is 127.0.0.1, every wait is bounded, and every QEMU we start is killed by PID:
// by stop(), by process 'exit'/SIGTERM/SIGINT/SIGHUP hooks, and by a detached watchdog that
// outlives a SIGKILLed test worker. Each VM gets its own temp dir; QEMU's command line
// contains that dir (pidfile and console log), so we only ever kill a process whose command
// line names our own dir.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { it } from 'vitest';
import { fileURLToPath } from 'node:url';

/** Absolute path of the VM script. */
export const LINUX_VM_SCRIPT = fileURLToPath(new URL('../peers/linux-nvme-vm.sh', import.meta.url));

export interface VmAvailability {
  ok: boolean;
  /** Why the VM peer cannot be used (printed when tests skip); a short summary when ok. */
  reason: string;
}

export interface LinuxTarget {
  port: number;
  nqn: string;
  discoveryNqn: string;
  serial: string;
  model: string;
  sizeBytes: number;
  /** PID of the QEMU process. */
  pid: number;
  /** The script's READY line, verbatim. */
  readyLine: string;
  /** All key=value pairs of the READY line (accel, boot_s, maxh2cdata, ...). */
  fields: Record<string, string>;
  /** Guest console log (nvmet logs connects there); deleted by stop(). */
  logFile: string;
  /** Stops the VM (idempotent) and removes its temp dir. */
  stop(): Promise<void>;
}

export interface LinuxTargetOptions {
  /** Host port on 127.0.0.1; default: a free ephemeral port. */
  port?: number;
  nqn?: string;
  sizeMib?: number;
  backing?: 'brd' | 'file';
  serial?: string;
  model?: string;
  /** Bound for boot-to-READY (default 120 s). */
  timeoutSec?: number;
}

export interface LinuxHostStep {
  name: string;
  ok: boolean;
  detail: string;
}

export interface LinuxHostResult {
  /** Script exit code: 0 pass, 1 fail, 124 timeout, 2 usage/QEMU error, 3 missing deps. */
  exitCode: number;
  passed: boolean;
  /** stdout+stderr of the script (plus the guest console tail when the run failed). */
  output: string;
  steps: LinuxHostStep[];
}

export interface LinuxHostOptions {
  /** Our target's port on 127.0.0.1. */
  port: number;
  nqn: string;
  /** Comma list of plain, digest, hdgst, ddgst (script default: plain,digest). */
  passes?: string;
  sizeMib?: number;
  hostnqn?: string;
  discovery?: boolean;
  /** Extra kernel connect options, e.g. "nr_io_queues=1,queue_size=32". */
  connectOpts?: string;
  /** Bound for the whole run (boot, passes, poweroff); default 180 s. */
  timeoutSec?: number;
}

const DEFAULT_TARGET_TIMEOUT_SEC = 120;
const DEFAULT_HOST_TIMEOUT_SEC = 180;
/** Extra time the script gets beyond its own --timeout before we kill it. */
const KILL_GRACE_MS = 20_000;
const STOP_TIMEOUT_MS = 20_000;
const MAX_OUTPUT_CHARS = 1_000_000;

// ------------------------------------------------------------------------ availability

let availability: VmAvailability | undefined;

/** Checks (once per process) that the script's dependencies are installed (`deps`, exit 3 = missing). */
export function linuxVmAvailability(): VmAvailability {
  if (availability) return availability;
  availability = checkAvailability();
  return availability;
}

function checkAvailability(): VmAvailability {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { ok: false, reason: `Linux VM peer needs x86_64 Linux (this is ${process.platform}/${process.arch})` };
  }
  const r = spawnSync('bash', [LINUX_VM_SCRIPT, 'deps'], {
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const text = clean(`${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  if (r.error) return { ok: false, reason: `Linux VM peer: cannot run ${LINUX_VM_SCRIPT}: ${r.error.message}` };
  if (r.status === 0) return { ok: true, reason: text || 'all dependencies present' };
  const what = r.status === 3 ? 'unavailable' : `deps check failed (exit ${r.status ?? r.signal})`;
  return { ok: false, reason: `Linux VM peer ${what}: ${text || '(no output)'}` };
}

/**
 * Whether a suite that needs the VM peer runs. Under CI=true a peer that cannot run is a FAILURE
 * (a test naming the reason is registered in the calling file), so the one check against an
 * independent implementation cannot drop out of CI silently; elsewhere the suite skips and says why.
 */
export function requireLinuxVm(suite: string): boolean {
  const avail = linuxVmAvailability();
  if (avail.ok) return true;
  if (process.env['CI'] === 'true') {
    it(`${suite}: the Linux VM peer runs (CI=true)`, () => {
      throw new Error(`${suite}: the Linux VM peer cannot run under CI=true: ${avail.reason}`);
    });
  } else {
    console.warn(`${suite}: skipped: ${avail.reason}`);
  }
  return false;
}

/** Script messages as one line: "linux-nvme-vm.sh: a" + "linux-nvme-vm.sh: b" -> "a; b". */
function clean(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/^linux-nvme-vm\.sh: /, '').replace(/\s+/g, ' ').trim())
    .filter((l) => l.length > 0)
    .join('; ');
}

// ------------------------------------------------------------------- process tracking

export interface Running {
  dir: string;
  pidfile: string;
  /** QEMU PID once known (READY line or pidfile). */
  qemuPid?: number | undefined;
  /** The script process while it runs. */
  script?: ChildProcess | undefined;
  watchdog?: ChildProcess | undefined;
}

const running = new Set<Running>();
let exitHookInstalled = false;

function killAllNowSync(): void {
  for (const e of running) killNowSync(e);
  running.clear();
}

// Vitest ends its fork workers with SIGTERM (SIGKILL after a grace period), which skips
// 'exit' listeners: stop the VMs, then let the signal do what it would have done anyway.
function onFatalSignal(signal: NodeJS.Signals): void {
  killAllNowSync();
  process.off(signal, onFatalSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

export function track(entry: Running): void {
  running.add(entry);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Synchronous last resort when a test forgot stop() or failed before it.
    process.on('exit', killAllNowSync);
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, onFatalSignal);
  }
  entry.watchdog = startWatchdog(entry.dir, path.basename(entry.pidfile));
}

export function untrack(entry: Running): void {
  running.delete(entry);
  if (entry.watchdog?.pid !== undefined) safeKill(entry.watchdog.pid, 'SIGKILL');
  entry.watchdog = undefined;
  fs.rmSync(entry.dir, { recursive: true, force: true });
}

/** QEMU PID of an entry: the READY/pidfile value, re-read from the pidfile when possible. */
function qemuPidOf(entry: Running): number | undefined {
  try {
    const n = Number.parseInt(fs.readFileSync(entry.pidfile, 'utf8').trim(), 10);
    if (Number.isSafeInteger(n) && n > 1) entry.qemuPid = n;
  } catch {
    // no pidfile (not started yet, or QEMU already exited and removed it)
  }
  return entry.qemuPid;
}

/** True if `pid` is a live (non-zombie) QEMU; with `dir`, only if its command line names that dir. */
export function isQemuRunning(pid: number, dir?: string): boolean {
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); // empty for a zombie
  } catch {
    return false;
  }
  return cmdline.includes('qemu') && (dir === undefined || cmdline.includes(dir + path.sep));
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function killNowSync(entry: Running): void {
  if (entry.script && entry.script.exitCode === null && entry.script.pid !== undefined) {
    safeKill(entry.script.pid, 'SIGKILL');
  }
  const pid = qemuPidOf(entry);
  if (pid !== undefined && isQemuRunning(pid, entry.dir)) safeKill(pid, 'SIGKILL');
  if (entry.watchdog?.pid !== undefined) safeKill(entry.watchdog.pid, 'SIGKILL');
  try {
    fs.rmSync(entry.dir, { recursive: true, force: true });
  } catch {
    // best effort at exit
  }
}

// Detached sh that survives a SIGKILLed test worker: while the worker lives it remembers
// the QEMU pid from the pidfile; once the worker is gone it SIGKILLs that QEMU (only if its
// command line names our dir) and removes the dir. It ends by itself when stop() removed
// the dir. Arguments are positional parameters, never spliced into the script text.
const WATCHDOG_SH = `
w=$1 d=$2 f=$2/$3 q=
while kill -0 "$w" 2>/dev/null; do
  [ -d "$d" ] || exit 0
  [ -s "$f" ] && q=$(cat "$f" 2>/dev/null)
  sleep 1
done
[ -s "$f" ] && q=$(cat "$f" 2>/dev/null)
case $q in ''|*[!0-9]*) ;; *)
  grep -qaF "$d/" "/proc/$q/cmdline" 2>/dev/null && kill -9 "$q" 2>/dev/null ;;
esac
rm -rf "$d"
`;

function startWatchdog(dir: string, pidfileName: string): ChildProcess | undefined {
  try {
    const child = spawn('sh', ['-c', WATCHDOG_SH, 'nvmevm-watchdog', String(process.pid), dir, pidfileName], {
      detached: true,
      stdio: 'ignore',
    });
    child.on('error', () => undefined);
    child.unref();
    return child;
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------ target

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

interface ScriptRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order. */
  combined: string;
  timedOut: boolean;
}

/** Runs the script with `args`; SIGTERM after `limitMs` (its trap stops QEMU), SIGKILL 5 s later. */
function runScript(args: string[], limitMs: number, entry?: Running): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const child = spawn('bash', [LINUX_VM_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (entry) entry.script = child;
    let stdout = '';
    let stderr = '';
    let combined = '';
    let timedOut = false;
    const add = (which: 'out' | 'err', chunk: Buffer): void => {
      const s = chunk.toString('utf8');
      if (which === 'out') stdout = (stdout + s).slice(-MAX_OUTPUT_CHARS);
      else stderr = (stderr + s).slice(-MAX_OUTPUT_CHARS);
      combined = (combined + s).slice(-MAX_OUTPUT_CHARS);
    };
    child.stdout.on('data', (c: Buffer) => add('out', c));
    child.stderr.on('data', (c: Buffer) => add('err', c));
    let killTimer: NodeJS.Timeout | undefined;
    const termTimer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    }, limitMs);
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (done) return;
      done = true;
      clearTimeout(termTimer);
      if (killTimer) clearTimeout(killTimer);
      if (entry) entry.script = undefined;
      resolve({ code, signal, stdout, stderr, combined, timedOut });
    };
    child.on('error', (err) => {
      add('err', Buffer.from(`spawn failed: ${err.message}\n`));
      finish(null, null);
    });
    child.on('close', finish);
  });
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Parses "READY k=v k=v ..." (values contain no spaces). */
export function parseReadyLine(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const word of line.trim().split(/\s+/).slice(1)) {
    const eq = word.indexOf('=');
    if (eq > 0) fields[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return fields;
}

/**
 * Boots a Linux nvmet target VM reachable on 127.0.0.1:port and resolves once the script
 * printed READY (an ICReq over the forwarded port got an ICResp). Rejects with the script's
 * stderr tail on failure; nothing is left running then.
 */
export async function startLinuxTarget(opts: LinuxTargetOptions = {}): Promise<LinuxTarget> {
  // An auto-picked port may be taken again before QEMU binds it: retry with a new one.
  const attempts = opts.port === undefined ? 3 : 1;
  for (let i = 1; ; i++) {
    const port = opts.port ?? (await freePort());
    try {
      return await startTargetOnce(port, opts);
    } catch (err) {
      const portClash = err instanceof Error && /already in use|host forwarding rule/.test(err.message);
      if (i >= attempts || !portClash) throw err;
    }
  }
}

async function startTargetOnce(port: number, opts: LinuxTargetOptions): Promise<LinuxTarget> {
  const timeoutSec = opts.timeoutSec ?? DEFAULT_TARGET_TIMEOUT_SEC;
  const dir = makeTempDir('nvmevm-target-');
  const entry: Running = { dir, pidfile: path.join(dir, 'target.pid') };
  const logFile = path.join(dir, 'target.log');
  const args = ['target', '--port', String(port), '--pidfile', entry.pidfile, '--log', logFile];
  args.push('--timeout', String(timeoutSec));
  if (opts.nqn !== undefined) args.push('--nqn', opts.nqn);
  if (opts.sizeMib !== undefined) args.push('--size-mib', String(opts.sizeMib));
  if (opts.backing !== undefined) args.push('--backing', opts.backing);
  if (opts.serial !== undefined) args.push('--serial', opts.serial);
  if (opts.model !== undefined) args.push('--model', opts.model);
  track(entry);

  const run = await runScript(args, timeoutSec * 1000 + KILL_GRACE_MS, entry);
  const readyLine = run.stdout.split('\n').find((l) => l.startsWith('READY ')) ?? '';
  const fields = parseReadyLine(readyLine);
  const pid = Number(fields.pid);
  if (run.code !== 0 || !readyLine || !Number.isSafeInteger(pid) || pid <= 1) {
    killNowSync(entry);
    untrack(entry);
    const why = run.timedOut
      ? `killed after ${timeoutSec}s + grace`
      : `exit ${run.code ?? run.signal}${run.code === 0 ? ', no READY line' : ''}`;
    throw new Error(
      `linux-nvme-vm.sh target --port ${port} failed (${why}):\n${tail(run.stderr || run.stdout, 30)}`,
    );
  }
  entry.qemuPid = pid;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await runScript(['stop', '--pidfile', entry.pidfile], STOP_TIMEOUT_MS);
      // Belt and braces: the script gives QEMU 5 s before SIGKILL; make sure it is gone.
      for (let i = 0; i < 50 && isQemuRunning(pid, dir); i++) await sleep(100);
      if (isQemuRunning(pid, dir)) safeKill(pid, 'SIGKILL');
      untrack(entry);
    })();
    return stopping;
  };

  return {
    port: Number(fields.port ?? port),
    nqn: fields.nqn ?? '',
    discoveryNqn: fields.discovery_nqn ?? '',
    serial: fields.serial ?? '',
    model: fields.model ?? '',
    sizeBytes: Number(fields.size_bytes ?? 0),
    pid,
    readyLine,
    fields,
    logFile,
    stop,
  };
}

/** A fresh temp dir, symlinks resolved: the script resolves its paths, and we match them. */
export function makeTempDir(prefix: string): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// -------------------------------------------------------------------------------- host

const STEP_RE = /^NVMEVM STEP (\S+) (OK|FAIL)(?: (.*))?$/;

/** Parses the guest's "NVMEVM STEP name OK|FAIL detail" lines. */
export function parseSteps(output: string): LinuxHostStep[] {
  const steps: LinuxHostStep[] = [];
  for (const line of output.split('\n')) {
    const m = STEP_RE.exec(line.replace(/\r$/, ''));
    if (m) steps.push({ name: m[1] ?? '', ok: m[2] === 'OK', detail: m[3] ?? '' });
  }
  return steps;
}

/**
 * Runs the Linux nvme-tcp host in a VM against our target on 127.0.0.1:port (the guest
 * connects to 10.0.2.2:port), then collects its verdict. Never rejects for a failed run:
 * look at `passed`, `steps` and `output`.
 */
export async function runLinuxHost(opts: LinuxHostOptions): Promise<LinuxHostResult> {
  const timeoutSec = opts.timeoutSec ?? DEFAULT_HOST_TIMEOUT_SEC;
  const dir = makeTempDir('nvmevm-host-');
  const entry: Running = { dir, pidfile: path.join(dir, 'host.pid') };
  const logFile = path.join(dir, 'host.log');
  const args = ['host', '--port', String(opts.port), '--nqn', opts.nqn, '--quiet'];
  args.push('--pidfile', entry.pidfile, '--log', logFile, '--timeout', String(timeoutSec));
  if (opts.passes !== undefined) args.push('--passes', opts.passes);
  if (opts.sizeMib !== undefined) args.push('--size-mib', String(opts.sizeMib));
  if (opts.hostnqn !== undefined) args.push('--hostnqn', opts.hostnqn);
  if (opts.discovery) args.push('--discovery');
  if (opts.connectOpts !== undefined) args.push('--connect-opts', opts.connectOpts);
  track(entry);
  try {
    const run = await runScript(args, timeoutSec * 1000 + KILL_GRACE_MS, entry);
    let output = run.combined;
    const exitCode = run.code ?? (run.timedOut ? 124 : 1);
    const steps = parseSteps(output);
    const passed = exitCode === 0 && steps.length > 0 && steps.every((s) => s.ok);
    if (!passed) {
      if (run.timedOut) output += `\nrunLinuxHost: killed after ${timeoutSec}s + grace\n`;
      try {
        const log = fs.readFileSync(logFile, 'utf8').replace(/\r/g, '');
        output += `\n--- guest console (last 60 lines) ---\n${tail(log, 60)}\n`;
      } catch {
        // no console log (QEMU never started)
      }
    }
    return { exitCode, passed, output, steps };
  } finally {
    killNowSync(entry); // no-op unless the script was killed while QEMU ran
    untrack(entry);
  }
}
