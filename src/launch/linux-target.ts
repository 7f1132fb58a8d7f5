// Launch the Linux kernel NVMe-oF target (nvmet + nvmet-tcp) through configfs: a subsystem that
// allows any host, namespace 1 (a null_blk device for ram:/null:, or the file or block device of
// file:PATH) and a TCP port on 127.0.0.1. stop() removes all of it. Every subsystem (and null_blk
// device) made here carries the launching PID in its name, so what a SIGKILLed run left behind is
// found and removed at the next start.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { UserError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { parseSize } from '../util/units.js';
import type { LaunchOptions, LaunchedTarget } from './launched-target.js';

export const CONFIGFS = '/sys/kernel/config';
/** Marker prefix of every subsystem NQN this launcher makes: PREFIX + PID + '-' + N. */
export const LINUX_NQN_PREFIX = 'nqn.2026-11.io.nvmf-perf:launched-';
const NULLB_PREFIX = 'nvmfperf-';
/** What the result says about the kernel target's CPU. */
export const LINUX_TARGET_NOTE = 'the kernel target has no process and no reactors: its work runs in softirq and kworker '
  + 'context shared with the host side on this machine, so target CPU is not measured';
const NQN_RE = /^nqn\.2026-11\.io\.nvmf-perf:launched-(\d+)-\d+$/;
const NULLB_RE = /^nvmfperf-(\d+)-\d+$/;

/** Where configfs lives (tests point it elsewhere only through this parameter). */
export interface LinuxTargetPaths { configfs: string }
const DEFAULT_PATHS: LinuxTargetPaths = { configfs: CONFIGFS };

/** What --target-ns means for the kernel target. */
export type LinuxNamespace =
  | { kind: 'nullb'; sizeMib: number; memoryBacked: boolean }
  | { kind: 'path'; path: string };

/** --target-ns for --target linux: ram:SIZE (memory-backed null_blk), null:SIZE (null_blk, data discarded), file:PATH (file or block device). */
export function linuxNamespaceFor(targetNs: string): LinuxNamespace | string {
  if (targetNs.startsWith('file:')) {
    const p = targetNs.slice(5);
    if (!path.isAbsolute(p)) return 'the kernel target needs an absolute path';
    return { kind: 'path', path: p };
  }
  const m = /^(ram|null):(\S+)$/.exec(targetNs);
  if (!m) return 'expected ram:SIZE, null:SIZE or file:PATH';
  const bytes = parseSize(m[2]!);
  if (bytes === null || bytes <= 0) return `"${m[2]}" is not a size`;
  if (bytes % (1024 * 1024) !== 0) return 'null_blk sizes are whole MiB';
  return { kind: 'nullb', sizeMib: bytes / (1024 * 1024), memoryBacked: m[1] === 'ram' };
}

function fail(msg: string): never {
  throw new UserError(`--target linux: ${msg}`, ExitCode.RunFailed);
}

/** First line of an errno message, e.g. "EBUSY: resource busy or locked, open '…'" → "resource busy or locked". */
function why(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code} (${err.message.replace(/^\w+: /, '').replace(/,.*$/, '')})` : String(err.message ?? e);
}

function write(file: string, value: string): void {
  try {
    fs.writeFileSync(file, value);
  } catch (e) {
    fail(`writing "${value}" to ${file} failed: ${why(e)}`);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function modprobe(args: string[]): string {
  const r = spawnSync('modprobe', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error) return `modprobe: ${r.error.message}`;
  return r.status === 0 ? '' : (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n')[0]!;
}

/** Root, the modules and configfs: one line saying what is missing. */
function checkPrerequisites(paths: LinuxTargetPaths, ns: LinuxNamespace): void {
  if (process.getuid?.() !== 0) fail('needs root (it builds the target in configfs and loads kernel modules)');
  for (const mod of ['nvmet', 'nvmet-tcp']) {
    if (fs.existsSync(`/sys/module/${mod.replace('-', '_')}`)) continue;
    const err = modprobe([mod]);
    if (err) fail(`the ${mod} module is not available (${err}); install the kernel's modules package or build with CONFIG_NVME_TARGET_TCP`);
  }
  if (ns.kind === 'nullb' && !fs.existsSync('/sys/module/null_blk')) {
    const err = modprobe(['null_blk', 'nr_devices=0']);
    if (err) fail(`the null_blk module is not available (${err}); use --target-ns file:PATH instead`);
  }
  const mounts = fs.readFileSync('/proc/mounts', 'utf8');
  if (!mounts.split('\n').some((l) => l.split(' ')[1] === paths.configfs && l.split(' ')[2] === 'configfs')) {
    fail(`configfs is not mounted at ${paths.configfs} (mount -t configfs none ${paths.configfs})`);
  }
  if (!fs.existsSync(path.join(paths.configfs, 'nvmet'))) fail(`${paths.configfs}/nvmet is missing although nvmet is loaded`);
  if (ns.kind === 'nullb' && !fs.existsSync(path.join(paths.configfs, 'nullb'))) {
    fail(`${paths.configfs}/nullb is missing: this null_blk has no configfs interface; use --target-ns file:PATH`);
  }
}

function ls(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function tryDo(f: () => void): void {
  try { f(); } catch { /* gone already, or held: the next start tries again */ }
}

/** Removes subsystem `nqn` (its port links, ports left empty, namespaces) and, when given, its null_blk device. */
function removeSubsystem(paths: LinuxTargetPaths, nqn: string, nullb?: string): void {
  const nvmet = path.join(paths.configfs, 'nvmet');
  for (const port of ls(path.join(nvmet, 'ports'))) {
    const link = path.join(nvmet, 'ports', port, 'subsystems', nqn);
    if (!fs.existsSync(link) && !isSymlink(link)) continue;
    tryDo(() => fs.unlinkSync(link));
    // One port per launched subsystem: once it serves nothing else it was ours alone.
    if (ls(path.join(nvmet, 'ports', port, 'subsystems')).length === 0) tryDo(() => fs.rmdirSync(path.join(nvmet, 'ports', port)));
  }
  const sub = path.join(nvmet, 'subsystems', nqn);
  for (const nsid of ls(path.join(sub, 'namespaces'))) {
    const nsDir = path.join(sub, 'namespaces', nsid);
    tryDo(() => fs.writeFileSync(path.join(nsDir, 'enable'), '0'));
    tryDo(() => fs.rmdirSync(nsDir));
  }
  for (const host of ls(path.join(sub, 'allowed_hosts'))) tryDo(() => fs.unlinkSync(path.join(sub, 'allowed_hosts', host)));
  tryDo(() => fs.rmdirSync(sub));
  if (nullb !== undefined) removeNullb(paths, nullb);
}

function removeNullb(paths: LinuxTargetPaths, name: string): void {
  const dir = path.join(paths.configfs, 'nullb', name);
  if (!fs.existsSync(dir)) return;
  tryDo(() => fs.writeFileSync(path.join(dir, 'power'), '0'));
  tryDo(() => fs.rmdirSync(dir));
}

function isSymlink(p: string): boolean {
  try { return fs.lstatSync(p).isSymbolicLink(); } catch { return false; }
}

/** Removes what launches by processes that are gone left in configfs; returns the names removed. */
export function cleanStaleLinuxTargets(paths: LinuxTargetPaths = DEFAULT_PATHS): string[] {
  const removed: string[] = [];
  for (const nqn of ls(path.join(paths.configfs, 'nvmet', 'subsystems'))) {
    const m = NQN_RE.exec(nqn);
    if (!m || pidAlive(Number(m[1]))) continue;
    removeSubsystem(paths, nqn);
    if (!fs.existsSync(path.join(paths.configfs, 'nvmet', 'subsystems', nqn))) removed.push(nqn);
  }
  for (const name of ls(path.join(paths.configfs, 'nullb'))) {
    const m = NULLB_RE.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    removeNullb(paths, name);
    if (!fs.existsSync(path.join(paths.configfs, 'nullb', name))) removed.push(`null_blk ${name}`);
  }
  return removed;
}

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** /dev name of a powered null_blk: its configfs name, or nullb<index> on kernels that number them. */
function nullbDevice(dir: string, name: string): string {
  if (fs.existsSync(`/sys/block/${name}`)) return `/dev/${name}`;
  const index = fs.readFileSync(path.join(dir, 'index'), 'utf8').trim();
  return `/dev/nullb${index}`;
}

let launches = 0;
const live = new Set<() => void>();
let exitHook = false;

/** Builds the kernel target; `notice` gets one-line notes (stale leftovers removed, buffered I/O). */
export async function launchLinuxTarget(opts: LaunchOptions,
  paths: LinuxTargetPaths = DEFAULT_PATHS): Promise<LaunchedTarget> {
  const ns = linuxNamespaceFor(opts.namespaces[0] ?? 'ram:1GiB');
  if (typeof ns === 'string') fail(`--target-ns "${opts.namespaces[0]}": ${ns}`);
  checkPrerequisites(paths, ns);
  const stale = cleanStaleLinuxTargets(paths);
  if (stale.length > 0) opts.onNotice?.(`removed what earlier --target linux runs left in configfs: ${stale.join(', ')}`);

  const n = ++launches;
  const nqn = `${LINUX_NQN_PREFIX}${process.pid}-${n}`;
  const nvmet = path.join(paths.configfs, 'nvmet');
  let nullb: string | undefined;
  let tcpPort = 0;
  const cleanup = (): void => { removeSubsystem(paths, nqn, nullb); };
  live.add(cleanup);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => { for (const c of live) c(); });
  }
  try {
    // 1. The namespace's device.
    let device: string;
    if (ns.kind === 'nullb') {
      nullb = `${NULLB_PREFIX}${process.pid}-${n}`;
      const dir = path.join(paths.configfs, 'nullb', nullb);
      try { fs.mkdirSync(dir); } catch (e) { fail(`creating null_blk ${dir} failed: ${why(e)}`); }
      write(path.join(dir, 'size'), String(ns.sizeMib));
      write(path.join(dir, 'blocksize'), '512');
      write(path.join(dir, 'memory_backed'), ns.memoryBacked ? '1' : '0');
      write(path.join(dir, 'power'), '1');
      device = nullbDevice(dir, nullb);
    } else {
      let st: fs.Stats;
      try { st = fs.statSync(ns.path); } catch (e) { fail(`--target-ns file:${ns.path}: ${why(e)}`); }
      if (!st.isFile() && !st.isBlockDevice()) fail(`--target-ns file:${ns.path}: neither a regular file nor a block device`);
      if (st.isFile() && st.size < 4096) fail(`--target-ns file:${ns.path}: the file is empty or shorter than 4096 bytes (create it with truncate -s SIZE)`);
      device = ns.path;
    }
    // 2. Subsystem and namespace 1.
    const sub = path.join(nvmet, 'subsystems', nqn);
    try { fs.mkdirSync(sub); } catch (e) { fail(`creating subsystem ${sub} failed: ${why(e)}`); }
    write(path.join(sub, 'attr_allow_any_host'), '1');
    const nsDir = path.join(sub, 'namespaces', '1');
    try { fs.mkdirSync(nsDir); } catch (e) { fail(`creating namespace 1 failed: ${why(e)}`); }
    write(path.join(nsDir, 'device_path'), device);
    try {
      fs.writeFileSync(path.join(nsDir, 'enable'), '1');
    } catch (e) {
      // A file on a filesystem without O_DIRECT (tmpfs before Linux 6.6): nvmet's buffered file I/O.
      if (ns.kind !== 'path' || !fs.statSync(device).isFile()) fail(`enabling namespace 1 (${device}) failed: ${why(e)}`);
      write(path.join(nsDir, 'buffered_io'), '1');
      write(path.join(nsDir, 'enable'), '1');
      opts.onNotice?.(`--target linux: ${device} does not allow O_DIRECT; the kernel target uses buffered I/O on it`);
    }
    // 3. A port on 127.0.0.1 with a free TCP port (another process may take it first: try again).
    const used = new Set(ls(path.join(nvmet, 'ports')).map(Number));
    let portId = 1;
    while (used.has(portId)) portId++;
    const portDir = path.join(nvmet, 'ports', String(portId));
    const fixedPort = opts.listen === undefined ? 0 : listenPort(opts.listen);
    for (let attempt = 1; ; attempt++) {
      tcpPort = fixedPort > 0 ? fixedPort : await freePort();
      try { fs.mkdirSync(portDir); } catch (e) { fail(`creating port ${portDir} failed: ${why(e)}`); }
      write(path.join(portDir, 'addr_trtype'), 'tcp');
      write(path.join(portDir, 'addr_adrfam'), 'ipv4');
      write(path.join(portDir, 'addr_traddr'), '127.0.0.1');
      write(path.join(portDir, 'addr_trsvcid'), String(tcpPort));
      try {
        fs.symlinkSync(sub, path.join(portDir, 'subsystems', nqn));
        break;
      } catch (e) {
        tryDo(() => fs.rmdirSync(portDir));
        if (attempt >= 3 || fixedPort > 0) fail(`listening on 127.0.0.1:${tcpPort} failed: ${why(e)}`);
      }
    }
  } catch (e) {
    cleanup();
    live.delete(cleanup);
    throw e;
  }

  let stopped = false;
  return {
    kind: 'linux',
    label: 'Linux kernel target (nvmet-tcp)',
    trid: `trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:${tcpPort} subnqn:${nqn}`,
    // No process: nvmet runs in the kernel (softirq and kworker threads shared with everything else).
    pid: 0,
    reactorCores: [],
    exited: new Promise(() => undefined),
    hasExited: false,
    stderrTail: () => '',
    cpuNs: () => -1,
    stop: () => {
      if (stopped) return Promise.resolve();
      stopped = true;
      cleanup();
      live.delete(cleanup);
      return Promise.resolve();
    },
  };
}

/** 127.0.0.1:PORT → PORT (0: pick a free one). */
function listenPort(listen: string): number {
  const m = /^127\.0\.0\.1:(\d+)$/.exec(listen);
  const port = m ? Number(m[1]) : NaN;
  if (!(port >= 0 && port <= 65535)) fail(`--listen ${listen}: the kernel target listens on 127.0.0.1:PORT (PORT 0-65535)`);
  return port;
}
