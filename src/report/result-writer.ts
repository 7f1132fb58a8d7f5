// Writes the result document as pretty JSON: to --json PATH, or under the results directory with a
// name that says what ran and when.
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { ensureDir } from '../util/ensure-dir.js';
import { dirname, join } from 'node:path';
import type { PerfResult } from './result-types.js';

export interface WriteResultOptions {
  /** Explicit output file (--json); overwritten if it exists. */
  jsonPath?: string;
  /** Directory for the default file name (created if missing). */
  resultsDir: string;
}

/** 4096 → "4k", 131072 → "128k", 1048576 → "1m", 1536 → "1536". */
export function compactSize(bytes: number): string {
  const units = ['', 'k', 'm', 'g'];
  let v = bytes, i = 0;
  while (v >= 1024 && v % 1024 === 0 && i < units.length - 1) { v /= 1024; i++; }
  return `${v}${units[i]}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** YYYYMMDD-HHMMSS in local time. */
export function fileTimestamp(d: Date): string {
  return `${d.getFullYear()}${pad2(d.getMonth() + 1)}${pad2(d.getDate())}`
    + `-${pad2(d.getHours())}${pad2(d.getMinutes())}${pad2(d.getSeconds())}`;
}

/** nvmf-perf-<pattern>-q<depth>-<size>-<YYYYMMDD-HHMMSS>.json, from the run's start time. */
export function defaultResultName(result: PerfResult): string {
  const started = new Date(result.timestamp);
  const when = Number.isNaN(started.getTime()) ? new Date() : started;
  const c = result.config;
  return `nvmf-perf-${c.pattern}-q${c.ioDepth}-${compactSize(c.ioSize)}-${fileTimestamp(when)}.json`;
}

/** A default name that does not overwrite an earlier run started in the same second. */
function freeName(dir: string, name: string): string {
  let path = join(dir, name);
  for (let i = 2; existsSync(path); i++) path = join(dir, name.replace(/\.json$/, `-${i}.json`));
  return path;
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') {
    const text = (e.message ?? '').replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
    return text ? `${e.code} (${text})` : e.code;
  }
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}

/**
 * Writes `result` as pretty JSON and returns the path written. The file appears complete or not at
 * all (written to a temporary name, then renamed). Throws an Error with a one-line message naming the
 * path when the directory cannot be created or the file cannot be written.
 */
export function writeResult(result: PerfResult, opts: WriteResultOptions): string {
  const explicit = opts.jsonPath !== undefined && opts.jsonPath !== '';
  const dir = explicit ? dirname(opts.jsonPath!) : opts.resultsDir;
  try {
    ensureDir(dir);
  } catch (err) {
    throw new Error(`cannot create directory ${dir} for the result file: ${reason(err)}`);
  }
  const path = explicit ? opts.jsonPath! : freeName(dir, defaultResultName(result));
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(result, null, 2) + '\n');
    renameSync(tmp, path);
  } catch (err) {
    try { rmSync(tmp, { force: true }); } catch { /* nothing to clean up */ }
    throw new Error(`cannot write result file ${path}: ${reason(err)}`);
  }
  return path;
}
