// The reconnect policy (nvme-cli's ctrl_loss_tmo / reconnect_delay / fast_io_fail_tmo) on a clock we drive.
import { describe, expect, it } from 'vitest';
import { ReconnectPolicy } from '../../src/host/reconnect-policy.js';
import { LinkCode, LinkStates } from '../../src/engine/link-states.js';

describe('ReconnectPolicy', () => {
  it('attempts every reconnect-delay after the loss and is connected again on success', () => {
    const p = new ReconnectPolicy({ ctrlLossTmoMs: 10_000, reconnectDelayMs: 1000, fastIoFailTmoMs: -1 });
    expect(p.poll(0)).toBe('none');
    p.lost(100);
    expect(p.state).toBe('disconnected');
    expect(p.poll(1099)).toBe('none');
    expect(p.poll(1100)).toBe('attempt');
    expect(p.state).toBe('reconnecting');
    p.attemptFailed(1150);
    expect(p.poll(2149)).toBe('none');
    expect(p.poll(2150)).toBe('attempt');
    expect(p.attempts).toBe(2);
    p.attemptSucceeded();
    expect(p.state).toBe('connected');
    expect(p.ioFailDue(50_000)).toBe(false);
    // A second loss starts over.
    p.lost(60_000);
    expect(p.attempts).toBe(0);
    expect(p.since).toBe(60_000);
  });

  it('gives up once ctrl-loss-tmo has passed since the loss; I/O fails then, or at fast-io-fail-tmo', () => {
    const p = new ReconnectPolicy({ ctrlLossTmoMs: 2000, reconnectDelayMs: 1000, fastIoFailTmoMs: 500 });
    p.lost(0);
    expect(p.ioFailDue(499)).toBe(false);
    expect(p.ioFailDue(500)).toBe(true);
    expect(p.poll(1000)).toBe('attempt');
    p.attemptFailed(1000);
    expect(p.poll(1999)).toBe('none');
    expect(p.poll(2000)).toBe('give-up');
    expect(p.state).toBe('lost');
    expect(p.poll(9000)).toBe('none');
    const q = new ReconnectPolicy({ ctrlLossTmoMs: 2000, reconnectDelayMs: 1000, fastIoFailTmoMs: -1 });
    q.lost(0);
    expect(q.ioFailDue(1999)).toBe(false);
    expect(q.poll(2500)).toBe('give-up');
    expect(q.ioFailDue(2500)).toBe(true);
  });

  it('ctrl-loss-tmo 0 never reconnects; -1 never gives up', () => {
    const off = new ReconnectPolicy({ ctrlLossTmoMs: 0, reconnectDelayMs: 1000, fastIoFailTmoMs: -1 });
    off.lost(0);
    expect(off.state).toBe('lost');
    expect(off.poll(5000)).toBe('none');
    const ever = new ReconnectPolicy({ ctrlLossTmoMs: -1, reconnectDelayMs: 1000, fastIoFailTmoMs: -1 });
    ever.lost(0);
    for (let t = 1000; t < 1e7; t += 1000) { expect(ever.poll(t)).toBe('attempt'); ever.attemptFailed(t); }
    expect(ever.deadline()).toBe(Infinity);
  });
});

describe('LinkStates', () => {
  it('a reported loss of the current generation is seen once; a stale report after a reconnect is not', () => {
    const l = LinkStates.create([1, 7]);
    expect(l.cntlid(1)).toBe(7);
    expect(l.lossReported(0)).toBe(false);
    l.reportLoss(0, 0);
    expect(l.lossReported(0)).toBe(true);
    expect(l.lossReported(1)).toBe(false);
    l.setState(0, LinkCode.Disconnected);
    l.publish(0, 3);
    expect([l.generation(0), l.cntlid(0), l.state(0), l.lossReported(0)]).toEqual([1, 3, LinkCode.Connected, false]);
    l.reportLoss(0, 0); // a worker that noticed the old association late
    expect(l.lossReported(0)).toBe(false);
    const w = LinkStates.attach(2, l.sab);
    w.reportLoss(0, 1);
    expect(l.lossReported(0)).toBe(true);
  });
});
