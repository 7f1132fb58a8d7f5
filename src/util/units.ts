// Size and count parsing for flags: binary suffixes (k/K/KiB = 1024, m/M/MiB, g/G/GiB, t/T/TiB).

const MULT: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kb: 1024, kib: 1024,
  m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4,
};

/** Parses "4096", "4k", "128KiB", "1GiB". Returns null when malformed. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return null;
  const mult = MULT[m[2]!.toLowerCase()];
  if (mult === undefined) return null;
  const v = Number(m[1]) * mult;
  return Number.isSafeInteger(v) ? v : null;
}

/** Formats bytes with a binary unit: 4096 → "4 KiB". */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes, i = 0;
  while (v >= 1024 && i < units.length - 1 && v % 1024 === 0) { v /= 1024; i++; }
  return `${v} ${units[i]}`;
}

/** Parses a strict non-negative integer. */
export function parseIntStrict(text: string): number | null {
  if (!/^\s*\d+\s*$/.test(text)) return null;
  const v = Number(text);
  return Number.isSafeInteger(v) ? v : null;
}
