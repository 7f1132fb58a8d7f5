// Host identity: host NQN and 16-byte host ID, sent in every Fabrics Connect of this host.
// Like nvme-cli: reuse /etc/nvme/hostnqn and /etc/nvme/hostid when readable; otherwise generate
// `nqn.2014-08.org.nvmexpress:uuid:<uuid>` with the same UUID as host ID, once per process.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { NQN_MAX_BYTES } from '../nvme/opcodes.js';

export const UUID_NQN_PREFIX = 'nqn.2014-08.org.nvmexpress:uuid:';

export interface HostIdentity {
  hostnqn: string;
  /** 16 raw bytes. */
  hostId: Uint8Array;
  /** Where the values came from. */
  source: 'etc' | 'generated';
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function uuidToBytes(uuid: string): Uint8Array {
  if (!UUID_RE.test(uuid)) throw new RangeError(`"${uuid}" is not a UUID`);
  return Uint8Array.from(Buffer.from(uuid.replace(/-/g, ''), 'hex'));
}

export function bytesToUuid(b: Uint8Array): string {
  const h = Buffer.from(b.buffer, b.byteOffset, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function readTrimmed(path: string): string | null {
  try {
    const s = readFileSync(path, 'utf8').trim();
    return s.length > 0 ? s : null;
  } catch {
    return null;
  }
}

function validNqn(s: string | null): s is string {
  return s !== null && s.startsWith('nqn.') && Buffer.byteLength(s) <= NQN_MAX_BYTES && !/\s/.test(s);
}

let cached: HostIdentity | null = null;

/**
 * The default identity, computed once per process. `dir` (tests) replaces /etc/nvme.
 * - hostnqn and hostid files both valid → use them;
 * - only hostnqn (UUID form) → host ID = its UUID; only hostnqn (other form) → random host ID;
 * - only hostid → hostnqn = uuid form of it;
 * - neither → random UUID for both.
 */
export function defaultHostIdentity(dir = '/etc/nvme'): HostIdentity {
  if (dir === '/etc/nvme' && cached) return cached;
  const nqnFile = readTrimmed(`${dir}/hostnqn`);
  const idFile = readTrimmed(`${dir}/hostid`);
  const nqn = validNqn(nqnFile) ? nqnFile : null;
  const id = idFile !== null && UUID_RE.test(idFile) ? idFile.toLowerCase() : null;
  let out: HostIdentity;
  if (nqn && id) {
    out = { hostnqn: nqn, hostId: uuidToBytes(id), source: 'etc' };
  } else if (nqn) {
    const tail = nqn.startsWith(UUID_NQN_PREFIX) ? nqn.slice(UUID_NQN_PREFIX.length) : '';
    out = { hostnqn: nqn, hostId: uuidToBytes(UUID_RE.test(tail) ? tail : randomUUID()), source: 'etc' };
  } else if (id) {
    out = { hostnqn: UUID_NQN_PREFIX + id, hostId: uuidToBytes(id), source: 'etc' };
  } else {
    const u = randomUUID();
    out = { hostnqn: UUID_NQN_PREFIX + u, hostId: uuidToBytes(u), source: 'generated' };
  }
  if (dir === '/etc/nvme') cached = out;
  return out;
}

/** Host ID to use with an explicit host NQN: its UUID when it is a UUID NQN, else the default host ID. */
export function hostIdFor(hostnqn: string): Uint8Array {
  const tail = hostnqn.startsWith(UUID_NQN_PREFIX) ? hostnqn.slice(UUID_NQN_PREFIX.length) : '';
  return UUID_RE.test(tail) ? uuidToBytes(tail) : defaultHostIdentity().hostId;
}
