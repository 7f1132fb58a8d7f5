// Controller: the host side of one NVMe-oF association (admin queue + the I/O qpairs created from it).
// Everything is synchronous with bounded waits (poll() on the socket), so tools can use it without
// an event loop and workers can use the plain connect params.
import { UsageError } from '../errors.js';
import {
  getFeaturesSqe, getLogPageSqe, identifySqe, keepAliveSqe, numberOfQueuesValue, setFeaturesSqe,
} from '../nvme/admin-commands.js';
import { CNTLID_DYNAMIC, propertyGetSqe, propertySetSqe } from '../nvme/fabrics.js';
import {
  decodeActiveNsList, decodeIdentifyController, decodeIdentifyNamespace, IDENTIFY_SIZE, type IdentifyController,
} from '../nvme/identify.js';
import { AdminOpcode, Cns, DISCOVERY_NQN, FeatureId, opcodeName } from '../nvme/opcodes.js';
import { Cc, Csts, cstsShst, decodeCap, hostCcValue, PropertyOffset, type Cap } from '../nvme/registers.js';
import { encodeSqe, SQE_SIZE, type Sqe } from '../nvme/sqe.js';
import { fabricsTypeName } from '../nvme/fabrics.js';
import { NvmeStatusError, statusOk } from '../nvme/status.js';
import { ConnectError, TransportError } from '../transport/errors.js';
import { getTransport } from '../transport/registry.js';
import type { IoQpair, QpairConnectParams, TransportId, TransportOps } from '../transport/transport.js';
import { defaultHostIdentity, hostIdFor } from './host-identity.js';
import { Namespace } from './namespace.js';

/** Per-command cap when Identify MDTS is 0 ("no limit"): big enough for any benchmark I/O size we split. */
export const NO_MDTS_CAP_BYTES = 1024 * 1024;
export const DEFAULT_KATO_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_ADMIN_TIMEOUT_MS = 15_000;
/** I/O queues requested with Set Features Number of Queues. */
export const DEFAULT_IO_QUEUES = 64;

export interface ControllerOptions {
  /** The transport's ops table; default: the one registered for trid.trtype (src/transport/registry.ts). */
  transport?: TransportOps;
  hostnqn?: string;
  /** 16 bytes; default: /etc/nvme/hostid, the UUID of a UUID-form hostnqn, or a per-process random UUID. */
  hostId?: Uint8Array;
  /** Header digest on every queue of this controller. */
  hdgst?: boolean;
  /** Data digest on every queue of this controller. */
  ddgst?: boolean;
  /** Keep-alive timeout in ms sent in the admin Connect (default 30000; 0 = none, e.g. discovery). */
  kato?: number;
  /** Admin queue entries (default 32). */
  adminDepth?: number;
  /** Bound for TCP connect, IC exchange and each Fabrics Connect (default 10000). */
  connectTimeoutMs?: number;
  /** Bound for each admin command (default 15000). */
  adminTimeoutMs?: number;
  /** Send Keep Alive every KATO/2 from an unref'd timer (default true). */
  keepAlive?: boolean;
  /** I/O queues to request with Set Features Number of Queues (default 64). */
  ioQueues?: number;
  /** CATTR bit 2 on I/O Connects (default true; see QpairConnectParams.disableSqFlowControl). */
  disableSqFlowControl?: boolean;
  /** Skip Identify of the namespaces (discovery needs none). */
  skipNamespaces?: boolean;
  /** Receives errors of the keep-alive timer (they are never thrown from the timer). */
  onError?: (err: Error) => void;
}

export interface AdminCompletion {
  cqe: { dw0: number; dw1: number; status: number };
  data?: Uint8Array;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

export class Controller {
  readonly trid: TransportId;
  /** Connects the admin queue and every I/O queue created here. */
  readonly transport: TransportOps;
  readonly subnqn: string;
  readonly hostnqn: string;
  readonly hostId: Uint8Array;
  readonly hdgst: boolean;
  readonly ddgst: boolean;
  readonly cntlid: number;
  readonly isDiscovery: boolean;
  /** Raw CAP and its decoded fields. */
  readonly capRaw: bigint;
  readonly cap: Cap;
  readonly vs: number;
  readonly identify: IdentifyController;
  readonly namespaces: Namespace[];
  /** I/O queues the controller granted (min(NSQA, NCQA)+1); 0 for discovery controllers. */
  readonly ioQueuesGranted: number;
  /** min(CAP.MQES+1, MAXCMD when non-zero). */
  readonly maxIoQueueDepth: number;
  /** 2^MDTS × 2^(12+CAP.MPSMIN); MDTS 0 (no limit) → NO_MDTS_CAP_BYTES (1 MiB). */
  readonly maxTransferBytes: number;
  /** Identify IOCCSZ (16-byte units): I/O in-capsule data limit = ioccsz*16-64. */
  readonly ioccsz: number;
  /** KATO in effect (ms): what Get Features Keep Alive Timer returned, else what Connect asked for. */
  readonly kato: number;
  onError: ((err: Error) => void) | null;

  private readonly admin: IoQpair;
  private readonly adminTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly disableSqFlowControl: boolean;
  private readonly ioQpairs = new Set<IoQpair>();
  private readonly sqeBuf = new Uint8Array(SQE_SIZE);
  private readonly sqeDv = new DataView(this.sqeBuf.buffer);
  private kaTimer: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  /** Use Controller.connect(). */
  private constructor(trid: TransportId, opts: ControllerOptions) {
    this.transport = opts.transport ?? getTransport(trid.trtype);
    this.trid = trid;
    this.subnqn = trid.subnqn ?? DISCOVERY_NQN;
    const ident = defaultHostIdentity();
    const explicitNqn = opts.hostnqn ?? trid.hostnqn;
    this.hostnqn = explicitNqn ?? ident.hostnqn;
    this.hostId = opts.hostId ?? (explicitNqn ? hostIdFor(explicitNqn) : ident.hostId);
    this.hdgst = opts.hdgst ?? false;
    this.ddgst = opts.ddgst ?? false;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.adminTimeoutMs = opts.adminTimeoutMs ?? DEFAULT_ADMIN_TIMEOUT_MS;
    this.disableSqFlowControl = opts.disableSqFlowControl ?? true;
    this.onError = opts.onError ?? null;
    const kato = opts.kato ?? DEFAULT_KATO_MS;
    const adminDepth = opts.adminDepth ?? 32;

    this.admin = this.transport.connectQpair({
      trtype: this.transport.name, traddr: trid.traddr, trsvcid: trid.trsvcid, subnqn: this.subnqn, hostnqn: this.hostnqn, hostId: this.hostId,
      cntlid: CNTLID_DYNAMIC, qid: 0, depth: adminDepth, kato, hdgst: this.hdgst, ddgst: this.ddgst, ioccsz: 0,
      maxTransferBytes: NO_MDTS_CAP_BYTES, disableSqFlowControl: false, connectTimeoutMs: this.connectTimeoutMs,
    });
    try {
      this.cntlid = this.admin.cntlid;
      // Step 3-7 of the bring-up: CAP, CC (config, then EN), CSTS.RDY.
      this.capRaw = this.propertyGet(PropertyOffset.CAP, 8);
      this.cap = decodeCap(this.capRaw);
      if (this.cap.mpsmin > 0) {
        throw new ConnectError(`controller needs pages of at least ${2 ** (12 + this.cap.mpsmin)} bytes (CAP.MPSMIN ${this.cap.mpsmin}); only 4 KiB is supported`);
      }
      const css = (this.cap.css & 1) !== 0 ? 0 : (this.cap.css & 0x80) !== 0 ? 7 : 0;
      const ccOff = (hostCcValue(false) | (css << Cc.CSS_SHIFT)) >>> 0;
      this.propertySet(PropertyOffset.CC, ccOff);
      this.propertySet(PropertyOffset.CC, (ccOff | Cc.EN) >>> 0);
      this.waitReady();
      this.vs = Number(this.propertyGet(PropertyOffset.VS, 4));

      const idc = this.adminCommand(identifySqe(0, Cns.Controller), undefined, IDENTIFY_SIZE).data!;
      this.identify = decodeIdentifyController(idc);
      if (this.identify.cntlid !== this.cntlid) {
        throw new ConnectError(`Identify Controller reports CNTLID ${this.identify.cntlid} but Connect returned ${this.cntlid}`);
      }
      this.isDiscovery = this.subnqn === DISCOVERY_NQN || this.identify.cntrltype === 2;
      this.ioccsz = this.identify.ioccsz;
      this.maxTransferBytes = this.identify.mdts === 0
        ? NO_MDTS_CAP_BYTES
        : 2 ** (this.identify.mdts + 12 + this.cap.mpsmin);
      const mqes = this.cap.mqes + 1;
      this.maxIoQueueDepth = this.identify.maxcmd !== 0 ? Math.min(mqes, this.identify.maxcmd) : mqes;

      let effKato = kato;
      if (kato > 0) {
        try {
          const r = this.adminCommand(getFeaturesSqe(0, FeatureId.KeepAliveTimer));
          if (r.cqe.dw0 > 0) effKato = r.cqe.dw0;
        } catch (e) {
          if (!(e instanceof NvmeStatusError)) throw e;
        }
      }
      this.kato = effKato;

      if (this.isDiscovery) {
        this.ioQueuesGranted = 0;
        this.namespaces = [];
      } else {
        const want = Math.max(1, Math.min(opts.ioQueues ?? DEFAULT_IO_QUEUES, 0xfffe));
        const r = this.adminCommand(setFeaturesSqe(0, FeatureId.NumberOfQueues, numberOfQueuesValue(want, want)));
        // Controllers may grant more than asked (Linux nvmet always says 128): use at most what we asked for.
        this.ioQueuesGranted = Math.min(want, Math.min(r.cqe.dw0 & 0xffff, r.cqe.dw0 >>> 16) + 1);
        this.namespaces = opts.skipNamespaces ? [] : this.scanNamespaces();
      }
    } catch (e) {
      this.admin.disconnect();
      throw e;
    }
    if (this.kato > 0 && (opts.keepAlive ?? true)) {
      const t = setInterval(() => this.keepAliveTick(), Math.max(100, Math.floor(this.kato / 2)));
      t.unref();
      this.kaTimer = t;
    }
  }

  /** Full bring-up: admin queue, enable, Identify, Number of Queues, namespaces. */
  static connect(trid: TransportId, opts: ControllerOptions = {}): Controller {
    return new Controller(trid, opts);
  }

  /** The admin qpair (for tests and tools). */
  get adminQpair(): IoQpair { return this.admin; }

  /** Active namespace by NSID. */
  namespace(nsid: number): Namespace | undefined {
    return this.namespaces.find((n) => n.nsid === nsid);
  }

  // ------------------------------------------------------------------ admin commands

  /**
   * Runs one admin (or Fabrics) command synchronously. dataOut goes to the controller; dataInLen bytes
   * come back in `data`. Throws NvmeStatusError on a non-zero status, TransportError on timeout.
   */
  adminCommand(sqe: Sqe, dataOut?: Uint8Array, dataInLen?: number, timeoutMs?: number): AdminCompletion {
    this.ensureOpen();
    const fabrics = sqe.opc === AdminOpcode.Fabrics;
    encodeSqe(this.sqeDv, 0, sqe);
    const dataIn = dataInLen && dataInLen > 0 ? new Uint8Array(dataInLen) : null;
    if (!this.admin.submitRaw(this.sqeBuf, 0, dataOut ?? null, dataIn, -1, fabrics)) {
      throw new TransportError(`no free command slot on the admin queue of ${this.trid.traddr}:${this.trid.trsvcid}`, 'TIMEOUT');
    }
    const c = this.admin.waitLast(timeoutMs ?? this.adminTimeoutMs);
    if (!statusOk(c.status)) {
      const what = fabrics ? fabricsTypeName(sqe.nsid & 0xff) : opcodeName(sqe.opc, true);
      throw new NvmeStatusError(`${what} failed`, c.status, fabrics ? 'fabrics' : 'admin');
    }
    const out: AdminCompletion = { cqe: { dw0: c.dw0, dw1: c.dw1, status: c.status } };
    if (dataIn) out.data = dataIn;
    return out;
  }

  propertyGet(offset: number, size: 4 | 8): bigint {
    const r = this.adminCommand(propertyGetSqe(0, offset, size));
    return size === 8 ? (BigInt(r.cqe.dw1) << 32n) | BigInt(r.cqe.dw0) : BigInt(r.cqe.dw0);
  }

  propertySet(offset: number, value: number): void {
    this.adminCommand(propertySetSqe(0, offset, 4, BigInt(value >>> 0)));
  }

  /** Get Log Page of `bytes` (rounded up to a dword) at byte `offset`. */
  getLogPage(lid: number, bytes: number, offset = 0, nsid = 0): Uint8Array {
    const len = Math.ceil(bytes / 4) * 4;
    const r = this.adminCommand(getLogPageSqe(0, lid, len, offset, nsid), undefined, len);
    return len === bytes ? r.data! : r.data!.subarray(0, bytes);
  }

  /** Identify Namespace; null when the NSID is inactive (all-zero data). */
  identifyNamespace(nsid: number): Namespace | null {
    const d = this.adminCommand(identifySqe(0, Cns.Namespace, nsid), undefined, IDENTIFY_SIZE).data!;
    const id = decodeIdentifyNamespace(d);
    if (id.nsze === 0n) return null;
    return new Namespace(nsid, id);
  }

  /** Active NSIDs (Identify CNS 2, continued while the 1024-entry list is full). */
  activeNamespaceIds(): number[] {
    const out: number[] = [];
    let start = 0;
    for (;;) {
      const d = this.adminCommand(identifySqe(0, Cns.ActiveNamespaceList, start), undefined, IDENTIFY_SIZE).data!;
      const ids = decodeActiveNsList(d);
      out.push(...ids);
      if (ids.length < 1024) return out;
      start = ids[ids.length - 1]!;
      if (start >= 0xfffffffe) return out;
    }
  }

  keepAlive(): void {
    this.adminCommand(keepAliveSqe(0));
  }

  // ------------------------------------------------------------------ I/O qpairs

  /**
   * Plain, serializable params to connect I/O queue `qid` of `depth` entries from any thread
   * (src/host/io-qpair.ts). qid uniqueness is the caller's job.
   */
  ioQpairParams(qid: number, depth: number): QpairConnectParams {
    this.checkIoQpair(qid, depth);
    return {
      trtype: this.transport.name, traddr: this.trid.traddr, trsvcid: this.trid.trsvcid, subnqn: this.subnqn, hostnqn: this.hostnqn,
      hostId: Uint8Array.from(this.hostId), cntlid: this.cntlid, qid, depth, kato: 0,
      hdgst: this.hdgst, ddgst: this.ddgst, ioccsz: this.ioccsz, maxTransferBytes: this.maxTransferBytes,
      disableSqFlowControl: this.disableSqFlowControl, connectTimeoutMs: this.connectTimeoutMs,
    };
  }

  /** Connects an I/O qpair in this thread through the transport's ops table; shutdown() disconnects it. */
  createIoQpair(qid: number, depth: number, overrides: Partial<Pick<QpairConnectParams, 'maxTransferBytes' | 'disableSqFlowControl'>> = {}): IoQpair {
    const p = { ...this.ioQpairParams(qid, depth), ...overrides };
    const qp = this.transport.connectQpair(p);
    this.ioQpairs.add(qp);
    return qp;
  }

  private checkIoQpair(qid: number, depth: number): void {
    if (this.isDiscovery) throw new UsageError(`${this.subnqn} is a discovery controller: it has no I/O queues`);
    if (!Number.isInteger(depth) || depth < 2) throw new UsageError(`queue depth ${depth} is too small (at least 2)`);
    if (depth > this.maxIoQueueDepth) {
      throw new UsageError(`queue depth ${depth} exceeds what the controller grants (max ${this.maxIoQueueDepth} per I/O queue: CAP.MQES ${this.cap.mqes + 1}${this.identify.maxcmd ? `, MAXCMD ${this.identify.maxcmd}` : ''})`);
    }
    if (!Number.isInteger(qid) || qid < 1 || qid > this.ioQueuesGranted) {
      throw new UsageError(`I/O queue ID ${qid} is out of range (the controller granted ${this.ioQueuesGranted} I/O queues)`);
    }
  }

  // ------------------------------------------------------------------ teardown

  /**
   * Normal shutdown: CC.SHN = 01b, wait for CSTS.SHST = 10b (bounded by RTD3E, 5..60 s), then close the
   * I/O qpairs created here and the admin queue. Sockets are closed even when the shutdown fails; the
   * error is thrown afterwards.
   */
  shutdown(): void {
    if (this.closed) return;
    this.stopKeepAlive();
    let err: unknown = null;
    try {
      if (this.admin.connected) {
        const cc = Number(this.propertyGet(PropertyOffset.CC, 4));
        this.propertySet(PropertyOffset.CC, ((cc & ~Cc.SHN_MASK) | (Cc.SHN_NORMAL << Cc.SHN_SHIFT)) >>> 0);
        const limit = Math.min(60_000, Math.max(5_000, Math.ceil(this.identify.rtd3e / 1000)));
        const deadline = performance.now() + limit;
        for (;;) {
          const csts = Number(this.propertyGet(PropertyOffset.CSTS, 4));
          if (cstsShst(csts) === Csts.SHST_COMPLETE) break;
          if (performance.now() > deadline) {
            throw new TransportError(`controller ${this.trid.traddr}:${this.trid.trsvcid} did not complete shutdown within ${limit} ms (CSTS 0x${csts.toString(16)})`, 'TIMEOUT');
          }
          sleepMs(10);
        }
      }
    } catch (e) {
      err = e;
    }
    this.disconnect();
    if (err) throw err;
  }

  /** Closes every socket without a shutdown (error paths). Idempotent. */
  disconnect(): void {
    this.stopKeepAlive();
    for (const q of this.ioQpairs) q.disconnect();
    this.ioQpairs.clear();
    this.admin.disconnect();
    this.closed = true;
  }

  // ------------------------------------------------------------------ internals

  private ensureOpen(): void {
    if (this.closed) throw new TransportError(`controller ${this.trid.traddr}:${this.trid.trsvcid} is disconnected`, 'CLOSED');
  }

  private waitReady(): void {
    const limitMs = Math.max(1000, this.cap.to * 500);
    const deadline = performance.now() + limitMs;
    for (;;) {
      const csts = Number(this.propertyGet(PropertyOffset.CSTS, 4));
      if (csts & Csts.CFS) throw new ConnectError(`controller reported a fatal status (CSTS.CFS) while enabling (CSTS 0x${csts.toString(16)})`);
      if (csts & Csts.RDY) return;
      if (performance.now() > deadline) {
        throw new ConnectError(`controller did not become ready within ${limitMs} ms (CAP.TO ${this.cap.to}, CSTS 0x${csts.toString(16)})`);
      }
      sleepMs(5);
    }
  }

  private scanNamespaces(): Namespace[] {
    const out: Namespace[] = [];
    for (const nsid of this.activeNamespaceIds()) {
      const ns = this.identifyNamespace(nsid);
      if (ns) out.push(ns);
    }
    return out;
  }

  private stopKeepAlive(): void {
    if (this.kaTimer) {
      clearInterval(this.kaTimer);
      this.kaTimer = null;
    }
  }

  private keepAliveTick(): void {
    try {
      this.keepAlive();
    } catch (e) {
      this.stopKeepAlive();
      const err = e instanceof Error ? e : new Error(String(e));
      const wrapped = new TransportError(`keep-alive to ${this.trid.traddr}:${this.trid.trsvcid} failed: ${err.message}`,
        err instanceof TransportError ? err.code : 'PROTOCOL');
      if (this.onError) this.onError(wrapped);
      else process.emitWarning(wrapped.message, 'NvmfKeepAliveWarning');
    }
  }
}
