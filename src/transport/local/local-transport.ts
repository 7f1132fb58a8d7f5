// The ops table of local devices (trtype 'local': files and block devices; 'PCIe': a kernel NVMe
// controller's namespaces through passthrough). connectQpair opens the device in the calling thread
// (each worker opens its own fd) and sets up one io_uring for the qpair.
import { closeSync, constants, openSync } from 'node:fs';
import { ConnectError } from '../errors.js';
import type { IoQpair, QpairConnectParams, TransportOps } from '../transport.js';
import { FileBackend } from './file-backend.js';
import { NvmeBackend } from './nvme-backend.js';
import { hint, UringQpair } from './uring-qpair.js';
import { describeOpenError } from './open-errors.js';

/** open(2) flags for a local device: read-write, O_DIRECT when asked. */
export function localOpenFlags(direct: boolean): number {
  return constants.O_RDWR | (direct ? constants.O_DIRECT : 0);
}

function connectLocal(params: QpairConnectParams): IoQpair {
  const lp = params.local;
  if (!lp) throw new ConnectError(`qpair ${params.qid}: no local device given`);
  let fd: number;
  try {
    fd = openSync(lp.path, localOpenFlags(lp.kind !== 'nvme-passthrough' && lp.direct));
  } catch (e) {
    throw new ConnectError(describeOpenError(lp.path, e));
  }
  try {
    const backend = lp.kind === 'nvme-passthrough' ? new NvmeBackend() : new FileBackend(lp.direct ? 'O_DIRECT' : 'buffered');
    return new UringQpair(params.qid, params.depth, params.maxTransferBytes, fd, lp, backend);
  } catch (e) {
    closeSync(fd);
    const err = e as NodeJS.ErrnoException;
    const why = typeof err.errno === 'number' ? `${err.code}${hint(err.errno, lp)}` : err.message;
    throw new ConnectError(`${lp.path}: io_uring set-up failed: ${why}`);
  }
}

export const localTransport: TransportOps = { name: 'local', connectQpair: connectLocal };
export const pcieTransport: TransportOps = { name: 'PCIe', connectQpair: connectLocal };
