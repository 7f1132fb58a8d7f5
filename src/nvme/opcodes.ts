// Opcodes and identifiers from the NVMe base / NVM command set / NVMe-oF specs.

/** Admin command set opcodes (SQE byte 0 on queue 0). */
export const AdminOpcode = {
  GetLogPage: 0x02,
  Identify: 0x06,
  Abort: 0x08,
  SetFeatures: 0x09,
  GetFeatures: 0x0a,
  AsyncEventRequest: 0x0c,
  KeepAlive: 0x18,
  /** Fabrics commands share this opcode on every queue; FCTYPE at byte 4 selects the command. */
  Fabrics: 0x7f,
} as const;

/** NVM command set opcodes (I/O queues). Bits 1:0 give the data direction. */
export const NvmOpcode = {
  Flush: 0x00,
  Write: 0x01,
  Read: 0x02,
  WriteZeroes: 0x08,
  DatasetManagement: 0x09,
} as const;

/** Fabrics command types (SQE byte 4 when OPC = 0x7F). */
export const FabricsType = {
  PropertySet: 0x00,
  Connect: 0x01,
  PropertyGet: 0x04,
  AuthSend: 0x05,
  AuthReceive: 0x06,
  Disconnect: 0x08,
} as const;

/** Identify CNS values (CDW10 bits 7:0). */
export const Cns = {
  Namespace: 0x00,
  Controller: 0x01,
  ActiveNamespaceList: 0x02,
  NamespaceDescriptorList: 0x03,
} as const;

/** Log page identifiers (Get Log Page CDW10 bits 7:0). */
export const LogPageId = {
  Error: 0x01,
  SmartHealth: 0x02,
  FirmwareSlot: 0x03,
  ChangedNamespaceList: 0x04,
  CommandsSupported: 0x05,
  Discovery: 0x70,
} as const;

/** Feature identifiers (Set/Get Features CDW10 bits 7:0). */
export const FeatureId = {
  Arbitration: 0x01,
  PowerManagement: 0x02,
  TemperatureThreshold: 0x04,
  ErrorRecovery: 0x05,
  VolatileWriteCache: 0x06,
  NumberOfQueues: 0x07,
  InterruptCoalescing: 0x08,
  WriteAtomicity: 0x0a,
  AsyncEventConfig: 0x0b,
  KeepAliveTimer: 0x0f,
  HostIdentifier: 0x81,
} as const;

/** Data direction encoded in opcode bits 1:0 (also FCTYPE bits 1:0 for Fabrics commands). */
export const enum DataDirection {
  None = 0,
  HostToController = 1,
  ControllerToHost = 2,
  Bidirectional = 3,
}

export function dataDirection(opcodeOrFctype: number): DataDirection {
  return (opcodeOrFctype & 3) as DataDirection;
}

/** Well-known NQNs. */
export const DISCOVERY_NQN = 'nqn.2014-08.org.nvmexpress.discovery';
export const NQN_MAX_BYTES = 223;

const OPCODE_NAMES: Record<number, string> = {
  0x02: 'Get Log Page', 0x06: 'Identify', 0x08: 'Abort', 0x09: 'Set Features', 0x0a: 'Get Features',
  0x0c: 'Async Event Request', 0x18: 'Keep Alive', 0x7f: 'Fabrics',
};
const NVM_OPCODE_NAMES: Record<number, string> = {
  0x00: 'Flush', 0x01: 'Write', 0x02: 'Read', 0x08: 'Write Zeroes', 0x09: 'Dataset Management',
};

export function opcodeName(opc: number, admin: boolean): string {
  const n = admin ? OPCODE_NAMES[opc] : NVM_OPCODE_NAMES[opc];
  return n ?? `opcode 0x${opc.toString(16).padStart(2, '0')}`;
}
