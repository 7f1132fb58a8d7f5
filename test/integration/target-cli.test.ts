// `nvmf-perf target` as a child process (dist/cli/main.js): one READY line on stdout, clean exit 0
// on SIGTERM/SIGINT, one-line errors with exit 2 (bad flags) and 3 (busy port), no stack traces.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../../src/rpc/client.js';
import { RawHost } from './target-wire-client.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function run(args: string[], opts: { onReady?: (line: string, child: ChildProcess) => void; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'target', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '', stderr = '', ready = false;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timeout; stderr: ${stderr}`)); }, opts.timeoutMs ?? 20_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /^(READY .*)$/m.exec(stdout);
      if (m && !ready) { ready = true; opts.onReady?.(m[1]!, child); }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

describe('nvmf-perf target (CLI)', () => {
  it('prints one READY line, serves, and exits 0 on SIGTERM', async () => {
    let port = 0;
    const r = await run(['--listen', '127.0.0.1:0', '--ns', 'ram:8MiB', '--subnqn', 'nqn.2016-06.io.nvmf-perf:cli', '--interrupt-mode'], {
      onReady: (line, child) => {
        port = Number(/trsvcid:(\d+)/.exec(line)![1]);
        void (async () => {
          const h = await RawHost.open(port);
          const cntlid = await h.bringUp('nqn.2016-06.io.nvmf-perf:cli');
          expect(cntlid).toBeGreaterThan(0);
          h.destroy();
          child.kill('SIGTERM');
        })();
      },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^READY trtype:TCP adrfam:IPv4 traddr:127\.0\.0\.1 trsvcid:\d+ subnqn:nqn\.2016-06\.io\.nvmf-perf:cli\n$/);
    expect(port).toBeGreaterThan(0);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('--rpc-socket: framework_get_reactors and nvmf_get_stats (SPDK names)', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'nvmf-perf-rpc-')), 'rpc.sock');
    let reply: { reactors: Array<Record<string, unknown>>; tick_rate: number } | undefined;
    let stats: { poll_groups: Array<Record<string, unknown>> } | undefined;
    const r = await run(['--listen', '127.0.0.1:0', '--ns', 'ram:4MiB', '--rpc-socket', sock], {
      onReady: (line, child) => {
        void (async () => {
          const h = await RawHost.open(Number(/trsvcid:(\d+)/.exec(line)![1]));
          await h.bringUp('nqn.2016-06.io.spdk:cnode1');
          await new Promise((res) => setTimeout(res, 50));
          const c = new JsonRpcClient(sock);
          reply = await c.call('framework_get_reactors') as typeof reply;
          stats = await c.call('nvmf_get_stats') as typeof stats;
          c.close();
          h.destroy();
          child.kill('SIGTERM');
        })();
      },
    });
    expect(r.code).toBe(0);
    expect(reply!.tick_rate).toBe(1e9);
    expect(reply!.reactors).toHaveLength(1);
    expect(reply!.reactors[0]).toMatchObject({ in_interrupt: false, connections: 1, qpairs: 1 });
    expect(typeof reply!.reactors[0]!['busy']).toBe('number');
    expect(stats!.poll_groups[0]).toMatchObject({ current_admin_qpairs: 1, current_io_qpairs: 0, admin_qpairs: 1 });
    expect(existsSync(sock)).toBe(false); // removed on exit
  });

  it('exits 0 on SIGINT', async () => {
    const r = await run(['--listen', '127.0.0.1:0', '--ns', 'null:1GiB'], { onReady: (_l, c) => c.kill('SIGINT') });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('bad flag values: exit 2 with one line naming flag and value', async () => {
    const r = await run(['--ns', 'ram:12XB']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('nvmf-perf: --ns "ram:12XB": unknown size unit "XB" (use B, KiB, MiB, GiB or TiB)\n');
    const f = await run(['--listen', '127.0.0.1:0', '--ns', 'file:/nonexistent/x.img']);
    expect(f.code).toBe(2);
    expect(f.stderr).toBe('nvmf-perf: --ns "file:/nonexistent/x.img": no such file\n');
    const b = await run(['--block-size', '520']);
    expect(b.code).toBe(2);
    expect(b.stderr).toBe('nvmf-perf: --block-size "520": must be 512 or 4096\n');
  });

  it('a busy port: exit 3, "cannot listen on ...: address already in use"', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const r = await run(['--listen', `127.0.0.1:${port}`, '--ns', 'ram:1MiB']);
      expect(r.code).toBe(3);
      expect(r.stderr).toBe(`nvmf-perf: cannot listen on 127.0.0.1:${port}: address already in use\n`);
    } finally {
      srv.close();
    }
  });
});
