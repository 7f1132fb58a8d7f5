// CoalescePolicy: which busy passes may end in a coalescing sleep (counters and times given, no clock).
import { describe, expect, it } from 'vitest';
import { BACKOFF_NS, CoalescePolicy, FUTILE_STREAK } from '../../src/target/coalesce-policy.js';

/** One window taken at `now`, and the pass after it, which took in `commands`. */
function window(p: CoalescePolicy, now: number, commands: number): void {
  expect(p.wanted(now)).toBe(true);
  p.began();
  p.passEnded(commands, now + 1);
}

describe('CoalescePolicy', () => {
  it('keeps coalescing while each window gathers two or more commands', () => {
    const p = new CoalescePolicy();
    for (let i = 0; i < 100; i++) window(p, i * 1000, 2 + (i % 5));
    expect(p.windows).toBe(100);
    expect(p.backoffs).toBe(0);
    expect(p.wanted(100_000)).toBe(true);
  });

  it(`pauses for BACKOFF_NS after ${FUTILE_STREAK} windows in a row that gathered at most one command, then tries again`, () => {
    const p = new CoalescePolicy();
    for (let i = 0; i < FUTILE_STREAK - 1; i++) window(p, i * 1000, i % 2);
    expect(p.backoffs).toBe(0);
    const t = FUTILE_STREAK * 1000;
    window(p, t, 1);
    expect(p.backoffs).toBe(1);
    expect(p.wanted(t + 1)).toBe(false);
    expect(p.wanted(t + BACKOFF_NS)).toBe(false);
    expect(p.wanted(t + 1 + BACKOFF_NS)).toBe(true);
    expect(p.windows).toBe(FUTILE_STREAK);
  });

  it('a window that gathered two commands breaks the streak', () => {
    const p = new CoalescePolicy();
    for (let i = 0; i < 10 * FUTILE_STREAK; i++) window(p, i * 1000, i % FUTILE_STREAK === FUTILE_STREAK - 1 ? 2 : 1);
    expect(p.backoffs).toBe(0);
  });

  it('only the pass right after a window counts; passes without a window before them do not', () => {
    const p = new CoalescePolicy();
    for (let i = 0; i < 10 * FUTILE_STREAK; i++) p.passEnded(0, i);
    expect(p.backoffs).toBe(0);
    p.began();
    p.passEnded(0, 1);
    p.passEnded(0, 2); // not after a window: ignored
    expect(p.windows).toBe(1);
    expect(p.backoffs).toBe(0);
  });
});
