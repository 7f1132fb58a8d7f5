import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { DEFAULT_TRSVCID, checkNqn, formatTrid, parseTrid } from '../../src/host/trid.js';
import { UUID_NQN_PREFIX, bytesToUuid, defaultHostIdentity, hostIdFor, uuidToBytes } from '../../src/host/host-identity.js';
import { getTransport } from '../../src/transport/registry.js';

function err(text: string): string {
  try {
    parseTrid(text);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).exitCode).toBe(2);
    return (e as Error).message;
  }
  throw new Error(`parseTrid(${JSON.stringify(text)}) did not throw`);
}

describe('parseTrid', () => {
  it('parses a full SPDK transport ID', () => {
    expect(parseTrid('trtype:TCP adrfam:IPv4 traddr:10.1.2.3 trsvcid:4421 subnqn:nqn.2016-06.io.spdk:cnode1')).toEqual({
      trtype: 'TCP', adrfam: 'IPv4', traddr: '10.1.2.3', trsvcid: 4421, subnqn: 'nqn.2016-06.io.spdk:cnode1',
    });
  });

  it('applies defaults: TCP, IPv4, port 4420, no subnqn', () => {
    const t = parseTrid('traddr:127.0.0.1');
    expect(t).toEqual({ trtype: 'TCP', adrfam: 'IPv4', traddr: '127.0.0.1', trsvcid: 4420 });
    expect(DEFAULT_TRSVCID).toBe(4420);
  });

  it('accepts case-insensitive keys and values, = separators and extra white space', () => {
    const t = parseTrid('  TRTYPE=tcp\tAdrFam:ipv4   TrAddr=192.168.0.1 trsvcid=8009 SUBNQN=nqn.2014-08.org.nvmexpress.discovery  ');
    expect(t.trtype).toBe('TCP');
    expect(t.trsvcid).toBe(8009);
    expect(t.traddr).toBe('192.168.0.1');
    expect(t.subnqn).toBe('nqn.2014-08.org.nvmexpress.discovery');
  });

  it('keeps colons and = inside values (split at the first separator only)', () => {
    const t = parseTrid('traddr:1.2.3.4 subnqn:nqn.2024-01.io.x:a=b:c hostnqn=nqn.2014-08.org.nvmexpress:uuid:0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(t.subnqn).toBe('nqn.2024-01.io.x:a=b:c');
    expect(t.hostnqn).toBe('nqn.2014-08.org.nvmexpress:uuid:0f8fad5b-d9cb-469f-a165-70867728950e');
  });

  it('accepts ns:N like spdk_nvme_perf', () => {
    expect(parseTrid('traddr:1.2.3.4 ns:3').ns).toBe(3);
  });

  it('accepts port and NQN edge values', () => {
    expect(parseTrid('traddr:0.0.0.0 trsvcid:1').trsvcid).toBe(1);
    expect(parseTrid('traddr:255.255.255.255 trsvcid:65535').trsvcid).toBe(65535);
    const nqn = 'nqn.' + 'a'.repeat(219);
    expect(parseTrid(`traddr:1.1.1.1 subnqn:${nqn}`).subnqn).toBe(nqn);
  });

  it('names the bad key or value in every error', () => {
    expect(err('')).toBe('invalid transport ID: empty (expected e.g. "trtype:TCP traddr:127.0.0.1 trsvcid:4420")');
    expect(err('   ')).toMatch(/^invalid transport ID: empty/);
    expect(err('traddr:127.0.0.1 trsvcid:abc')).toBe('invalid transport ID: trsvcid "abc" is not a port number (1..65535)');
    expect(err('traddr:127.0.0.1 trsvcid:0')).toBe('invalid transport ID: trsvcid "0" is not a port number (1..65535)');
    expect(err('traddr:127.0.0.1 trsvcid:65536')).toBe('invalid transport ID: trsvcid "65536" is not a port number (1..65535)');
    expect(err('traddr:127.0.0.1 trsvcid:-1')).toBe('invalid transport ID: trsvcid "-1" is not a port number (1..65535)');
    expect(err('traddr:127.0.0.1 foo')).toBe('invalid transport ID: "foo" is not a key:value pair');
    expect(err('traddr:127.0.0.1 :x')).toBe('invalid transport ID: ":x" is not a key:value pair');
    expect(err('traddr:127.0.0.1 port:1')).toBe(
      'invalid transport ID: unknown key "port" (expected trtype, adrfam, traddr, trsvcid, subnqn, hostnqn, ns)');
    expect(err('traddr:127.0.0.1 traddr:127.0.0.2')).toBe('invalid transport ID: traddr is given twice');
    expect(err('traddr:127.0.0.1 TRADDR:127.0.0.2')).toBe('invalid transport ID: traddr is given twice');
    expect(err('traddr: trsvcid:1')).toBe('invalid transport ID: traddr has an empty value');
    expect(err('trtype:FOO traddr:1.2.3.4')).toBe('invalid transport ID: trtype "FOO" is not one of TCP, RDMA, PCIe');
    expect(err('trtype:PCIe traddr:0000:01:00.0')).toBe('transport PCIe is not supported yet');
    expect(err('trtype:rdma traddr:1.2.3.4')).toBe('transport RDMA is not supported yet');
    expect(err('trtype:FC traddr:1.2.3.4')).toBe('transport FC is not supported yet');
    expect(err('adrfam:IPv6 traddr:::1')).toBe('adrfam IPv6 is not supported yet (use an IPv4 traddr)');
    expect(err('adrfam:IB traddr:1.2.3.4')).toBe('invalid transport ID: adrfam "IB" does not apply to TCP (use IPv4)');
    expect(err('adrfam:xyz traddr:1.2.3.4')).toBe('invalid transport ID: adrfam "xyz" is not one of IPv4, IPv6');
    expect(err('trsvcid:4420')).toBe('invalid transport ID: traddr is required (e.g. traddr:127.0.0.1)');
    expect(err('traddr:fe80::1')).toBe('adrfam IPv6 is not supported yet: traddr "fe80::1" looks like an IPv6 address');
    expect(err('traddr:localhost')).toBe('invalid transport ID: traddr "localhost" is not an IPv4 address');
    expect(err('traddr:1.2.3.256')).toBe('invalid transport ID: traddr "1.2.3.256" is not an IPv4 address');
    expect(err('traddr:1.2.3')).toBe('invalid transport ID: traddr "1.2.3" is not an IPv4 address');
    expect(err('traddr:01.2.3.4')).toBe('invalid transport ID: traddr "01.2.3.4" is not an IPv4 address');
    expect(err('traddr:1.2.3.4 subnqn:cnode1')).toBe('invalid transport ID: subnqn "cnode1" is not an NQN (it must start with "nqn.")');
    expect(err('traddr:1.2.3.4 subnqn:nqn.')).toBe('invalid transport ID: subnqn "nqn." is not an NQN (nothing after "nqn.")');
    expect(err(`traddr:1.2.3.4 subnqn:nqn.${'a'.repeat(220)}`)).toBe(
      'invalid transport ID: subnqn is 224 bytes long; an NQN is at most 223 bytes');
    expect(err('traddr:1.2.3.4 hostnqn:host1')).toBe('invalid transport ID: hostnqn "host1" is not an NQN (it must start with "nqn.")');
    expect(err('traddr:1.2.3.4 ns:0')).toBe('invalid transport ID: ns "0" is not a namespace ID (1..4294967294)');
    expect(err('traddr:1.2.3.4 ns:x')).toBe('invalid transport ID: ns "x" is not a namespace ID (1..4294967294)');
  });
});

describe('formatTrid', () => {
  it('round-trips', () => {
    const text = 'trtype:TCP adrfam:IPv4 traddr:10.0.0.1 trsvcid:4420 subnqn:nqn.2016-06.io.spdk:cnode1 hostnqn:nqn.2024-01.h:1 ns:2';
    expect(formatTrid(parseTrid(text))).toBe(text);
    expect(formatTrid(parseTrid('traddr:10.0.0.1'))).toBe('trtype:TCP adrfam:IPv4 traddr:10.0.0.1 trsvcid:4420');
  });
});

describe('checkNqn / getTransport', () => {
  it('validates --hostnqn values', () => {
    expect(checkNqn('--hostnqn', 'nqn.2024-01.io.x:h')).toBe('nqn.2024-01.io.x:h');
    expect(() => checkNqn('--hostnqn', 'h')).toThrow('--hostnqn "h" is not an NQN (it must start with "nqn.")');
  });

  it('returns the TCP ops and rejects other transports', () => {
    expect(getTransport('tcp').name).toBe('TCP');
    expect(getTransport('TCP').name).toBe('TCP');
    expect(getTransport('PCIe').name).toBe('PCIe');
    expect(getTransport('local').name).toBe('local');
    expect(() => getTransport('RDMA')).toThrow('transport RDMA is not supported yet');
    expect(() => getTransport('xyz')).toThrow('unknown transport "xyz" (supported: TCP, PCIe)');
  });
});

describe('host identity', () => {
  const U = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const dir = (files: Record<string, string>): string => {
    const d = mkdtempSync(join(tmpdir(), 'hostid-'));
    for (const [k, v] of Object.entries(files)) writeFileSync(join(d, k), v);
    return d;
  };

  it('reuses hostnqn and hostid files', () => {
    const id = defaultHostIdentity(dir({ hostnqn: 'nqn.2024-01.io.example:host1\n', hostid: `${U}\n` }));
    expect(id.hostnqn).toBe('nqn.2024-01.io.example:host1');
    expect(Buffer.from(id.hostId).toString('hex')).toBe(U.replace(/-/g, ''));
    expect(id.source).toBe('etc');
  });

  it('derives the host ID from a UUID host NQN, and the NQN from a host ID', () => {
    const a = defaultHostIdentity(dir({ hostnqn: `${UUID_NQN_PREFIX}${U}` }));
    expect(bytesToUuid(a.hostId)).toBe(U);
    const b = defaultHostIdentity(dir({ hostid: U.toUpperCase() }));
    expect(b.hostnqn).toBe(`${UUID_NQN_PREFIX}${U}`);
    expect(hostIdFor(`${UUID_NQN_PREFIX}${U}`)).toEqual(uuidToBytes(U));
  });

  it('generates a UUID NQN (68 chars) with the same UUID as host ID when nothing is readable, ignoring junk', () => {
    const id = defaultHostIdentity(dir({ hostnqn: 'not an nqn', hostid: 'xyz' }));
    expect(id.source).toBe('generated');
    expect(id.hostnqn).toMatch(/^nqn\.2014-08\.org\.nvmexpress:uuid:[0-9a-f-]{36}$/);
    expect(id.hostnqn.length).toBe(68);
    expect(bytesToUuid(id.hostId)).toBe(id.hostnqn.slice(UUID_NQN_PREFIX.length));
    // The process default is stable.
    expect(defaultHostIdentity()).toBe(defaultHostIdentity());
  });
});
