// Parsers for the workload-shape values shared by the perf flags and job files: bssplit,
// random_distribution, and the LBA range. Each returns the value or a one-line reason; the caller
// names the flag or file:line. `size` parses one size (flags: binary suffixes; job files: fio's).
import type { BsSplitEntry, IoRange, RandomDistribution, SizeOrPercent } from '../engine/workload-spec.js';

export type SizeParser = (text: string) => number | null;

/** fio's bssplit: "4k/10:64k/50:32k/" — blank shares split the rest evenly; the total must be 100. */
export function parseBsSplit(text: string, size: SizeParser): BsSplitEntry[] | string {
  if (text.includes(',')) return 'separate read/write splits (",") are not supported; give one list for both';
  const parts = text.split(':').map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length === 0) return 'empty (expected e.g. 4k/10:64k/50:32k/40)';
  if (parts.length > 64) return `${parts.length} entries, at most 64`;
  const out: { bytes: number; percent: number | undefined }[] = [];
  for (const p of parts) {
    const m = /^([^/]+)(?:\/(.*))?$/.exec(p)!;
    const bytes = size(m[1]!);
    if (bytes === null || bytes <= 0) return `"${m[1]}" is not a block size`;
    if (bytes % 512 !== 0) return `block size ${bytes} is not a multiple of 512 bytes`;
    if (bytes > 64 * 1024 * 1024) return `block size ${bytes} is above the 64 MiB limit`;
    const pct = m[2] === undefined || m[2] === '' ? undefined : Number(m[2]);
    if (pct !== undefined && !(Number.isFinite(pct) && pct >= 0 && pct <= 100)) return `"${m[2]}" is not a percentage (0..100)`;
    out.push({ bytes, percent: pct });
  }
  const given = out.reduce((s, e) => s + (e.percent ?? 0), 0);
  const blanks = out.filter((e) => e.percent === undefined).length;
  if (given > 100 + 1e-9) return `the shares add up to ${given} %, more than 100`;
  if (blanks === 0 && Math.abs(given - 100) > 1e-9) return `the shares add up to ${given} %, not 100`;
  const fill = blanks > 0 ? (100 - given) / blanks : 0;
  return out.map((e) => ({ bytes: e.bytes, percent: e.percent ?? fill }));
}

/** fio's random_distribution: random | zipf:θ | pareto:h | normal:P[:centre]. */
export function parseDistribution(text: string): RandomDistribution | string {
  const [kindRaw, a, b, ...rest] = text.trim().split(':');
  const kind = (kindRaw ?? '').toLowerCase();
  if (rest.length > 0) return `"${text}" has too many ":" parts`;
  if (kind === 'random') {
    if (a !== undefined) return '"random" takes no value';
    return { kind: 'random', param: 0 };
  }
  if (kind === 'zoned' || kind === 'zoned_abs') return `"${kind}" is not supported (random, zipf:θ, pareto:h, normal:P)`;
  if (kind !== 'zipf' && kind !== 'pareto' && kind !== 'normal' && kind !== 'gauss') {
    return `unknown distribution "${kindRaw}" (random, zipf:θ, pareto:h, normal:P)`;
  }
  if (a === undefined || a === '') return `${kind} needs a value (e.g. zipf:1.2, pareto:0.9, normal:10)`;
  const v = Number(a);
  if (kind === 'zipf' && !(Number.isFinite(v) && v > 0)) return `zipf θ "${a}" must be a number above 0`;
  if (kind === 'pareto' && !(v > 0 && v < 1)) return `pareto h "${a}" must be between 0 and 1 (exclusive)`;
  if ((kind === 'normal' || kind === 'gauss') && !(v > 0 && v <= 100)) return `normal deviation "${a}" must be a percentage above 0, at most 100`;
  if (b !== undefined) {
    if (kind !== 'normal' && kind !== 'gauss') {
      return `a centre ("${b}") applies only to normal: zipf and pareto hot blocks are spread over the whole range`;
    }
    const c = Number(b);
    if (!(c >= 0 && c <= 1)) return `normal centre "${b}" must be between 0 and 1`;
    return { kind: 'normal', param: v, center: c };
  }
  return { kind: kind === 'gauss' ? 'normal' : kind, param: v };
}

/** A size or "N%" (of the namespace). */
export function parseSizeOrPercent(text: string, size: SizeParser): SizeOrPercent | string {
  const t = text.trim();
  const pm = /^(\d+(?:\.\d+)?)\s*%$/.exec(t);
  if (pm) {
    const p = Number(pm[1]);
    if (p > 100) return `"${t}" is more than 100 %`;
    return { percent: p };
  }
  const b = size(t);
  if (b === null || b < 0) return `"${t}" is not a size or a percentage`;
  return { bytes: b };
}

/** --range OFFSET:LENGTH (LENGTH empty = to the end); each a size or a percentage of the namespace. */
export function parseRangeFlag(text: string, size: SizeParser): IoRange | string {
  const i = text.indexOf(':');
  if (i < 0) return `"${text}" is not OFFSET:LENGTH (e.g. 0:1GiB, 50%:25%, 1GiB: for the rest)`;
  const offset = parseSizeOrPercent(text.slice(0, i), size);
  if (typeof offset === 'string') return offset;
  const lenText = text.slice(i + 1).trim();
  if (lenText === '') return { offset };
  const len = parseSizeOrPercent(lenText, size);
  if (typeof len === 'string') return len;
  if ((len.bytes ?? 1) === 0 || len.percent === 0) return 'the length is 0';
  return { offset, size: len };
}
