// Reads the files a report is made from: run results and mode comparisons. Every problem is one line
// naming the file (ReportInputError); the CLI turns it into a usage error (exit 2).
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { SCHEMA_VERSION, type PerfResult } from '../result-types.js';
import { validateResult } from '../result-validate.js';
import type { ComparisonDoc, LoadedComparison } from './comparison-doc.js';

export class ReportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportInputError';
  }
}

export type ReportInput =
  | { kind: 'result'; path: string; result: PerfResult }
  | { kind: 'comparison'; path: string; comparison: LoadedComparison };

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ReportInputError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? (e as Error).message})`}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ReportInputError(`${path}: not an nvmf-perf result (not JSON: ${(e as Error).message.split('\n')[0]})`);
  }
}

function checkVersion(path: string, doc: Record<string, unknown>): void {
  if (doc['schemaVersion'] !== SCHEMA_VERSION) {
    throw new ReportInputError(`${path}: schema version ${JSON.stringify(doc['schemaVersion'])}, this nvmf-perf reads version ${SCHEMA_VERSION}`);
  }
}

/** Reads and validates one run result. */
export function readResult(path: string): PerfResult {
  const doc = readJson(path);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || (doc as { tool?: { name?: unknown } }).tool?.name !== 'nvmf-perf') {
    throw new ReportInputError(`${path}: not an nvmf-perf result (no "tool": {"name": "nvmf-perf"})`);
  }
  checkVersion(path, doc as Record<string, unknown>);
  const problems = validateResult(doc);
  if (problems.length > 0) throw new ReportInputError(`${path}: not a valid nvmf-perf result (${problems[0]}${problems.length > 1 ? `, and ${problems.length - 1} more` : ''})`);
  return doc as PerfResult;
}

/** A comparison names its results by the path they were written to; also look beside the comparison. */
function resolveRunPath(comparisonPath: string, runPath: string): string {
  const candidates = [runPath, join(dirname(comparisonPath), basename(runPath))];
  if (!isAbsolute(runPath)) candidates.splice(1, 0, join(dirname(comparisonPath), runPath));
  for (const c of candidates) {
    try { readFileSync(c, { flag: 'r' }); return c; } catch { /* next */ }
  }
  throw new ReportInputError(`${comparisonPath}: result ${runPath} of the comparison not found (nor beside the comparison)`);
}

function readComparison(path: string, doc: Record<string, unknown>): LoadedComparison {
  checkVersion(path, doc);
  if (!Array.isArray(doc['runs']) || !Array.isArray(doc['rows']) || typeof doc['pollMaxIops'] !== 'number') {
    throw new ReportInputError(`${path}: not a valid nvmf-perf mode comparison (needs runs, rows and pollMaxIops)`);
  }
  const c = doc as unknown as ComparisonDoc;
  const results = c.runs.map((r) => readResult(resolveRunPath(path, r.resultPath)));
  return { doc: c, results };
}

/** Reads one input file: a run result or a mode comparison (with the results it names). */
export function readReportInput(path: string): ReportInput {
  const doc = readJson(path);
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc) && (doc as Record<string, unknown>)['kind'] === 'mode-comparison') {
    return { kind: 'comparison', path, comparison: readComparison(path, doc as Record<string, unknown>) };
  }
  return { kind: 'result', path, result: readResult(path) };
}
