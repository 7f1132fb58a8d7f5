// Smoke test of the Linux VM peer harness: boot the Linux kernel NVMe/TCP target (nvmet) in
// QEMU, talk raw NVMe/TCP to it from Node (ICReq -> ICResp), stop it, check QEMU is gone.
// Skips, with the reason printed, where the VM dependencies are missing.

import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQemuRunning, requireLinuxVm, startLinuxTarget, type LinuxTarget } from './linux-vm.js';

const vmRuns = requireLinuxVm('interop');

/** ICReq (NVMe/TCP 3.6.2.2): CH type 0x00, hlen 128, plen 128; PFV 0, HPDA 0, DGST, MAXR2T 0. */
function icreq(dgst: number): Buffer {
  const b = Buffer.alloc(128);
  b[0] = 0x00; // PDU type ICReq
  b[2] = 128; // HLEN
  b.writeUInt32LE(128, 4); // PLEN
  b.writeUInt16LE(0, 8); // PFV
  b[10] = 0; // HPDA
  b[11] = dgst; // bit 0 HDGST_ENABLE, bit 1 DDGST_ENABLE
  return b;
}

/** Sends one ICReq to 127.0.0.1:port and returns the first 128 bytes the peer sends back. */
function exchangeIcreq(port: number, dgst: number, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const sock = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no complete ICResp within ${timeoutMs} ms (got ${got} bytes)`));
    }, timeoutMs);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).subarray(0, 128));
    };
    sock.on('connect', () => sock.write(icreq(dgst)));
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= 128) done();
    });
    sock.on('error', (e) => done(e));
    sock.on('close', () => {
      if (got < 128) done(new Error(`connection closed after ${got} bytes of ICResp`));
    });
  });
}

describe.skipIf(!vmRuns)('Linux nvmet target in QEMU (interop harness smoke test)', () => {
  let target: LinuxTarget | undefined;

  beforeAll(async () => {
    target = await startLinuxTarget({ sizeMib: 16 });
  }, 180_000);

  // Runs even when a test failed: never leave a VM behind.
  afterAll(async () => {
    await target?.stop();
  }, 30_000);

  it('reports READY with the identity it was given', () => {
    const t = target!;
    expect(t.port).toBeGreaterThan(0);
    expect(t.nqn).toBe('nqn.2024-01.io.nvmf-perf:linux-peer');
    expect(t.discoveryNqn).toBe('nqn.2014-08.org.nvmexpress.discovery');
    expect(t.sizeBytes).toBe(16 * 1024 * 1024);
    expect(t.serial).toMatch(/^\S+$/);
    expect(t.model.length).toBeGreaterThan(0);
    expect(t.readyLine).toMatch(/^READY /);
    expect(isQemuRunning(t.pid)).toBe(true);
  });

  it.each([0, 3])('answers an ICReq with dgst=%i with a valid ICResp', async (dgst) => {
    const r = await exchangeIcreq(target!.port, dgst);
    expect(r.length).toBe(128);
    expect(r[0]).toBe(0x01); // PDU type ICResp
    expect(r[2]).toBe(128); // HLEN
    expect(r.readUInt32LE(4)).toBe(128); // PLEN
    expect(r.readUInt16LE(8)).toBe(0); // PFV
    expect(r[10]).toBe(0); // CPDA
    expect(r[11]).toBe(dgst); // DGST: Linux grants what was asked
    const maxh2cdata = r.readUInt32LE(12);
    expect(maxh2cdata).toBeGreaterThanOrEqual(4096);
    expect(maxh2cdata % 4).toBe(0);
  });

  it('stop() ends the QEMU process', async () => {
    const t = target!;
    await t.stop();
    expect(isQemuRunning(t.pid)).toBe(false);
    await t.stop(); // idempotent
  }, 30_000);
});
