// Log pages other than discovery: SMART / Health Information (LID 0x02, 512 bytes), Error (LID 0x01, 64-byte entries).

export const SMART_LOG_SIZE = 512;
export const ERROR_LOG_ENTRY_SIZE = 64;

export interface SmartLog {
  criticalWarning: number;
  /** Composite temperature in kelvin. */
  temperatureK: number;
  availableSpare: number;
  availableSpareThreshold: number;
  percentageUsed: number;
  /** Data units (1000 × 512 bytes) read / written. */
  dataUnitsRead: bigint;
  dataUnitsWritten: bigint;
  hostReadCommands: bigint;
  hostWriteCommands: bigint;
  powerOnHours: bigint;
}

/** Offsets: 0 critical warning, 1..2 temperature, 3 spare, 4 threshold, 5 used, 32/48 data units read/written (128-bit), 64/80 host reads/writes, 128 power-on hours. */
export function encodeSmartLog(u8: Uint8Array, s: SmartLog): void {
  u8.fill(0, 0, SMART_LOG_SIZE);
  const dv = new DataView(u8.buffer, u8.byteOffset, SMART_LOG_SIZE);
  u8[0] = s.criticalWarning;
  dv.setUint16(1, s.temperatureK, true);
  u8[3] = s.availableSpare; u8[4] = s.availableSpareThreshold; u8[5] = s.percentageUsed;
  dv.setBigUint64(32, s.dataUnitsRead, true);
  dv.setBigUint64(48, s.dataUnitsWritten, true);
  dv.setBigUint64(64, s.hostReadCommands, true);
  dv.setBigUint64(80, s.hostWriteCommands, true);
  dv.setBigUint64(128, s.powerOnHours, true);
}

export function decodeSmartLog(u8: Uint8Array): SmartLog {
  const dv = new DataView(u8.buffer, u8.byteOffset, SMART_LOG_SIZE);
  return {
    criticalWarning: u8[0]!, temperatureK: dv.getUint16(1, true), availableSpare: u8[3]!,
    availableSpareThreshold: u8[4]!, percentageUsed: u8[5]!,
    dataUnitsRead: dv.getBigUint64(32, true), dataUnitsWritten: dv.getBigUint64(48, true),
    hostReadCommands: dv.getBigUint64(64, true), hostWriteCommands: dv.getBigUint64(80, true),
    powerOnHours: dv.getBigUint64(128, true),
  };
}
