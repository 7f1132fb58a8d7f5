// Helpers for interop tests against SPDK v25.09 (../shared/peers/spdk.sh, beside the repo root as in CI):
// its nvmf_tgt as a target for our host, its spdk_nvme_perf / spdk_nvme_identify as initiators for our
// target. Under CI=true a peer that cannot run FAILS the suite (peerGate); elsewhere the suite skips
// and prints why.
//
// Safety: argument vectors only (no shell strings), 127.0.0.1 only, bounded waits. Every nvmf_tgt we
// start is stopped by PID: by stop(), by 'exit'/signal hooks, and by a detached watchdog that outlives a
// SIGKILLed test worker. Each target gets its own temp dir, which its command line names (RPC socket),
// so we only ever kill a process that is ours.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { JsonRpcClient } from '../../src/rpc/client.js';
import type { JsonValue } from '../../src/rpc/server.js';
import { freePort, parseReadyLine } from './linux-vm.js';

/** The repository root (test/interop/../..). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** ../shared/peers/spdk.sh relative to the repo root. */
export const SPDK_SCRIPT = path.resolve(REPO_ROOT, '..', 'shared', 'peers', 'spdk.sh');
export const SPDK_BIN_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'peers', 'spdk', 'bin');
export const SPDK_NVMF_TGT = path.join(SPDK_BIN_DIR, 'nvmf_tgt');
export const IN_CI = process.env.CI === 'true';

export interface PeerAvailability {
  ok: boolean;
  reason: string;
}

let availability: PeerAvailability | undefined;

/** Checks once per process that spdk.sh exists and its libraries are installed (`spdk.sh deps`). */
export function spdkAvailability(): PeerAvailability {
  availability ??= checkAvailability();
  return availability;
}

function checkAvailability(): PeerAvailability {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { ok: false, reason: `SPDK peer needs x86_64 Linux (this is ${process.platform}/${process.arch})` };
  }
  if (!fs.existsSync(SPDK_SCRIPT)) return { ok: false, reason: `SPDK peer not found: ${SPDK_SCRIPT} does not exist` };
  const r = spawnSync('bash', [SPDK_SCRIPT, 'deps'], { encoding: 'utf8', timeout: 30_000 });
  const text = `${r.stdout ?? ''} ${r.stderr ?? ''}`.replace(/spdk\.sh: /g, '').replace(/\s+/g, ' ').trim();
  if (r.error) return { ok: false, reason: `SPDK peer: cannot run ${SPDK_SCRIPT}: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, reason: `SPDK peer unavailable (spdk.sh deps exit ${r.status ?? r.signal}): ${text}` };
  return { ok: true, reason: text };
}

/**
 * True when the suite may run. Otherwise: under CI=true registers a failing test named after the suite
 * (a CI run must not pass without its peer); elsewhere prints why the suite is skipped.
 */
export function peerGate(suite: string): boolean {
  const a = spdkAvailability();
  if (a.ok) return true;
  if (IN_CI) {
    describe(suite, () => {
      it('needs the SPDK peer (CI=true: a missing peer is a failure)', () => { throw new Error(a.reason); });
    });
  } else {
    console.warn(`${suite}: skipped: ${a.reason}`);
    // A file without any test fails in vitest: leave one skipped test that says what is missing.
    describe.skip(suite, () => {
      it(`needs the SPDK peer: ${a.reason}`, () => undefined);
    });
  }
  return false;
}

// ------------------------------------------------------------------------ process tracking

interface Running {
  dir: string;
  pid?: number;
  watchdog?: ChildProcess;
}
const running = new Set<Running>();
let hooksInstalled = false;

/** True if `pid` is a live nvmf_tgt whose command line names `dir`. */
export function isOurNvmfTgt(pid: number, dir: string): boolean {
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); // empty for a zombie
    return cmd.includes('nvmf_tgt') && cmd.includes(dir + path.sep);
  } catch {
    return false;
  }
}

/** True while `pid` exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function safeKill(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig); } catch { /* gone */ }
}

function killNowSync(e: Running): void {
  if (e.pid !== undefined && isOurNvmfTgt(e.pid, e.dir)) safeKill(e.pid, 'SIGKILL');
  if (e.watchdog?.pid !== undefined) safeKill(e.watchdog.pid, 'SIGKILL');
  fs.rmSync(e.dir, { recursive: true, force: true });
  if (e.pid !== undefined) fs.rmSync(`/var/run/dpdk/spdk_pid${e.pid}`, { recursive: true, force: true });
}

function onFatalSignal(sig: NodeJS.Signals): void {
  for (const e of running) killNowSync(e);
  running.clear();
  process.off(sig, onFatalSignal);
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

// Detached sh: once the test worker ($1) is gone, SIGKILL the nvmf_tgt in $3 (only if its command line
// names our dir $2) and remove the dir. Ends by itself when stop() removed the dir.
const WATCHDOG_SH = `
w=$1 d=$2 f=$2/tgt.pid
while kill -0 "$w" 2>/dev/null; do [ -d "$d" ] || exit 0; sleep 1; done
q=$(cat "$f" 2>/dev/null)
case $q in ''|*[!0-9]*) ;; *) grep -qaF "$d/" "/proc/$q/cmdline" 2>/dev/null && kill -9 "$q" ;; esac
rm -rf "$d"
`;

function track(e: Running): void {
  running.add(e);
  if (!hooksInstalled) {
    hooksInstalled = true;
    process.on('exit', () => { for (const x of running) killNowSync(x); });
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, onFatalSignal);
  }
  const w = spawn('sh', ['-c', WATCHDOG_SH, 'spdk-peer-watchdog', String(process.pid), e.dir], { detached: true, stdio: 'ignore' });
  w.on('error', () => undefined);
  w.unref();
  e.watchdog = w;
}

// ------------------------------------------------------------------------------- target

export interface SpdkTargetOptions {
  /** malloc:MIB | null:MIB | aio:FILE (spdk.sh default malloc:256). */
  bdev?: string;
  blockSize?: 512 | 4096;
  core?: number;
  interruptMode?: boolean;
  nqn?: string;
  allowHosts?: string[];
}

export interface SpdkTarget {
  port: number;
  /** The reactor's core. */
  core: number;
  nqn: string;
  pid: number;
  rpcSocket: string;
  /** `trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:PORT` (no subnqn). */
  addr: string;
  /** addr + subnqn. */
  trid: string;
  logFile: string;
  /** JSON-RPC call on the target's socket with our client. */
  rpc(method: string, params?: JsonValue): Promise<JsonValue>;
  log(): string;
  stop(): Promise<void>;
}

/** Starts nvmf_tgt through `spdk.sh target` on a free port; rejects with the script's output on failure. */
export async function startSpdkTarget(opts: SpdkTargetOptions = {}): Promise<SpdkTarget> {
  let o = opts;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(await freePort(), o);
    } catch (e) {
      const msg = (e as Error).message;
      if (attempt >= 3) throw e;
      // Another SPDK app (a developer's, on a shared machine) holds the core's lock file: use the other one.
      if (/Cannot create lock on core/.test(msg)) o = { ...o, core: (o.core ?? 1) === 1 ? 0 : 1 };
      else if (!/in use|listener/i.test(msg)) throw e;
    }
  }
}

async function startOnce(port: number, opts: SpdkTargetOptions): Promise<SpdkTarget> {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'spdk-peer-')));
  const entry: Running = { dir };
  track(entry);
  const pidfile = path.join(dir, 'tgt.pid');
  const rpcSocket = path.join(dir, 'rpc.sock');
  const logFile = path.join(dir, 'tgt.log');
  const args = ['target', '--port', String(port), '--pidfile', pidfile, '--rpc-socket', rpcSocket, '--log', logFile,
    '--core', String(opts.core ?? 1)];
  if (opts.bdev) args.push('--bdev', opts.bdev);
  if (opts.blockSize) args.push('--block-size', String(opts.blockSize));
  if (opts.interruptMode) args.push('--interrupt-mode');
  if (opts.nqn) args.push('--nqn', opts.nqn);
  for (const h of opts.allowHosts ?? []) args.push('--allow-host', h);
  const r = await runCommand('bash', [SPDK_SCRIPT, ...args], 60_000);
  try { entry.pid = Number.parseInt(fs.readFileSync(pidfile, 'utf8'), 10); } catch { /* not started */ }
  const ready = r.stdout.split('\n').find((l) => l.startsWith('READY ')) ?? '';
  const fields = parseReadyLine(ready);
  if (r.code !== 0 || !ready || entry.pid === undefined) {
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    killNowSync(entry);
    running.delete(entry);
    throw new Error(`spdk.sh target --port ${port} failed (exit ${r.code}): ${r.stderr.trim()} ${log.trim().split('\n').slice(-5).join(' | ')}`);
  }
  const pid = Number(fields.pid ?? entry.pid);
  entry.pid = pid;
  const nqn = /\bsubnqn:(\S+)/.exec(ready)?.[1] ?? '';
  const addr = `trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:${port}`;
  const client = new JsonRpcClient(rpcSocket, 20_000);
  let stopping: Promise<void> | undefined;
  return {
    port, core: opts.core ?? 1, nqn, pid, rpcSocket, addr, trid: `${addr} subnqn:${nqn}`, logFile,
    rpc: (method, params) => client.call(method, params),
    log: () => { try { return fs.readFileSync(logFile, 'utf8'); } catch { return ''; } },
    stop: () => {
      stopping ??= (async () => {
        client.close();
        await runCommand('bash', [SPDK_SCRIPT, 'stop', '--pidfile', pidfile], 20_000);
        for (let i = 0; i < 50 && isOurNvmfTgt(pid, dir); i++) await new Promise((res) => setTimeout(res, 100));
        killNowSync(entry);
        running.delete(entry);
      })();
      return stopping;
    },
  };
}

// -------------------------------------------------------------------------- initiators

export interface CommandRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout + stderr in arrival order. */
  output: string;
  timedOut: boolean;
  pid: number | undefined;
}

/** Runs a command with a time limit (SIGTERM, SIGKILL 5 s later). Never rejects. */
export function runCommand(cmd: string, args: string[], limitMs: number): Promise<CommandRun> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', output = '', timedOut = false;
    const add = (which: 'o' | 'e', d: Buffer): void => {
      const s = d.toString('utf8');
      if (which === 'o') stdout += s; else stderr += s;
      output = (output + s).slice(-200_000);
    };
    child.stdout.on('data', (d: Buffer) => add('o', d));
    child.stderr.on('data', (d: Buffer) => add('e', d));
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
    }, limitMs);
    child.on('error', (e) => { stderr += `spawn failed: ${e.message}\n`; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      resolve({ code, signal, stdout, stderr, output, timedOut, pid: child.pid });
    });
  });
}

/** `spdk.sh perf|identify|discover ARGS` (the script adds --no-huge and a memory size). */
export async function runSpdkTool(tool: 'perf' | 'identify' | 'discover', args: string[], limitMs = 60_000): Promise<CommandRun> {
  const r = await runCommand('bash', [SPDK_SCRIPT, tool, ...args], limitMs);
  // spdk.sh execs the tool, so its PID is the one DPDK names its runtime dir after: remove what it left.
  if (r.pid !== undefined) fs.rmSync(`/var/run/dpdk/spdk_pid${r.pid}`, { recursive: true, force: true });
  return r;
}

export interface SpdkPerfTotal {
  iops: number;
  mibps: number;
  avgUs: number;
  minUs: number;
  maxUs: number;
}

/** The `Total : IOPS MiB/s avg min max` line of spdk_nvme_perf's output; undefined when absent. */
export function parseSpdkPerfTotal(output: string): SpdkPerfTotal | undefined {
  const m = /^Total\s+:\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$/m.exec(output);
  if (!m) return undefined;
  const [iops, mibps, avgUs, minUs, maxUs] = m.slice(1, 6).map(Number) as [number, number, number, number, number];
  return { iops, mibps, avgUs, minUs, maxUs };
}

/** Lines of spdk_nvme_perf/identify output that report an error (SPDK logs them as "*ERROR*") or a failure. */
export function errorLines(output: string): string[] {
  return output.split('\n').filter((l) => /\*ERROR\*|\bfail(ed|ure)?\b|\berrors? [1-9]/i.test(l));
}
