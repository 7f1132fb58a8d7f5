// The data structures this target returns: Identify Controller / Namespace / NS descriptor list /
// active NS list, and log pages (SMART, firmware slot, commands supported and effects, discovery).
// Built with the encoders in src/nvme; values follow what the Linux host checks (notes §9.14).
import { MAX_NSID } from './namespace-change.js';
import {
  IDENTIFY_SIZE, Nidt, Oncs, encodeActiveNsList, encodeIdentifyController, encodeIdentifyNamespace,
  encodeNsDescriptors, type IdentifyController,
} from '../nvme/identify.js';
import { AdrFam, SubType, TrType, discoveryLogSize, encodeDiscoveryLog, type DiscoveryLogEntry } from '../nvme/discovery-log.js';
import { SMART_LOG_SIZE, encodeSmartLog } from '../nvme/log-pages.js';
import { AdminOpcode, NvmOpcode } from '../nvme/opcodes.js';
import { encodeVersion } from '../nvme/registers.js';
import { DISCOVERY_NQN, hostAllowed, type ListenerInfo, type NamespaceIdentity, type SubsystemDescriptor } from './subsystem.js';

/** NVMe version we report in VS and Identify VER. */
export const TARGET_NVME_VERSION = encodeVersion(1, 3, 0);
/** Keep Alive Support granularity, 100 ms units (1 s like Linux nvmet). Must be ≠ 0 for Linux hosts. */
export const KAS = 10;
/** Outstanding Async Event Requests allowed, 0's based. */
export const AERL = 3;
/** ADMIN queue entries hosts use; also the discovery log ASQSZ. */
export const ADMIN_QUEUE_ENTRIES = 32;
/** In-capsule data always accepted on the admin queue and for Fabrics commands (transport binding). */
export const ADMIN_ICD_BYTES = 8192;

export interface ControllerLimits {
  maxQueueDepth: number;
  inCapsuleDataSize: number;
  maxIoSize: number;
}

/** SGLS: bit 0 SGLs supported (any alignment), bit 20 SGL offset / in-capsule data (as Linux nvmet sets). */
export const TARGET_SGLS = (1 << 0) | (1 << 20);

export function mdtsFor(maxIoSize: number): number {
  return Math.round(Math.log2(maxIoSize / 4096));
}

/** Identify Controller (CNS 1) for an I/O controller of `sub` or for the discovery controller. */
export function buildIdentifyController(out: Uint8Array, sub: SubsystemDescriptor, discovery: boolean,
  limits: ControllerLimits, cntlid: number): void {
  const c: IdentifyController = {
    vid: 0, ssvid: 0,
    sn: sub.serial, mn: sub.model, fr: sub.firmware.slice(0, 8),
    rab: 6, ieee: 0,
    // bit 0 multi-port (several --listen), bit 1 multi-controller: several controllers of one host
    // (perf workers each bring up their own) are only accepted by Linux with bit 1 set.
    cmic: discovery ? 0 : 0x03,
    mdts: mdtsFor(limits.maxIoSize),
    cntlid,
    ver: TARGET_NVME_VERSION,
    rtd3r: 0, rtd3e: 0,
    oaes: discovery ? 0 : 1 << 8, // Namespace Attribute Notices (namespaces added / removed at run time)
    ctratt: 1, // 128-bit host identifier
    cntrltype: discovery ? 2 : 1,
    oacs: 0,
    acl: 3,
    aerl: AERL,
    frmw: 0x03, // slot 1 read-only, one slot
    lpa: discovery ? 0x04 : 0x07, // per-NS SMART, commands effects log, extended data (NUMDU, LPO)
    elpe: 0,
    npss: 0,
    kas: KAS,
    sqes: 0x66,
    cqes: 0x44,
    maxcmd: limits.maxQueueDepth,
    nn: discovery ? 0 : MAX_NSID, // NSIDs up to this may be added at run time
    oncs: discovery ? 0 : Oncs.Dsm | Oncs.WriteZeroes,
    fuses: 0, fna: 0,
    vwc: discovery ? 0 : 1, // a volatile write cache: Linux hosts then send Flush
    awun: 0, awupf: 0,
    sgls: TARGET_SGLS,
    subnqn: discovery ? DISCOVERY_NQN : sub.nqn,
    ioccsz: (64 + (discovery ? ADMIN_ICD_BYTES : limits.inCapsuleDataSize)) / 16,
    ioresz: 1,
    icdoff: 0,
    fcatt: 0, // dynamic controller model
    msdbd: 1,
    ofcs: discovery ? 0 : 1, // Disconnect supported on I/O queues
  };
  encodeIdentifyController(out, c);
}

/** Identify Namespace (CNS 0). */
export function buildIdentifyNamespace(out: Uint8Array, ns: NamespaceIdentity): void {
  const blocks = BigInt(ns.blocks);
  encodeIdentifyNamespace(out, {
    nsze: blocks, ncap: blocks, nuse: blocks,
    nsfeat: 0,
    nlbaf: 0,
    flbas: 0,
    mc: 0, dpc: 0, dps: 0,
    nmic: 1, // may be attached to several controllers (CMIC bit 1)
    // ram/null: deallocated blocks read as zeroes, Write Zeroes may deallocate. file: not reported
    // (Dataset Management deallocate is a no-op there).
    dlfeat: ns.kind === 'file' ? 0 : 0x09,
    nsattr: 0,
    nguid: ns.nguid,
    eui64: ns.eui64,
    lbaf: [{ ms: 0, lbads: Math.log2(ns.blockSize), rp: 0 }],
  });
}

/** NS Identification Descriptor list (CNS 3): EUI64, NGUID, CSI (NVM). */
export function buildNsDescriptors(out: Uint8Array, ns: NamespaceIdentity): void {
  encodeNsDescriptors(out, [
    { nidt: Nidt.Eui64, nid: ns.eui64 },
    { nidt: Nidt.Nguid, nid: ns.nguid },
    { nidt: Nidt.Csi, nid: new Uint8Array([0]) },
  ]);
}

/** Active NSID list (CNS 2): NSIDs greater than `after`, ascending. */
export function buildActiveNsList(out: Uint8Array, sub: SubsystemDescriptor, after: number): void {
  encodeActiveNsList(out, sub.namespaces.map((n) => n.nsid).filter((id) => id > after));
}

export interface SmartCounters {
  readCommands: bigint;
  writeCommands: bigint;
  /** 512-byte units. */
  readUnits512: bigint;
  writeUnits512: bigint;
  powerOnHours: bigint;
}

/** SMART / Health Information (LID 0x02, 512 bytes); data units are thousands of 512-byte units, rounded up. */
export function buildSmartLog(out: Uint8Array, c: SmartCounters): void {
  encodeSmartLog(out, {
    criticalWarning: 0,
    temperatureK: 273 + 25,
    availableSpare: 100,
    availableSpareThreshold: 10,
    percentageUsed: 0,
    dataUnitsRead: (c.readUnits512 + 999n) / 1000n,
    dataUnitsWritten: (c.writeUnits512 + 999n) / 1000n,
    hostReadCommands: c.readCommands,
    hostWriteCommands: c.writeCommands,
    powerOnHours: c.powerOnHours,
  });
  // Power cycles (offset 112, 128-bit): 1.
  out[112] = 1;
}

export const SMART_SIZE = SMART_LOG_SIZE;

/** Firmware Slot Information (LID 0x03, 512 bytes): slot 1 active, holding `fr`. */
export function buildFirmwareSlotLog(out: Uint8Array, fr: string): void {
  out.fill(0, 0, 512);
  out[0] = 1;
  for (let i = 0; i < 8; i++) out[8 + i] = i < fr.length ? fr.charCodeAt(i) & 0x7f : 0x20;
}

/** Commands Supported and Effects (LID 0x05, 4096 bytes): CSUPP (bit 0), LBCC (bit 1) for writes. */
export function buildCommandEffectsLog(out: Uint8Array, discovery: boolean): void {
  out.fill(0, 0, 4096);
  const dv = new DataView(out.buffer, out.byteOffset, 4096);
  const admin = discovery
    ? [AdminOpcode.GetLogPage, AdminOpcode.Identify, AdminOpcode.SetFeatures, AdminOpcode.GetFeatures,
      AdminOpcode.AsyncEventRequest, AdminOpcode.KeepAlive]
    : [AdminOpcode.GetLogPage, AdminOpcode.Identify, AdminOpcode.Abort, AdminOpcode.SetFeatures,
      AdminOpcode.GetFeatures, AdminOpcode.AsyncEventRequest, AdminOpcode.KeepAlive];
  for (const op of admin) dv.setUint32(op * 4, 1, true);
  if (!discovery) {
    dv.setUint32(1024 + NvmOpcode.Flush * 4, 1, true);
    dv.setUint32(1024 + NvmOpcode.Read * 4, 1, true);
    for (const op of [NvmOpcode.Write, NvmOpcode.WriteZeroes, NvmOpcode.DatasetManagement]) {
      dv.setUint32(1024 + op * 4, 0x3, true);
    }
  }
}

/** Discovery log entries: one per (subsystem the host may use, listener). */
export function discoveryEntries(subs: SubsystemDescriptor[], listeners: ListenerInfo[], hostnqn: string): DiscoveryLogEntry[] {
  const out: DiscoveryLogEntry[] = [];
  for (const sub of subs) {
    if (!hostAllowed(sub, hostnqn)) continue;
    for (const l of listeners) {
      out.push({
        trtype: TrType.TCP,
        adrfam: AdrFam.IPv4,
        subtype: SubType.Nvme,
        // Secure channel not specified (0); bit 2: SQ flow control disable supported (as Linux nvmet).
        treq: 0x04,
        portid: l.portId,
        cntlid: 0xffff,
        asqsz: ADMIN_QUEUE_ENTRIES,
        eflags: 0,
        trsvcid: String(l.port),
        subnqn: sub.nqn,
        traddr: l.host,
        sectype: 0,
      });
    }
  }
  return out;
}

/** The whole discovery log page (header + entries). */
export function buildDiscoveryLog(entries: DiscoveryLogEntry[], genctr = 1n): Uint8Array {
  const u8 = new Uint8Array(discoveryLogSize(entries.length));
  encodeDiscoveryLog(u8, genctr, entries);
  return u8;
}

export { IDENTIFY_SIZE };
