// Launch the built-in target (`nvmf-perf target`) as a child process on 127.0.0.1 with an ephemeral
// port, wait for its READY line, and stop it again (by PID, SIGTERM then SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processCpuNs } from './proc-stat.js';
import { UsageError, UserError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { LaunchOptions, LaunchedTarget } from './launched-target.js';

export type { LaunchOptions, LaunchedTarget } from './launched-target.js';

/** dist/cli/main.js, also when this module runs from src/ under the test runner. */
export function cliEntryPath(): string {
  return fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
}

export function launchBuiltinTarget(opts: LaunchOptions): Promise<LaunchedTarget> {
  const args = [cliEntryPath(), 'target', '--listen', opts.listen ?? '127.0.0.1:0', '--reactor-mask', opts.reactorCores.join(','), '--exit-with-parent'];
  for (const ns of opts.namespaces) args.push('--ns', ns);
  if (opts.interruptMode) args.push('--interrupt-mode');
  if (opts.interruptMode && opts.spinUs !== undefined) args.push('--spin-us', String(opts.spinUs));
  if (opts.rpcSocket !== undefined) args.push('--rpc-socket', opts.rpcSocket);
  if (opts.extraArgs) args.push(...opts.extraArgs);
  // stdin: a pipe we never write to; its end of file tells the target (--exit-with-parent) that we are gone.
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => { exitedFlag = true; resolve({ code, signal }); });
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => { stderr = (stderr + d).slice(-4000); });
  const tail = (): string => stderr.trim().split('\n').slice(-3).join(' | ');

  const stop = async (): Promise<void> => {
    if (exitedFlag || child.pid === undefined) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => { if (!exitedFlag) child.kill('SIGKILL'); }, 5000);
    await exited;
    clearTimeout(t);
  };

  return new Promise<LaunchedTarget>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new UserError(`built-in target did not become ready within ${(opts.readyTimeoutMs ?? 15000) / 1000} s${stderr ? `: ${tail()}` : ''}`, ExitCode.RunFailed));
    }, opts.readyTimeoutMs ?? 15000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      const m = /^READY (.*)$/m.exec(out);
      if (m && child.pid !== undefined) {
        clearTimeout(timer);
        const pid = child.pid;
        resolve({
          kind: 'builtin', label: 'built-in target', trid: m[1]!.trim(), pid, exited, reactorCores: opts.reactorCores,
          ...(opts.rpcSocket !== undefined ? { rpcSocket: opts.rpcSocket } : {}),
          get hasExited() { return exitedFlag; },
          stderrTail: tail,
          cpuNs: () => processCpuNs(pid),
          stop,
        });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      const last = stderr.trim().split('\n').at(-1)?.replace(/^nvmf-perf: /, '') ?? '';
      if (code === ExitCode.Usage && last) {
        // The target rejected a flag we passed on for the user: name the perf flag it came from.
        reject(new UsageError(last.replace(/^--ns "/, '--target-ns "')));
        return;
      }
      reject(new UserError(`built-in target exited before it was ready (${signal ?? `exit code ${code}`})${last ? `: ${last}` : ''}`,
        ExitCode.RunFailed));
    });
  });
}
