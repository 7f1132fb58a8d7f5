// A namespace as the host sees it after Identify Namespace.
import { formatIndex, namespaceBlockSize, type IdentifyNamespace } from '../nvme/identify.js';

export class Namespace {
  readonly nsid: number;
  /** Logical block size in bytes (LBA data size of the format in use). */
  readonly blockSize: number;
  /** Metadata bytes per block of the format in use (0 for plain targets). */
  readonly metadataSize: number;
  /** NSZE in blocks (exact up to 2^53). */
  readonly sizeBlocks: number;
  readonly sizeBytes: number;
  readonly identify: IdentifyNamespace;

  constructor(nsid: number, id: IdentifyNamespace) {
    this.nsid = nsid;
    this.identify = id;
    this.blockSize = namespaceBlockSize(id);
    this.metadataSize = id.lbaf[formatIndex(id.flbas)]?.ms ?? 0;
    this.sizeBlocks = Number(id.nsze);
    this.sizeBytes = this.sizeBlocks * this.blockSize;
  }
}
