// `nvmf-perf identify -r TRID`: connect, print Identify Controller (like `nvme id-ctrl`) and each
// active namespace (like `nvme id-ns`), shut down.
import { Command } from 'commander';
import { Controller, type ControllerOptions } from '../host/controller.js';
import { discoverLog } from '../host/discovery.js';
import type { Namespace } from '../host/namespace.js';
import { formatTrid, parseTrid } from '../host/trid.js';
import { SubType } from '../nvme/discovery-log.js';
import { formatIndex, type IdentifyController } from '../nvme/identify.js';
import { DISCOVERY_NQN } from '../nvme/opcodes.js';
import { formatVersion } from '../nvme/registers.js';
import { ConnectError } from '../transport/errors.js';
import type { TransportId } from '../transport/transport.js';
import { addConnectOptions, controllerOptionsFrom, type ConnectCliOptions } from './connect-options.js';

/** printf("%#x"): 0 → "0", else 0x-prefixed lowercase hex. */
function hx(v: number | bigint): string {
  return v === 0 || v === 0n ? '0' : `0x${v.toString(16)}`;
}

function hexBytes(u8: Uint8Array): string {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.length).toString('hex');
}

function kv(width: number, key: string, value: string | number): string {
  return `${key.padEnd(width)}: ${value}`;
}

/** Text like `nvme id-ctrl` (the fields an NVMe-oF controller fills in). */
export function formatIdentifyController(c: IdentifyController): string {
  const ieee = [c.ieee & 0xff, (c.ieee >>> 8) & 0xff, (c.ieee >>> 16) & 0xff]
    .map((b) => b.toString(16).padStart(2, '0')).reverse().join('');
  const rows: Array<[string, string | number]> = [
    ['vid', hx(c.vid)], ['ssvid', hx(c.ssvid)], ['sn', c.sn], ['mn', c.mn], ['fr', c.fr], ['rab', c.rab],
    ['ieee', ieee], ['cmic', hx(c.cmic)], ['mdts', c.mdts], ['cntlid', hx(c.cntlid)], ['ver', hx(c.ver)],
    ['rtd3r', hx(c.rtd3r)], ['rtd3e', hx(c.rtd3e)], ['oaes', hx(c.oaes)], ['ctratt', hx(c.ctratt)],
    ['cntrltype', c.cntrltype], ['oacs', hx(c.oacs)], ['acl', c.acl], ['aerl', c.aerl], ['frmw', hx(c.frmw)],
    ['lpa', hx(c.lpa)], ['elpe', c.elpe], ['npss', c.npss], ['kas', c.kas], ['sqes', hx(c.sqes)],
    ['cqes', hx(c.cqes)], ['maxcmd', c.maxcmd], ['nn', c.nn], ['oncs', hx(c.oncs)], ['fuses', hx(c.fuses)],
    ['fna', hx(c.fna)], ['vwc', hx(c.vwc)], ['awun', c.awun], ['awupf', c.awupf], ['sgls', hx(c.sgls)],
    ['subnqn', c.subnqn], ['ioccsz', c.ioccsz], ['iorcsz', c.ioresz], ['icdoff', c.icdoff],
    ['fcatt', hx(c.fcatt)], ['msdbd', c.msdbd], ['ofcs', c.ofcs],
  ];
  return ['NVME Identify Controller:', ...rows.map(([k, v]) => kv(10, k, v))].join('\n') + '\n';
}

/** Text like `nvme id-ns`, plus the block size in use. */
export function formatIdentifyNamespace(ns: Namespace): string {
  const n = ns.identify;
  const inUse = formatIndex(n.flbas);
  const lines = [
    `NVME Identify Namespace ${ns.nsid}:`,
    kv(8, 'nsze', hx(n.nsze)), kv(8, 'ncap', hx(n.ncap)), kv(8, 'nuse', hx(n.nuse)),
    kv(8, 'nsfeat', hx(n.nsfeat)), kv(8, 'nlbaf', n.nlbaf), kv(8, 'flbas', hx(n.flbas)), kv(8, 'mc', hx(n.mc)),
    kv(8, 'dpc', hx(n.dpc)), kv(8, 'dps', hx(n.dps)), kv(8, 'nmic', hx(n.nmic)), kv(8, 'dlfeat', n.dlfeat),
    kv(8, 'nsattr', n.nsattr), kv(8, 'nguid', hexBytes(n.nguid)), kv(8, 'eui64', hexBytes(n.eui64)),
  ];
  n.lbaf.forEach((f, i) => {
    lines.push(`lbaf ${String(i).padStart(2)} : ms:${String(f.ms).padEnd(3)} lbads:${String(f.lbads).padEnd(2)} rp:${hx(f.rp)}${i === inUse ? ' (in use)' : ''}`);
  });
  lines.push(`block size: ${ns.blockSize} bytes, ${ns.sizeBlocks} blocks (${ns.sizeBytes} bytes)`);
  return lines.join('\n') + '\n';
}

function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return hexBytes(v);
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, jsonSafe(x)]));
  }
  return v;
}

export function identifyJson(ctrl: Controller, namespaces: ReadonlyArray<Namespace> = ctrl.namespaces): unknown {
  return jsonSafe({
    trid: formatTrid({ ...ctrl.trid, subnqn: ctrl.subnqn }),
    cntlid: ctrl.cntlid,
    version: formatVersion(ctrl.vs),
    cap: { raw: `0x${ctrl.capRaw.toString(16)}`, ...ctrl.cap },
    maxTransferBytes: ctrl.maxTransferBytes,
    maxIoQueueDepth: ctrl.maxIoQueueDepth,
    ioQueuesGranted: ctrl.ioQueuesGranted,
    kato: ctrl.kato,
    controller: ctrl.identify,
    namespaces: namespaces.map((ns) => ({
      nsid: ns.nsid, blockSize: ns.blockSize, sizeBlocks: ns.sizeBlocks, sizeBytes: ns.sizeBytes, identify: ns.identify,
    })),
  });
}

/**
 * The subsystem to identify when the TRID names none: the first NVM subsystem in the discovery log
 * served at the same address and port (its subnqn only: the entry's traddr may be an address the
 * target sees, e.g. inside a VM, so we keep the TRID's address).
 */
export function resolveSubnqn(trid: TransportId, opts: ControllerOptions): string {
  if (trid.subnqn !== undefined) return trid.subnqn;
  const log = discoverLog({ ...trid, subnqn: DISCOVERY_NQN }, opts);
  const nvm = log.entries.find((e) => e.subtype === SubType.Nvme);
  if (!nvm) {
    throw new ConnectError(`no NVM subsystem in the discovery log of ${trid.traddr}:${trid.trsvcid}; give subnqn in the transport ID`);
  }
  return nvm.subnqn;
}

export function registerIdentifyCommand(program: Command): void {
  const cmd = program
    .command('identify')
    .description('print Identify Controller and Identify Namespace data (like `nvme id-ctrl` / `nvme id-ns`)');
  addConnectOptions(cmd,
    "controller, e.g. 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:NQN' (trsvcid defaults to 4420; "
      + 'without subnqn the first NVM subsystem of the discovery log at that address is used)')
    .action((o: ConnectCliOptions) => {
      const trid = parseTrid(o.transportId);
      const opts: ControllerOptions = controllerOptionsFrom(o);
      const subnqn = resolveSubnqn(trid, opts);
      const ctrl = Controller.connect({ ...trid, subnqn }, { ...opts, keepAlive: false });
      let out: string;
      try {
        const nsList = trid.ns !== undefined ? ctrl.namespaces.filter((n) => n.nsid === trid.ns) : ctrl.namespaces;
        if (o.json) {
          out = JSON.stringify(identifyJson(ctrl, nsList), null, 2) + '\n';
        } else {
          out = formatIdentifyController(ctrl.identify);
          for (const ns of nsList) out += '\n' + formatIdentifyNamespace(ns);
        }
      } catch (e) {
        ctrl.disconnect();
        throw e;
      }
      ctrl.shutdown();
      process.stdout.write(out);
    });
}
