// Completion status field (CQE bytes 14..15): DNR<<15 | M<<14 | CRD<<12 | SCT<<9 | SC<<1 | P.

export const StatusCodeType = {
  Generic: 0,
  CommandSpecific: 1,
  MediaError: 2,
  Path: 3,
  Vendor: 7,
} as const;

/** Generic command status (SCT 0). */
export const GenericStatus = {
  Success: 0x00,
  InvalidOpcode: 0x01,
  InvalidField: 0x02,
  CommandIdConflict: 0x03,
  DataTransferError: 0x04,
  InternalError: 0x06,
  AbortRequested: 0x07,
  AbortedSqDeletion: 0x08,
  InvalidNamespace: 0x0b,
  CommandSequenceError: 0x0c,
  InvalidSglSegmentDescriptor: 0x0d,
  InvalidSglDescriptorCount: 0x0e,
  DataSglLengthInvalid: 0x0f,
  SglDescriptorTypeInvalid: 0x11,
  InvalidSglOffset: 0x16,
  HostIdInconsistentFormat: 0x18,
  KeepAliveExpired: 0x19,
  KeepAliveTimeoutInvalid: 0x1a,
  CommandInterrupted: 0x21,
  TransientTransportError: 0x22,
  LbaOutOfRange: 0x80,
  CapacityExceeded: 0x81,
  NamespaceNotReady: 0x82,
} as const;

/** Command-specific status (SCT 1) for admin commands. */
export const AdminSpecificStatus = {
  InvalidQueueId: 0x01,
  InvalidQueueSize: 0x02,
  AerLimitExceeded: 0x05,
  InvalidLogPage: 0x09,
  FeatureNotSaveable: 0x0d,
  FeatureNotChangeable: 0x0e,
} as const;

/** Command-specific status (SCT 1) for Fabrics commands. */
export const FabricsStatus = {
  IncompatibleFormat: 0x80,
  ControllerBusy: 0x81,
  ConnectInvalidParameters: 0x82,
  ConnectRestartDiscovery: 0x83,
  ConnectInvalidHost: 0x84,
  InvalidQueueType: 0x85,
  DiscoverRestart: 0x90,
  AuthRequired: 0x91,
} as const;

const GENERIC_NAMES: Record<number, string> = {
  0x00: 'Successful Completion', 0x01: 'Invalid Command Opcode', 0x02: 'Invalid Field in Command',
  0x03: 'Command ID Conflict', 0x04: 'Data Transfer Error', 0x05: 'Commands Aborted due to Power Loss',
  0x06: 'Internal Error', 0x07: 'Command Abort Requested', 0x08: 'Command Aborted due to SQ Deletion',
  0x09: 'Command Aborted due to Failed Fused Command', 0x0a: 'Command Aborted due to Missing Fused Command',
  0x0b: 'Invalid Namespace or Format', 0x0c: 'Command Sequence Error', 0x0d: 'Invalid SGL Segment Descriptor',
  0x0e: 'Invalid Number of SGL Descriptors', 0x0f: 'Data SGL Length Invalid', 0x10: 'Metadata SGL Length Invalid',
  0x11: 'SGL Descriptor Type Invalid', 0x16: 'Invalid SGL Offset', 0x18: 'Host Identifier Inconsistent Format',
  0x19: 'Keep Alive Timer Expired', 0x1a: 'Keep Alive Timeout Invalid', 0x21: 'Command Interrupted',
  0x22: 'Transient Transport Error', 0x24: 'Admin Command Media Not Ready',
  0x80: 'LBA Out of Range', 0x81: 'Capacity Exceeded', 0x82: 'Namespace Not Ready',
  0x83: 'Reservation Conflict', 0x84: 'Format In Progress',
};
const ADMIN_SPECIFIC_NAMES: Record<number, string> = {
  0x00: 'Completion Queue Invalid', 0x01: 'Invalid Queue Identifier', 0x02: 'Invalid Queue Size',
  0x03: 'Abort Command Limit Exceeded', 0x05: 'Asynchronous Event Request Limit Exceeded',
  0x09: 'Invalid Log Page', 0x0d: 'Feature Identifier Not Saveable', 0x0e: 'Feature Not Changeable',
  0x0f: 'Feature Not Namespace Specific',
};
const NVM_SPECIFIC_NAMES: Record<number, string> = {
  0x80: 'Conflicting Attributes', 0x81: 'Invalid Protection Information', 0x82: 'Attempted Write to Read Only Range',
};
const FABRICS_NAMES: Record<number, string> = {
  0x80: 'Incompatible Format', 0x81: 'Controller Busy', 0x82: 'Connect Invalid Parameters',
  0x83: 'Connect Restart Discovery', 0x84: 'Connect Invalid Host', 0x85: 'Invalid Queue Type',
  0x90: 'Discover Restart', 0x91: 'Authentication Required',
};
const MEDIA_NAMES: Record<number, string> = {
  0x80: 'Write Fault', 0x81: 'Unrecovered Read Error', 0x82: 'End-to-end Guard Check Error',
  0x83: 'End-to-end Application Tag Check Error', 0x84: 'End-to-end Reference Tag Check Error',
  0x85: 'Compare Failure', 0x86: 'Access Denied', 0x87: 'Deallocated or Unwritten Logical Block',
};
const PATH_NAMES: Record<number, string> = {
  0x00: 'Internal Path Error', 0x01: 'Asymmetric Access Persistent Loss', 0x02: 'Asymmetric Access Inaccessible',
  0x03: 'Asymmetric Access Transition', 0x60: 'Controller Pathing Error', 0x70: 'Host Pathing Error',
  0x71: 'Command Aborted By Host',
};

/** What kind of command a status belongs to: SCT 1 codes mean different things per command class. */
export type CommandClass = 'admin' | 'nvm' | 'fabrics';

export function statusName(sct: number, sc: number, cls: CommandClass = 'admin'): string {
  let table: Record<number, string> | undefined;
  switch (sct) {
    case 0: table = GENERIC_NAMES; break;
    case 1: table = cls === 'fabrics' ? FABRICS_NAMES : cls === 'nvm' ? NVM_SPECIFIC_NAMES : ADMIN_SPECIFIC_NAMES; break;
    case 2: table = MEDIA_NAMES; break;
    case 3: table = PATH_NAMES; break;
  }
  return table?.[sc] ?? (sct === 7 ? 'Vendor Specific' : 'Unknown Status');
}

/** Build the 16-bit status field (phase bit 0). */
export function encodeStatus(sct: number, sc: number, dnr = false, more = false): number {
  return ((dnr ? 1 : 0) << 15) | ((more ? 1 : 0) << 14) | ((sct & 7) << 9) | ((sc & 0xff) << 1);
}
export function statusSct(status: number): number { return (status >>> 9) & 7; }
export function statusSc(status: number): number { return (status >>> 1) & 0xff; }
export function statusDnr(status: number): boolean { return (status & 0x8000) !== 0; }
/** True when SCT and SC are both zero (phase, CRD, M, DNR ignored). */
export function statusOk(status: number): boolean { return (status & 0x0ffe) === 0; }

/** "Invalid Host (sct 1, sc 0x84)" */
export function describeStatus(status: number, cls: CommandClass = 'admin'): string {
  const sct = statusSct(status), sc = statusSc(status);
  return `${statusName(sct, sc, cls)} (sct ${sct}, sc 0x${sc.toString(16).padStart(2, '0')})`;
}

/** A command completed with a non-zero status. `message` carries the status name. */
export class NvmeStatusError extends Error {
  readonly sct: number;
  readonly sc: number;
  readonly dnr: boolean;
  readonly status: number;
  readonly statusName: string;
  constructor(what: string, status: number, cls: CommandClass = 'admin') {
    super(`${what}: ${describeStatus(status, cls)}`);
    this.name = 'NvmeStatusError';
    this.status = status;
    this.sct = statusSct(status);
    this.sc = statusSc(status);
    this.dnr = statusDnr(status);
    this.statusName = statusName(this.sct, this.sc, cls);
  }
}
