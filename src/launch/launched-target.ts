// What every launched target (built-in, SPDK's nvmf_tgt or Linux nvmet) looks like to a perf run.

/** Which target a perf run launches when no -r is given. */
export type TargetKind = 'builtin' | 'spdk' | 'linux';
export const TARGET_KINDS: readonly TargetKind[] = ['builtin', 'spdk', 'linux'];

/** The launcher to use and its target-specific settings (resolved by the CLI). */
export interface TargetLaunchSpec {
  kind: TargetKind;
  /** nvmf_tgt binary (kind 'spdk'). */
  spdkBin?: string;
  /** Extra nvmf_tgt arguments, already split (kind 'spdk'). */
  spdkArgs?: string[];
}

export interface LaunchOptions {
  namespaces: string[];
  reactorCores: number[];
  interruptMode?: boolean;
  /** Serve JSON-RPC (framework_get_reactors …) on this Unix socket. */
  rpcSocket?: string;
  /** Adaptive interrupt mode's spin window in µs (built-in only; used with interruptMode). */
  spinUs?: number;
  /** Extra flags for `nvmf-perf target` (built-in only). */
  extraArgs?: string[];
  readyTimeoutMs?: number;
  /** One-line notes for the user (e.g. leftovers of earlier runs removed). */
  onNotice?: (msg: string) => void;
  /** Built-in target: ADDR:PORT to listen on (default 127.0.0.1:0, a free port). */
  listen?: string;
}

export interface LaunchedTarget {
  kind: TargetKind;
  /** For messages: "built-in target", "SPDK nvmf_tgt". */
  label: string;
  /** Transport ID of the NVM subsystem. */
  trid: string;
  /** 0 when there is no process (the Linux kernel target). */
  pid: number;
  reactorCores: number[];
  /** Its JSON-RPC socket, when it serves one. */
  rpcSocket?: string;
  /** Resolves when the process exits (code or signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly hasExited: boolean;
  /** Last lines the target wrote on stderr (for error messages). */
  stderrTail(): string;
  /** Process CPU time in ns (all threads), -1 once gone. */
  cpuNs(): number;
  stop(): Promise<void>;
}
