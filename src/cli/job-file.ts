// fio job-file syntax: `[section]` headers, `key=value` or bare `key` (a flag) lines, whole-line and
// trailing `;`/`#` comments, `${VAR}` from the environment. `[global]` options apply to the jobs
// that follow it (a later [global] adds to or overrides earlier ones); each other section is a job.
// The result is each job's options, each remembering the file and line it came from.
import { UsageError } from './errors.js';

export interface JobOption {
  key: string;
  /** Undefined for a bare flag such as `time_based`. */
  value: string | undefined;
  file: string;
  line: number;
}

export interface JobSection {
  name: string;
  file: string;
  line: number;
  /** [global] options in effect, then the job's own; later entries override earlier ones. */
  options: JobOption[];
}

/** A problem in a job file: "FILE:LINE: message". Exit code 2 like every usage error. */
export class JobFileError extends UsageError {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'JobFileError';
  }
}

export function parseJobFile(text: string, file: string, env: NodeJS.ProcessEnv): JobSection[] {
  const jobs: JobSection[] = [];
  let globals: JobOption[] = [];
  let current: JobSection | undefined;
  let inGlobal = false;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const cut = raw.search(/[;#]/);
    const line = (cut >= 0 ? raw.slice(0, cut) : raw).trim();
    if (line === '') return;
    const header = /^\[([^\]]*)\]$/.exec(line);
    if (header) {
      const name = header[1]!.trim();
      if (name === '') throw new JobFileError(file, lineNo, 'empty section name "[]"');
      if (name === 'global') {
        inGlobal = true;
        current = undefined;
      } else {
        inGlobal = false;
        current = { name, file, line: lineNo, options: [...globals] };
        jobs.push(current);
      }
      return;
    }
    if (line.startsWith('[')) throw new JobFileError(file, lineNo, `malformed section header "${line}" (expected [name])`);
    const eq = line.indexOf('=');
    const key = (eq >= 0 ? line.slice(0, eq) : line).trim().toLowerCase();
    const rawValue = eq >= 0 ? line.slice(eq + 1).trim() : undefined;
    if (!/^[a-z0-9_]+$/.test(key)) {
      if (/^include\s/.test(line)) throw new JobFileError(file, lineNo, '"include" is not supported');
      throw new JobFileError(file, lineNo, `"${line}" is not an option (expected key=value or a bare key)`);
    }
    const value = rawValue === undefined ? undefined : expandEnv(rawValue, env, file, lineNo);
    const opt: JobOption = { key, value, file, line: lineNo };
    if (inGlobal) globals = [...globals, opt];
    else if (current) current.options.push(opt);
    else throw new JobFileError(file, lineNo, `option "${key}" before any section (put it under [global] or a [job])`);
  });
  if (jobs.length === 0) throw new JobFileError(file, Math.max(1, lines.length), 'no job section (only [global] or nothing)');
  return jobs;
}

/** `${VAR}` → the environment's value; an unset variable is an error naming it. */
function expandEnv(value: string, env: NodeJS.ProcessEnv, file: string, line: number): string {
  return value.replace(/\$\{([^}]*)\}/g, (_m, name: string) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new JobFileError(file, line, `"\${${name}}" is not a variable name`);
    const v = env[name];
    if (v === undefined) throw new JobFileError(file, line, `environment variable ${name} is not set`);
    return v;
  });
}
