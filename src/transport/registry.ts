// Transport lookup by TRID trtype (case-insensitive). Only TCP is implemented.
import { UsageError } from '../errors.js';
import { tcpTransport } from './tcp/tcp-transport.js';
import type { TransportOps } from './transport.js';

const KNOWN_UNSUPPORTED: Record<string, string> = { pcie: 'PCIe', rdma: 'RDMA', fc: 'FC' };

/** The ops table for `trtype`; UsageError for PCIe/RDMA (not supported yet) and unknown names. */
export function getTransport(trtype: string): TransportOps {
  const t = trtype.toLowerCase();
  if (t === 'tcp') return tcpTransport;
  const known = KNOWN_UNSUPPORTED[t];
  if (known) throw new UsageError(`transport ${known} is not supported yet`);
  throw new UsageError(`unknown transport "${trtype}" (supported: TCP)`);
}
