// Counters of bytes and nanoseconds start as doubles (DOUBLE_ZERO), so one that passes 2^30 mid-run
// does not give its object a new hidden class (which deoptimizes every function using the object);
// one never added to leaves its object as 0, not -0.
// Checked in a child node with V8's %HaveSameMap on the shipped classes (dist/).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = (p: string): string => fileURLToPath(new URL(`../../dist/${p}`, import.meta.url));
const built = existsSync(dist('engine/io-stats.js'));
if (!built) console.warn('double-zero: skipped: dist/ is missing (run npm run build)');

const SCRIPT = `
const [{ DirectionStats }, { AdaptiveWait }, { PduSendQueue }, { PduReceiver }] = await Promise.all([
  import(process.env.D + '/engine/io-stats.js'), import(process.env.D + '/util/adaptive-wait.js'),
  import(process.env.D + '/transport/tcp/pdu-send-queue.js'), import(process.env.D + '/transport/tcp/pdu-receiver.js')]);
const BIG = 2 ** 31 + 7;
const out = {};
{ const a = new DirectionStats(), b = new DirectionStats(); b.record(BIG, BIG);
  const t = a.totals(); // never added to: +0 leaves the object, not -0
  out.DirectionStats = [%HaveSameMap(a, b), b.bytes === BIG, Object.is(t.bytes, 0) && Object.is(t.latSumNs, 0) && Object.is(t.maxNs, 0)]; }
{ const a = new AdaptiveWait(true, 50), b = new AdaptiveWait(true, 50); b.reset(0); b.endPass(1, BIG);
  const w = a.snapshot();
  out.AdaptiveWait = [%HaveSameMap(a, b), b.busyNs === BIG, Object.is(w.busyNs, 0) && Object.is(w.sleepNs, 0)]; }
{ const a = new PduSendQueue(), b = new PduSendQueue(); b.sentBytes += BIG; out.PduSendQueue = [%HaveSameMap(a, b), b.sentBytes === BIG]; }
{ const h = { onHeader() {}, onPdu() {} };
  const a = new PduReceiver('host', h), b = new PduReceiver('host', h); b.bufferedPayloadBytes += BIG;
  out.PduReceiver = [%HaveSameMap(a, b), b.bufferedPayloadBytes === BIG]; }
console.log(JSON.stringify(out));
`;

describe.skipIf(!built)('counters that pass 2^30 keep their object\'s hidden class', () => {
  it('DirectionStats, AdaptiveWait, PduSendQueue, PduReceiver: same map after a counter passes 2^31', () => {
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', SCRIPT],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, D: dist('').replace(/\/$/, '') } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      DirectionStats: [true, true, true], AdaptiveWait: [true, true, true], PduSendQueue: [true, true], PduReceiver: [true, true],
    });
  });
});
