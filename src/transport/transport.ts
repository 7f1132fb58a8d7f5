// The transport interface: one implementation per transport (tcp/ now; pcie/, rdma/ later), in the
// spirit of SPDK's spdk_nvme_transport_ops and fio's ioengine_ops. The host layer (src/host) and the
// perf engine only see these types.

/** Transport types: TCP (fabrics), PCIe (kernel NVMe controller through io_uring passthrough), local (file or block device through io_uring). */
export type TrType = 'TCP' | 'RDMA' | 'PCIe' | 'local';

/**
 * Where a controller lives: SPDK's spdk_nvme_transport_id, parsed from
 * `trtype:TCP adrfam:IPv4 traddr:10.0.0.1 trsvcid:4420 subnqn:nqn...` (see src/host/trid.ts).
 */
export interface TransportId {
  trtype: TrType;
  /** Address family. Only IPv4 is supported for now. */
  adrfam: 'IPv4';
  /** IPv4 dotted quad. */
  traddr: string;
  /** TCP port (1..65535). */
  trsvcid: number;
  /** Subsystem NQN; undefined when the TRID did not name one (each command picks its default). */
  subnqn?: string;
  /** Host NQN given inside the TRID (spdk_nvme_perf accepts it there too). */
  hostnqn?: string;
  /** Namespace ID given inside the TRID (spdk_nvme_perf's `ns:N`); undefined = all active namespaces. */
  ns?: number;
}

/** Called once per submitted I/O, after all of its split children finished. */
export type IoCompletionCallback = (tag: number, status: number) => void; // status: raw 16-bit CQE status (0 = success)

/** One Deallocate range: starting LBA and 1-based block count. */
export interface LbaRange {
  slba: number;
  nblocks: number;
}

/** Completion of a command waited for with IoQpair.waitLast (CQE status and DW0/DW1). */
export interface RawCompletion {
  status: number;
  dw0: number;
  dw1: number;
}

/**
 * A queue pair (admin or I/O) of any transport: what the host layer (Controller, PollGroup, the
 * software queue) and the perf engine use. Hot path: nothing here allocates per I/O.
 * One qpair belongs to one thread; nothing in it is thread safe.
 */
export interface IoQpair {
  readonly qid: number;
  /** CNTLID the Fabrics Connect returned. */
  readonly cntlid: number;
  /** Max outstanding commands = SQSIZE+1 granted at Connect. Split I/O uses one command per child. */
  readonly depth: number;
  /** Largest data transfer of one command (from MDTS; see Controller.maxTransferBytes). Bigger I/O is split. */
  readonly maxTransferBytes: number;
  readonly fd: number;
  /** Commands in flight (split I/O counts once per child command). */
  readonly outstanding: number;
  /** Command slots free now (depth − outstanding). */
  readonly freeSlots: number;
  /** Work queued that the kernel did not take yet: bytes a socket refused, or commands an io_uring
   *  refused (wait for writability while > 0). */
  readonly pendingSendBytes: number;
  /** False once disconnected or failed. */
  readonly connected: boolean;
  /**
   * `fd` is signalled anew for every event (an eventfd a ring writes per completion batch) and is never
   * drained: watch it edge-triggered (EPOLLET). Absent: level-triggered (a socket).
   */
  readonly edgeTriggeredFd?: boolean;
  /**
   * Set once; called once per submitted I/O (after all split children finish). It may submit new
   * commands on this qpair (they go out at the end of the processCompletions() that called it).
   */
  onComplete: IoCompletionCallback;
  /**
   * Queue a Read of nblocks (1-based count) at slba into buf[off, off+nblocks*blockSize).
   * Bytes go out at flush()/processCompletions(). false = not enough free slots (nothing queued).
   */
  submitRead(nsid: number, slba: number, nblocks: number, blockSize: number, buf: Uint8Array, off: number, tag: number): boolean;
  /** Queue a Write of buf[off, off+nblocks*blockSize). The bytes are copied when the command (or an R2T) is processed, so keep them unchanged until completion. */
  submitWrite(nsid: number, slba: number, nblocks: number, blockSize: number, buf: Uint8Array, off: number, tag: number): boolean;
  submitFlush(nsid: number, tag: number): boolean;
  submitWriteZeroes(nsid: number, slba: number, nblocks: number, tag: number): boolean;
  /** Dataset Management with AD (deallocate). More than 256 ranges are split into several commands. */
  submitDeallocate(nsid: number, ranges: ReadonlyArray<LbaRange>, tag: number): boolean;
  /**
   * Queue any command given as 64 SQE bytes at sqe[sqeOff] (CID and data pointer are filled in). Not
   * split. `fabrics`: a Fabrics command (Connect, Property Get/Set), whose data may always go in-capsule.
   */
  submitRaw(sqe: Uint8Array, sqeOff: number, dataOut: Uint8Array | null, dataIn: Uint8Array | null, tag: number,
    fabrics?: boolean): boolean;
  /** Non-blocking: push queued bytes to the socket (what does not fit stays queued). */
  flush(): void;
  /**
   * Non-blocking: flush, receive what the socket has, handle every complete PDU, call onComplete for
   * finished I/O. Returns the number of I/Os completed. Throws TransportError on a fatal error.
   */
  processCompletions(): number;
  /**
   * The one blocking wait: until the qpair has input (or, while bytes are queued, can send), at most ms.
   * Completions are not processed here.
   */
  waitReadable(ms: number): void;
  /**
   * Blocks (processing completions) until the I/O submitted last finishes and returns its completion;
   * that completion is NOT passed to onComplete, others are. TransportError('TIMEOUT') after timeoutMs
   * (the command is then abandoned: its late completion is dropped).
   */
  waitLast(timeoutMs: number): RawCompletion;
  /**
   * I/O timeouts (--io-timeout): a time stamp the owner keeps current (any monotonic unit; the perf
   * engine writes its pass clock here once per pass), copied into a command's slot when the command is
   * submitted, so no clock is read per command.
   */
  submitClock: number;
  /**
   * The command in flight that was submitted first (smallest stamp): its CID, or -1 when nothing is in
   * flight. Scans every slot: call it every few ms, not per I/O.
   */
  oldestCommand(): number;
  /** The submitClock stamp of command `cid`, or -1 when no command with that CID is in flight. */
  commandSubmitTime(cid: number): number;
  /** Closes the socket (outstanding I/O is not completed). Idempotent. */
  disconnect(): void;
  /**
   * Optional: a data buffer of `bytes` this qpair can use without copying (local devices: aligned for
   * O_DIRECT and registered with io_uring). Callers that have it use it for their I/O buffers.
   */
  allocBuffer?(bytes: number): Uint8Array;
}

/** A local device as a worker opens it (src/transport/local). */
export interface LocalQpairParams {
  /** Regular file, block device, or NVMe generic char device /dev/ngXnY. */
  path: string;
  /** file/block: IORING_OP_READ/WRITE at slba × blockSize; nvme-passthrough: NVMe commands via IORING_OP_URING_CMD. */
  kind: 'file' | 'block' | 'nvme-passthrough';
  /** Opened with O_DIRECT (file/block). */
  direct: boolean;
  /** IORING_SETUP_IOPOLL. */
  iopoll: boolean;
  /** Completions signalled through an eventfd registered with the ring (interrupt mode). */
  interrupt: boolean;
  nsid: number;
  blockSize: number;
  /** Register the data buffers (READ_FIXED/WRITE_FIXED). */
  fixedBuffers: boolean;
}

/**
 * Everything needed to connect one qpair. Plain and structured-clone serializable, so the main thread
 * can hand it to a worker thread (src/host/io-qpair.ts connects it there).
 */
export interface QpairConnectParams {
  /** Which transport's ops table connects it (see src/transport/registry.ts). */
  trtype: TrType;
  traddr: string;
  trsvcid: number;
  subnqn: string;
  hostnqn: string;
  /** 16-byte host identifier: raw bytes or 32 hex digits (dashes allowed). Same for every queue of a host. */
  hostId: Uint8Array | string;
  /** 0xFFFF for the admin queue (dynamic controller model); the admin Connect's CNTLID for I/O queues. */
  cntlid: number;
  /** 0 = admin queue. */
  qid: number;
  /** Queue entries: Connect SQSIZE = depth - 1; at most `depth` commands outstanding. */
  depth: number;
  /** Keep-alive timeout in ms (admin queue only; I/O queues always send 0). */
  kato: number;
  hdgst: boolean;
  ddgst: boolean;
  /** I/O command capsule size in 16-byte units (Identify IOCCSZ): in-capsule data limit = ioccsz*16-64. Ignored for QID 0 (8 KiB). */
  ioccsz: number;
  /** Largest data transfer per command; bigger I/O is split. */
  maxTransferBytes: number;
  /**
   * Set Connect CATTR bit 2 (disable SQ flow control). Default true for I/O queues: we never use SQHD
   * (outstanding commands are bounded by depth, as Linux and SPDK hosts do), and targets may then
   * finish reads with a C2HData carrying SUCCESS, which saves one CapsuleResp PDU per read (Linux nvmet
   * and SPDK ≥ 2026 only use that optimization when the host disabled SQ flow control).
   */
  disableSqFlowControl: boolean;
  /** Bound for TCP connect, the IC exchange and the Fabrics Connect each. */
  connectTimeoutMs: number;
  /** trtype 'local' / 'PCIe': the device the qpair opens (the network fields are unused). */
  local?: LocalQpairParams;
}

/** A transport implementation. */
export interface TransportOps {
  readonly name: TrType;
  /**
   * Synchronous: connect one queue pair, admin (qid 0) or I/O (TCP: TCP connect, IC exchange, Fabrics
   * Connect). Throws ConnectError / TransportError.
   */
  connectQpair(params: QpairConnectParams): IoQpair;
}
