// HDR latency histograms (nanoseconds). Workers record into WebAssembly histograms (≈20 ns per value;
// the pure-JS ones cost ≈150 ns) and hand them to the main thread encoded (compressed base64),
// where they are decoded and merged exactly.
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** Highest latency tracked exactly: 1 hour in ns (values above are clamped by the recorder). */
export const MAX_TRACKABLE_NS = 3_600_000_000_000;

let wasmReady = false;

export function newRecordingHistogram(): Histogram {
  if (!wasmReady) {
    hdr.initWebAssemblySync();
    wasmReady = true;
  }
  return hdr.build({
    useWebAssembly: true,
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_TRACKABLE_NS,
    numberOfSignificantValueDigits: 3,
  });
}

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
