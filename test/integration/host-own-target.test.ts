// Our host against our built-in target (`nvmf-perf target` from dist/, a child process): discovery,
// identify, data integrity across the in-capsule / R2T / MDTS split boundaries with and without
// digests, LBA Out of Range, shutdown.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/host/controller.js';
import { discoverLog } from '../../src/host/discovery.js';
import { readSync, writeSync } from '../../src/host/sync-io.js';
import { parseTrid } from '../../src/host/trid.js';
import { cliEntryPath, launchBuiltinTarget, type LaunchedTarget } from '../../src/launch/builtin-target.js';
import { native } from '../../src/native/index.js';
import { NvmeStatusError } from '../../src/nvme/status.js';
import { PollGroup } from '../../src/host/poll-group.js';
import { tcpTransport } from '../../src/transport/tcp/tcp-transport.js';
import { HOST_NOTSENT_LOWAT_BYTES } from '../../src/transport/tcp/tcp-connect.js';
import type { QpairConnectParams, TransportOps } from '../../src/transport/transport.js';

const built = existsSync(cliEntryPath());
if (!built) console.warn(`host-own-target: skipped: ${cliEntryPath()} is missing (run npm run build)`);

const NQN = 'nqn.2016-06.io.nvmf-perf:host-test';

describe.skipIf(!built)('host ↔ built-in target', () => {
  let tgt: LaunchedTarget | undefined;
  let port = 0;

  beforeAll(async () => {
    const cpus = native.allowedCpus();
    tgt = await launchBuiltinTarget({
      namespaces: ['ram:64MiB'], reactorCores: [cpus[cpus.length - 1] ?? 0], interruptMode: true,
      extraArgs: ['--subnqn', NQN],
    });
    port = parseTrid(tgt.trid).trsvcid;
  }, 60_000);

  afterAll(async () => {
    await tgt?.stop();
  });

  it('discovers and identifies the subsystem', () => {
    const log = discoverLog(parseTrid(`traddr:127.0.0.1 trsvcid:${port}`));
    expect(log.entries.some((e) => e.subnqn === NQN && e.subtype === 2)).toBe(true);
    const c = Controller.connect(parseTrid(`traddr:127.0.0.1 trsvcid:${port} subnqn:${NQN}`));
    try {
      expect(c.identify.subnqn).toBe(NQN);
      expect(c.namespaces.length).toBe(1);
      expect(c.namespaces[0]!.sizeBytes).toBe(64 << 20);
      expect(c.maxTransferBytes).toBeGreaterThanOrEqual(4096);
    } finally {
      c.shutdown();
    }
  });

  it('connects every queue through the transport ops table it was given; a poll group connects and reports only ready qpairs', () => {
    const seen: number[] = [];
    const counting: TransportOps = {
      name: 'TCP',
      connectQpair(p: QpairConnectParams) { seen.push(p.qid); return tcpTransport.connectQpair(p); },
    };
    const c = Controller.connect(parseTrid(`traddr:127.0.0.1 trsvcid:${port} subnqn:${NQN}`), { transport: counting });
    const group = new PollGroup();
    try {
      expect(c.transport).toBe(counting);
      const own = c.createIoQpair(1, 8);
      expect(seen).toEqual([0, 1]);
      const a = group.connect(c.ioQpairParams(2, 8), counting);
      const b = group.connect(c.ioQpairParams(3, 8), counting);
      expect(seen).toEqual([0, 1, 2, 3]);
      // Every host queue keeps at most HOST_NOTSENT_LOWAT_BYTES unsent in its socket (the kernel's default is unlimited).
      for (const qp of [own, a, b]) expect(native.notSentLowat(qp.fd, 0)).toBe(HOST_NOTSENT_LOWAT_BYTES);
      const ns = c.namespaces[0]!;
      const data = randomBytes(4 * ns.blockSize);
      writeSync(own, ns.nsid, 0, 4, ns.blockSize, data);
      const got: number[] = [];
      a.onComplete = (tag, st) => { got.push(tag, st); };
      b.onComplete = () => { throw new Error('qpair b completed nothing'); };
      const back = new Uint8Array(data.length);
      expect(a.submitRead(ns.nsid, 0, 4, ns.blockSize, back, 0, 7)).toBe(true);
      a.flush();
      // Only qpair a has something to read: b is never reported (nor polled).
      const deadline = performance.now() + 5000;
      while (got.length === 0 && performance.now() < deadline) {
        if (group.waitForEvents(100) > 0) {
          expect(group.readyQpairs).toHaveLength(1);
          expect(group.readyQpairs[0]).toBe(a);
          group.processReady();
        }
      }
      expect(got).toEqual([7, 0]);
      expect(Buffer.compare(Buffer.from(back), data)).toBe(0);
      expect(group.waitForEvents(0)).toBe(0);
      expect(group.readyQpairs).toHaveLength(0);
    } finally {
      group.close();
      c.shutdown();
    }
  });

  for (const digests of [false, true]) {
    it(`round-trips data across ICD, R2T and MDTS boundaries ${digests ? 'with digests' : 'without digests'}`, () => {
      const c = Controller.connect(parseTrid(`traddr:127.0.0.1 trsvcid:${port} subnqn:${NQN}`), { hdgst: digests, ddgst: digests });
      try {
        const ns = c.namespaces[0]!;
        const bs = ns.blockSize;
        const qp = c.createIoQpair(1, Math.min(64, c.maxIoQueueDepth));
        const icd = c.ioccsz * 16 - 64;
        const sizes = [bs, 4096, icd, icd + bs, c.maxTransferBytes, c.maxTransferBytes + bs, 1 << 20];
        for (const size of sizes) {
          const nb = size / bs;
          for (const slba of [0, 3, 5000, ns.sizeBlocks - nb]) {
            const data = randomBytes(size);
            writeSync(qp, 1, slba, nb, bs, data);
            const back = new Uint8Array(size);
            readSync(qp, 1, slba, nb, bs, back);
            expect(Buffer.compare(Buffer.from(back), data), `size ${size} slba ${slba}`).toBe(0);
          }
        }
        let err: unknown;
        try {
          readSync(qp, 1, ns.sizeBlocks - 1, 2, bs, new Uint8Array(2 * bs));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(NvmeStatusError);
        expect((err as Error).message).toBe('Read failed: LBA Out of Range (sct 0, sc 0x80)');
      } finally {
        c.shutdown();
      }
    }, 60_000);
  }
});

describe.skipIf(!built)('host ↔ built-in target with --allow-host', () => {
  const allowed = 'nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555';
  const other = 'nqn.2014-08.org.nvmexpress:uuid:66666666-7777-8888-9999-000000000000';
  let tgt: LaunchedTarget | undefined;

  beforeAll(async () => {
    const cpus = native.allowedCpus();
    tgt = await launchBuiltinTarget({ namespaces: ['ram:16MiB'], reactorCores: [cpus[cpus.length - 1] ?? 0],
      interruptMode: true, extraArgs: ['--subnqn', NQN, '--allow-host', allowed] });
  }, 60_000);
  afterAll(async () => { await tgt?.stop(); });

  it('admits the allowed host NQN and refuses another one with Connect Invalid Host', () => {
    const trid = parseTrid(`${tgt!.trid}`);
    const ok = Controller.connect(trid, { hostnqn: allowed });
    expect(ok.namespaces).toHaveLength(1);
    ok.shutdown();
    expect(() => Controller.connect(trid, { hostnqn: other }))
      .toThrow('Connect rejected: Connect Invalid Host (sct 1, sc 0x84)');
  });
});

