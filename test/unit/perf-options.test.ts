import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePerfOptions, type RawPerfOptions } from '../../src/cli/perf-options.js';
import { UsageError } from '../../src/errors.js';
import { parseCoreMask } from '../../src/util/cpu-mask.js';
import { parseSize } from '../../src/util/units.js';
import { hasHugepageArgs, resolveSpdkBin } from '../../src/launch/spdk-target.js';
import { linuxNamespaceFor } from '../../src/launch/linux-target.js';

const base: RawPerfOptions = { ioDepth: '32', ioSize: '4096', ioPattern: 'randread', time: '10' };
const parse = (o: RawPerfOptions) => parsePerfOptions({ ...base, ...o }, [0, 1], ['x']);
const err = (o: RawPerfOptions): string => {
  try { parse(o); } catch (e) { expect(e).toBeInstanceOf(UsageError); return (e as Error).message; }
  throw new Error('expected a UsageError');
};

describe('perf flags', () => {
  it('the mission command resolves to sensible defaults', () => {
    const c = parse({});
    expect(c).toMatchObject({ ioDepth: 32, ioSize: 4096, pattern: 'randread', rwmixread: 100, timeSec: 10,
      warmupSec: 0, numQpairs: 1, cores: [0], latencyTracking: 0, mode: 'poll', targetNs: 'ram:1GiB', resultsDir: 'results' });
  });
  it('parses sizes, masks and mixes', () => {
    expect(parse({ ioSize: '128k' }).ioSize).toBe(131072);
    expect(parse({ ioSize: undefined, o: '8KiB' }).ioSize).toBe(8192);
    expect(parse({ coreMask: '0x3' }).cores).toEqual([0, 1]);
    expect(parse({ coreMask: '0-1' }).cores).toEqual([0, 1]);
    expect(parse({ ioPattern: 'randrw', rwmixread: '70' }).rwmixread).toBe(70);
    expect(parse({ ioPattern: 'rw' }).rwmixread).toBe(50);
    expect(parse({ ioPattern: 'randwrite' }).rwmixread).toBe(0);
    expect(parse({ latency: 2 }).latencyTracking).toBe(2);
  });
  it('--spin-us: interrupt mode or --compare-modes only, default 50', () => {
    expect(parse({}).spinUs).toBe(50);
    expect(parse({ mode: 'interrupt', spinUs: '0' }).spinUs).toBe(0);
    expect(parse({ compareModes: true, spinUs: '25' }).spinUs).toBe(25);
    expect(err({ spinUs: '10' })).toBe('--spin-us applies only with --mode interrupt (poll mode never sleeps)');
    expect(err({ mode: 'interrupt', spinUs: 'x' })).toBe('--spin-us: expected an integer from 0 to 100000, got "x"');
  });
  it('names the flag in every error', () => {
    expect(err({ ioDepth: undefined })).toBe('-q/--io-depth is required (e.g. -q 32)');
    expect(err({ ioDepth: '0' })).toBe('-q/--io-depth: expected an integer from 1 to 65536, got "0"');
    expect(err({ ioDepth: 'abc' })).toBe('-q/--io-depth: expected an integer from 1 to 65536, got "abc"');
    expect(err({ ioSize: undefined })).toBe('-s/--io-size is required (e.g. -s 4096)');
    expect(err({ ioSize: '4x' })).toBe('-s/--io-size: "4x" is not a size (e.g. 4096, 4k, 128KiB)');
    expect(err({ ioSize: '1000' })).toBe('-s/--io-size 1000 is not a multiple of 512 bytes');
    expect(err({ ioSize: '4096', o: '8192' })).toBe('-s/--io-size "4096" and -o "8192" disagree: give the I/O size once');
    expect(err({ ioPattern: undefined })).toBe('-w/--io-pattern is required (read, write, randread, randwrite, rw, randrw)');
    expect(err({ ioPattern: 'random' })).toBe('-w/--io-pattern: unknown pattern "random" (read, write, randread, randwrite, rw, randrw)');
    expect(err({ rwmixread: '70' })).toBe('-M/--rwmixread applies only to -w rw and -w randrw, not to -w randread');
    expect(err({ ioPattern: 'rw', rwmixread: '101' })).toBe('-M/--rwmixread: expected an integer from 0 to 100, got "101"');
    expect(err({ time: '0' })).toBe('-t/--time: expected an integer from 1 to 2678400, got "0"');
    expect(err({ warmup: '-1' })).toBe('-a/--warmup: expected an integer from 0 to 86400, got "-1"');
    expect(err({ numQpairs: '0' })).toBe('-P/--num-qpairs: expected an integer from 1 to 1024, got "0"');
    expect(err({ coreMask: '0x4' })).toBe('-c/--core-mask "0x4": core 2 is not available (this process may use cores 0,1)');
    expect(err({ coreMask: 'zz' })).toBe('-c/--core-mask "zz": expected a hex mask like 0x3 or a list like 0-1,3');
    expect(err({ coreMask: '0x0' })).toBe('-c/--core-mask "0x0": the mask selects no core');
    expect(err({ hostnqn: 'host1' })).toBe('--hostnqn "host1": an NQN starts with "nqn."');
    expect(err({ latency: 3 })).toBe('-L may be given at most twice (-L percentiles, -LL histogram)');
    expect(err({ mode: 'busy' })).toBe('--mode: expected poll or interrupt, got "busy"');
    expect(err({ targetNs: 'disk:1G' })).toBe('--target-ns "disk:1G": expected ram:SIZE, null:SIZE or file:PATH');
    expect(err({ targetNs: 'ram:1G', transportId: ['trtype:TCP'] })).toBe('--target-ns applies only to the launched target (no -r given)');
    expect(err({ seed: 'x' })).toBe('--seed: expected an integer from 0 to 4294967295, got "x"');
  });
  it('--ctrl-loss-tmo, --reconnect-delay, --fast-io-fail-tmo', () => {
    const r = ['trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:nqn.x'];
    expect(parse({ transportId: r }).reconnect).toBeUndefined();
    expect(parse({ transportId: r, ctrlLossTmo: '0' }).reconnect).toBeUndefined();
    expect(parse({ transportId: r, ctrlLossTmo: '10' }).reconnect).toEqual({ ctrlLossTmoSec: 10, reconnectDelaySec: 1, fastIoFailTmoSec: -1 });
    expect(parse({ transportId: r, ctrlLossTmo: '-1', reconnectDelay: '2', fastIoFailTmo: '5' }).reconnect)
      .toEqual({ ctrlLossTmoSec: -1, reconnectDelaySec: 2, fastIoFailTmoSec: 5 });
    expect(err({ transportId: r, ctrlLossTmo: 'x' })).toBe('--ctrl-loss-tmo: expected an integer from -1 to 86400, got "x"');
    expect(err({ transportId: r, ctrlLossTmo: '-2' })).toBe('--ctrl-loss-tmo: expected an integer from -1 to 86400, got "-2"');
    expect(err({ transportId: r, ctrlLossTmo: '5', reconnectDelay: '0' })).toBe('--reconnect-delay: expected an integer from 1 to 3600, got "0"');
    expect(err({ transportId: r, ctrlLossTmo: '5', fastIoFailTmo: '1.5' })).toBe('--fast-io-fail-tmo: expected an integer from -1 to 86400, got "1.5"');
    expect(err({ transportId: r, ctrlLossTmo: '5', fastIoFailTmo: '6' }))
      .toBe('--fast-io-fail-tmo 6 is longer than --ctrl-loss-tmo 5: I/O would fail only when the controller is lost');
    expect(err({ transportId: r, reconnectDelay: '2' })).toBe('--reconnect-delay applies only with a non-zero --ctrl-loss-tmo');
    expect(err({ transportId: r, fastIoFailTmo: '2' })).toBe('--fast-io-fail-tmo applies only with a non-zero --ctrl-loss-tmo');
    expect(err({ ctrlLossTmo: '5' })).toBe('--ctrl-loss-tmo applies only with -r (a launched target is not restarted)');
  });
  it('--io-timeout', () => {
    expect(parse({}).ioTimeoutMs).toBeUndefined();
    expect(parse({ ioTimeout: '250' }).ioTimeoutMs).toBe(250);
    expect(err({ ioTimeout: '0' })).toBe('--io-timeout: expected an integer from 1 to 3600000, got "0"');
    expect(err({ ioTimeout: '1.5' })).toBe('--io-timeout: expected an integer from 1 to 3600000, got "1.5"');
    expect(err({ ioTimeout: '5s' })).toBe('--io-timeout: expected an integer from 1 to 3600000, got "5s"');
    expect(err({ ioTimeout: '3600001' })).toBe('--io-timeout: expected an integer from 1 to 3600000, got "3600001"');
  });
  it('helpers', () => {
    expect(parseCoreMask('0-2,5')).toEqual([0, 1, 2, 5]);
    expect(parseCoreMask('3-1')).toBe('range 3-1 is reversed');
    expect(parseSize('1GiB')).toBe(2 ** 30);
    expect(parseSize('2T')).toBe(2 * 2 ** 40);
    expect(parseSize('1XB')).toBeNull();
  });
});

describe('--target linux', () => {
  it('takes ram:/null: sizes in whole MiB and absolute file paths', () => {
    expect(parse({ target: 'linux', targetNs: 'ram:64MiB' }).target).toEqual({ kind: 'linux' });
    expect(parse({ target: 'linux', targetNs: 'file:/dev/nullb0' }).targetNs).toBe('file:/dev/nullb0');
    expect(linuxNamespaceFor('ram:64MiB')).toEqual({ kind: 'nullb', sizeMib: 64, memoryBacked: true });
    expect(linuxNamespaceFor('null:1GiB')).toEqual({ kind: 'nullb', sizeMib: 1024, memoryBacked: false });
    expect(linuxNamespaceFor('file:/srv/ns.img')).toEqual({ kind: 'path', path: '/srv/ns.img' });
  });
  it('rejects what the kernel target cannot do, naming the flag', () => {
    expect(err({ target: 'linux', targetNs: 'ram:1500KiB' })).toBe('--target-ns "ram:1500KiB": null_blk sizes are whole MiB');
    expect(err({ target: 'linux', targetNs: 'file:ns.img' })).toBe('--target-ns "file:ns.img": the kernel target needs an absolute path');
    expect(err({ target: 'linux', compareModes: true }))
      .toBe('--compare-modes switches the launched target between poll and interrupt mode: --target linux has no such modes');
    expect(err({ target: 'linux', spdkBin: '/x' })).toBe('--spdk-bin applies only with --target spdk');
  });
});

describe('--target, --spdk-bin, --spdk-args', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-opts-'));
  const fakeTgt = join(dir, 'nvmf_tgt');
  writeFileSync(fakeTgt, '#!/bin/sh\n');
  chmodSync(fakeTgt, 0o755);
  const notExec = join(dir, 'plain');
  writeFileSync(notExec, '');
  const img = join(dir, 'ns.img');
  writeFileSync(img, Buffer.alloc(4096));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to the built-in target; spdk resolves the binary and splits --spdk-args', () => {
    expect(parse({}).target).toEqual({ kind: 'builtin' });
    expect(parse({ target: 'builtin' }).target).toEqual({ kind: 'builtin' });
    expect(parse({ target: 'spdk', spdkBin: fakeTgt, spdkArgs: ' -e 0x1  --huge-dir "/mnt/huge 1"' }).target)
      .toEqual({ kind: 'spdk', spdkBin: fakeTgt, spdkArgs: ['-e', '0x1', '--huge-dir', '/mnt/huge 1'] });
    expect(parse({ target: 'spdk', spdkBin: fakeTgt, targetNs: `file:${img}` }).targetNs).toBe(`file:${img}`);
  });

  it('finds nvmf_tgt under $SPDK_DIR/build/bin, then on PATH, else names --spdk-bin', () => {
    mkdirSync(join(dir, 'spdk', 'build', 'bin'), { recursive: true });
    const inSpdkDir = join(dir, 'spdk', 'build', 'bin', 'nvmf_tgt');
    writeFileSync(inSpdkDir, '#!/bin/sh\n');
    chmodSync(inSpdkDir, 0o755);
    expect(resolveSpdkBin(undefined, { SPDK_DIR: join(dir, 'spdk'), PATH: dir })).toBe(inSpdkDir);
    expect(resolveSpdkBin(undefined, { SPDK_DIR: join(dir, 'none'), PATH: `/nonexistent:${dir}` })).toBe(fakeTgt);
    expect(() => resolveSpdkBin(undefined, { PATH: '/nonexistent' }))
      .toThrow('--target spdk: no nvmf_tgt found (tried nvmf_tgt on PATH): give --spdk-bin PATH');
  });

  it('knows which --spdk-args set the memory (then no --no-huge is added)', () => {
    expect(hasHugepageArgs(['-s', '4096'])).toBe(true);
    expect(hasHugepageArgs(['--huge-dir', '/mnt/huge'])).toBe(true);
    expect(hasHugepageArgs(['--mem-size=2048'])).toBe(true);
    expect(hasHugepageArgs(['--no-huge'])).toBe(true);
    expect(hasHugepageArgs(['-e', '0x1', '--shm-id', '3'])).toBe(false);
  });

  it('names the flag in every error', () => {
    expect(err({ target: 'foo' })).toBe('--target: expected builtin, spdk or linux, got "foo"');
    expect(err({ target: 'spdk', transportId: ['trtype:TCP'] })).toBe('--target chooses the target nvmf-perf launches: give it without -r');
    expect(err({ spdkBin: fakeTgt })).toBe('--spdk-bin applies only with --target spdk');
    expect(err({ target: 'builtin', spdkArgs: '-e 1' })).toBe('--spdk-args applies only with --target spdk');
    expect(err({ target: 'spdk', spdkBin: join(dir, 'absent') })).toBe(`--spdk-bin ${join(dir, 'absent')}: no such file`);
    expect(err({ target: 'spdk', spdkBin: notExec })).toBe(`--spdk-bin ${notExec}: not an executable file`);
    expect(err({ target: 'spdk', spdkBin: dir })).toBe(`--spdk-bin ${dir}: not an executable file`);
    expect(err({ target: 'spdk', spdkBin: fakeTgt, spdkArgs: '-m 0x3' }))
      .toBe('--spdk-args: -m is not allowed: the reactor core is chosen by nvmf-perf (-c picks the workers; the target takes a spare core)');
    expect(err({ target: 'spdk', spdkBin: fakeTgt, spdkArgs: '--rpc-socket /tmp/x' }))
      .toBe('--spdk-args: --rpc-socket is not allowed: nvmf-perf configures nvmf_tgt over its own RPC socket');
    expect(err({ target: 'spdk', spdkBin: fakeTgt, spdkArgs: '--interrupt-mode' }))
      .toBe('--spdk-args: --interrupt-mode is not allowed: use --mode interrupt (initiator and launched target) or --compare-modes');
    expect(err({ target: 'spdk', spdkBin: fakeTgt, targetNs: 'ram:1000' })).toBe('--target-ns "ram:1000": the size must be a non-zero multiple of 512 bytes');
    expect(err({ target: 'spdk', spdkBin: fakeTgt, targetNs: `file:${join(dir, 'absent.img')}` }))
      .toBe(`--target-ns "file:${join(dir, 'absent.img')}": ${join(dir, 'absent.img')} does not exist (nvmf_tgt's AIO bdev needs an existing file or block device)`);
    expect(err({ target: 'spdk', spdkBin: fakeTgt, targetNs: `file:${dir}` })).toBe(`--target-ns "file:${dir}": ${dir} is not a regular file or block device`);
    expect(err({ target: 'spdk', spdkBin: fakeTgt, targetNs: `file:${notExec}` }))
      .toBe(`--target-ns "file:${notExec}": ${notExec} is 0 bytes: nvmf_tgt's AIO bdev needs a non-empty multiple of 512 bytes`);
  });
});
