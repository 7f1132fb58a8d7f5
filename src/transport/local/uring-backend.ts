// How one read/write command of a local qpair becomes an io_uring SQE and how its CQE becomes a status:
// the part that differs between a file or block device (offsets in bytes) and NVMe passthrough (NVMe
// commands). Implementations: file-backend.ts, nvme-backend.ts.
import type { UringRing } from '../../native/uring.js';

export interface UringBackend {
  /** 'O_DIRECT', 'buffered' or 'nvme-passthrough' (recorded in the result). */
  readonly kernelPath: string;
  /** SQE128/CQE32 rings (IORING_OP_URING_CMD). */
  readonly bigEntries: boolean;
  /** Prepare one read or write of nblocks at slba with buffer table entry `buf` [bufOff, bufOff+len). */
  prepRw(ring: UringRing, write: boolean, fixedFile: number, nsid: number, slba: number, nblocks: number, blockSize: number,
    buf: number, bufOff: number, len: number, fixedBuf: boolean, user: number): void;
  /**
   * Raw 16-bit NVMe status (phase bit clear, 0 = success) of a completion (res, dw0) of a command that
   * moved `len` bytes, or a negative errno the qpair turns into a one-line error naming the device.
   */
  status(res: number, len: number): number;
}
