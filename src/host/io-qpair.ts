// Connecting an I/O qpair from plain, structured-clone serializable params (Controller.ioQpairParams):
// the main thread brings the controller up, workers connect their own I/O queues with this.
import { connectTcpQpair } from '../transport/tcp/tcp-connect.js';
import type { TcpQpair } from '../transport/tcp/tcp-qpair.js';
import type { QpairConnectParams } from '../transport/transport.js';

/**
 * TCP connect, ICReq/ICResp (PFV 0, CPDA ≤ 31, MAXH2CDATA ≥ 4096 and dword multiple, digests exactly as
 * requested), Fabrics Connect (SQSIZE depth−1, KATO 0, CATTR bit 2 when disableSqFlowControl), all
 * synchronous and bounded by params.connectTimeoutMs per step. Throws ConnectError / TransportError.
 */
export function connectIoQpair(params: QpairConnectParams): TcpQpair {
  if (!Number.isInteger(params.qid) || params.qid < 1 || params.qid > 0xfffe) {
    throw new RangeError(`I/O queue ID ${params.qid} is out of range 1..65534`);
  }
  return connectTcpQpair(params);
}
