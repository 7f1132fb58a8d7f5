// `nvmf-perf target` flag parsing: defaults and the exact one-line error for each bad value.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseByteSize, parseListenAddress, parseTargetFlags, type TargetFlags } from '../../src/target/config.js';

const CPUS = [0, 1];

function err(flags: TargetFlags, usable?: number[]): string {
  try {
    parseTargetFlags(flags, CPUS, usable);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('target flags', () => {
  it('defaults', () => {
    const c = parseTargetFlags({}, CPUS);
    expect(c.listen).toEqual([{ host: '127.0.0.1', port: 4420 }]);
    expect(c.subnqn).toBe('nqn.2016-06.io.spdk:cnode1');
    expect(c.namespaces).toEqual([{ kind: 'ram', sizeBytes: 1024 ** 3 }]);
    expect(c.blockSize).toBe(512);
    expect(c.allowHosts).toEqual([]);
    expect(c.maxQueueDepth).toBe(128);
    expect(c.inCapsuleDataSize).toBe(8192);
    expect(c.maxIoSize).toBe(131072);
    expect(c.reactorCpus).toEqual([1]); // the last allowed CPU
    expect(c.interruptMode).toBe(false);
    expect(c.serial).toBeUndefined();
    expect(c.model).toBe('nvmf-perf target');
  });

  it('parses every flag', () => {
    const c = parseTargetFlags({
      listen: ['127.0.0.1:0', '0.0.0.0:4421'], subnqn: 'nqn.2024-01.io.example:a', ns: ['ram:12MiB', 'null:1TiB', 'file:/tmp/x', 'ram:2G'],
      blockSize: '4096', allowHost: ['nqn.2014-08.org.example:h1', 'nqn.2014-08.org.example:h1'], maxQueueDepth: '64',
      inCapsuleDataSize: '16KiB', maxIoSize: '1MiB', reactorMask: '0x3', interruptMode: true, serial: 'SN1', model: 'M',
    }, CPUS);
    expect(c.listen).toEqual([{ host: '127.0.0.1', port: 0 }, { host: '0.0.0.0', port: 4421 }]);
    expect(c.namespaces).toEqual([
      { kind: 'ram', sizeBytes: 12 * 1024 ** 2 }, { kind: 'null', sizeBytes: 1024 ** 4 }, { kind: 'file', path: '/tmp/x' },
      { kind: 'ram', sizeBytes: 2 * 1024 ** 3 },
    ]);
    expect(c.blockSize).toBe(4096);
    expect(c.allowHosts).toEqual(['nqn.2014-08.org.example:h1']);
    expect(c.maxQueueDepth).toBe(64);
    expect(c.inCapsuleDataSize).toBe(16384);
    expect(c.maxIoSize).toBe(1024 * 1024);
    expect(c.reactorCpus).toEqual([0, 1]);
    expect(c.interruptMode).toBe(true);
    expect(c.serial).toBe('SN1');
    expect(parseTargetFlags({ reactorMask: '0-1' }, CPUS).reactorCpus).toEqual([0, 1]);
    // A CPU outside this process's affinity but online (a pinned parent) is accepted.
    expect(parseTargetFlags({ reactorMask: '1' }, [0], [0, 1]).reactorCpus).toEqual([1]);
  });

  it('--spin-us: interrupt mode only, 0 to 100000 µs, default 50', () => {
    expect(parseTargetFlags({ interruptMode: true }, CPUS).spinUs).toBe(50);
    expect(parseTargetFlags({ interruptMode: true, spinUs: '0' }, CPUS).spinUs).toBe(0);
    expect(parseTargetFlags({ interruptMode: true, spinUs: '200' }, CPUS).spinUs).toBe(200);
    expect(err({ spinUs: '20' })).toBe('--spin-us "20": applies only with --interrupt-mode (poll-mode reactors never sleep)');
    expect(err({ interruptMode: true, spinUs: '-1' })).toBe('--spin-us "-1": expected an integer from 0 to 100000 (µs)');
    expect(err({ interruptMode: true, spinUs: '1e3' })).toBe('--spin-us "1e3": expected an integer from 0 to 100000 (µs)');
    expect(err({ interruptMode: true, spinUs: '100001' })).toBe('--spin-us "100001": expected an integer from 0 to 100000 (µs)');
  });

  it('--coalesce-us: interrupt mode only, 0 to 25500 µs, default 0 (off)', () => {
    expect(parseTargetFlags({ interruptMode: true }, CPUS).coalesceUs).toBe(0);
    expect(parseTargetFlags({ interruptMode: true, coalesceUs: '100' }, CPUS).coalesceUs).toBe(100);
    expect(err({ coalesceUs: '100' })).toBe('--coalesce-us "100": applies only with --interrupt-mode (poll-mode reactors never sleep)');
    expect(err({ interruptMode: true, coalesceUs: '25501' })).toBe('--coalesce-us "25501": expected an integer from 0 to 25500 (µs)');
    expect(err({ interruptMode: true, coalesceUs: '0.5' })).toBe('--coalesce-us "0.5": expected an integer from 0 to 25500 (µs)');
  });

  it('rejects bad values with one line naming flag and value', () => {
    expect(err({ ns: ['ram:12XB'] })).toBe('--ns "ram:12XB": unknown size unit "XB" (use B, KiB, MiB, GiB or TiB)');
    expect(err({ ns: ['disk:1G'] })).toBe('--ns "disk:1G": unknown namespace type "disk" (expected ram:SIZE, null:SIZE or file:PATH)');
    expect(err({ ns: ['ram:'] })).toBe('--ns "ram:": expected ram:SIZE, e.g. ram:1GiB');
    expect(err({ ns: ['ram:100'] })).toBe('--ns "ram:100": the size must be at least one block (512 bytes)');
    expect(err({ ns: ['ram:1.5GiB'] })).toBe('--ns "ram:1.5GiB": the size must be a whole number (with an optional unit)');
    expect(err({ ns: ['file:'] })).toBe('--ns "file:": expected file:PATH');
    expect(err({ blockSize: '1024' })).toBe('--block-size "1024": must be 512 or 4096');
    expect(err({ listen: ['localhost'] })).toBe('--listen "localhost": expected ADDR:PORT, e.g. 127.0.0.1:4420');
    expect(err({ listen: ['127.0.0.1:70000'] })).toBe('--listen "127.0.0.1:70000": port "70000" is not a number from 0 to 65535');
    expect(err({ listen: ['example.com:4420'] })).toBe('--listen "example.com:4420": "example.com" is not an IPv4 address');
    expect(err({ listen: ['127.0.0.1:4420', '127.0.0.1:4420'] })).toBe('--listen "127.0.0.1:4420": listed twice');
    expect(err({ subnqn: 'cnode1' })).toBe('--subnqn "cnode1": an NQN starts with "nqn."');
    expect(err({ subnqn: 'nqn.2014-08.org.nvmexpress.discovery' }))
      .toBe('--subnqn "nqn.2014-08.org.nvmexpress.discovery": that is the discovery subsystem\'s NQN');
    expect(err({ allowHost: ['host1'] })).toBe('--allow-host "host1": an NQN starts with "nqn."');
    expect(err({ maxQueueDepth: '1' })).toBe('--max-queue-depth "1": must be from 2 to 4096');
    expect(err({ maxQueueDepth: 'lots' })).toBe('--max-queue-depth "lots": expected an integer from 2 to 4096');
    expect(err({ inCapsuleDataSize: '100' })).toBe('--in-capsule-data-size "100": must be a multiple of 16 (IOCCSZ counts 16-byte units)');
    expect(err({ inCapsuleDataSize: '1MiB' })).toBe('--in-capsule-data-size "1MiB": must be at most 131072');
    expect(err({ maxIoSize: '100000' })).toBe('--max-io-size "100000": must be a power of two from 4096 to 8388608');
    expect(err({ reactorMask: '0x4' })).toBe('--reactor-mask "0x4": CPU 2 is not available (CPUs: 0,1)');
    expect(err({ reactorMask: '0x0' })).toBe('--reactor-mask "0x0": the mask selects no core');
    expect(err({ reactorMask: 'x' })).toBe('--reactor-mask "x": expected a hex mask like 0x3 or a list like 0-1,3');
    expect(err({ serial: 'a'.repeat(21) })).toBe(`--serial "${'a'.repeat(21)}": must be 1 to 20 characters`);
    expect(err({ model: 'bad\u00e9' })).toBe('--model "badé": must be printable ASCII');
  });

  it('sizes and addresses', () => {
    expect(parseByteSize('4096')).toBe(4096);
    expect(parseByteSize('4k')).toBe(4096);
    expect(parseByteSize('4KiB')).toBe(4096);
    expect(parseByteSize('1g')).toBe(1024 ** 3);
    expect(parseByteSize('3TiB')).toBe(3 * 1024 ** 4);
    expect(parseByteSize('12B')).toBe(12);
    expect(typeof parseByteSize('1KB')).toBe('string'); // KB is ambiguous: refused
    expect(parseListenAddress('10.1.2.3:0')).toEqual({ host: '10.1.2.3', port: 0 });
    expect(typeof parseListenAddress('10.1.2.300:1')).toBe('string');
  });
});
