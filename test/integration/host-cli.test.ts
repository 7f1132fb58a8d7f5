// `nvmf-perf discover` and `nvmf-perf identify` as a user runs them: output against our target, and
// one-line errors with the documented exit codes for bad input.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBuiltinTarget, type LaunchedTarget } from '../../src/launch/builtin-target.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('discover / identify', () => {
  let t: LaunchedTarget | undefined;
  beforeAll(async () => {
    t = await launchBuiltinTarget({ namespaces: ['ram:32MiB', 'null:1GiB'], reactorCores: [1], interruptMode: true,
      extraArgs: ['--subnqn', 'nqn.2016-06.io.nvmf-perf:cli', '--serial', 'CLI-SN-1', '--block-size', '4096'] });
  }, 30_000);
  afterAll(async () => { await t?.stop(); });

  it('discover prints the log like nvme discover', () => {
    const port = /trsvcid:(\d+)/.exec(t!.trid)![1]!;
    const r = run(['discover', '-r', `trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:${port}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Discovery Log Number of Records 1, Generation counter \d+/);
    expect(r.stdout).toMatch(/subtype: nvme subsystem/);
    expect(r.stdout).toMatch(/subnqn:  nqn\.2016-06\.io\.nvmf-perf:cli/);
    expect(r.stdout).toMatch(new RegExp(`trsvcid: ${port}`));
  });

  it('identify prints controller and both namespaces', () => {
    const r = run(['identify', '-r', t!.trid]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sn\s+: CLI-SN-1/m);
    expect(r.stdout).toMatch(/^subnqn\s+: nqn\.2016-06\.io\.nvmf-perf:cli/m);
    expect(r.stdout.match(/^nsze\s+: /gm)).toHaveLength(2);
    expect(r.stdout).toMatch(/lbaf  0 : ms:0   lbads:12 rp:0 \(in use\)/);
    expect(r.stdout).toMatch(/block size: 4096 bytes, 8192 blocks \(33554432 bytes\)/);
  });

  it('identify --json with digests', () => {
    const r = run(['identify', '-r', t!.trid, '-H', '-I', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { controller: { sn: string }; namespaces: Array<{ nsid: number }> };
    expect(j.controller.sn).toBe('CLI-SN-1');
    expect(j.namespaces.map((n) => n.nsid)).toEqual([1, 2]);
  });
});

describe('one-line errors', () => {
  it.each([
    [['identify', '-r', 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:99999'], 2, /^nvmf-perf: invalid transport ID: trsvcid "99999" is not a port number \(1\.\.65535\)\n$/],
    [['identify', '-r', 'trtype:TCP traddr:localhost.example trsvcid:4420'], 2, /^nvmf-perf: invalid transport ID: traddr .*\n$/],
    [['identify', '-r', 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:1 subnqn:nqn.2016-06.io.spdk:cnode1'], 3, /^nvmf-perf: cannot connect to 127\.0\.0\.1:1: connection refused\n$/],
    [['discover', '-r', 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:1'], 3, /^nvmf-perf: cannot connect to 127\.0\.0\.1:1: connection refused\n$/],
    [['identify'], 2, /^nvmf-perf: required option '-r, --transport-id <trid>' not specified\n$/],
    [['target', '--block-size', '1000'], 2, /^nvmf-perf: --block-size.*\n$/],
  ])('%j → exit %i', (args, code, re) => {
    const r = run(args);
    expect(r.status, r.stderr).toBe(code);
    expect(r.stderr).toMatch(re);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
