// SPDK transport ID strings: `trtype:TCP adrfam:IPv4 traddr:10.0.0.1 trsvcid:4420 subnqn:nqn...`.
// Pairs are separated by white space; key and value by the first ':' or '=' (as in SPDK, so NQN
// values keep their colons). Keys are case-insensitive; trtype and adrfam values too.
import { UsageError } from '../errors.js';
import { NQN_MAX_BYTES } from '../nvme/opcodes.js';
import type { TransportId, TrType } from '../transport/transport.js';

/** Port used when the TRID has no trsvcid (IANA NVMe-oF port; the discovery port is 8009). */
export const DEFAULT_TRSVCID = 4420;

const KEYS = ['trtype', 'adrfam', 'traddr', 'trsvcid', 'subnqn', 'hostnqn', 'ns'] as const;
type Key = (typeof KEYS)[number];

function bad(msg: string): UsageError {
  return new UsageError(`invalid transport ID: ${msg}`);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv4(s: string): boolean {
  return IPV4.test(s);
}

/** Why `nqn` is not an NQN (for the TRID key `key`), or null. */
function nqnProblem(key: string, nqn: string): string | null {
  if (!nqn.startsWith('nqn.')) return `${key} "${nqn}" is not an NQN (it must start with "nqn.")`;
  const bytes = Buffer.byteLength(nqn, 'utf8');
  if (bytes > NQN_MAX_BYTES) return `${key} is ${bytes} bytes long; an NQN is at most ${NQN_MAX_BYTES} bytes`;
  if (nqn.length <= 4) return `${key} "${nqn}" is not an NQN (nothing after "nqn.")`;
  return null;
}

/** Throws UsageError when `nqn` is not a valid NQN; `what` names the input (e.g. "--hostnqn"). */
export function checkNqn(what: string, nqn: string): string {
  const p = nqnProblem(what, nqn);
  if (p) throw new UsageError(p);
  return nqn;
}

/**
 * Parses a TRID. Defaults: trtype TCP, adrfam IPv4, trsvcid 4420; subnqn stays undefined (each
 * command picks its default). PCIe/RDMA/FC are recognised and rejected as not supported yet.
 */
export function parseTrid(text: string): TransportId {
  const tokens = text.trim().split(/\s+/).filter((t) => t.length > 0);
  if (tokens.length === 0) throw bad('empty (expected e.g. "trtype:TCP traddr:127.0.0.1 trsvcid:4420")');
  const seen = new Map<Key, string>();
  for (const tok of tokens) {
    const i = tok.search(/[:=]/);
    if (i <= 0) throw bad(`"${tok}" is not a key:value pair`);
    const key = tok.slice(0, i).toLowerCase();
    const value = tok.slice(i + 1);
    if (!(KEYS as readonly string[]).includes(key)) {
      throw bad(`unknown key "${tok.slice(0, i)}" (expected ${KEYS.join(', ')})`);
    }
    if (seen.has(key as Key)) throw bad(`${key} is given twice`);
    if (value.length === 0) throw bad(`${key} has an empty value`);
    seen.set(key as Key, value);
  }

  let trtype: TrType = 'TCP';
  const tt = seen.get('trtype');
  if (tt !== undefined) {
    switch (tt.toLowerCase()) {
      case 'tcp': trtype = 'TCP'; break;
      case 'pcie': throw new UsageError('transport PCIe is not supported yet');
      case 'rdma': throw new UsageError('transport RDMA is not supported yet');
      case 'fc': throw new UsageError('transport FC is not supported yet');
      default: throw bad(`trtype "${tt}" is not one of TCP, RDMA, PCIe`);
    }
  }

  const af = seen.get('adrfam');
  if (af !== undefined) {
    switch (af.toLowerCase()) {
      case 'ipv4': break;
      case 'ipv6': throw new UsageError('adrfam IPv6 is not supported yet (use an IPv4 traddr)');
      case 'ib': case 'fc': case 'intra_host':
        throw bad(`adrfam "${af}" does not apply to TCP (use IPv4)`);
      default: throw bad(`adrfam "${af}" is not one of IPv4, IPv6`);
    }
  }

  const traddr = seen.get('traddr');
  if (traddr === undefined) throw bad('traddr is required (e.g. traddr:127.0.0.1)');
  if (!isIpv4(traddr)) {
    if (traddr.includes(':')) throw new UsageError(`adrfam IPv6 is not supported yet: traddr "${traddr}" looks like an IPv6 address`);
    throw bad(`traddr "${traddr}" is not an IPv4 address`);
  }

  let trsvcid = DEFAULT_TRSVCID;
  const sv = seen.get('trsvcid');
  if (sv !== undefined) {
    const n = /^\d{1,5}$/.test(sv) ? Number(sv) : NaN;
    if (!(n >= 1 && n <= 65535)) throw bad(`trsvcid "${sv}" is not a port number (1..65535)`);
    trsvcid = n;
  }

  const trid: TransportId = { trtype, adrfam: 'IPv4', traddr, trsvcid };
  const subnqn = seen.get('subnqn');
  if (subnqn !== undefined) {
    const p = nqnProblem('subnqn', subnqn);
    if (p) throw bad(p);
    trid.subnqn = subnqn;
  }
  const hostnqn = seen.get('hostnqn');
  if (hostnqn !== undefined) {
    const p = nqnProblem('hostnqn', hostnqn);
    if (p) throw bad(p);
    trid.hostnqn = hostnqn;
  }
  const ns = seen.get('ns');
  if (ns !== undefined) {
    const n = /^\d{1,10}$/.test(ns) ? Number(ns) : NaN;
    if (!(n >= 1 && n <= 0xfffffffe)) throw bad(`ns "${ns}" is not a namespace ID (1..4294967294)`);
    trid.ns = n;
  }
  return trid;
}

/** Formats a TRID the way SPDK prints one: `trtype:TCP adrfam:IPv4 traddr:... trsvcid:... [subnqn:...]`. */
export function formatTrid(t: TransportId): string {
  let s = `trtype:${t.trtype} adrfam:${t.adrfam} traddr:${t.traddr} trsvcid:${t.trsvcid}`;
  if (t.subnqn !== undefined) s += ` subnqn:${t.subnqn}`;
  if (t.hostnqn !== undefined) s += ` hostnqn:${t.hostnqn}`;
  if (t.ns !== undefined) s += ` ns:${t.ns}`;
  return s;
}
