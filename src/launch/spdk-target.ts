// Launch SPDK's nvmf_tgt as the target of a perf run: start it on the reactor core the runner picked,
// configure it over its JSON-RPC socket with our own client (TCP transport, one bdev per --target-ns,
// a subsystem that allows any host, a listener on 127.0.0.1), and stop it by PID (SIGINT, then SIGKILL).
// nvmf_tgt never outlives the perf process: it is started through a small sh that execs it (so its PID
// is the one we hold) after forking a watchdog that stops it once our process is gone (SIGKILL included).
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { processCpuNs } from './proc-stat.js';
import type { LaunchOptions, LaunchedTarget } from './launched-target.js';
import { JsonRpcClient } from '../rpc/client.js';
import type { JsonValue } from '../rpc/server.js';
import { UsageError, UserError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { parseSize } from '../util/units.js';

export const SPDK_SUBNQN = 'nqn.2016-06.io.spdk:cnode1';
const DISCOVERY_NQN = 'nqn.2014-08.org.nvmexpress.discovery';
/** Logical block size of the bdevs we create: 512 as the built-in target's default, so results compare. */
const BLOCK_SIZE = 512;
/** DPDK memory without hugepages: the Malloc bdevs plus room for the TCP transport's buffers. */
const BASE_MEM_MIB = 1024;
const STOP_GRACE_MS = 10_000;

export interface SpdkLaunchOptions extends LaunchOptions {
  /** nvmf_tgt binary. */
  bin: string;
  /** Extra nvmf_tgt arguments (--spdk-args), already split. */
  args: string[];
}

// ------------------------------------------------------------------ flags the CLI checks

/** A bdev for one --target-ns value. */
export type SpdkBdev = { kind: 'malloc' | 'null'; sizeBytes: number } | { kind: 'aio'; path: string };

/** --target-ns for nvmf_tgt: ram:SIZE → Malloc, null:SIZE → Null, file:PATH → AIO; a string says what is wrong. */
export function spdkBdevFor(ns: string): SpdkBdev | string {
  const m = /^(ram|null|file):(.+)$/.exec(ns);
  if (!m) return 'expected ram:SIZE, null:SIZE or file:PATH';
  if (m[1] === 'file') {
    const path = m[2]!;
    let st;
    try { st = statSync(path); } catch { return `${path} does not exist (nvmf_tgt's AIO bdev needs an existing file or block device)`; }
    if (!st.isFile() && !st.isBlockDevice()) return `${path} is not a regular file or block device`;
    try { accessSync(path, constants.R_OK | constants.W_OK); } catch { return `${path} is not readable and writable`; }
    if (st.isFile() && (st.size < BLOCK_SIZE || st.size % BLOCK_SIZE !== 0)) {
      return `${path} is ${st.size} bytes: nvmf_tgt's AIO bdev needs a non-empty multiple of ${BLOCK_SIZE} bytes`;
    }
    return { kind: 'aio', path };
  }
  const size = parseSize(m[2]!);
  if (size === null) return `"${m[2]}" is not a size (e.g. 64MiB, 1GiB)`;
  if (size < BLOCK_SIZE || size % BLOCK_SIZE !== 0) return `the size must be a non-zero multiple of ${BLOCK_SIZE} bytes`;
  return { kind: m[1] === 'ram' ? 'malloc' : 'null', sizeBytes: size };
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The nvmf_tgt to run: --spdk-bin, else $SPDK_DIR/build/bin/nvmf_tgt, else nvmf_tgt on PATH.
 * Throws a one-line UsageError naming the flag when there is none.
 */
export function resolveSpdkBin(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined) {
    if (flag.trim() === '') throw new UsageError('--spdk-bin: empty path');
    if (!existsSync(flag)) throw new UsageError(`--spdk-bin ${flag}: no such file`);
    if (!isExecutableFile(flag)) throw new UsageError(`--spdk-bin ${flag}: not an executable file`);
    return flag;
  }
  const tried: string[] = [];
  if (env.SPDK_DIR) {
    const p = join(env.SPDK_DIR, 'build', 'bin', 'nvmf_tgt');
    if (isExecutableFile(p)) return p;
    tried.push(p);
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutableFile(join(dir, 'nvmf_tgt'))) return join(dir, 'nvmf_tgt');
  }
  tried.push('nvmf_tgt on PATH');
  throw new UsageError(`--target spdk: no nvmf_tgt found (tried ${tried.join(', ')}): give --spdk-bin PATH`);
}

/** Options nvmf-perf sets itself; --spdk-args may not override them. */
const RESERVED: Array<[RegExp, string]> = [
  [/^(-m|--cpumask)(=|$)|^-m./, 'the reactor core is chosen by nvmf-perf (-c picks the workers; the target takes a spare core)'],
  [/^(-r|--rpc-socket)(=|$)|^-r./, 'nvmf-perf configures nvmf_tgt over its own RPC socket'],
  [/^--interrupt-mode$/, 'use --mode interrupt (initiator and launched target) or --compare-modes'],
  [/^--wait-for-rpc$/, 'nvmf-perf configures nvmf_tgt after it started'],
];
const HUGEPAGE_ARG = /^(--no-huge|--huge-dir|--huge-unlink|--mem-size|-s|--single-file-segments|-g|--iova-mode)(=|$)|^-s\d/;

/** Splits --spdk-args "…" on whitespace (single or double quotes group words); rejects what we set. */
export function parseSpdkArgs(text: string | undefined): string[] {
  if (text === undefined) return [];
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) words.push(m[1] ?? m[2] ?? m[3]!);
  for (const w of words) {
    for (const [re2, why] of RESERVED) {
      if (re2.test(w)) throw new UsageError(`--spdk-args: ${w} is not allowed: ${why}`);
    }
  }
  return words;
}

/** True when the user's nvmf_tgt arguments already say how to get memory (then no --no-huge is added). */
export function hasHugepageArgs(args: string[]): boolean {
  return args.some((a) => HUGEPAGE_ARG.test(a));
}

// ---------------------------------------------------------------------------- launching

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

// $1 = our PID, $2 = RPC socket, $3 = nvmf_tgt path, then its arguments. The subshell polls while both
// we and nvmf_tgt (which replaces this shell, so it is $$) live; if we go first it sends SIGINT, then
// SIGKILL after 5 s, but only to a process that is still this nvmf_tgt (its command line names the binary).
const SUPERVISOR_SH = `
w=$1 s=$2; shift 2
(
  mine() { grep -qaF "$1" /proc/$$/cmdline 2>/dev/null; }
  while kill -0 "$w" 2>/dev/null && kill -0 $$ 2>/dev/null; do sleep 0.5; done
  if ! kill -0 "$w" 2>/dev/null && mine "$1"; then
    kill -INT $$ 2>/dev/null
    i=0; while [ $i -lt 50 ] && mine "$1"; do sleep 0.1; i=$((i+1)); done
    mine "$1" && kill -KILL $$ 2>/dev/null
    rm -f "$s"; rm -rf "/var/run/dpdk/spdk_pid$$" 2>/dev/null
  fi
) </dev/null >/dev/null 2>&1 &
exec "$@"
`;

export async function launchSpdkTarget(opts: SpdkLaunchOptions): Promise<LaunchedTarget> {
  const bdevs = opts.namespaces.map((ns) => {
    const b = spdkBdevFor(ns);
    if (typeof b === 'string') throw new UsageError(`--target-ns "${ns}": ${b}`);
    return b;
  });
  const rpcSocket = opts.rpcSocket ?? join(tmpdir(), `nvmf-perf-spdk-${process.pid}-${Date.now()}.sock`);
  rmSync(rpcSocket, { force: true });
  const core = opts.reactorCores[0] ?? 0;
  const args = ['-m', `0x${(1n << BigInt(core)).toString(16)}`, '-r', rpcSocket];
  // Core lock files (/var/tmp/spdk_cpu_lock_*) would refuse a core another SPDK app holds; the core is
  // our choice for this run, as for the built-in target, so do not claim it system-wide.
  if (!opts.args.includes('--disable-cpumask-locks')) args.push('--disable-cpumask-locks');
  if (!hasHugepageArgs(opts.args)) {
    const mallocMiB = bdevs.reduce((s, b) => s + (b.kind === 'malloc' ? Math.ceil(b.sizeBytes / 1048576) : 0), 0);
    args.push('--no-huge', '-s', String(BASE_MEM_MIB + mallocMiB));
  }
  if (opts.interruptMode) args.push('--interrupt-mode');
  args.push(...opts.args);

  const child = spawn('sh', ['-c', SUPERVISOR_SH, 'nvmf-perf-spdk', String(process.pid), rpcSocket, opts.bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C on the terminal reaches perf, which then stops the target itself.
    detached: true,
  });
  const pid = child.pid;
  let log = '';
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => { exitedFlag = true; resolve({ code, signal }); });
    child.once('error', () => { exitedFlag = true; resolve({ code: null, signal: null }); });
  });
  const addLog = (d: Buffer): void => { log = (log + d.toString('utf8')).slice(-8000); };
  child.stdout!.on('data', addLog);
  child.stderr!.on('data', addLog);
  const tail = (): string => log.trim().split('\n').filter((l) => l.trim()).slice(-3).join(' | ');

  const cleanup = (): void => {
    rmSync(rpcSocket, { force: true });
    if (pid !== undefined) rmSync(`/var/run/dpdk/spdk_pid${pid}`, { recursive: true, force: true });
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exitedFlag && pid !== undefined) {
        child.kill('SIGINT');
        const t = setTimeout(() => { if (!exitedFlag) child.kill('SIGKILL'); }, STOP_GRACE_MS);
        await exited;
        clearTimeout(t);
      }
      cleanup();
    })();
    return stopping;
  };

  const failed = (why: string): UserError =>
    new UserError(`SPDK nvmf_tgt (${opts.bin}) ${why}${tail() ? `: ${tail()}` : ''}`, ExitCode.RunFailed);
  if (pid === undefined) {
    await exited;
    throw failed('could not be started');
  }
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  const rpc = new JsonRpcClient(rpcSocket, 30_000);
  const call = async (method: string, params?: JsonValue): Promise<JsonValue> => {
    if (exitedFlag) throw failed('exited while being configured');
    return rpc.call(method, params);
  };
  try {
    // The RPC socket appears once the app framework is up.
    for (;;) {
      if (exitedFlag) {
        const { code, signal } = await exited;
        // An option nvmf_tgt does not know can only have come from --spdk-args.
        const bad = /(unrecognized option|invalid option|option requires an argument).*$/m.exec(log)?.[0];
        if (bad && opts.args.length > 0) throw new UsageError(`--spdk-args: nvmf_tgt: ${bad.trim()}`);
        throw failed(`exited before it was ready (${signal ?? `exit code ${code}`})`);
      }
      if (existsSync(rpcSocket)) {
        try { await call('spdk_get_version'); break; } catch { /* not answering yet */ }
      }
      if (Date.now() > deadline) throw failed(`did not answer on ${rpcSocket} within ${(opts.readyTimeoutMs ?? 30_000) / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await call('nvmf_create_transport', { trtype: 'TCP' });
    const names: string[] = [];
    for (const [i, b] of bdevs.entries()) {
      const name = `Nvmfperf${i}`;
      try {
        if (b.kind === 'aio') await call('bdev_aio_create', { name, filename: b.path, block_size: BLOCK_SIZE });
        else await call(b.kind === 'malloc' ? 'bdev_malloc_create' : 'bdev_null_create',
          { name, num_blocks: b.sizeBytes / BLOCK_SIZE, block_size: BLOCK_SIZE });
      } catch (e) {
        if (exitedFlag) throw e;
        throw new UsageError(`--target-ns "${opts.namespaces[i]}": nvmf_tgt could not create the bdev: ${(e as Error).message}`);
      }
      names.push(name);
    }
    await call('nvmf_create_subsystem', { nqn: SPDK_SUBNQN, allow_any_host: true, serial_number: 'SPDK00000000000001',
      model_number: 'SPDK bdev Controller', max_namespaces: Math.max(32, names.length) });
    for (const name of names) await call('nvmf_subsystem_add_ns', { nqn: SPDK_SUBNQN, namespace: { bdev_name: name } });
    // A port picked from the ephemeral range may be taken by the time nvmf_tgt binds it: try another.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const listen = { trtype: 'tcp', adrfam: 'ipv4', traddr: '127.0.0.1', trsvcid: String(port) };
      try {
        await call('nvmf_subsystem_add_listener', { nqn: SPDK_SUBNQN, listen_address: listen });
        try { await call('nvmf_subsystem_add_listener', { nqn: DISCOVERY_NQN, listen_address: listen }); } catch { /* optional */ }
        break;
      } catch (e) {
        if (attempt >= 3 || exitedFlag) throw e;
      }
    }
    const trid = `trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:${port} subnqn:${SPDK_SUBNQN}`;
    return {
      kind: 'spdk', label: 'SPDK nvmf_tgt', trid, pid, reactorCores: opts.reactorCores, rpcSocket, exited,
      get hasExited() { return exitedFlag; },
      stderrTail: tail,
      cpuNs: () => processCpuNs(pid),
      stop,
    };
  } catch (e) {
    await stop();
    if (e instanceof UserError) throw e;
    throw failed(`could not be configured over RPC: ${(e as Error).message}`);
  } finally {
    rpc.close();
  }
}
