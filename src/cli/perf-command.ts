// The perf run: top-level flags of `nvmf-perf`, spdk_nvme_perf's names where they overlap.
import { Command, Option } from 'commander';
import { native } from '../native/index.js';
import { parsePerfOptions, type RawPerfOptions } from './perf-options.js';
import { runPerfCommand } from './perf-run.js';
import { runCompareModes } from './compare-modes.js';
import { RpcTargetSampler } from '../engine/rpc-target-sampler.js';
import { UsageError, UserError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { writableDirProblem } from '../util/ensure-dir.js';
import { dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { htmlTarget, writeComparisonHtml, writeRunHtml } from './report-command.js';

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
const count = (_v: string, prev: number | undefined): number => (prev ?? 0) + 1;

export function registerPerfOptions(program: Command): void {
  program
    .description('Benchmark NVMe-oF targets the way spdk_nvme_perf does. With no -r, launches the built-in '
      + 'NVMe/TCP target on 127.0.0.1 with a RAM namespace.\n'
      + 'Note: -s is the I/O size here (as in older spdk_nvme_perf and in fio\'s bs); newer spdk_nvme_perf '
      + 'uses -o for the I/O size and -s for hugepage memory. -o is accepted as an alias.\n'
      + 'Local devices: give files or block devices as arguments (/dev/nvme0n1, ./data.bin), or a kernel NVMe '
      + "controller with -r 'trtype:PCIe traddr:0000:04:00.0' (io_uring, NVMe passthrough).")
    .allowExcessArguments(true)
    .usage('-q DEPTH -s SIZE -w PATTERN -t SECONDS [options] [FILE|DEVICE ...] | <command>')
    .option('-q, --io-depth <n>', 'I/Os kept outstanding per qpair')
    .option('-s, --io-size <bytes>', 'I/O size in bytes (k/m suffixes: 4k, 128KiB)')
    .addOption(new Option('-o <bytes>', 'same as -s (spdk_nvme_perf spelling)').hideHelp())
    .option('-w, --io-pattern <pattern>', 'read, write, randread, randwrite, rw, randrw')
    .option('-M, --rwmixread <percent>', 'read share for rw/randrw (default 50)')
    .option('-t, --time <seconds>', 'measured time in seconds (default 10)')
    .option('-a, --warmup <seconds>', 'warm-up time before measuring, excluded from every figure (default 0)')
    .option('-r, --transport-id <trid>', "target, e.g. 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:NQN' (repeatable; every active namespace of each)", collect)
    .option('-P, --num-qpairs <n>', 'I/O qpairs per namespace per worker (default 1)')
    .option('-c, --core-mask <mask>', 'worker cores: hex mask 0x3 or list 0-1,3 (default: first allowed core)')
    .option('-L, --latency', '-L: latency percentiles; -LL: also the histogram', count)
    .option('-H, --header-digest', 'enable NVMe/TCP header digests')
    .option('-I, --data-digest', 'enable NVMe/TCP data digests')
    .option('--hostnqn <nqn>', 'host NQN (default: /etc/nvme/hostnqn or a generated uuid NQN)')
    .option('--seed <n>', 'seed of the LBA and read/write generators (default: time based, recorded in the result)')
    .option('--json <file>', 'write the result JSON to this file')
    .option('--results-dir <dir>', 'directory for result JSON files (default results/)')
    .option('--no-progress', 'no per-second progress lines')
    .option('--target-ns <ns>', 'namespace of the launched target: ram:SIZE, null:SIZE or file:PATH (default ram:1GiB; with --target spdk a Malloc, Null or AIO bdev)')
    .option('--target <kind>', 'target to launch when no -r is given: builtin (nvmf-perf target), spdk (SPDK nvmf_tgt) or linux (the kernel nvmet-tcp through configfs; root) (default builtin)')
    .option('--spdk-bin <path>', 'with --target spdk: the nvmf_tgt binary (default $SPDK_DIR/build/bin/nvmf_tgt, then nvmf_tgt on PATH)')
    .option('--spdk-args <args>', 'with --target spdk: extra nvmf_tgt arguments, e.g. "--huge-dir /mnt/huge -s 4096" (no --no-huge is added when they set memory)')
    .option('--mode <mode>', 'initiator reactor mode: poll (spin) or interrupt (sleep in epoll when idle) (default poll)')
    .option('--spin-us <us>', 'interrupt mode: keep polling this many µs after the last pass that did work before sleeping in epoll (initiator and launched target; 0 = sleep at once; default 50)')
    .option('--rate-iops <n>', 'open loop: issue N IOPS in total on a schedule; latency counts from the scheduled time')
    .option('--arrivals <kind>', 'open-loop arrivals: constant or poisson (default constant)')
    .option('--target-rpc <path>', "sample the target's reactors each second over its JSON-RPC socket (ours or SPDK nvmf_tgt's)")
    .option('--compare-modes', 'run the workload in poll mode, then in interrupt mode (initiator and launched target), and compare')
    .option('--idle-time <seconds>', 'with --compare-modes: idle period after each run in which target CPU is measured (default 5)')
    .option('--rate-sweep <list>', 'with --compare-modes: repeat at these percentages of the poll-mode maximum, e.g. 10,25,50,75,100')
    .option('--bssplit <list>', "weighted I/O sizes, fio's syntax: 4k/50:64k/30:128k/20 (instead of -s)")
    .option('--random-distribution <dist>', 'random offsets: random (uniform), zipf:THETA, pareto:H, normal:PCT[:CENTRE]')
    .option('--range <offset:length>', 'part of each namespace to use, sizes or percentages: 0:1GiB, 50%:25%, 1GiB: (to the end)')
    .option('--verify', 'write the range with a self-describing pattern first, then check every block read')
    .option('--ctrl-loss-tmo <seconds>', 'with -r: when a connection is lost, reconnect for up to this long (-1: for ever) instead of ending the run (default 0: end it)')
    .option('--reconnect-delay <seconds>', 'with --ctrl-loss-tmo: wait between the loss and each reconnect attempt (default 1)')
    .option('--io-timeout <ms>', 'a command without completion this long is counted and aborted (Abort command); its qpair is reset when the Abort fails or one more timeout passes (default: no timeout)')
    .option('--fast-io-fail-tmo <seconds>', 'with --ctrl-loss-tmo: I/O in flight at the loss fails after this long (default: it is retried after the reconnect)')
    .option('--html [file]', 'also write an HTML report (default: beside the result JSON, .json → .html)')
    .action(async (raw: RawPerfOptions, cmd: Command) => {
      // Positional arguments are local files or devices (as spdk_nvme_perf's); a bare word that is not
      // a path is a mistyped command.
      for (const a of cmd.args) {
        if (!a.includes('/') && !existsSync(a)) {
          throw new UsageError(`unknown command or stray argument "${a}" (see nvmf-perf --help; a local file is given as a path, e.g. ./${a})`);
        }
      }
      const config = parsePerfOptions({ ...raw, devices: cmd.args }, native.allowedCpus(), process.argv.slice(2));
      // Check where the result goes before anything starts: a run must not end unable to save.
      const outDir = config.jsonPath !== undefined ? dirname(config.jsonPath) : config.resultsDir;
      const problem = writableDirProblem(outDir);
      if (problem) {
        throw new UsageError(config.jsonPath !== undefined ? `--json ${config.jsonPath}: directory ${outDir} ${problem}`
          : `--results-dir ${config.resultsDir}: ${problem}`);
      }
      const html = htmlTarget(raw.html);
      let htmlError: string | undefined;
      if (config.compareModes) {
        process.exitCode = await runCompareModes(config, { idleSec: config.idleSec, rateSweep: config.rateSweep, arrivals: config.arrivals,
          onComparison: async (path) => { if (html) htmlError = await writeComparisonHtml(path, html); } });
        if (htmlError) { process.stderr.write(`nvmf-perf: ${htmlError}\n`); process.exitCode ||= ExitCode.RunFailed; }
        return;
      }
      let sampler: RpcTargetSampler | undefined;
      if (config.targetRpc) {
        sampler = new RpcTargetSampler(config.targetRpc);
        try {
          await sampler.start();
        } catch (e) {
          throw new UserError(`--target-rpc ${config.targetRpc}: ${(e as Error).message}`, ExitCode.Connect);
        }
      }
      try {
        const outcome = await runPerfCommand(config, { rateIops: config.rateIops, arrivals: config.arrivals, targetSampler: sampler });
        process.exitCode = outcome.exitCode;
        if (html) htmlError = await writeRunHtml(outcome.result, outcome.path, html);
        if (htmlError) { process.stderr.write(`nvmf-perf: ${htmlError}\n`); process.exitCode ||= ExitCode.RunFailed; }
      } finally {
        sampler?.stop();
      }
    });
}
