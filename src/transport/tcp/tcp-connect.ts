// Bringing up one NVMe/TCP queue pair, synchronously and with bounded waits:
// TCP connect → ICReq/ICResp → Fabrics Connect. Used for the admin queue (QID 0) and for I/O queues.
import { native } from '../../native/index.js';
import { CONNECT_DATA_SIZE, connectSqe, encodeConnectData } from '../../nvme/fabrics.js';
import { encodeSqe, SQE_SIZE } from '../../nvme/sqe.js';
import { describeStatus, FabricsStatus, statusOk, statusSc, statusSct } from '../../nvme/status.js';
import { ConnectError, TransportError, type TransportErrorCode } from '../errors.js';
import type { QpairConnectParams } from '../transport.js';
import { decodeIcResp } from './pdu-codec.js';
import { PduSendQueue } from './pdu-send-queue.js';
import { PduReceiver, RX_ERROR, type PduHandler } from './pdu-receiver.js';
import { fesName, PduType, pduTypeName, TCP_LIMITS, TermReqOffset } from './pdu-types.js';
import { TcpQpair } from './tcp-qpair.js';

const EAGAIN = -11;
const POLLIN = 1;
const POLLOUT = 4;

/**
 * TCP_NOTSENT_LOWAT of a host queue's socket. Unsent bytes left in the socket are sent later by the
 * kernel when the peer's ACKs arrive, on the peer's CPU over loopback; with megabytes of H2CData
 * waiting there, segments of one stream leave from two CPUs, arrive out of order and are resent
 * (spurious fast retransmits, DSACKed). Keeping at most this much unsent in the socket makes the host
 * push its data itself, as the socket drains. Measured with 128 KiB writes against nvmf_tgt over
 * loopback: ~70 segments resent per 5 s before, ~4 after (nstat TcpRetransSegs), and ~15 % more MiB/s
 * with the host held to 40 % of a core (15 alternating pairs). The target's sockets gain nothing from it.
 */
export const HOST_NOTSENT_LOWAT_BYTES = 64 * 1024;

/** Connect CATTR bit 2: disable SQ flow control. */
export const CATTR_DISABLE_SQ_FLOW_CONTROL = 1 << 2;

const CONNECT_SQE_FIELDS: Record<number, string> = { 40: 'RECFMT', 42: 'QID', 44: 'SQSIZE', 46: 'CATTR', 48: 'KATO' };
const CONNECT_DATA_FIELDS: Record<number, string> = { 0: 'HOSTID', 16: 'CNTLID', 256: 'SUBNQN', 512: 'HOSTNQN' };

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ECONNRESET: 'connection reset by peer',
  EADDRNOTAVAIL: 'address not available',
  EINVAL: 'invalid address',
};
const KNOWN_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'EINVAL']);

/** 16 raw bytes from a Uint8Array or a hex string (dashes allowed, e.g. a UUID). */
export function hostIdBytes(id: Uint8Array | string): Uint8Array {
  if (typeof id !== 'string') {
    if (id.length !== 16) throw new RangeError(`host ID must be 16 bytes, got ${id.length}`);
    return id;
  }
  const hex = id.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`host ID "${id}" is not 32 hex digits`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** TCP connect with a one-line error ("cannot connect to 127.0.0.1:4999: connection refused"). */
export function tcpConnect(addr: string, port: number, timeoutMs: number): number {
  try {
    return native.tcpConnect(addr, port, timeoutMs);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const c = typeof code === 'string' ? code : 'EINVAL';
    const text = ERRNO_TEXT[c] ?? ((e as Error).message.replace(/^.*?:\s*/, '') || c);
    const msg = `cannot connect to ${addr}:${port}: ${text}`;
    if (KNOWN_CODES.has(c)) throw new TransportError(msg, c as TransportErrorCode);
    throw new ConnectError(msg);
  }
}

function sendAll(fd: number, u8: Uint8Array, len: number, deadline: number, what: string): void {
  let off = 0;
  while (off < len) {
    const n = native.send(fd, u8, off, len - off);
    if (n > 0) { off += n; continue; }
    if (n !== EAGAIN) throw new ConnectError(`${what}: send failed (errno ${-n})`);
    const left = deadline - performance.now();
    if (left <= 0) throw new TransportError(`${what}: timed out sending`, 'TIMEOUT');
    native.pollFd(fd, POLLOUT, Math.ceil(left));
  }
}

export interface IcResult {
  cpda: number;
  maxh2cdata: number;
  /** Bytes that followed the ICResp (normally none). */
  leftover: Uint8Array;
}

/** Catches the first PDU (the ICResp or a TermReq) of a connection. */
class IcRespCatcher implements PduHandler {
  type = -1;
  readonly hdr = new Uint8Array(128);
  onHeader(): void { /* TermReq data stays in the receive buffer */ }
  onPdu(r: PduReceiver): void {
    this.type = r.type;
    this.hdr.set(r.hdr.subarray(0, 128));
    r.pause();
  }
}

/** Sends ICReq and validates ICResp. */
export function icExchange(fd: number, peer: string, hdgst: boolean, ddgst: boolean, timeoutMs: number): IcResult {
  const deadline = performance.now() + timeoutMs;
  const q = new PduSendQueue(256, 4);
  q.putIcReq({ pfv: 0, hpda: 0, hdgst, ddgst, maxr2t: 0 });
  const req = q.take();
  sendAll(fd, req, req.length, deadline, `ICReq to ${peer}`);
  const caught = new IcRespCatcher();
  const reader = new PduReceiver('host', caught, 4096);
  while (caught.type < 0) {
    const n = reader.receive(fd);
    if (reader.failed) throw new ConnectError(`${peer} answered ICReq with a malformed PDU: ${reader.error}`);
    if (n > 0) continue;
    if (n === 0) throw new ConnectError(`${peer} closed the connection during the ICReq/ICResp exchange`);
    if (n !== EAGAIN) throw new ConnectError(`${peer}: receive failed during the ICReq/ICResp exchange (errno ${-n})`);
    const left = deadline - performance.now();
    if (left <= 0) throw new TransportError(`${peer} did not answer ICReq within ${timeoutMs} ms`, 'TIMEOUT');
    native.pollFd(fd, POLLIN, Math.ceil(left));
  }
  if (caught.type === PduType.C2HTermReq) {
    const fes = caught.hdr[TermReqOffset.FES]! | (caught.hdr[TermReqOffset.FES + 1]! << 8);
    throw new ConnectError(`${peer} rejected ICReq: C2HTermReq ${fesName(fes)}`);
  }
  if (caught.type !== PduType.ICResp) throw new ConnectError(`${peer} answered ICReq with ${pduTypeName(caught.type)}`);
  const r = decodeIcResp(caught.hdr, 0);
  if (r.pfv !== 0) throw new ConnectError(`${peer}: ICResp PFV ${r.pfv} is not supported (expected 0)`);
  if (r.cpda > TCP_LIMITS.MAX_PDA) throw new ConnectError(`${peer}: ICResp CPDA ${r.cpda} is above ${TCP_LIMITS.MAX_PDA}`);
  if (r.maxh2cdata < TCP_LIMITS.MIN_MAXH2CDATA || r.maxh2cdata % 4 !== 0) {
    throw new ConnectError(`${peer}: ICResp MAXH2CDATA ${r.maxh2cdata} is invalid (must be >= 4096 and a multiple of 4)`);
  }
  const onOff = (b: boolean): string => (b ? 'on' : 'off');
  if (r.hdgst !== hdgst) {
    throw new ConnectError(`${peer} granted header digest ${onOff(r.hdgst)} but ${onOff(hdgst)} was requested`);
  }
  if (r.ddgst !== ddgst) {
    throw new ConnectError(`${peer} granted data digest ${onOff(r.ddgst)} but ${onOff(ddgst)} was requested`);
  }
  return { cpda: r.cpda, maxh2cdata: r.maxh2cdata, leftover: reader.takePending() };
}

/** Text for a rejected Connect: status name, and for Invalid Parameters the field DW0 points at. */
export function connectRejectMessage(status: number, dw0: number, p?: QpairConnectParams): string {
  let msg = `Connect rejected: ${describeStatus(status, 'fabrics')}`;
  if (statusSct(status) === 1 && statusSc(status) === FabricsStatus.ConnectInvalidParameters) {
    const ipo = dw0 & 0xffff;
    const inData = ((dw0 >>> 16) & 1) === 1;
    const field = (inData ? CONNECT_DATA_FIELDS : CONNECT_SQE_FIELDS)[ipo];
    msg += `: invalid parameter at byte ${ipo} of the Connect ${inData ? 'data' : 'command'}${field ? ` (${field})` : ''}`;
    if (p && field) {
      const value: Record<string, string> = {
        SUBNQN: `subsystem ${p.subnqn} is not served at ${p.traddr}:${p.trsvcid}`,
        SQSIZE: `queue depth ${p.depth} is not accepted`, QID: `queue ID ${p.qid} is not accepted`,
        HOSTNQN: `host NQN ${p.hostnqn}`, CNTLID: `controller ID ${p.cntlid}`, KATO: `KATO ${p.kato} ms`,
      };
      if (value[field]) msg += `: ${value[field]}`;
    }
  } else if (p && statusSct(status) === 1 && statusSc(status) === FabricsStatus.ConnectInvalidHost) {
    msg += `: host ${p.hostnqn} is not allowed to access ${p.subnqn}`;
  }
  return msg;
}

/**
 * TCP connect, IC exchange and Fabrics Connect for one queue. Returns the qpair with `cntlid` set to the
 * CNTLID the controller returned. The socket is closed on any failure.
 */
export function connectTcpQpair(p: QpairConnectParams): TcpQpair {
  checkParams(p);
  const fd = tcpConnect(p.traddr, p.trsvcid, p.connectTimeoutMs);
  try {
    native.notSentLowat(fd, HOST_NOTSENT_LOWAT_BYTES);
  } catch {
    // Tuning only: a kernel without TCP_NOTSENT_LOWAT (before 3.12) still connects.
  }
  return setupTcpQpair(fd, p);
}

function checkParams(p: QpairConnectParams): void {
  if (!(Number.isInteger(p.depth) && p.depth >= 2 && p.depth <= 0x10000)) {
    throw new RangeError(`queue depth ${p.depth} is out of range 2..65536`);
  }
  hostIdBytes(p.hostId);
}

/**
 * IC exchange and Fabrics Connect on an already connected socket `fd` (which this takes over: it is
 * closed on failure).
 */
export function setupTcpQpair(fd: number, p: QpairConnectParams): TcpQpair {
  const peer = `${p.traddr}:${p.trsvcid}`;
  let qp: TcpQpair | null = null;
  try {
    checkParams(p);
    const hostId = hostIdBytes(p.hostId);
    const ic = icExchange(fd, peer, p.hdgst, p.ddgst, p.connectTimeoutMs);
    const icdLimit = p.qid === 0 ? TCP_LIMITS.ADMIN_ICD_BYTES : Math.max(0, p.ioccsz * 16 - 64);
    qp = new TcpQpair({
      fd, peer, qid: p.qid, depth: p.depth, hdgst: p.hdgst, ddgst: p.ddgst, cpda: ic.cpda,
      maxh2cdata: ic.maxh2cdata, icdLimit, maxTransferBytes: p.maxTransferBytes, leftover: ic.leftover,
    });
    const sqe = new Uint8Array(SQE_SIZE);
    encodeSqe(new DataView(sqe.buffer), 0, connectSqe(0, {
      recfmt: 0, qid: p.qid, sqsize: p.depth - 1,
      cattr: p.qid !== 0 && p.disableSqFlowControl ? CATTR_DISABLE_SQ_FLOW_CONTROL : 0,
      kato: p.qid === 0 ? p.kato : 0,
    }));
    const data = new Uint8Array(CONNECT_DATA_SIZE);
    encodeConnectData(data, 0, { hostId, cntlid: p.cntlid, subnqn: p.subnqn, hostnqn: p.hostnqn });
    const c = qp.execute(sqe, data, null, p.connectTimeoutMs, true);
    if (!statusOk(c.status)) throw new ConnectError(connectRejectMessage(c.status, c.dw0, p), c.status);
    if ((c.dw0 >>> 16) !== 0) {
      throw new ConnectError(`${peer} requires in-band authentication or a secure channel (AUTHREQ 0x${(c.dw0 >>> 16).toString(16)}), which is not supported`);
    }
    qp.cntlid = c.dw0 & 0xffff;
    return qp;
  } catch (e) {
    if (qp) qp.disconnect();
    else native.close(fd);
    throw e;
  }
}
