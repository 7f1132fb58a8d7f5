// Errors a user can cause. The CLI prints `nvmf-perf: <message>` (one line) and exits with the code. Bottom
// layer: any module may throw these.
import { ExitCode, type ExitCodeValue } from './exit-codes.js';

export class UserError extends Error {
  constructor(message: string, readonly exitCode: ExitCodeValue = ExitCode.Usage) {
    super(message);
    this.name = 'UserError';
  }
}

/** A bad flag value or combination: names the flag. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, ExitCode.Usage);
    this.name = 'UsageError';
  }
}
