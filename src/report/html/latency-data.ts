// Latency distributions from the result's HDR histograms (ns): percentile curves on a "nines" axis and
// log-spaced histogram bins. Percentiles are computed as result-builder computes the result's list
// (value at percentile, µs rounded to 3 decimals), so table and JSON agree.
import { decodeHistogram, recordedValues, type Histogram } from '../../util/hdr-codec.js';

/** Nines of a percentile: 90 → 1, 99 → 2, 99.9 → 3 (−log10 of the share above it). */
export function ninesOf(percentile: number): number {
  return -Math.log10(1 - percentile / 100);
}

/** Percentiles marked on the nines axis and listed in the tables. */
export const NINES_TICKS = [50, 90, 99, 99.9, 99.99, 99.999];

export function decode(encoded: string): Histogram | undefined {
  if (!encoded) return undefined;
  const h = decodeHistogram(encoded);
  return h.totalCount > 0 ? h : undefined;
}

export function percentileUs(h: Histogram, p: number): number {
  return Math.round(h.getValueAtPercentile(p) / 1000 * 1000) / 1000;
}

/** Highest nines worth drawing: the resolution the sample count allows (1 in N), at least 2. */
export function maxNines(h: Histogram): number {
  return Math.max(2, Math.min(6, Math.ceil(Math.log10(h.totalCount))));
}

/** The percentile curve sampled every 0.05 nines from the 0th percentile to maxNines. */
export function ninesCurve(h: Histogram, upTo = maxNines(h)): { nines: number; percentile: number; us: number }[] {
  const out: { nines: number; percentile: number; us: number }[] = [];
  for (let i = 0; i <= upTo * 20; i++) {
    const nines = i / 20;
    const percentile = 100 * (1 - 10 ** -nines);
    out.push({ nines, percentile, us: percentileUs(h, percentile) });
  }
  return out;
}

/** Vega expression turning a nines value into its percentile label ("99.9 %"). */
export function ninesLabelExpr(ticks: number[]): string {
  let expr = "''";
  for (const p of [...ticks].reverse()) expr = `abs(datum.value - ${ninesOf(p)}) < 1e-6 ? '${p} %' : ${expr}`;
  return expr;
}

export interface Bin { fromUs: number; toUs: number; count: number }

/** Counts in log-spaced bins, `perDecade` bins per factor of 10, from the lowest to the highest value. */
export function logBins(h: Histogram, perDecade = 10): Bin[] {
  const values = recordedValues(h);
  if (values.length === 0) return [];
  const edge = (k: number): number => 10 ** (k / perDecade);
  const indexOf = (us: number): number => Math.floor(Math.log10(Math.max(us, 0.001)) * perDecade + 1e-9);
  const lo = indexOf(values[0]!.valueNs / 1000);
  const hi = indexOf(values[values.length - 1]!.valueNs / 1000);
  const counts = new Array<number>(hi - lo + 1).fill(0);
  for (const v of values) counts[indexOf(v.valueNs / 1000) - lo]! += v.count;
  return counts.map((count, i) => ({ fromUs: round3(edge(lo + i)), toUs: round3(edge(lo + i + 1)), count }));
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
