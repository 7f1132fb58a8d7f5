// NVMe/TCP PDU constants: common header layout, PDU types, flags, header lengths, fatal error codes.

/** Common header (CH): TYPE 0, FLAGS 1, HLEN 2, PDO 3, PLEN 4..7. */
export const CH_SIZE = 8;
export const DIGEST_SIZE = 4;

export const PduType = {
  ICReq: 0x00,
  ICResp: 0x01,
  H2CTermReq: 0x02,
  C2HTermReq: 0x03,
  CapsuleCmd: 0x04,
  CapsuleResp: 0x05,
  H2CData: 0x06,
  C2HData: 0x07,
  R2T: 0x09,
} as const;

export const PduFlags = {
  HDGSTF: 0x01,
  DDGSTF: 0x02,
  /** H2CData: last PDU of the R2T; C2HData: last PDU of the command's data. */
  LAST_PDU: 0x04,
  /** C2HData only, with LAST_PDU: command succeeded, no CapsuleResp follows. */
  SUCCESS: 0x08,
} as const;

/** Fixed HLEN of each PDU type (-1: not a defined type). */
export function pduHeaderLength(type: number): number {
  switch (type) {
    case PduType.ICReq: case PduType.ICResp: return 128;
    case PduType.CapsuleCmd: return 72;
    case PduType.H2CTermReq: case PduType.C2HTermReq: case PduType.CapsuleResp:
    case PduType.H2CData: case PduType.C2HData: case PduType.R2T: return 24;
    default: return -1;
  }
}

/** May carry a header digest (when negotiated): everything but IC and TermReq PDUs. */
export function headerDigestEligible(type: number): boolean {
  return type >= PduType.CapsuleCmd && type <= PduType.R2T && type !== 0x08;
}

/** May carry a data digest (when negotiated and the PDU has data). */
export function dataDigestEligible(type: number): boolean {
  return type === PduType.CapsuleCmd || type === PduType.H2CData || type === PduType.C2HData;
}

export function pduTypeName(type: number): string {
  switch (type) {
    case PduType.ICReq: return 'ICReq';
    case PduType.ICResp: return 'ICResp';
    case PduType.H2CTermReq: return 'H2CTermReq';
    case PduType.C2HTermReq: return 'C2HTermReq';
    case PduType.CapsuleCmd: return 'CapsuleCmd';
    case PduType.CapsuleResp: return 'CapsuleResp';
    case PduType.H2CData: return 'H2CData';
    case PduType.C2HData: return 'C2HData';
    case PduType.R2T: return 'R2T';
    default: return `unknown PDU type 0x${type.toString(16)}`;
  }
}

/** Fatal Error Status carried in H2C/C2H TermReq (FES, bytes 8..9). */
export const Fes = {
  InvalidHeaderField: 0x01,
  PduSequenceError: 0x02,
  HeaderDigestError: 0x03,
  DataTransferOutOfRange: 0x04,
  DataTransferLimitExceeded: 0x05,
  UnsupportedParameter: 0x06,
} as const;

export function fesName(fes: number): string {
  switch (fes) {
    case Fes.InvalidHeaderField: return 'Invalid PDU Header Field';
    case Fes.PduSequenceError: return 'PDU Sequence Error';
    case Fes.HeaderDigestError: return 'Header Digest Error';
    case Fes.DataTransferOutOfRange: return 'Data Transfer Out of Range';
    case Fes.DataTransferLimitExceeded: return 'Data Transfer Limit Exceeded';
    case Fes.UnsupportedParameter: return 'Unsupported Parameter';
    default: return `FES 0x${fes.toString(16)}`;
  }
}

/** H2CTermReq / C2HTermReq fields after the CH: FES (u16), FEI (u32, unaligned). */
export const TermReqOffset = { FES: 8, FEI: 10 } as const;

/** Data PDU (H2CData / C2HData / R2T) header fields after the CH. */
export const DataPduOffset = { CCCID: 8, TTAG: 10, DATAO: 12, DATAL: 16 } as const;

/** Limits from the transport binding. */
export const TCP_LIMITS = {
  /** ICD allowed on the admin queue and for Fabrics commands. */
  ADMIN_ICD_BYTES: 8192,
  /** TermReq carries at most 128 bytes of the offending header. */
  TERM_REQ_MAX_COPY: 128,
  MIN_MAXH2CDATA: 4096,
  /** PDO is 8 bits; xPDA up to 31 gives 128-byte alignment. */
  MAX_PDA: 31,
} as const;
