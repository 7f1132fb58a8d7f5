// Regular files and block devices: IORING_OP_READ/WRITE (READ_FIXED/WRITE_FIXED on registered
// buffers) at byte offset slba × blockSize.
import { IOSQE_FIXED_FILE, type UringRing } from '../../native/uring.js';
import { GenericStatus } from '../../nvme/status.js';
import type { UringBackend } from './uring-backend.js';

/** A short transfer (end of file, device shrank) as the NVMe status a controller gives for it. */
const LBA_OUT_OF_RANGE = GenericStatus.LbaOutOfRange << 1;

export class FileBackend implements UringBackend {
  readonly bigEntries = false;
  constructor(readonly kernelPath: 'O_DIRECT' | 'buffered') {}

  prepRw(ring: UringRing, write: boolean, fixedFile: number, _nsid: number, slba: number, nblocks: number, blockSize: number,
    buf: number, bufOff: number, len: number, fixedBuf: boolean, user: number): void {
    ring.prepRw(write, fixedBuf, fixedFile, IOSQE_FIXED_FILE, slba * blockSize, buf, bufOff, len, user);
  }

  status(res: number, len: number): number {
    if (res === len) return 0;
    return res < 0 ? res : LBA_OUT_OF_RANGE;
  }
}
