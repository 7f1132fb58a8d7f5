// The NVMe/TCP transport ops table.
import type { QpairConnectParams, TransportOps } from '../transport.js';
import { connectTcpQpair } from './tcp-connect.js';
import type { TcpQpair } from './tcp-qpair.js';

export const tcpTransport: TransportOps & { connectQpair(params: QpairConnectParams): TcpQpair } = {
  name: 'TCP',
  connectQpair(params: QpairConnectParams): TcpQpair {
    if (params.trtype !== 'TCP') throw new RangeError(`the TCP transport cannot connect a ${params.trtype} qpair`);
    return connectTcpQpair(params);
  },
};
