// Process exit codes (documented in README.md).
export const ExitCode = {
  Ok: 0,
  /** The run started but failed: target died, connection lost, I/O errors. Partial results are written. */
  RunFailed: 1,
  /** A flag, transport ID or workload file is invalid. Nothing was started. */
  Usage: 2,
  /** Could not connect or the target refused us (TCP refused, ICReq/Connect rejected, bad NQN). */
  Connect: 3,
  /** Internal error (a bug): a stack trace is printed. */
  Internal: 70,
  /** Interrupted by SIGINT/SIGTERM; what was measured is printed and written, marked interrupted. */
  Interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
