// What a reactor thread shares with its connections: parameters, the controller registry, the
// control block, the opened namespaces with their prebuilt Identify data, and logging.
import type { ControlBlock } from './control.js';
import type { LentReads } from './lent-reads.js';
import type { FileIoRing } from './file-io-ring.js';
import type { ControllerLimits } from './identify-data.js';
import { IDENTIFY_SIZE, buildIdentifyNamespace, buildNsDescriptors } from './identify-data.js';
import { openNamespace, type NamespaceBackend, type NamespaceShared } from './namespace.js';
import type { ControllerRegistry } from './registry.js';
import type { TargetQueue } from './request.js';
import type { ListenerInfo, NamespaceIdentity, SubsystemDescriptor } from './subsystem.js';
import type { MessagePort } from 'node:worker_threads';
import type { TargetLogLevel } from './config.js';
import { writeStderrLine } from '../util/stderr-line.js';

/** Everything a reactor thread is started with (structured-clonable, passed as workerData). */
export interface ReactorParams {
  /** Namespace changes at run time (NamespaceChange messages from the main thread). */
  nsPort?: MessagePort;
  index: number;
  cpu: number;
  interruptMode: boolean;
  /** File namespaces through the reactor's io_uring, or synchronous. */
  fileIo: 'uring' | 'sync';
  /** Interrupt mode: spin window (µs) after the last busy pass before sleeping. */
  spinUs: number;
  /** Interrupt mode: after a busy pass, sleep this long on a timer before looking again (0 = off). */
  coalesceUs: number;
  limits: ControllerLimits;
  maxIoQueues: number;
  /** KATO given to a discovery controller connected with KATO 0 (ms). */
  discoveryKatoMs: number;
  /** Drop a connection whose host has read none of its capped output for this long (ms). */
  stalledDropMs: number;
  logLevel: TargetLogLevel;
  subsystem: SubsystemDescriptor;
  namespaces: NamespaceShared[];
  listeners: ListenerInfo[];
  /** Date.now() when the target started (SMART power-on hours). */
  startedAtMs: number;
  controlSab: SharedArrayBuffer;
  registrySab: SharedArrayBuffer;
  /** eventfd of each reactor (interrupt mode wake-ups), indexed by reactor. */
  wakeFds: number[];
  reactors: number;
}

/** The NVM subsystem as one reactor sees it: backends opened in this thread, Identify data prebuilt. */
export class SubsystemRuntime {
  /** Indexed by NSID − 1. */
  readonly ns: NamespaceBackend[];
  readonly idNs: Uint8Array[];
  readonly nsDescs: Uint8Array[];

  /** lender: see openNamespace. */
  constructor(readonly desc: SubsystemDescriptor, shared: NamespaceShared[], private readonly lender: LentReads | null = null) {
    this.ns = shared.map((s) => openNamespace(s, lender));
    this.idNs = desc.namespaces.map((n) => {
      const b = new Uint8Array(IDENTIFY_SIZE);
      buildIdentifyNamespace(b, n);
      return b;
    });
    this.nsDescs = desc.namespaces.map((n) => {
      const b = new Uint8Array(IDENTIFY_SIZE);
      buildNsDescriptors(b, n);
      return b;
    });
  }

  /** Namespace `nsid` was added (RPC): open it in this thread and build its Identify data. */
  add(nsid: number, shared: NamespaceShared, identity: NamespaceIdentity): void {
    this.ns[nsid - 1] = openNamespace(shared, this.lender);
    const id = new Uint8Array(IDENTIFY_SIZE);
    buildIdentifyNamespace(id, identity);
    this.idNs[nsid - 1] = id;
    const d = new Uint8Array(IDENTIFY_SIZE);
    buildNsDescriptors(d, identity);
    this.nsDescs[nsid - 1] = d;
    this.desc.namespaces = [...this.desc.namespaces.filter((n) => n.nsid !== nsid), identity].sort((a, b) => a.nsid - b.nsid);
  }

  /** Namespace `nsid` was removed: commands naming it now get Invalid Namespace. */
  remove(nsid: number): void {
    const b = this.ns[nsid - 1];
    delete this.ns[nsid - 1];
    delete this.idNs[nsid - 1];
    delete this.nsDescs[nsid - 1];
    this.desc.namespaces = this.desc.namespaces.filter((n) => n.nsid !== nsid);
    try { b?.close(); } catch { /* closing */ }
  }

  close(): void {
    for (const n of this.ns) {
      try { n.close(); } catch { /* closing */ }
    }
  }
}

/** Per-reactor counters the connections bump (plain numbers; published every few ms). */
export interface ReactorCounters {
  commands: number;
  /** Queues connected since the start. */
  adminQpairs: number;
  ioQpairs: number;
  readCmds: number;
  writeCmds: number;
  /** 512-byte units. */
  readUnits: number;
  writeUnits: number;
}

export interface ReactorContext {
  readonly params: ReactorParams;
  readonly counters: ReactorCounters;
  readonly registry: ControllerRegistry;
  readonly control: ControlBlock;
  readonly nvm: SubsystemRuntime;
  /** monoNs at the start of the current loop pass. */
  nowNs: number;
  log(level: 'warn' | 'info', msg: string): void;
  /** Wakes every reactor (interrupt mode): a controller died and its I/O queues must notice. */
  wakeAll(): void;
  /** The I/O queue `qid` of controller `cntlid` when this reactor owns it (Abort), else null. Scans: not for the hot path. */
  findIoQueue(cntlid: number, qid: number): TargetQueue | null;
  /** RAM reads lent by reference (the target's only reactor), else null (reads are copied). */
  readonly lentReads: LentReads | null;
  /** The reactor's io_uring for file namespaces; null: synchronous file I/O (--file-io sync, or setup failed). */
  readonly fileRing: FileIoRing | null;
  /** Publishes this reactor's SMART counter deltas to the shared block (before a SMART log read). */
  flushSmart(): void;
}

/** Writes one line to stderr, or drops it when stderr is not being read: a reactor never blocks on its log. */
export function writeLogLine(level: TargetLogLevel, want: 'warn' | 'info', msg: string): void {
  if (level === 'silent' || (level === 'warn' && want === 'info')) return;
  writeStderrLine(`nvmf-perf target: ${msg}\n`);
}
