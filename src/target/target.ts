// Target: the main-thread side of the built-in NVMe/TCP target. It creates the namespaces, listens,
// starts one reactor worker per CPU, accepts connections (native.watchFd on the listening sockets)
// and hands each to a reactor round-robin through the control block (+ eventfd wake-up), and stops
// everything on request.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { UserError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { native, type WatchHandle } from '../native/index.js';
import { TOOL_VERSION } from '../version.js';
import type { NamespaceConfig, TargetConfig } from './config.js';
import { ControlBlock, STATS_FIELDS, type ReactorStats } from './control.js';
import { FileNamespace, RamNamespace, type NamespaceShared } from './namespace.js';
import { ControllerRegistry } from './registry.js';
import type { ReactorParams } from './reactor-context.js';
import { writeLogLine } from './reactor-context.js';
import type { ReactorMessage } from './reactor-worker.js';
import { MAX_NSID, type NamespaceChange } from './namespace-change.js';
import {
  deriveNamespaceIds, deriveSerial, type ListenerInfo, type NamespaceIdentity, type SubsystemDescriptor,
} from './subsystem.js';

/** How long stop() waits for the reactors to leave their loops before it terminates them. */
const STOP_GRACE_MS = 800;

export interface RunningTarget {
  readonly config: TargetConfig;
  /** Listening addresses with their real ports (in --listen order). */
  readonly listeners: ListenerInfo[];
  /** Port of the first listener. */
  readonly port: number;
  readonly subnqn: string;
  readonly subsystem: SubsystemDescriptor;
  /** `READY trtype:TCP adrfam:IPv4 traddr:… trsvcid:… subnqn:…` (the CLI prints it). */
  readonly readyLine: string;
  /** Linux thread ids of the reactors (for per-thread CPU readings). */
  readonly reactorTids: number[];
  /** Current per-reactor busy/idle/CPU statistics (updated by the reactors every ~2 ms). */
  stats(): ReactorStats[];
  /** Controllers currently allocated (admin queues connected). */
  controllers(): number;
  /**
   * Test only (fault injection for host I/O-timeout tests; also RPC nvmf_perf_test_hold_io): hold the
   * next `count` I/O commands without an answer. abortable: an Abort completes a held command with
   * Command Abort Requested; otherwise Aborts report "not aborted". count 0 stops holding.
   */
  holdIo(count: number, abortable: boolean): void;
  /**
   * Adds a namespace at run time (RPC nvmf_subsystem_add_ns): `nsid` or the lowest free NSID. Every
   * reactor opens it; every controller of the subsystem gets a Namespace Attribute Changed event.
   * Returns the NSID; throws UserError for a bad or taken NSID or a namespace that cannot be opened.
   */
  addNamespace(ns: NamespaceConfig, nsid?: number): number;
  /** Removes namespace `nsid` at run time (RPC nvmf_subsystem_remove_ns), with the same event. */
  removeNamespace(nsid: number): void;
  /** Resolves with an error message if a reactor dies unexpectedly (never on a normal stop). */
  readonly failed: Promise<string>;
  /**
   * Stops the reactors, closes every socket; idempotent. Resolves within about STOP_GRACE_MS with
   * the indexes of reactors that did not stop (normally none: a reactor blocked in a system call).
   */
  stop(): Promise<number[]>;
}

function sizeText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes, i = 0;
  while (v >= 1024 && v % 1024 === 0 && i < units.length - 1) { v /= 1024; i++; }
  return `${v}${units[i]}`;
}

function nsLabel(n: NamespaceConfig): string {
  switch (n.kind) {
    case 'ram': return `ram:${sizeText(n.sizeBytes)}`;
    case 'null': return `null:${sizeText(n.sizeBytes)}`;
    case 'file': return `file:${n.path}`;
  }
}

/** dist/target/reactor-worker.js, also when this module runs from src/ under the test runner. */
export function reactorWorkerPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return fileURLToPath(new URL('../../dist/target/reactor-worker.js', import.meta.url));
  return fileURLToPath(new URL('./reactor-worker.js', import.meta.url));
}

function listenErrorText(code: string | undefined): string {
  switch (code) {
    case 'EADDRINUSE': return 'address already in use';
    case 'EADDRNOTAVAIL': return 'address not available on this machine';
    case 'EACCES': return 'permission denied';
    default: return code ?? 'unknown error';
  }
}

/** Opens (ram: allocates shared memory; file: probes) namespace `nsid`; `what` names the source in errors. */
function createNamespace(config: TargetConfig, serial: string, n: NamespaceConfig, nsid: number, what: string):
  { shared: NamespaceShared; identity: NamespaceIdentity } {
  const bs = config.blockSize;
  const label = nsLabel(n);
  let sh: NamespaceShared;
  if (n.kind === 'file') {
    const size = FileNamespace.probe(n.path, bs);
    if (typeof size === 'string') throw new UserError(`${what} ${JSON.stringify(label)}: ${size}`, ExitCode.Usage);
    sh = { kind: 'file', path: n.path, sizeBytes: size, blockSize: bs };
  } else {
    const size = Math.floor(n.sizeBytes / bs) * bs;
    if (size < bs) throw new UserError(`${what} ${JSON.stringify(label)}: the size must be at least one block (${bs} bytes)`, ExitCode.Usage);
    if (n.kind === 'ram') {
      let chunks: SharedArrayBuffer[];
      try {
        chunks = RamNamespace.allocate(size, config.ramChunkSize);
      } catch (e) {
        throw new UserError(`${what} ${JSON.stringify(label)}: cannot allocate ${size} bytes of shared memory (${(e as Error).message})`, ExitCode.Usage);
      }
      sh = { kind: 'ram', sizeBytes: size, blockSize: bs, chunkSize: config.ramChunkSize, chunks };
    } else {
      sh = { kind: 'null', sizeBytes: size, blockSize: bs };
    }
  }
  return { shared: sh, identity: { nsid, kind: sh.kind, blocks: sh.sizeBytes / bs, blockSize: bs, label,
    ...deriveNamespaceIds(config.subnqn, serial, nsid) } };
}

/** Starts a target; rejects with a UserError for unusable settings (missing file, busy port). */
export async function startTarget(config: TargetConfig): Promise<RunningTarget> {
  const bs = config.blockSize;
  const log = (msg: string): void => writeLogLine(config.logLevel, 'info', msg);

  // Namespaces (shared memory for ram, probing for files).
  const shared: NamespaceShared[] = [];
  const ids: NamespaceIdentity[] = [];
  const serial = config.serial ?? deriveSerial(config.subnqn);
  config.namespaces.forEach((n, i) => {
    const made = createNamespace(config, serial, n, i + 1, '--ns');
    shared.push(made.shared);
    ids.push(made.identity);
  });
  const subsystem: SubsystemDescriptor = {
    nqn: config.subnqn, serial, model: config.model, firmware: TOOL_VERSION, allowHosts: config.allowHosts, namespaces: ids,
  };

  const workerPath = reactorWorkerPath();
  if (!existsSync(workerPath)) throw new Error(`${workerPath} is missing: run \`npm run build\` first`);

  // Listen first: the reactors need the real ports for the discovery log.
  const listenFds: number[] = [];
  const listeners: ListenerInfo[] = [];
  const closeListeners = (): void => {
    for (const fd of listenFds) { try { native.close(fd); } catch { /* gone */ } }
    listenFds.length = 0;
  };
  for (const [i, l] of config.listen.entries()) {
    let fd: number;
    try {
      fd = native.tcpListen(l.host, l.port, 512);
    } catch (e) {
      closeListeners();
      const code = (e as NodeJS.ErrnoException).code;
      throw new UserError(`cannot listen on ${l.host}:${l.port}: ${listenErrorText(code)}`, ExitCode.Connect);
    }
    listenFds.push(fd);
    listeners.push({ host: l.host, port: native.localPort(fd), portId: i + 1 });
  }

  const n = config.reactorCpus.length;
  const control = new ControlBlock(n);
  const registry = new ControllerRegistry();
  const wakeFds: number[] = [];
  for (let i = 0; i < n; i++) wakeFds.push(native.eventfdCreate());
  const startedAtMs = Date.now();

  const workers: Worker[] = [];
  /** Namespace changes at run time go to each reactor on its own port (src/target/namespace-change.ts). */
  const nsPorts: MessagePort[] = [];
  const tids: number[] = [];
  let stopping = false;
  let reportFailure: (msg: string) => void = () => undefined;
  const failed = new Promise<string>((resolve) => { reportFailure = resolve; });
  const exits: Promise<void>[] = [];

  const cleanupFds = (): void => {
    for (const fd of wakeFds) { try { native.close(fd); } catch { /* gone */ } }
    wakeFds.length = 0;
  };

  try {
    const readies: Promise<void>[] = [];
    config.reactorCpus.forEach((cpu, index) => {
      const params: ReactorParams = {
        index, cpu, interruptMode: config.interruptMode, fileIo: config.fileIo, spinUs: config.spinUs, coalesceUs: config.coalesceUs,
        limits: { maxQueueDepth: config.maxQueueDepth, inCapsuleDataSize: config.inCapsuleDataSize, maxIoSize: config.maxIoSize },
        maxIoQueues: config.maxIoQueues, discoveryKatoMs: config.discoveryKatoMs, stalledDropMs: config.stalledDropMs, logLevel: config.logLevel, subsystem, namespaces: shared, listeners,
        startedAtMs, controlSab: control.sab, registrySab: registry.sab, wakeFds: [...wakeFds], reactors: n,
      };
      const ch = new MessageChannel();
      nsPorts.push(ch.port1);
      const w = new Worker(workerPath, { workerData: { ...params, nsPort: ch.port2 }, transferList: [ch.port2], name: `nvmf-perf reactor ${index}` });
      workers.push(w);
      exits.push(new Promise<void>((resolve) => w.once('exit', () => resolve())));
      readies.push(new Promise<void>((resolve, reject) => {
        w.on('message', (m: ReactorMessage) => {
          if (m.type === 'ready') { tids[index] = m.tid; resolve(); }
          else reject(new UserError(`reactor ${index} (CPU ${cpu}): ${m.message}`, ExitCode.Usage));
        });
        w.once('error', (e) => {
          const msg = `reactor ${index} (CPU ${cpu}) crashed: ${e.stack ?? e.message}`;
          reject(new Error(msg));
          if (!stopping) reportFailure(msg);
        });
        w.once('exit', (code) => {
          reject(new Error(`reactor ${index} (CPU ${cpu}) exited (code ${code}) before it was ready`));
          if (!stopping) reportFailure(`reactor ${index} (CPU ${cpu}) exited unexpectedly (code ${code})`);
        });
      }));
    });
    await Promise.all(readies);
  } catch (e) {
    stopping = true;
    control.requestStop();
    for (const fd of wakeFds) { try { native.eventfdWrite(fd, 1); } catch { /* gone */ } }
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 3000))]);
    await Promise.all(workers.map((w) => w.terminate()));
    cleanupFds();
    closeListeners();
    throw e;
  }

  // Accept on the main thread; hand sockets to reactors round-robin.
  let rr = 0;
  const watches: WatchHandle[] = [];
  listenFds.forEach((lfd, li) => {
    const watch = native.watchFd(lfd, 1, () => {
      for (;;) {
        let fd: number;
        try {
          fd = native.accept(lfd);
        } catch (e) {
          log(`accept on ${listeners[li]!.host}:${listeners[li]!.port} failed: ${(e as Error).message}`);
          return;
        }
        if (fd < 0) return;
        const r = rr;
        rr = (rr + 1) % n;
        if (!control.push(r, fd, li)) {
          writeLogLine(config.logLevel, 'warn', `reactor ${r} is not taking connections: refusing one`);
          try { native.close(fd); } catch { /* gone */ }
          continue;
        }
        if (config.interruptMode) native.eventfdWrite(wakeFds[r]!, 1);
      }
    });
    watches.push(watch);
  });

  const postNamespaceChange = (m: NamespaceChange): void => {
    for (const p of nsPorts) p.postMessage(m);
    // Reactors look at their port in housekeeping; a sleeping one is woken for it.
    for (const fd of wakeFds) { try { native.eventfdWrite(fd, 1); } catch { /* stopping */ } }
  };

  const first = listeners[0]!;
  const readyLine = `READY trtype:TCP adrfam:IPv4 traddr:${first.host} trsvcid:${first.port} subnqn:${config.subnqn}`;

  const exited = workers.map(() => false);
  exits.forEach((e, i) => { void e.then(() => { exited[i] = true; }); });
  const within = <T>(p: Promise<T>, ms: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      p.then(() => true),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); }),
    ]).finally(() => clearTimeout(timer));
  };
  let stopped: Promise<number[]> | undefined;
  const stop = (): Promise<number[]> => {
    if (stopped) return stopped;
    stopping = true;
    stopped = (async () => {
      for (const w of watches) w.close();
      for (const p of nsPorts) p.close();
      closeListeners();
      control.requestStop();
      for (const fd of wakeFds) { try { native.eventfdWrite(fd, 1); } catch { /* gone */ } }
      // A reactor sees the flag within one pass (poll) or one wake-up (interrupt). terminate() stops
      // one stuck in JavaScript; one blocked in a system call stops neither way, and is reported.
      if (!await within(Promise.all(exits), STOP_GRACE_MS)) {
        await within(Promise.all(workers.map((w, i) => (exited[i] ? undefined : w.terminate()))), STOP_GRACE_MS / 2);
      }
      const stuck = workers.map((_w, i) => i).filter((i) => !exited[i]);
      // Sockets a reactor never picked up.
      const pop = new Int32Array(2);
      for (let r = 0; r < n; r++) {
        if (stuck.includes(r)) continue;
        while (control.pop(r, pop)) { try { native.close(pop[0]!); } catch { /* gone */ } }
      }
      if (stuck.length === 0) cleanupFds();
      return stuck;
    })();
    return stopped;
  };

  return {
    config, listeners, port: first.port, subnqn: config.subnqn, subsystem, readyLine, reactorTids: tids,
    stats: () => config.reactorCpus.map((cpu, i) => control.readStats(i, cpu)),
    controllers: () => registry.count(),
    holdIo: (count, abortable) => control.setHoldIo(count, abortable),
    addNamespace: (ns, want) => {
      const used = new Set(subsystem.namespaces.map((x) => x.nsid));
      let nsid = want ?? 1;
      if (want === undefined) while (used.has(nsid)) nsid++;
      if (!Number.isInteger(nsid) || nsid < 1 || nsid > MAX_NSID) throw new UserError(`NSID ${nsid} is out of range 1..${MAX_NSID}`, ExitCode.Usage);
      if (used.has(nsid)) throw new UserError(`NSID ${nsid} is in use`, ExitCode.Usage);
      const made = createNamespace(config, serial, ns, nsid, 'namespace');
      subsystem.namespaces.push(made.identity);
      subsystem.namespaces.sort((a, b) => a.nsid - b.nsid);
      postNamespaceChange({ type: 'ns-add', nsid, shared: made.shared, identity: made.identity });
      log(`namespace ${nsid} (${made.identity.label}) added`);
      return nsid;
    },
    removeNamespace: (nsid) => {
      const i = subsystem.namespaces.findIndex((x) => x.nsid === nsid);
      if (i < 0) throw new UserError(`no namespace ${nsid}`, ExitCode.Usage);
      subsystem.namespaces.splice(i, 1);
      postNamespaceChange({ type: 'ns-remove', nsid });
      log(`namespace ${nsid} removed`);
    },
    failed,
    stop,
  };
}

export { STATS_FIELDS };
