// Target limits that keep it healthy against hosts that misbehave by doing nothing: a discovery
// controller always has a keep-alive (KATO 0 from the host gets the target's default, as Linux
// nvmet does), so a host that leaves without closing cannot hold it forever; a host that stops
// reading its responses is capped (the connection stops taking commands) and then dropped; and
// Asynchronous Event Requests are held, limited by AERL, and OAES advertises only the event we raise
// (Namespace Attribute Notices; target-aen.test.ts).
// Short limits are injected through the config so the test does not wait minutes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTarget, type RunningTarget } from '../../src/target/target.js';
import { targetConfig } from '../../src/target/config.js';
import { getFeaturesSqe, identifySqe } from '../../src/nvme/admin-commands.js';
import { emptySqe, encodeSqe } from '../../src/nvme/sqe.js';
import { RawHost, ioSqe, sc, sct } from './target-wire-client.js';

const NQN = 'nqn.2016-06.io.nvmf-perf:limits';
const DISCOVERY = 'nqn.2014-08.org.nvmexpress.discovery';
const DISCOVERY_KATO_MS = 1000;
const STALLED_DROP_MS = 1000;
let target: RunningTarget;
const hosts: RawHost[] = [];

async function host(): Promise<RawHost> {
  const h = await RawHost.open(target.port);
  hosts.push(h);
  return h;
}

beforeAll(async () => {
  target = await startTarget(targetConfig({
    listen: [{ host: '127.0.0.1', port: 0 }], subnqn: NQN, namespaces: [{ kind: 'ram', sizeBytes: 16 << 20 }],
    logLevel: 'silent', discoveryKatoMs: DISCOVERY_KATO_MS, stalledDropMs: STALLED_DROP_MS, interruptMode: true,
  }));
});

afterAll(async () => {
  for (const h of hosts) h.destroy();
  await target?.stop();
});

describe('discovery controller keep-alive', () => {
  it('KATO 0 from the host: the target applies its default, and drops the association when it expires', async () => {
    const h = await host();
    await h.bringUp(DISCOVERY, { kato: 0 });
    const k = await h.cmd(getFeaturesSqe(h.cid(), 0x0f));
    expect(k.status).toBe(0);
    expect(k.dw0).toBe(DISCOVERY_KATO_MS);
    // No Keep Alive from us: the target closes the connection and frees the controller.
    await h.waitClosed(30_000);
    expect(h.closed).toBe(true);
  });

  it('a KATO the host asked for is kept as is', async () => {
    const h = await host();
    await h.bringUp(DISCOVERY, { kato: 30_000 });
    expect((await h.cmd(getFeaturesSqe(h.cid(), 0x0f))).dw0).toBe(30_000);
    h.destroy();
  });

  it('an I/O controller with KATO 0 keeps no timer (unchanged)', async () => {
    const h = await host();
    await h.bringUp(NQN, { kato: 0 });
    expect((await h.cmd(getFeaturesSqe(h.cid(), 0x0f))).dw0).toBe(0);
    h.destroy();
  });
});

describe('a host that stops reading', () => {
  it('is capped, then dropped; another host is served meanwhile and its data is intact', async () => {
    const a = await host();
    const cntlid = await a.bringUp(NQN);
    const q = await host();
    await q.icreq(0);
    expect((await q.connect(1, { subnqn: NQN, cntlid, sqsize: 127 })).status).toBe(0);
    q.detach();
    q.sock.pause();
    // 600 reads of 64 KiB = 37.5 MiB of responses; the host reads none of them.
    const cmds: Buffer[] = [];
    for (let i = 0; i < 600; i++) {
      const u = new Uint8Array(64);
      encodeSqe(new DataView(u.buffer), 0, ioSqe(i + 1, 0x02, 1, (i * 128) % 32000, 128, 512));
      cmds.push(q.capsule(u));
    }
    q.send(Buffer.concat(cmds));
    // Another host works meanwhile: write a pattern, read it back.
    const b = await host();
    const bc = await b.bringUp(NQN, { hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-0000-0000-0000-000000000000' });
    const bq = await host();
    await bq.icreq(0);
    expect((await bq.connect(1, { subnqn: NQN, cntlid: bc, hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-0000-0000-0000-000000000000' })).status).toBe(0);
    const d = Buffer.alloc(16384).map((_v, i) => (i * 31) & 0xff);
    expect((await bq.cmd(ioSqe(bq.cid(), 0x01, 1, 32100, 32, 512), { writeData: d })).status).toBe(0);
    expect(Buffer.compare((await bq.cmd(ioSqe(bq.cid(), 0x02, 1, 32100, 32, 512))).data, d)).toBe(0);
    // The target drops the connection that reads nothing (and never held all 37.5 MiB for it).
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the stalled connection was not dropped')), 60_000);
      const check = (): void => {
        // A paused socket does not see the FIN: look at the target's side.
        if (target.stats()[0]!.ioQpairs === 1) { clearTimeout(t); resolve(); } else setTimeout(check, 50);
      };
      check();
    });
    expect(target.stats()[0]!.connBufferMax).toBeLessThan(600 * 65536);
    // The other host's queue is still there and works.
    expect(Buffer.compare((await bq.cmd(ioSqe(bq.cid(), 0x02, 1, 32100, 32, 512))).data, d)).toBe(0);
  }, 90_000);
});

describe('Asynchronous Event Request', () => {
  it('held without completion up to AERL + 1, the next one refused; OAES advertises namespace notices only; other commands flow', async () => {
    const h = await host();
    await h.bringUp(NQN);
    const id = await h.cmd(identifySqe(h.cid(), 1));
    const aerl = id.data[259]!;
    expect(id.data.readUInt32LE(92)).toBe(0x100); // OAES: Namespace Attribute Notices, nothing else
    for (let i = 0; i <= aerl; i++) {
      const s = emptySqe(); s.opc = 0x0c; s.cid = 500 + i;
      const u = new Uint8Array(64);
      encodeSqe(new DataView(u.buffer), 0, s);
      h.send(h.capsule(u));
    }
    const over = emptySqe(); over.opc = 0x0c; over.cid = 600;
    const r = await h.cmd(over); // cmd() fails on any other CID's completion: the held ones stay held
    expect([sct(r.status), sc(r.status)]).toEqual([1, 0x05]); // Asynchronous Event Request Limit Exceeded
    expect((await h.cmd(getFeaturesSqe(h.cid(), 0x0f))).status).toBe(0);
  });
});
