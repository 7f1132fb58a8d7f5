// NVMe passthrough on a generic char device /dev/ngXnY: NVMe Read/Write commands (NVM Command Set
// §3.2.4 Read, §3.2.6 Write: CDW10/11 SLBA, CDW12 bits 15:0 NLB 0's based) sent with
// IORING_OP_URING_CMD / NVME_URING_CMD_IO. The kernel returns the NVMe status field (without the phase
// bit) in res, or a negative errno.
import { IOSQE_FIXED_FILE, type UringRing } from '../../native/uring.js';
import { NvmOpcode } from '../../nvme/opcodes.js';
import type { UringBackend } from './uring-backend.js';

export class NvmeBackend implements UringBackend {
  readonly bigEntries = true;
  readonly kernelPath = 'nvme-passthrough';

  prepRw(ring: UringRing, write: boolean, fixedFile: number, nsid: number, slba: number, nblocks: number, _blockSize: number,
    buf: number, bufOff: number, len: number, fixedBuf: boolean, user: number): void {
    const lo = slba >>> 0;
    const hi = Math.floor(slba / 0x100000000) >>> 0;
    ring.prepNvmeIo(fixedFile, IOSQE_FIXED_FILE, write ? NvmOpcode.Write : NvmOpcode.Read, nsid, lo, hi, (nblocks - 1) & 0xffff,
      0, 0, 0, buf, bufOff, len, fixedBuf, user);
  }

  status(res: number): number {
    return res < 0 ? res : (res << 1) & 0xfffe;
  }
}
