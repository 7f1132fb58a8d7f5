// `nvmf-perf target`: run the built-in userspace NVMe/TCP target until SIGINT/SIGTERM.
// Prints exactly one line on stdout once listening (READY ...); everything else goes to stderr.
import * as os from 'node:os';
import { fstatSync } from 'node:fs';
import { Command, Option } from 'commander';
import { native } from '../native/index.js';
import { TARGET_DEFAULTS, parseTargetFlags, type TargetFlags } from '../target/config.js';
import { startTarget } from '../target/target.js';
import { JsonRpcServer } from '../rpc/server.js';
import { targetRpcMethods } from '../target/rpc-methods.js';
import { UsageError, UserError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { writeStderrLine } from '../util/stderr-line.js';

type StopReason = { signal?: NodeJS.Signals; failure?: string };
/** From the stop request (signal, reactor failure, parent gone) to the end of the process, at most. */
const STOP_DEADLINE_MS = 1500;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerTargetCommand(program: Command): void {
  program
    .command('target')
    .description('run the built-in NVMe/TCP target (userspace, poll-mode reactors) until SIGINT/SIGTERM; '
      + 'prints "READY trtype:TCP adrfam:IPv4 traddr:… trsvcid:… subnqn:…" on stdout when listening')
    .option('--listen <addr:port>', `listen on this IPv4 address and port (repeatable; port 0 = ephemeral; default ${TARGET_DEFAULTS.listen})`, collect)
    .option('--subnqn <nqn>', `NQN of the NVM subsystem (default ${TARGET_DEFAULTS.subnqn})`)
    .option('--ns <spec>', `namespace: ram:SIZE (shared memory), null:SIZE (reads zeroes, discards writes) or file:PATH (repeatable, NSIDs 1, 2, … in order; default ${TARGET_DEFAULTS.ns}). SIZE takes B, KiB, MiB, GiB, TiB (K/M/G/T are binary too)`, collect)
    .option('--block-size <bytes>', 'logical block size, 512 or 4096 (default 512, as Linux nvmet on a RAM disk and SPDK\'s malloc bdev)')
    .option('--allow-host <nqn>', 'only these host NQNs may connect to the subsystem (repeatable; default any host)', collect)
    .option('--max-queue-depth <n>', `largest queue a host may connect, CAP.MQES + 1 (default ${TARGET_DEFAULTS.maxQueueDepth})`)
    .option('--in-capsule-data-size <bytes>', `write data carried in the command capsule on I/O queues, multiple of 16 (default ${TARGET_DEFAULTS.inCapsuleDataSize}: 4 and 8 KiB writes need no R2T)`)
    .option('--max-io-size <bytes>', `largest transfer per command (MDTS) and H2CData PDU (MAXH2CDATA), power of two (default ${TARGET_DEFAULTS.maxIoSize / 1024} KiB, as SPDK)`)
    .option('--reactor-mask <mask>', 'reactor CPUs: hex mask 0x3 or list 0-1,3, one pinned reactor thread each (default: the last allowed CPU)')
    .option('--interrupt-mode', 'reactors sleep in epoll_wait when idle instead of spinning (idle target ≈ 0% CPU)')
    .option('--coalesce-us <us>', 'with --interrupt-mode: after a busy pass, sleep this many µs on a timer before looking at the sockets again, so I/Os arriving meanwhile share one wake-up (interrupt coalescing: fewer wake-ups, up to this much more latency; default 0 = off)')
    .option('--spin-us <us>', 'with --interrupt-mode: keep polling this many µs after the last pass that did work before sleeping (0 = sleep at once; default 50)')
    .option('--file-io <how>', 'file namespaces: uring (reads, writes and flushes through each reactor\'s io_uring; the reactor never blocks on the file) or sync (pread/pwrite on the reactor thread); default uring, sync when io_uring cannot be set up')
    .option('--serial <sn>', 'Identify serial number, up to 20 characters (default: derived from the subsystem NQN)')
    .option('--model <mn>', `Identify model number, up to 40 characters (default "${TARGET_DEFAULTS.model}")`)
    .option('--rpc-socket <path>', 'serve JSON-RPC on this Unix socket (framework_get_reactors, nvmf_get_stats, nvmf_get_subsystems; SPDK names)')
    .addOption(new Option('--exit-with-parent', 'stop when the launching process goes away (used by perf runs)').hideHelp())
    .action(async (opts: TargetFlags & { rpcSocket?: string; exitWithParent?: boolean }) => {
      await runTargetCommand(opts, opts.rpcSocket, opts.exitWithParent ?? false);
    });
}

/** The command body: start, print READY, wait for a signal (or a reactor failure), stop. */
export async function runTargetCommand(flags: TargetFlags, rpcSocket?: string, exitWithParent = false): Promise<void> {
  const online = os.cpus().map((_c, i) => i);
  const config = parseTargetFlags(flags, native.allowedCpus(), online);
  if (rpcSocket !== undefined && rpcSocket.length === 0) throw new UsageError('--rpc-socket "": expected a path');
  // Signal handlers first: a launcher may send SIGTERM the moment it reads READY.
  let resolveStop: (why: StopReason) => void = () => undefined;
  const stopRequested = new Promise<StopReason>((resolve) => { resolveStop = resolve; });
  let stopping = false;
  const onStop = (why: StopReason): void => {
    if (stopping) return;
    stopping = true;
    // Whatever the stop waits for, the process ends within STOP_DEADLINE_MS of the request.
    setTimeout(() => {
      writeStderrLine(`nvmf-perf target: the stop did not finish within ${STOP_DEADLINE_MS} ms; exiting anyway\n`);
      native.exitNow(why.failure ? ExitCode.RunFailed : ExitCode.Ok);
    }, STOP_DEADLINE_MS).unref();
    resolveStop(why);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second SIGINT/SIGTERM ends the process at once: with no listener left, Node restores the
    // default action, which works even while the main thread is busy.
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    onStop({ signal });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const target = await startTarget(config);
  let rpc: JsonRpcServer | undefined;
  if (rpcSocket !== undefined) {
    rpc = new JsonRpcServer(targetRpcMethods(target));
    try {
      await rpc.listen(rpcSocket);
    } catch (e) {
      await target.stop();
      const msg = (e as Error).message;
      throw new UsageError(msg.startsWith('--rpc-socket') ? msg : `--rpc-socket ${JSON.stringify(rpcSocket)}: ${msg}`);
    }
  }
  process.stdout.write(`${target.readyLine}\n`);
  const extra = target.listeners.slice(1).map((l) => `${l.host}:${l.port}`);
  const nsText = target.subsystem.namespaces.map((n) => `${n.nsid}=${n.label} (${n.blocks} × ${n.blockSize} B)`).join(', ');
  writeStderrLine(`nvmf-perf target: ${config.subnqn} serial ${target.subsystem.serial}; namespaces ${nsText}; `
    + `reactors on CPU ${config.reactorCpus.join(',')} (${config.interruptMode ? 'interrupt' : 'poll'} mode)`
    + `${extra.length ? `; also listening on ${extra.join(', ')}` : ''}\n`);

  void target.failed.then((failure) => onStop({ failure }));
  if (exitWithParent) {
    // Launched by a perf run: if that process dies without stopping us (SIGKILL, crash), stop rather
    // than spin a core forever. The launcher holds our stdin pipe open and never writes to it, so
    // its end of file says the parent is gone, without a periodic check that would wake an idle target.
    const st = fstatSync(0);
    if (st.isFIFO() || st.isSocket()) {
      process.stdin.on('end', () => onStop({})).on('error', () => onStop({})).resume();
    } else {
      const parent = process.ppid;
      setInterval(() => { if (process.ppid !== parent) onStop({}); }, 500).unref();
    }
  }
  const outcome = await stopRequested;
  await rpc?.close(rpcSocket);
  const stuck = await target.stop();
  if (stuck.length > 0) {
    // process.exit() would join the stuck reactor threads, i.e. wait forever.
    writeStderrLine(`nvmf-perf target: reactor${stuck.length > 1 ? 's' : ''} ${stuck.join(', ')} did not stop; exiting anyway\n`);
    native.exitNow(outcome.failure ? ExitCode.RunFailed : ExitCode.Ok);
  }
  if (outcome.failure) throw new UserError(outcome.failure, ExitCode.RunFailed);
  process.exit(ExitCode.Ok);
}
