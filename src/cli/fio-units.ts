// fio's number syntax for job files. Sizes: case-insensitive suffixes k/m/g/t/p with an optional
// trailing b; with kb_base=1024 (fio's default, kept "to avoid breaking old scripts") k means 1024 and
// ki/kib mean 1000; with kb_base=1000 k means 1000 and ki/kib mean 1024 (fio HOWTO, "int" and
// kb_base). Times: d/h/m/s/ms/us with a per-option default unit (runtime in s, thinktime in µs).

export type KbBase = 1000 | 1024;

const POWER: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4, p: 5 };

/** Bytes, or null when malformed. "4k" → 4096 (kb_base 1024). */
export function parseFioSize(text: string, kbBase: KbBase): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)(b?)\s*$/i.exec(text);
  if (!m) return null;
  const prefix = m[2]!.toLowerCase();
  const iec = m[3] !== '';
  if (iec && prefix === '') return null; // a bare "i"
  const power = POWER[prefix]!;
  // kb_base 1024: plain prefixes are binary, "i" prefixes decimal; kb_base 1000 the other way round.
  const binary = kbBase === 1024 ? !iec : iec;
  const v = Number(m[1]) * (binary ? 1024 : 1000) ** power;
  return Number.isSafeInteger(v) ? v : Number.isFinite(v) && v < 2 ** 53 ? Math.round(v) : null;
}

const TIME_UNITS: Record<string, number> = {
  d: 86400e6, h: 3600e6, m: 60e6, s: 1e6, sec: 1e6, ms: 1e3, msec: 1e3, us: 1, usec: 1,
};

/** Microseconds, or null when malformed. `defaultUnit` applies to a bare number. */
export function parseFioTimeUs(text: string, defaultUnit: 's' | 'us'): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return null;
  const unit = m[2]!.toLowerCase() || defaultUnit;
  const mult = TIME_UNITS[unit];
  if (mult === undefined) return null;
  return Number(m[1]) * mult;
}
