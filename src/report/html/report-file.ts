// Where a report goes: its default name, the check before anything runs, and the write itself.
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writableDirProblem } from '../../util/ensure-dir.js';

/** results/x.json → results/x.html */
export function htmlPathFor(jsonPath: string): string {
  return jsonPath.replace(/\.json$/i, '') + '.html';
}

/** Why the report cannot be written to `path`, or undefined when it can. */
export function reportPathProblem(path: string): string | undefined {
  if (path.trim() === '') return 'empty file name';
  try {
    if (statSync(path).isDirectory()) return 'is a directory';
  } catch { /* does not exist yet: fine */ }
  const dir = dirname(path);
  const p = writableDirProblem(dir);
  return p ? `directory ${dir} ${p}` : undefined;
}

/** Writes the page whole or not at all (temporary name, then rename); throws one line naming the path. */
export function writeReportFile(path: string, html: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, html);
    renameSync(tmp, path);
  } catch (e) {
    try { rmSync(tmp, { force: true }); } catch { /* nothing to clean up */ }
    throw new Error(`cannot write report ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
