// Our host against SPDK's nvmf_tgt (v25.09, ../shared/peers/spdk.sh): a Malloc namespace, then a Null and
// an AIO namespace added over JSON-RPC with our client. Discovery, identify, a write-then-read data check
// across the in-capsule / R2T / MDTS boundaries with and without digests, and the perf command with every
// pattern, digests, sizes up to 1 MiB, -P and several namespaces.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync as fsWriteSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/host/controller.js';
import { discoverLog } from '../../src/host/discovery.js';
import { parseTrid } from '../../src/host/trid.js';
import { readSync, writeSync } from '../../src/host/sync-io.js';
import { cliEntryPath } from '../../src/launch/builtin-target.js';
import type { PerfResult } from '../../src/report/result-types.js';
import { validateResult } from '../../src/report/result-validate.js';
import { peerGate, startSpdkTarget, type SpdkTarget } from './spdk-peer.js';

const SUITE = 'nvmf-perf host → SPDK nvmf_tgt';
const MALLOC_MIB = 64;
const NULL_MIB = 128;
const AIO_MIB = 32;

if (peerGate(SUITE)) {
  describe(SUITE, () => {
    let t: SpdkTarget;
    const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-spdk-host-'));
    const aioFile = join(dir, 'aio.img');

    beforeAll(async () => {
      t = await startSpdkTarget({ bdev: `malloc:${MALLOC_MIB}`, blockSize: 512, core: 1 });
      // Two more namespaces over RPC (NSID 2 Null, NSID 3 AIO on a file).
      // Written out and synced, not sparse: O_DIRECT writes into holes allocate blocks (and into dirty
      // pages flush them first), which on a loaded machine delayed a 1 s run's first AIO completions.
      const fd = openSync(aioFile, 'w');
      try { fsWriteSync(fd, new Uint8Array(AIO_MIB << 20)); fsyncSync(fd); } finally { closeSync(fd); }
      await t.rpc('bdev_null_create', { name: 'Null1', num_blocks: (NULL_MIB << 20) / 512, block_size: 512 });
      await t.rpc('bdev_aio_create', { name: 'Aio2', filename: aioFile, block_size: 512 });
      await t.rpc('nvmf_subsystem_add_ns', { nqn: t.nqn, namespace: { bdev_name: 'Null1' } });
      await t.rpc('nvmf_subsystem_add_ns', { nqn: t.nqn, namespace: { bdev_name: 'Aio2' } });
    }, 120_000);

    afterAll(async () => {
      await t?.stop();
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('discover lists the subsystem (library and CLI)', () => {
      const log = discoverLog(parseTrid(t.addr));
      const e = log.entries.find((x) => x.subnqn === t.nqn);
      expect(e, JSON.stringify(log.entries)).toMatchObject({ trtype: 3, adrfam: 1, subtype: 2, trsvcid: String(t.port), traddr: '127.0.0.1' });
      const r = spawnSync(process.execPath, [cliEntryPath(), 'discover', '-r', t.addr], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`subnqn:  ${t.nqn}\n`);
      expect(r.stdout).toContain(`trsvcid: ${t.port}\n`);
    });

    it('identify: SPDK serial/model, MDTS, three namespaces with the bdev sizes', () => {
      const c = Controller.connect(parseTrid(t.trid));
      try {
        expect(c.identify.sn).toBe('SPDK00000000000001');
        expect(c.identify.mn).toBe('SPDK bdev Controller');
        expect(c.identify.subnqn).toBe(t.nqn);
        // SPDK's TCP transport default max_io_size 128 KiB → MDTS 5.
        expect(c.identify.mdts).toBe(5);
        expect(c.maxTransferBytes).toBe(128 * 1024);
        expect(c.namespaces.map((n) => [n.nsid, n.blockSize, n.sizeBytes])).toEqual([
          [1, 512, MALLOC_MIB << 20], [2, 512, NULL_MIB << 20], [3, 512, AIO_MIB << 20]]);
      } finally {
        c.shutdown();
      }
      const r = spawnSync(process.execPath, [cliEntryPath(), 'identify', '-r', t.trid, '-H', '-I'], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('sn        : SPDK00000000000001\n');
      expect(r.stdout).toContain('mdts      : 5\n');
      expect(r.stdout).toContain('NVME Identify Namespace 3:\n');
      expect(r.stdout).toContain(`block size: 512 bytes, ${(AIO_MIB << 20) / 512} blocks (${AIO_MIB << 20} bytes)\n`);
    });

    for (const digests of [false, true]) {
      it(`writes then reads back 512 B .. 1 MiB on the Malloc and AIO namespaces ${digests ? 'with header+data digests' : 'without digests'}`, () => {
        const c = Controller.connect(parseTrid(t.trid), { hdgst: digests, ddgst: digests });
        try {
          const qp = c.createIoQpair(1, 32);
          expect(qp.hdgst).toBe(digests);
          const icd = c.ioccsz * 16 - 64;
          const mdts = c.maxTransferBytes;
          const sizes = [512, 4096, icd, icd + 512, 65536, mdts, mdts + 512, 1 << 20];
          for (const nsid of [1, 3]) {
            const ns = c.namespaces.find((n) => n.nsid === nsid)!;
            for (const size of sizes) {
              const nb = size / ns.blockSize;
              for (const slba of [0, 777, ns.sizeBlocks - nb]) {
                const data = randomBytes(size);
                writeSync(qp, nsid, slba, nb, ns.blockSize, data);
                const back = new Uint8Array(size + 64).fill(0xee);
                readSync(qp, nsid, slba, nb, ns.blockSize, back, 32);
                expect(Buffer.compare(Buffer.from(back.subarray(32, 32 + size)), data), `ns ${nsid} size ${size} slba ${slba}`).toBe(0);
                expect(back[31]).toBe(0xee);
                expect(back[32 + size]).toBe(0xee);
              }
            }
          }
          // The AIO namespace wrote through to its file: the last 1 MiB written at LBA 0 of NSID 3 is there.
          const ns3 = c.namespaces.find((n) => n.nsid === 3)!;
          const data = randomBytes(4096);
          writeSync(qp, 3, 8, 8, ns3.blockSize, data);
          expect(Buffer.compare(readFileSync(aioFile).subarray(8 * 512, 8 * 512 + 4096), data)).toBe(0);
          expect(qp.outstanding).toBe(0);
        } finally {
          c.shutdown();
        }
      }, 180_000);
    }

    describe('perf command', () => {
      const rdir = mkdtempSync(join(tmpdir(), 'nvmf-perf-spdk-perf-'));
      afterAll(() => rmSync(rdir, { recursive: true, force: true }));
      let n = 0;
      const perf = (args: string[], trid = t.trid): { code: number | null; stderr: string; result: PerfResult | undefined } => {
        const json = join(rdir, `r${n++}.json`);
        const r = spawnSync(process.execPath, [cliEntryPath(), ...args, '-t', '1', '-r', trid, '--json', json, '--no-progress'],
          { encoding: 'utf8', timeout: 90_000 });
        let result: PerfResult | undefined;
        try { result = JSON.parse(readFileSync(json, 'utf8')) as PerfResult; } catch { /* none */ }
        return { code: r.status, stderr: r.stderr, result };
      };

      // Every pattern once; sizes, digests and -P spread over them. No NSID in the TRID: all three namespaces.
      const cases: Array<[string, string[]]> = [
        ['read 512 B QD 1 -H', ['-q', '1', '-s', '512', '-w', 'read', '-H']],
        ['write 1 MiB QD 4 -I', ['-q', '4', '-s', '1MiB', '-w', 'write', '-I']],
        ['randread 4 KiB QD 128 -P 2, --target-rpc', ['-q', '128', '-s', '4096', '-w', 'randread', '-P', '2', '--target-rpc', '@rpc']],
        ['randwrite 128 KiB QD 16 -H -I', ['-q', '16', '-s', '128k', '-w', 'randwrite', '-H', '-I']],
        ['rw 8 KiB QD 32 -M 30', ['-q', '32', '-s', '8k', '-w', 'rw', '-M', '30']],
        ['randrw 1 MiB QD 8 -P 2 -H', ['-q', '8', '-s', '1m', '-w', 'randrw', '-P', '2', '-H']],
      ];
      for (const [name, args] of cases) {
        it(`${name}: all three namespaces, I/O and no errors`, () => {
          const r = perf(args.map((a) => (a === '@rpc' ? t.rpcSocket : a)));
          expect(r.code, r.stderr).toBe(0);
          const res = r.result!;
          expect(validateResult(res)).toEqual([]);
          expect(res.status).toBe('complete');
          expect(res.total.total.errors).toBe(0);
          expect(res.targets[0]!.sn).toBe('SPDK00000000000001');
          expect(res.namespaces.map((x) => x.nsid).sort()).toEqual([1, 2, 3]);
          expect(res.namespaces.every((x) => x.io.total.ios > 0), JSON.stringify(res.namespaces.map((x) => x.io.total))).toBe(true);
          const w = args[args.indexOf('-w') + 1]!;
          if (w.includes('read')) expect(res.total.read.ios).toBeGreaterThan(0);
          if (w.includes('write') || w.endsWith('rw')) expect(res.total.write.ios).toBeGreaterThan(0);
          if (w === 'read' || w === 'randread') expect(res.total.write.ios).toBe(0);
          expect(res.config.headerDigest).toBe(args.includes('-H'));
          expect(res.config.dataDigest).toBe(args.includes('-I'));
          if (args.includes('--target-rpc')) {
            // nvmf_tgt's reactor (poll mode) sampled into every timeline second.
            const samples = res.timeline.map((p) => p.targetReactors);
            expect(samples.length).toBeGreaterThan(0);
            expect(samples.every((x) => x !== undefined && x.length === 1 && x[0]!.lcore === t.core && !x[0]!.inInterrupt)).toBe(true);
          }
        }, 120_000);
      }

      it('a TRID without subnqn goes through the discovery log; ns:2 selects the Null namespace', () => {
        const r = perf(['-q', '8', '-s', '4096', '-w', 'randread'], t.addr);
        expect(r.code, r.stderr).toBe(0);
        expect(r.result!.config.transportIds).toEqual([t.trid]);
        const one = perf(['-q', '8', '-s', '4096', '-w', 'randread'], `${t.trid} ns:2`);
        expect(one.code, one.stderr).toBe(0);
        expect(one.result!.namespaces.map((x) => x.nsid)).toEqual([2]);
      }, 120_000);
    });
  });
}
