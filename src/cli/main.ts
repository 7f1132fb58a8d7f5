#!/usr/bin/env node
// nvmf-perf entry point: the perf run is the top-level command (spdk_nvme_perf style flags);
// `target`, `discover` and `identify` are subcommands.
import { Command, CommanderError } from 'commander';
import { NvmeStatusError } from '../nvme/status.js';
import { ConnectError, TransportError } from '../transport/errors.js';
import { UserError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { registerPerfOptions } from './perf-command.js';
import { registerTargetCommand } from './target-command.js';
import { registerDiscoverCommand } from './discover-command.js';
import { registerIdentifyCommand } from './identify-command.js';
import { registerRunCommand } from './run-command.js';
import { registerReportCommand } from './report-command.js';
import { TOOL_VERSION } from '../version.js';

function fail(message: string, code: number): never {
  process.stderr.write(`nvmf-perf: ${message}\n`);
  process.exit(code);
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program
    .name('nvmf-perf')
    .version(TOOL_VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      // Commander's own usage errors become one `nvmf-perf: ...` line (exit 2 below).
      outputError: () => undefined,
    })
    .showHelpAfterError(false)
    // Subcommand flags (-r, -H, -I, --json) belong to the subcommand, not to the root perf flags.
    .enablePositionalOptions();
  registerPerfOptions(program);
  registerTargetCommand(program);
  registerDiscoverCommand(program);
  registerIdentifyCommand(program);
  registerRunCommand(program);
  registerReportCommand(program);
  for (const c of program.commands) c.exitOverride().configureOutput({ outputError: () => undefined });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        process.exit(0);
      }
      fail(err.message.replace(/^error: /, ''), ExitCode.Usage);
    }
    if (err instanceof UserError) fail(err.message, err.exitCode);
    if (err instanceof ConnectError || err instanceof TransportError || err instanceof NvmeStatusError) {
      fail(err.message, ExitCode.Connect);
    }
    process.stderr.write(`nvmf-perf: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(ExitCode.Internal);
  }
}

await main(process.argv);
