// AdaptiveWait: the spin-then-sleep decision and the busy/spin/sleep split, driven with given clock
// values (the loop passes its own `now`), so every expectation is exact.
import { describe, expect, it } from 'vitest';
import { AdaptiveWait } from '../../src/util/adaptive-wait.js';

const US = 1000;

describe('AdaptiveWait', () => {
  it('interrupt mode with a 50 µs spin window (credit to spare): spins after the last busy pass, then sleeps; time lands in exactly one bucket', () => {
    const w = new AdaptiveWait(true, 50, 1e9);
    w.reset(0);
    expect(w.endPass(3, 10 * US)).toBe(false); // busy
    expect(w.endPass(0, 20 * US)).toBe(false); // idle period starts at 10 µs
    expect(w.endPass(0, 59 * US)).toBe(false); // 49 µs since the last busy pass
    expect(w.endPass(0, 60 * US)).toBe(true); // window over
    w.slept(60 * US, 200 * US, 1);
    expect(w.endPass(1, 210 * US)).toBe(false); // what woke us
    expect(w.endPass(0, 220 * US)).toBe(false); // a new window
    expect(w.endPass(1, 230 * US)).toBe(false); // work within the window: a spin hit
    expect(w.endPass(0, 240 * US)).toBe(false);
    expect(w.endPass(0, 280 * US)).toBe(true);
    w.slept(280 * US, 300 * US, 0); // timed out
    expect(w.snapshot()).toEqual({
      busyNs: 30 * US, spinNs: 110 * US, sleepNs: 160 * US, passes: 9, busyPasses: 3,
      spinWindows: 3, spinHits: 1, sleeps: 2, wakeups: 1, timeouts: 1,
    });
    // Every nanosecond is in exactly one bucket.
    const s = w.snapshot();
    expect(s.busyNs + s.spinNs + s.sleepNs).toBe(300 * US);
  });

  it('spin window 0 sleeps after the first empty pass; nothingDue sleeps at once whatever the window', () => {
    const w0 = new AdaptiveWait(true, 0);
    w0.reset(0);
    expect(w0.endPass(1, 5)).toBe(false);
    expect(w0.endPass(0, 6)).toBe(true);
    const w = new AdaptiveWait(true, 1000, 1e9);
    w.reset(0);
    expect(w.endPass(1, 5)).toBe(false);
    expect(w.endPass(0, 6)).toBe(false);
    expect(w.endPass(0, 7, true)).toBe(true);
    expect(w.endPass(1, 8, true)).toBe(false); // work is never followed by a sleep
  });

  it('spin credit: one I/O per gap earns a short spin, a batch earns the whole window; spinning spends it', () => {
    // 64 µs window, 4 µs of credit per I/O.
    const w = new AdaptiveWait(true, 64, 4 * US);
    w.reset(0);
    // Low rate: one I/O, then a gap: the spin stops after 4 µs although the window is 64 µs.
    expect(w.endPass(1, 10 * US)).toBe(false);
    expect(w.endPass(0, 12 * US)).toBe(false);
    expect(w.endPass(0, 14 * US)).toBe(true);
    w.slept(14 * US, 100 * US, 1);
    // A batch of 32 I/Os: credit capped at the window, so the loop spins the full 64 µs.
    expect(w.endPass(32, 110 * US, false, 32)).toBe(false);
    expect(w.endPass(0, 150 * US)).toBe(false);
    // Work in the pass that started 40 µs into the gap: a hit; 64 − 40 = 24 µs of credit left, + 2 I/Os = 32 µs.
    expect(w.endPass(2, 155 * US, false, 2)).toBe(false);
    expect(w.endPass(0, 165 * US)).toBe(false);
    expect(w.endPass(0, 186 * US)).toBe(false);
    expect(w.endPass(0, 187 * US)).toBe(true); // 32 µs spun: the credit is used up
    const s = w.snapshot();
    expect(s).toMatchObject({ sleeps: 1, spinHits: 1, spinWindows: 3 });
  });

  it('poll mode never sleeps; its empty passes are spin time', () => {
    const w = new AdaptiveWait(false, 50);
    w.reset(0);
    for (let t = 1; t <= 1000; t++) expect(w.endPass(t % 10 === 0 ? 1 : 0, t * US, true)).toBe(false);
    const s = w.snapshot();
    expect(s.sleeps).toBe(0);
    expect(s.busyPasses).toBe(100);
    expect(s.busyNs + s.spinNs).toBe(1000 * US);
    expect(s.busyNs).toBe(100 * US);
  });

  it('reset forgets everything; the clock allocates nothing visible and moves forward', () => {
    const w = new AdaptiveWait(true, 10);
    w.reset(0);
    w.endPass(1, 100);
    w.endPass(0, 200);
    w.slept(200, 300, 1);
    w.reset(1000);
    expect(w.snapshot()).toEqual({ busyNs: 0, spinNs: 0, sleepNs: 0, passes: 0, busyPasses: 0, spinWindows: 0, spinHits: 0,
      sleeps: 0, wakeups: 0, timeouts: 0 });
    const a = w.now(), b = w.now();
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThanOrEqual(a);
  });
});
