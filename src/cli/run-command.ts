// `nvmf-perf run FILE [FILE …]`: fio-style job files. Every file is parsed and every job turned into
// a config before anything starts (a mistake is one `file:line: option: …` line, exit 2). Then the
// jobs run one after another in file order through the same engine, progress, summary and result
// JSON as the flag form, each result recording the file and section. Every section acts as if it had
// `stonewall` (jobs never overlap).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command } from 'commander';
import { native } from '../native/index.js';
import { parseJobFile } from './job-file.js';
import { jobToConfig } from './job-options.js';
import { runPerf } from '../engine/runner.js';
import type { PerfConfig } from '../engine/config.js';
import { UsageError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { parseIntStrict } from '../util/units.js';
import { writableDirProblem } from '../util/ensure-dir.js';

interface RawRunOptions {
  runtime?: string;
  resultsDir?: string;
  progress?: boolean;
  targetNs?: string;
  seed?: string;
}

/** Parses every file and job; throws a usage error naming file:line on the first problem. */
export function loadJobFiles(files: string[], raw: RawRunOptions, allowedCpus: number[], commandLine: string[],
  env: NodeJS.ProcessEnv = process.env): PerfConfig[] {
  let runtimeSec: number | undefined;
  if (raw.runtime !== undefined) {
    const v = parseIntStrict(raw.runtime);
    if (v === null || v < 1 || v > 31 * 24 * 3600) throw new UsageError(`--runtime: expected whole seconds from 1, got "${raw.runtime}"`);
    runtimeSec = v;
  }
  let seed: number | undefined;
  if (raw.seed !== undefined) {
    const v = parseIntStrict(raw.seed);
    if (v === null || v > 0xffffffff) throw new UsageError(`--seed: expected an integer from 0 to 4294967295, got "${raw.seed}"`);
    seed = v;
  }
  if (raw.targetNs !== undefined && !/^(ram|null):\S+$|^file:.+$/.test(raw.targetNs)) {
    throw new UsageError(`--target-ns "${raw.targetNs}": expected ram:SIZE, null:SIZE or file:PATH`);
  }
  const configs: PerfConfig[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`${file}: cannot read the job file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const jobs = parseJobFile(text, file, env);
    const sections = jobs.map((j) => j.name);
    for (const job of jobs) {
      configs.push(jobToConfig(job, {
        allowedCpus, commandLine, resultsDir: raw.resultsDir ?? 'results', progress: raw.progress ?? true,
        runtimeSec, targetNs: raw.targetNs, seed, sections,
      }));
    }
  }
  return configs;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run fio-style job files ([global] and job sections, fio option names; see README "Job files"); '
      + 'jobs run one after another, each writing its own result JSON')
    .argument('<file...>', 'job files')
    .option('--runtime <seconds>', "replace every job's runtime")
    .option('--results-dir <dir>', 'directory for result JSON files (default results/)')
    .option('--target-ns <ns>', 'namespace of the launched target for jobs without filename: ram:SIZE, null:SIZE or file:PATH')
    .option('--seed <n>', 'seed for every job (default: randseed, else time based)')
    .option('--no-progress', 'no per-second progress lines')
    .action(async (files: string[], raw: RawRunOptions) => {
      const configs = loadJobFiles(files, raw, native.allowedCpus(), process.argv.slice(2));
      const dir = raw.resultsDir ?? 'results';
      const problem = writableDirProblem(dir);
      if (problem) throw new UsageError(`--results-dir ${dir}: ${problem}`);
      let exit: number = ExitCode.Ok;
      for (let i = 0; i < configs.length; i++) {
        const c = configs[i]!;
        process.stderr.write(`nvmf-perf: job ${i + 1}/${configs.length}: ${basename(c.workload!.file)} [${c.workload!.section}]\n`);
        const outcome = await runPerf(c, { rateIops: c.rateIops, arrivals: c.arrivals });
        if (outcome.exitCode === ExitCode.Interrupted) { exit = ExitCode.Interrupted; break; }
        if (outcome.exitCode !== ExitCode.Ok && exit === ExitCode.Ok) exit = outcome.exitCode;
      }
      process.exitCode = exit;
    });
}
