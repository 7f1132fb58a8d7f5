// mkdir -p with a bounded walk up the parents: Node 20's mkdirSync(dir, { recursive: true }) spins
// forever under procfs (e.g. /proc/x), and a perf run must never hang on its output path.
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/** Creates `dir` and missing parents. Throws the fs error (code ENOTDIR, EACCES, ENOENT...). */
export function ensureDir(dir: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  for (let depth = 0; depth < 4096; depth++) {
    try {
      if (!statSync(d).isDirectory()) {
        throw Object.assign(new Error(`${d} is not a directory`), { code: 'ENOTDIR' });
      }
      break;
    } catch (e) {
      if (errCode(e) !== 'ENOENT') throw e;
      missing.push(d);
      const parent = dirname(d);
      if (parent === d) break;
      d = parent;
    }
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      if (errCode(e) !== 'EEXIST') throw e;
    }
  }
}

/** Creates `dir` if needed and checks it is writable; returns why not, or null. */
export function writableDirProblem(dir: string): string | null {
  try {
    ensureDir(dir);
    accessSync(dir, constants.W_OK);
    return null;
  } catch (e) {
    const code = errCode(e);
    return code === 'ENOTDIR' ? 'a path component is not a directory'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'not writable'
        : code === 'ENOENT' ? 'cannot be created' : (e as Error).message;
  }
}
