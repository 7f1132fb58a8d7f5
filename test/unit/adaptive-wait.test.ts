// AdaptiveWait: the spin-then-sleep decision and the busy/spin/sleep split, driven with given clock
// values (the loop passes its own `now`), so every expectation is exact.
import { describe, expect, it } from 'vitest';
import { AdaptiveWait } from '../../src/util/adaptive-wait.js';

const US = 1000;

describe('AdaptiveWait', () => {
  it('interrupt mode with a 50 µs spin window: spins after the last busy pass, then sleeps; a wake-up opens a new window', () => {
    const w = new AdaptiveWait(true, 50);
    w.reset(0);
    expect(w.endPass(3, 10 * US)).toBe(false); // busy
    expect(w.endPass(0, 20 * US)).toBe(false); // idle period starts at 10 µs
    expect(w.endPass(0, 59 * US)).toBe(false); // 49 µs since the last busy pass
    expect(w.endPass(0, 60 * US)).toBe(true); // window over
    w.slept(60 * US, 200 * US, 1);
    expect(w.endPass(0, 210 * US)).toBe(false); // new window from the wake-up
    expect(w.endPass(1, 220 * US)).toBe(false); // work within the window: a spin hit
    expect(w.endPass(0, 230 * US)).toBe(false);
    expect(w.endPass(0, 270 * US)).toBe(true);
    w.slept(270 * US, 300 * US, 0); // timed out
    expect(w.snapshot()).toEqual({
      busyNs: 20 * US, spinNs: 110 * US, sleepNs: 170 * US, passes: 8, busyPasses: 2,
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
    const w = new AdaptiveWait(true, 1000);
    w.reset(0);
    expect(w.endPass(1, 5)).toBe(false);
    expect(w.endPass(0, 6)).toBe(false);
    expect(w.endPass(0, 7, true)).toBe(true);
    expect(w.endPass(1, 8, true)).toBe(false); // work is never followed by a sleep
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
