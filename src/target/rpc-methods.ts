// JSON-RPC methods of the built-in target, with SPDK's method and field names so the same sampler
// reads our target and SPDK's nvmf_tgt: framework_get_reactors, nvmf_get_stats. busy/idle are
// reported in ns with tick_rate 1e9. nvmf_perf_test_hold_io is ours and for tests only (fault
// injection: hold I/O commands unanswered, to exercise a host's I/O timeouts).
import { RpcError, type JsonValue, type RpcHandler } from '../rpc/server.js';
import type { RunningTarget } from './target.js';
import { parseNamespace } from './config.js';

const TICK_RATE = 1e9;

export function targetRpcMethods(t: RunningTarget): Record<string, RpcHandler> {
  return {
    framework_get_reactors: (): JsonValue => ({
      tick_rate: TICK_RATE,
      reactors: t.stats().map((s) => ({
        lcore: s.cpu,
        tid: t.reactorTids[s.index] ?? 0,
        busy: Math.round(s.busyNs),
        idle: Math.round(s.idleNs),
        in_interrupt: t.config.interruptMode,
        // Ours: idle split into spinning (awake, empty passes) and sleeping, and how often it slept.
        spin: Math.round(s.spinNs),
        sleep: Math.round(s.sleepNs),
        sleeps: s.sleeps,
        wakeups: s.wakeups,
        spin_windows: s.spinWindows,
        spin_hits: s.spinHits,
        spin_us: t.config.interruptMode ? t.config.spinUs : 0,
        coalesce_us: t.config.interruptMode ? t.config.coalesceUs : 0,
        coalesced_sleeps: s.coalescedSleeps,
        coalesce_backoffs: s.coalesceBackoffs,
        passes: s.passes,
        cpu_ns: Math.round(s.cpuNs),
        connections: s.connections,
        qpairs: s.adminQpairs + s.ioQpairs,
        lw_threads: [{ name: `nvmf_tgt_poll_group_${s.index}`, id: s.index + 1 }],
        // Not SPDK's: what ended the sleeps (another thread's eventfd, a socket), and buffering.
        eventfd_wakeups: s.eventfdWakeups,
        socket_wakeups: s.socketWakeups,
        conn_buffer_max: s.connBufferMax,
        file_io: s.fileRing ? 'uring' : 'sync',
        file_ring_completions: s.fileRingCompletions,
        file_ring_orphaned: s.fileRingOrphaned,
      })),
    }),
    nvmf_get_stats: (): JsonValue => ({
      tick_rate: TICK_RATE,
      poll_groups: t.stats().map((s) => ({
        name: `nvmf_tgt_poll_group_${s.index}`,
        admin_qpairs: s.adminQpairsTotal,
        io_qpairs: s.ioQpairsTotal,
        current_admin_qpairs: s.adminQpairs,
        current_io_qpairs: s.ioQpairs,
        pending_bdev_io: 0,
        completed_nvme_io: s.ioCommands,
        transports: [{ trtype: 'TCP' }],
      })),
    }),
    nvmf_perf_test_hold_io: (params): JsonValue => {
      const p = (params ?? {}) as { count?: unknown; abortable?: unknown };
      const count = p.count;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 0x7fffffff) {
        throw new RpcError(-32602, 'nvmf_perf_test_hold_io: "count" must be an integer ≥ 0');
      }
      if (p.abortable !== undefined && typeof p.abortable !== 'boolean') throw new RpcError(-32602, 'nvmf_perf_test_hold_io: "abortable" must be a boolean');
      t.holdIo(count, p.abortable ?? true);
      return true;
    },
    // SPDK's names and shapes: {nqn, namespace: {bdev_name, nsid?}} → nsid; {nqn, nsid}. Our "bdevs" are
    // namespace specs (ram:SIZE, null:SIZE, file:PATH). Controllers get a Namespace Attribute Changed event.
    nvmf_subsystem_add_ns: (params): JsonValue => {
      const p = (params ?? {}) as { nqn?: unknown; namespace?: { bdev_name?: unknown; nsid?: unknown } };
      checkNqn(t, p.nqn);
      const spec = p.namespace?.bdev_name;
      if (typeof spec !== 'string') throw new RpcError(-32602, 'nvmf_subsystem_add_ns: namespace.bdev_name must be ram:SIZE, null:SIZE or file:PATH');
      const nsid = p.namespace?.nsid;
      if (nsid !== undefined && (typeof nsid !== 'number' || !Number.isInteger(nsid))) throw new RpcError(-32602, 'nvmf_subsystem_add_ns: namespace.nsid must be an integer');
      try {
        return t.addNamespace(parseNamespace(spec, t.config.blockSize), nsid);
      } catch (e) {
        throw new RpcError(-32602, `nvmf_subsystem_add_ns: ${(e as Error).message}`);
      }
    },
    nvmf_subsystem_remove_ns: (params): JsonValue => {
      const p = (params ?? {}) as { nqn?: unknown; nsid?: unknown };
      checkNqn(t, p.nqn);
      if (typeof p.nsid !== 'number') throw new RpcError(-32602, 'nvmf_subsystem_remove_ns: nsid must be an integer');
      try {
        t.removeNamespace(p.nsid);
      } catch (e) {
        throw new RpcError(-32602, `nvmf_subsystem_remove_ns: ${(e as Error).message}`);
      }
      return true;
    },
    nvmf_get_subsystems: (): JsonValue => [{
      nqn: t.subnqn,
      subtype: 'NVMe',
      listen_addresses: t.listeners.map((l) => ({ trtype: 'TCP', adrfam: 'IPv4', traddr: l.host, trsvcid: String(l.port) })),
      allow_any_host: t.config.allowHosts.length === 0,
      hosts: t.config.allowHosts.map((nqn) => ({ nqn })),
      serial_number: t.subsystem.serial,
      model_number: t.subsystem.model,
      namespaces: t.subsystem.namespaces.map((n) => ({ nsid: n.nsid, name: n.label, block_size: n.blockSize, num_blocks: n.blocks })),
    }],
  };
}

/** The one NVM subsystem: an RPC naming another is an error. */
function checkNqn(t: RunningTarget, nqn: unknown): void {
  if (nqn !== undefined && nqn !== t.subnqn) throw new RpcError(-32602, `no subsystem ${JSON.stringify(nqn)} (this target has ${t.subnqn})`);
}
