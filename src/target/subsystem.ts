// Subsystem description shared (by structured clone) with every reactor: NQN, identity strings,
// allowed hosts, and per-namespace identifiers. Also the discovery subsystem's listener list.
import { createHash } from 'node:crypto';
import { DISCOVERY_NQN } from '../nvme/opcodes.js';

export interface NamespaceIdentity {
  nsid: number;
  kind: 'ram' | 'null' | 'file';
  blocks: number;
  blockSize: number;
  /** 16 bytes, unique per namespace (Linux ignores namespaces with duplicate IDs). */
  nguid: Uint8Array;
  /** 8 bytes. */
  eui64: Uint8Array;
  /** What the user asked for, for logs ("ram:1GiB", "file:/x"). */
  label: string;
}

export interface SubsystemDescriptor {
  nqn: string;
  serial: string;
  model: string;
  firmware: string;
  /** Empty: any host. */
  allowHosts: string[];
  namespaces: NamespaceIdentity[];
}

export interface ListenerInfo {
  host: string;
  /** The real port (after an ephemeral bind). */
  port: number;
  /** Discovery log PORTID (1-based). */
  portId: number;
}

/** Index of the discovery subsystem in ControllerRegistry entries; NVM subsystems start at 1. */
export const DISCOVERY_SUBSYS_INDEX = 0;
export const NVM_SUBSYS_INDEX = 1;

export { DISCOVERY_NQN };

/** Serial number derived from the subsystem NQN: stable across runs, ≤ 20 characters. */
export function deriveSerial(nqn: string): string {
  return createHash('sha256').update(`nvmf-perf serial ${nqn}`).digest('hex').slice(0, 20);
}

/** NGUID (16 B) and EUI64 (8 B) derived from subsystem NQN, serial and NSID: unique per namespace. */
export function deriveNamespaceIds(nqn: string, serial: string, nsid: number): { nguid: Uint8Array; eui64: Uint8Array } {
  const h = createHash('sha256').update(`nvmf-perf ns ${nqn} ${serial} ${nsid}`).digest();
  const nguid = new Uint8Array(h.subarray(0, 16));
  const eui64 = new Uint8Array(h.subarray(16, 24));
  // Never all-zero (zero means "not reported").
  if (nguid.every((b) => b === 0)) nguid[15] = nsid & 0xff || 1;
  if (eui64.every((b) => b === 0)) eui64[7] = nsid & 0xff || 1;
  return { nguid, eui64 };
}

/** True when `hostnqn` may connect to the subsystem. */
export function hostAllowed(sub: SubsystemDescriptor, hostnqn: string): boolean {
  return sub.allowHosts.length === 0 || sub.allowHosts.includes(hostnqn);
}
