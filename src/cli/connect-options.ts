// Flags shared by the commands that connect to one controller (discover, identify): -r, --hostnqn,
// -H, -I, --timeout, --json, and their translation into ControllerOptions.
import type { Command } from 'commander';
import type { ControllerOptions } from '../host/controller.js';
import { checkNqn } from '../host/trid.js';
import { UsageError } from '../errors.js';

export interface ConnectCliOptions {
  transportId: string;
  hostnqn?: string;
  headerDigest?: boolean;
  dataDigest?: boolean;
  json?: boolean;
  timeout?: string;
}

/** --timeout value in ms (UsageError when malformed). */
export function connectTimeoutOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1)) throw new UsageError(`--timeout: expected milliseconds (1..9999999), got "${text}"`);
  return n;
}

/** Adds -r (required, described by `tridHelp`) and the connection flags to `cmd`. */
export function addConnectOptions(cmd: Command, tridHelp: string): Command {
  return cmd
    .requiredOption('-r, --transport-id <trid>', tridHelp)
    .option('--hostnqn <nqn>', 'host NQN (default: /etc/nvme/hostnqn or a generated uuid NQN)')
    .option('-H, --header-digest', 'enable NVMe/TCP header digests')
    .option('-I, --data-digest', 'enable NVMe/TCP data digests')
    .option('--timeout <ms>', 'bound for each connect step and admin command (default 10000)')
    .option('--json', 'print JSON instead of text');
}

/** Validated ControllerOptions from the connection flags. */
export function controllerOptionsFrom(o: ConnectCliOptions): ControllerOptions {
  const hostnqn = o.hostnqn !== undefined ? checkNqn('--hostnqn', o.hostnqn) : undefined;
  const timeout = connectTimeoutOption(o.timeout);
  return {
    ...(hostnqn !== undefined ? { hostnqn } : {}),
    hdgst: o.headerDigest ?? false,
    ddgst: o.dataDigest ?? false,
    ...(timeout !== undefined ? { connectTimeoutMs: timeout, adminTimeoutMs: timeout } : {}),
  };
}
