// `nvmf-perf discover -r TRID`: read the discovery log page, printed like `nvme discover`.
import { Command } from 'commander';
import { discoverLog, type DiscoveryLog } from '../host/discovery.js';
import { parseTrid } from '../host/trid.js';
import type { DiscoveryLogEntry } from '../nvme/discovery-log.js';
import { DISCOVERY_NQN } from '../nvme/opcodes.js';
import { addConnectOptions, controllerOptionsFrom, type ConnectCliOptions } from './connect-options.js';

const TRTYPES: Record<number, string> = { 1: 'rdma', 2: 'fc', 3: 'tcp', 254: 'loop' };
const ADRFAMS: Record<number, string> = { 1: 'ipv4', 2: 'ipv6', 3: 'infiniband', 4: 'fibre-channel', 254: 'intra-host' };
const SUBTYPES: Record<number, string> = { 1: 'discovery subsystem referral', 2: 'nvme subsystem', 3: 'current discovery subsystem' };
const TREQ_SECURE: Record<number, string> = { 0: 'not specified', 1: 'required', 2: 'not required', 3: 'reserved' };
const SECTYPES: Record<number, string> = { 0: 'none', 1: 'tls1.2', 2: 'tls1.3' };

function named(table: Record<number, string>, v: number): string {
  return table[v] ?? `unrecognized (${v})`;
}

export function treqText(treq: number): string {
  let s = named(TREQ_SECURE, treq & 3);
  if (treq & 4) s += ', sq flow control disable supported';
  return s;
}

export function eflagsText(eflags: number): string {
  const parts: string[] = [];
  if (eflags & 1) parts.push('duplicate discovery information');
  if (eflags & 2) parts.push('explicit discovery connections');
  if (eflags & 4) parts.push('no cdc connectivity');
  return parts.length ? parts.join(', ') : 'none';
}

function entryView(e: DiscoveryLogEntry): Record<string, string | number> {
  return {
    trtype: named(TRTYPES, e.trtype),
    adrfam: named(ADRFAMS, e.adrfam),
    subtype: named(SUBTYPES, e.subtype),
    treq: treqText(e.treq),
    portid: e.portid,
    trsvcid: e.trsvcid,
    subnqn: e.subnqn,
    traddr: e.traddr,
    eflags: eflagsText(e.eflags),
    sectype: e.trtype === 3 ? named(SECTYPES, e.sectype) : 'none',
  };
}

/** Text like `nvme discover`. */
export function formatDiscoveryLog(log: DiscoveryLog): string {
  const lines = [`Discovery Log Number of Records ${log.numrec}, Generation counter ${log.genctr}`];
  log.entries.forEach((e, i) => {
    lines.push(`=====Discovery Log Entry ${i}======`);
    for (const [k, v] of Object.entries(entryView(e))) lines.push(`${`${k}:`.padEnd(9)}${v}`);
  });
  return lines.join('\n') + '\n';
}

/** JSON like `nvme discover -o json`, plus the raw numeric fields. */
export function discoveryLogJson(log: DiscoveryLog): unknown {
  return {
    genctr: Number(log.genctr),
    records: log.entries.map((e) => ({ ...entryView(e), cntlid: e.cntlid, asqsz: e.asqsz, raw: { ...e } })),
  };
}

export function registerDiscoverCommand(program: Command): void {
  const cmd = program
    .command('discover')
    .description('read the discovery log of an NVMe-oF discovery controller (like `nvme discover`)');
  addConnectOptions(cmd,
    `discovery controller, e.g. 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:8009' (trsvcid defaults to 4420; subnqn, if given, must be ${DISCOVERY_NQN})`)
    .action((o: ConnectCliOptions) => {
      const trid = parseTrid(o.transportId);
      const log = discoverLog(trid, controllerOptionsFrom(o));
      process.stdout.write(o.json ? JSON.stringify(discoveryLogJson(log), null, 2) + '\n' : formatDiscoveryLog(log));
    });
}
