// Number formatting for tables and labels (en-US grouping so pages read the same everywhere).
import type { Cell } from './section.js';

const formatters = new Map<number, Intl.NumberFormat>();

/** 12345.678 → "12,345.68" with `decimals` fraction digits. */
export function fmt(v: number, decimals = 0): string {
  let f = formatters.get(decimals);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    formatters.set(decimals, f);
  }
  return f.format(v);
}

/** A numeric cell: shown rounded, the exact value kept for data-value. */
export function num(v: number, decimals = 0): Cell {
  return { text: fmt(v, decimals), value: v };
}

export function text(t: string): Cell {
  return { text: t };
}

/** Relative difference against a reference, "+12.3 %"; "—" when the reference is 0. */
export function diffPct(v: number, ref: number): Cell {
  if (ref === 0) return { text: '—' };
  const d = ((v - ref) / ref) * 100;
  return { text: `${d >= 0 ? '+' : '−'}${fmt(Math.abs(d), 1)} %`, value: d };
}

/** Latency in µs with precision that suits its size. */
export function usDecimals(us: number): number {
  return us >= 1000 ? 0 : us >= 100 ? 1 : 2;
}

export const MIB = 1024 * 1024;
