// Transport lookup by trtype (case-insensitive): TCP, PCIe (kernel NVMe passthrough) and local (files,
// block devices), the last two through io_uring (src/transport/local).
import { UsageError } from '../errors.js';
import { tcpTransport } from './tcp/tcp-transport.js';
import { localTransport, pcieTransport } from './local/local-transport.js';
import type { TransportOps } from './transport.js';

const KNOWN_UNSUPPORTED: Record<string, string> = { rdma: 'RDMA', fc: 'FC' };

/** The ops table for `trtype`; UsageError for RDMA/FC (not supported yet) and unknown names. */
export function getTransport(trtype: string): TransportOps {
  const t = trtype.toLowerCase();
  if (t === 'tcp') return tcpTransport;
  if (t === 'pcie') return pcieTransport;
  if (t === 'local') return localTransport;
  const known = KNOWN_UNSUPPORTED[t];
  if (known) throw new UsageError(`transport ${known} is not supported yet`);
  throw new UsageError(`unknown transport "${trtype}" (supported: TCP, PCIe)`);
}
