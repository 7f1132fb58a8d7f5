// Discovery: connect to the discovery controller, read the discovery log page (LID 0x70), shut down.
// Read procedure as libnvme does it: the 20-byte header (GENCTR, NUMREC, RECFMT), then NUMREC×1024
// bytes of entries from offset 1024 in chunks of at most 4 KiB, then the header again; when GENCTR
// changed in between (or the controller answered Discover Restart), start over (bounded).
import { UsageError } from '../errors.js';
import {
  decodeDiscoveryLogEntry, decodeDiscoveryLogHeader, DISCOVERY_ENTRY_SIZE, DISCOVERY_HEADER_SIZE,
  type DiscoveryLogEntry,
} from '../nvme/discovery-log.js';
import { DISCOVERY_NQN, LogPageId } from '../nvme/opcodes.js';
import { FabricsStatus, NvmeStatusError } from '../nvme/status.js';
import { TransportError } from '../transport/errors.js';
import type { TransportId } from '../transport/transport.js';
import { Controller, type ControllerOptions } from './controller.js';

export const DISCOVERY_HEADER_READ_BYTES = 20;
export const DISCOVERY_CHUNK_BYTES = 4096;
export const DISCOVERY_MAX_RETRIES = 10;
/** Refuse absurd NUMREC values rather than allocating gigabytes. */
export const DISCOVERY_MAX_RECORDS = 65536;

export interface DiscoveryLog {
  genctr: bigint;
  numrec: number;
  recfmt: number;
  entries: DiscoveryLogEntry[];
}

export type DiscoverOptions = Omit<ControllerOptions, 'kato' | 'keepAlive' | 'skipNamespaces'>;

/** Reads the discovery log from an already connected discovery controller. */
export function readDiscoveryLog(ctrl: Controller): DiscoveryLog {
  const chunkMax = Math.min(DISCOVERY_CHUNK_BYTES, ctrl.maxTransferBytes);
  for (let attempt = 0; ; attempt++) {
    try {
      const h1 = decodeDiscoveryLogHeader(ctrl.getLogPage(LogPageId.Discovery, DISCOVERY_HEADER_READ_BYTES));
      if (h1.numrec > BigInt(DISCOVERY_MAX_RECORDS)) {
        throw new TransportError(`discovery log reports ${h1.numrec} records (more than ${DISCOVERY_MAX_RECORDS})`, 'PROTOCOL');
      }
      const numrec = Number(h1.numrec);
      const total = numrec * DISCOVERY_ENTRY_SIZE;
      const buf = new Uint8Array(total);
      for (let off = 0; off < total; off += chunkMax) {
        const n = Math.min(chunkMax, total - off);
        buf.set(ctrl.getLogPage(LogPageId.Discovery, n, DISCOVERY_HEADER_SIZE + off), off);
      }
      const h2 = decodeDiscoveryLogHeader(ctrl.getLogPage(LogPageId.Discovery, DISCOVERY_HEADER_READ_BYTES));
      if (h2.genctr === h1.genctr) {
        const entries: DiscoveryLogEntry[] = [];
        for (let i = 0; i < numrec; i++) entries.push(decodeDiscoveryLogEntry(buf, i * DISCOVERY_ENTRY_SIZE));
        return { genctr: h1.genctr, numrec, recfmt: h1.recfmt, entries };
      }
    } catch (e) {
      const restart = e instanceof NvmeStatusError && e.sct === 1 && e.sc === FabricsStatus.DiscoverRestart;
      if (!restart) throw e;
    }
    if (attempt + 1 >= DISCOVERY_MAX_RETRIES) {
      throw new TransportError(`discovery log kept changing while being read (${DISCOVERY_MAX_RETRIES} attempts)`, 'PROTOCOL');
    }
  }
}

/**
 * Connects to the discovery controller at trid (subnqn must be absent or the discovery NQN), KATO 0,
 * reads the log, shuts down.
 */
export function discoverLog(trid: TransportId, opts: DiscoverOptions = {}): DiscoveryLog {
  if (trid.subnqn !== undefined && trid.subnqn !== DISCOVERY_NQN) {
    throw new UsageError(`discover: subnqn must be omitted or be the discovery NQN ${DISCOVERY_NQN} (got ${trid.subnqn})`);
  }
  const ctrl = Controller.connect({ ...trid, subnqn: DISCOVERY_NQN }, { ...opts, kato: 0, keepAlive: false, skipNamespaces: true });
  let log: DiscoveryLog;
  try {
    log = readDiscoveryLog(ctrl);
  } catch (e) {
    ctrl.disconnect();
    throw e;
  }
  ctrl.shutdown();
  return log;
}

/** The discovery log entries (see discoverLog). */
export function discover(trid: TransportId, opts: DiscoverOptions = {}): DiscoveryLogEntry[] {
  return discoverLog(trid, opts).entries;
}
