// Local targets of a run: positional files/block devices and PCIe TRIDs, each namespace opened and
// probed in the main thread (src/transport/local), presented to the planner the way a connected
// controller is (queues, depth, max transfer, qpair params), so the same workers drive them.
import { closeSync, openSync } from 'node:fs';
import { native } from '../native/index.js';
import { openLocalDevice, type LocalDevice } from '../transport/local/local-device.js';
import { findPcieController, parsePcieTrid, type PcieController } from '../transport/local/pcie-lookup.js';
import type { QpairConnectParams } from '../transport/transport.js';
import type { PerfConfig } from './config.js';
import type { TargetInfo } from './run-record.js';

/** Queues a local device offers: one io_uring per qpair, as many as workers × -P need. */
const LOCAL_MAX_QUEUES = 65535;
/** Largest command: the run's largest I/O is never split (io_uring takes up to 2 GiB). */
const LOCAL_MAX_TRANSFER = 64 * 1024 * 1024;
/** SQ entries per ring at most (the kernel's IORING_MAX_ENTRIES is 32768). */
const LOCAL_MAX_DEPTH = 32768;

export interface LocalTarget {
  device: LocalDevice;
  info: TargetInfo;
  /** Table label: "file /tmp/x (O_DIRECT)". */
  label: string;
  readonly ioQueuesGranted: number;
  readonly maxIoQueueDepth: number;
  readonly maxTransferBytes: number;
  readonly cntlid: number;
  ioQpairParams(qid: number, depth: number): QpairConnectParams;
}

/** True when the run goes to local devices (positional paths or a PCIe TRID) instead of fabrics. */
export function isLocalRun(config: Pick<PerfConfig, 'devices' | 'transportIds'>): boolean {
  return (config.devices?.length ?? 0) > 0 || config.transportIds.some((t) => parsePcieTrid(t) !== undefined);
}

export function resolveLocalTargets(config: PerfConfig, log: (msg: string) => void): LocalTarget[] {
  const ioSizes = config.bssplit ? config.bssplit.map((e) => e.bytes) : [config.ioSize];
  const out: LocalTarget[] = [];
  const add = (path: string, transport: 'local' | 'PCIe', ctrl?: PcieController): void => {
    const dev = openLocalDevice(path, {
      ioSize: config.ioSize, ioSizes, mode: config.mode,
      ...(ctrl && ctrl.pollQueues === 0
        ? { iopollPossible: false, iopollWhy: `${ctrl.name} has no poll queues (boot with nvme.poll_queues=N, or reload the nvme module with poll_queues=N)` }
        : {}),
    });
    for (const n of dev.notes) log(n);
    out.push(localTarget(dev, transport, config, ctrl));
  };
  for (const p of config.devices ?? []) add(p, 'local');
  for (const text of config.transportIds) {
    const trid = parsePcieTrid(text);
    if (!trid) continue;
    const ctrl = findPcieController(trid, undefined, nsidOf);
    for (const ng of ctrl.generic) add(ng, 'PCIe', ctrl);
  }
  return out;
}

function nsidOf(path: string): number {
  const fd = openSync(path, 'r');
  try { return native.nvmeNsid(fd); } finally { closeSync(fd); }
}

function localTarget(dev: LocalDevice, transport: 'local' | 'PCIe', config: PerfConfig, ctrl?: PcieController): LocalTarget {
  const trid = ctrl ? `trtype:PCIe traddr:${ctrl.traddr} ns:${dev.nsid}` : dev.path;
  const what = dev.kind === 'nvme-passthrough' ? `PCIe (${ctrl?.traddr ?? dev.path} ${dev.path})` : `${dev.kind} ${dev.path}`;
  const label = `${what} NSID ${dev.nsid} (io_uring ${dev.kernelPath}${dev.iopoll ? ', iopoll' : ''})`;
  // Passthrough commands bypass the block layer's splitting: keep each within what the controller takes.
  const maxTransferBytes = ctrl ? ctrl.maxTransferBytes : LOCAL_MAX_TRANSFER;
  return {
    device: dev, label, ioQueuesGranted: LOCAL_MAX_QUEUES, maxIoQueueDepth: LOCAL_MAX_DEPTH, maxTransferBytes, cntlid: 0,
    info: {
      trid, subnqn: '', cntlid: 0, mn: ctrl?.model ?? '', sn: ctrl?.serial ?? '', fr: ctrl?.firmware ?? '', version: '',
      maxTransferBytes, ioQueuesGranted: LOCAL_MAX_QUEUES,
      namespaces: [{ nsid: dev.nsid, blockSize: dev.blockSize, sizeBlocks: dev.sizeBlocks, sizeBytes: dev.sizeBlocks * dev.blockSize }],
      local: { transport, device: dev.path, kind: dev.kind, engine: 'io_uring', kernelPath: dev.kernelPath, iopoll: dev.iopoll,
        fixedBuffers: dev.fixedBuffers, ...(ctrl ? { pciAddress: ctrl.traddr, controller: ctrl.name } : {}) },
    },
    ioQpairParams(qid: number, depth: number): QpairConnectParams {
      return {
        trtype: transport, traddr: '', trsvcid: 0, subnqn: '', hostnqn: '', hostId: '', cntlid: 0, qid, depth, kato: 0,
        hdgst: false, ddgst: false, ioccsz: 0, maxTransferBytes, disableSqFlowControl: false, connectTimeoutMs: 0,
        local: { path: dev.path, kind: dev.kind, direct: dev.direct, iopoll: dev.iopoll, interrupt: config.mode === 'interrupt',
          nsid: dev.nsid, blockSize: dev.blockSize, fixedBuffers: dev.fixedBuffers },
      };
    },
  };
}
