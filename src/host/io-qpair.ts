// Connecting an I/O qpair from plain, structured-clone serializable params (Controller.ioQpairParams):
// the main thread brings the controller up, workers connect their own I/O queues with this, through
// the ops table of the transport the params name.
import { getTransport } from '../transport/registry.js';
import type { IoQpair, QpairConnectParams, TransportOps } from '../transport/transport.js';

/**
 * Connects I/O queue params.qid synchronously (bounded by params.connectTimeoutMs per step) with
 * `transport` (default: the ops table registered for params.trtype). Throws ConnectError / TransportError.
 */
export function connectIoQpair(params: QpairConnectParams, transport: TransportOps = getTransport(params.trtype)): IoQpair {
  if (!Number.isInteger(params.qid) || params.qid < 1 || params.qid > 0xfffe) {
    throw new RangeError(`I/O queue ID ${params.qid} is out of range 1..65534`);
  }
  return transport.connectQpair(params);
}
