// `nvmf-perf report RESULT.json [MORE.json …] [-o report.html] [--label NAME]…`: one self-contained HTML
// page from result files written earlier: one run, several runs overlaid, or a mode comparison.
import { basename } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { comparisonReportHtml, runReportHtml, runsReportHtml } from '../report/html/build-report.js';
import { readReportInput, ReportInputError, type ReportInput } from '../report/html/report-input.js';
import { htmlPathFor, reportPathProblem, writeReportFile } from '../report/html/report-file.js';
import { UserError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { PerfResult } from '../report/result-types.js';

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** Default output for several runs: beside the first, named after the number of runs. */
function defaultOutput(files: string[]): string {
  return files.length === 1 ? htmlPathFor(files[0]!) : htmlPathFor(files[0]!).replace(/\.html$/, `-and-${files.length - 1}-more.html`);
}

function readInputs(files: string[]): ReportInput[] {
  try {
    return files.map(readReportInput);
  } catch (e) {
    if (e instanceof ReportInputError) throw new UsageError(e.message);
    throw e;
  }
}

/** Builds the page for the inputs (one comparison, or one or more results). */
export async function reportHtml(inputs: ReportInput[], labels: string[]): Promise<string> {
  const comparisons = inputs.filter((i) => i.kind === 'comparison');
  if (comparisons.length > 0) {
    if (inputs.length > 1) throw new UsageError(`${comparisons[0]!.path}: a mode comparison makes a report on its own; give it alone`);
    const c = comparisons[0]!;
    if (c.kind !== 'comparison') throw new Error('unreachable');
    return comparisonReportHtml(c.comparison, labels[0] ?? basename(c.path).replace(/\.json$/i, ''));
  }
  const runs = inputs.map((i, n) => {
    if (i.kind !== 'result') throw new Error('unreachable');
    return { label: labels[n] ?? basename(i.path).replace(/\.json$/i, ''), result: i.result };
  });
  const dup = runs.find((r, n) => runs.findIndex((q) => q.label === r.label) !== n);
  if (dup) throw new UsageError(`two runs are labelled "${dup.label}": give each a --label`);
  return runs.length === 1 ? runReportHtml(runs[0]!) : runsReportHtml(runs);
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('write an HTML report (self-contained, works offline) of result JSON files: one run, several runs '
      + 'overlaid with their totals compared to the first, or a mode comparison (--compare-modes JSON)')
    .argument('<result.json...>', 'result files of runs, or one mode comparison file')
    .option('-o, --output <file>', 'HTML file to write (default: beside the first input, .json → .html)')
    .option('--label <name>', 'name of each run in legends and tables, in input order (repeatable; default: file name)', collect)
    .action(async (files: string[], opts: { output?: string; label?: string[] }) => {
      const labels = opts.label ?? [];
      if (labels.length > files.length) throw new UsageError(`--label given ${labels.length} times for ${files.length} input file(s)`);
      for (const l of labels) if (l.trim() === '') throw new UsageError('--label: empty name');
      const out = opts.output ?? defaultOutput(files);
      const problem = reportPathProblem(out);
      if (problem) throw new UsageError(`${opts.output !== undefined ? '-o ' : ''}${out}: ${problem}`);
      const html = await reportHtml(readInputs(files), labels);
      try {
        writeReportFile(out, html);
      } catch (e) {
        throw new UserError((e as Error).message, ExitCode.Usage);
      }
      process.stderr.write(`nvmf-perf: report written to ${out}\n`);
    });
}

/** The --html flag of a run: the report's path, or undefined; checked before anything starts. */
export function htmlTarget(flag: string | boolean | undefined): string | true | undefined {
  if (flag === undefined || flag === false) return undefined;
  if (flag === true) return true;
  const problem = reportPathProblem(flag);
  if (problem) throw new UsageError(`--html ${flag}: ${problem}`);
  return flag;
}

/** --html on a run: the report of the result just measured, beside its JSON unless a file was given. */
export async function writeRunHtml(result: PerfResult, resultPath: string, html: string | true): Promise<string | undefined> {
  const out = html === true ? htmlPathFor(resultPath || 'nvmf-perf-result.json') : html;
  try {
    const label = resultPath ? basename(resultPath).replace(/\.json$/i, '') : 'run';
    writeReportFile(out, await runReportHtml({ label, result }));
    process.stderr.write(`nvmf-perf: report written to ${out}\n`);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** --html on --compare-modes: the report of the comparison file just written (and the results it names). */
export async function writeComparisonHtml(comparisonPath: string, html: string | true): Promise<string | undefined> {
  const out = html === true ? htmlPathFor(comparisonPath) : html;
  try {
    writeReportFile(out, await reportHtml([readReportInput(comparisonPath)], []));
    process.stderr.write(`nvmf-perf: report written to ${out}\n`);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
