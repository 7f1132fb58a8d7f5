// Precomputed 16-bit CQE status values the target returns (DNR<<15 | SCT<<9 | SC<<1).
import { AdminSpecificStatus, FabricsStatus, GenericStatus, encodeStatus } from '../nvme/status.js';

const G = GenericStatus;
export const ST = {
  OK: 0,
  INVALID_OPCODE: encodeStatus(0, G.InvalidOpcode, true),
  INVALID_FIELD: encodeStatus(0, G.InvalidField, true),
  INTERNAL_ERROR: encodeStatus(0, G.InternalError, false),
  DATA_TRANSFER_ERROR: encodeStatus(0, G.DataTransferError, false),
  INVALID_NS: encodeStatus(0, G.InvalidNamespace, true),
  CMD_SEQ_ERROR: encodeStatus(0, G.CommandSequenceError, true),
  SGL_LENGTH_INVALID: encodeStatus(0, G.DataSglLengthInvalid, true),
  SGL_TYPE_INVALID: encodeStatus(0, G.SglDescriptorTypeInvalid, true),
  ABORT_REQUESTED: encodeStatus(0, G.AbortRequested, false),
  COMMAND_INTERRUPTED: encodeStatus(0, G.CommandInterrupted, false),
  TRANSIENT_TRANSPORT: encodeStatus(0, G.TransientTransportError, false),
  LBA_OUT_OF_RANGE: encodeStatus(0, G.LbaOutOfRange, true),
  WRITE_FAULT: encodeStatus(2, 0x80, false),
  UNRECOVERED_READ: encodeStatus(2, 0x81, false),
  AER_LIMIT: encodeStatus(1, AdminSpecificStatus.AerLimitExceeded, true),
  FEATURE_NOT_SAVEABLE: encodeStatus(1, AdminSpecificStatus.FeatureNotSaveable, true),
  CONNECT_INCOMPATIBLE_FORMAT: encodeStatus(1, FabricsStatus.IncompatibleFormat, true),
  CONNECT_CTRL_BUSY: encodeStatus(1, FabricsStatus.ControllerBusy, true),
  CONNECT_INVALID_PARAM: encodeStatus(1, FabricsStatus.ConnectInvalidParameters, true),
  CONNECT_INVALID_HOST: encodeStatus(1, FabricsStatus.ConnectInvalidHost, true),
  INVALID_QUEUE_TYPE: encodeStatus(1, FabricsStatus.InvalidQueueType, true),
} as const;
