// Typed transport failures. Messages are one line and name the peer or the PDU at fault.

export type TransportErrorCode =
  | 'ECONNREFUSED' | 'ETIMEDOUT' | 'ECONNRESET' | 'EHOSTUNREACH' | 'EADDRNOTAVAIL' | 'EINVAL'
  /** The peer closed the connection. */
  | 'CLOSED'
  /** The peer broke the NVMe/TCP protocol (bad PDU, digest error, unexpected CID...). */
  | 'PROTOCOL'
  /** The peer sent a TermReq. */
  | 'TERMINATED'
  /** A command did not complete in time. */
  | 'TIMEOUT';

export class TransportError extends Error {
  constructor(message: string, readonly code: TransportErrorCode) {
    super(message);
    this.name = 'TransportError';
  }
}

/**
 * Association set-up failed: TCP connect, IC exchange, Fabrics Connect or controller enable.
 * When the controller answered with an NVMe status, `status` holds the raw status field.
 */
export class ConnectError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'ConnectError';
  }
}
