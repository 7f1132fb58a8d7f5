// The one codec of HDR latency histograms (nanoseconds) as they travel in result documents: compressed
// base64 (hdr-histogram-js), decoded into pure-JS histograms. Pure functions with no engine state, so
// both the engine (which records) and the report (which draws) use it without depending on each other.
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** Highest latency tracked exactly: 1 hour in ns (values above are clamped by the recorder). */
export const MAX_TRACKABLE_NS = 3_600_000_000_000;

/** An empty JS histogram for merging on the main thread. */
export function newMergeHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_TRACKABLE_NS,
    numberOfSignificantValueDigits: 3,
  });
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 64, false);
}

/** Merge encoded histograms into one (HDR histograms add bucket by bucket, so this is exact). */
export function mergeEncoded(encoded: Iterable<string>): Histogram {
  const out = newMergeHistogram();
  for (const e of encoded) {
    if (!e) continue;
    out.add(decodeHistogram(e));
  }
  return out;
}

/** Every recorded value (highest equivalent value of its bucket) with its count, lowest first. */
export function recordedValues(h: Histogram): { valueNs: number; count: number }[] {
  const out: { valueNs: number; count: number }[] = [];
  if (!(h instanceof hdr.JsHistogram)) return out;
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    out.push({ valueNs: v.valueIteratedTo, count: v.countAtValueIteratedTo });
  }
  return out;
}
