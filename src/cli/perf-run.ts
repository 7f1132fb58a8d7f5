// One perf run as a command: the engine (src/engine/runner.ts) does the run; this layer prints the
// notes and the progress line, turns SIGINT/SIGTERM into an early stop (a second one exits at once),
// builds the result document, prints the summary, writes the file and picks the exit code. Whatever
// was measured is printed and written even when the run is interrupted or the target dies.
import { runPerf, RunControl, type RunOptions } from '../engine/runner.js';
import type { PerfConfig } from '../engine/config.js';
import { ExitCode } from '../exit-codes.js';
import { formatProgressLine, ProgressPrinter } from '../report/progress-line.js';
import { writeResult } from '../report/result-writer.js';
import type { PerfResult } from '../report/result-types.js';
import { buildPerfResult } from '../report/run-result.js';
import { formatSummary } from '../report/summary-table.js';

export interface PerfRunOptions extends Omit<RunOptions, 'onNotice' | 'onProgress' | 'control'> {
  /** Do not print the summary (compare-modes prints its own table). */
  quiet?: boolean;
}

export interface RunOutcome {
  result: PerfResult;
  path: string;
  exitCode: number;
}

const log = (msg: string): void => { process.stderr.write(`nvmf-perf: ${msg}\n`); };

export async function runPerfCommand(config: PerfConfig, opts: PerfRunOptions = {}): Promise<RunOutcome> {
  const progress = new ProgressPrinter(process.stderr, config.progress);
  const control = new RunControl();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (control.interrupted) { log(`second ${sig}: exiting now`); process.exit(ExitCode.Interrupted); }
    progress.done();
    log(`${sig}: stopping the run; results so far will be written`);
    control.interrupt(`interrupted by ${sig}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let rec;
  try {
    rec = await runPerf(config, {
      ...opts, control, onNotice: log,
      onProgress: (point, phase, elapsed, total) => progress.line(formatProgressLine(point, phase, elapsed, total)),
    });
  } finally {
    progress.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const result = buildPerfResult(rec);
  // Print first: if the file cannot be written (disk full...), what was measured is still shown.
  if (!opts.quiet) process.stdout.write(formatSummary(result, { latency: config.latencyTracking }) + '\n');
  let path = '';
  let writeFailed = false;
  try {
    path = writeResult(result, { jsonPath: config.jsonPath, resultsDir: config.resultsDir });
    log(`result written to ${path}`);
  } catch (e) {
    writeFailed = true;
    log((e as Error).message);
  }
  const { status, error } = result;
  if (status !== 'complete' && error) log(status === 'interrupted' ? error : `run ended early: ${error}`);
  const exitCode = status === 'interrupted' ? ExitCode.Interrupted
    : status === 'partial' || result.total.total.errors > 0 || writeFailed || (result.verify?.mismatches ?? 0) > 0
      ? ExitCode.RunFailed : ExitCode.Ok;
  return { result, path, exitCode };
}
