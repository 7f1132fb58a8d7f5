// Namespace ID and LBA format of an NVMe generic char device through the kernel's admin passthrough
// ioctl (NVME_IOCTL_ADMIN_CMD): Identify with CNS 00h (Identify Namespace, NVMe Base spec §5.17.2.1).
import { native, errnoName } from '../../native/index.js';
import { AdminOpcode, Cns } from '../../nvme/opcodes.js';
import { decodeIdentifyNamespace, formatIndex, IDENTIFY_SIZE, namespaceBlockSize } from '../../nvme/identify.js';
import { UserError } from '../../errors.js';
import { ExitCode } from '../../exit-codes.js';

export interface PassthroughNamespace { nsid: number; blockSize: number; sizeBlocks: number; metadataBytes: number }

export function identifyPassthroughNamespace(fd: number, path: string): PassthroughNamespace {
  const nsid = native.nvmeNsid(fd);
  if (nsid < 0) throw new UserError(`${path}: NVME_IOCTL_ID failed: ${errnoName(nsid)} (not an NVMe namespace device?)`, ExitCode.Connect);
  const buf = new Uint8Array(native.allocAligned(IDENTIFY_SIZE, 4096));
  const st = native.nvmeAdminCmd(fd, AdminOpcode.Identify, nsid, Cns.Namespace, 0, buf, 10_000);
  if (st < 0) throw new UserError(`${path}: Identify Namespace (admin passthrough ioctl) failed: ${errnoName(st)}`, ExitCode.Connect);
  if (st > 0) throw new UserError(`${path}: Identify Namespace failed with NVMe status 0x${st.toString(16)}`, ExitCode.Connect);
  const id = decodeIdentifyNamespace(buf);
  const blockSize = namespaceBlockSize(id);
  const fmt = id.lbaf[formatIndex(id.flbas)];
  if ((fmt?.ms ?? 0) > 0) {
    throw new UserError(`${path}: NSID ${nsid} is formatted with ${fmt!.ms} metadata bytes per block, which passthrough I/O here does not send (format it without metadata)`, ExitCode.Usage);
  }
  return { nsid, blockSize, sizeBlocks: Number(id.nsze), metadataBytes: fmt?.ms ?? 0 };
}
