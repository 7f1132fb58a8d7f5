// HDR latency histograms (nanoseconds). Workers record into WebAssembly histograms (≈20 ns per value;
// the pure-JS ones cost ≈150 ns) and hand them to the main thread encoded (compressed base64),
// where they are decoded and merged exactly.
import * as hdr from 'hdr-histogram-js';
import { MAX_TRACKABLE_NS, type Histogram } from '../util/hdr-codec.js';

// The codec (encode, decode, merge) lives in util/hdr-codec.ts, shared with the report layer.
export { MAX_TRACKABLE_NS, newMergeHistogram, encodeHistogram, decodeHistogram, mergeEncoded, type Histogram } from '../util/hdr-codec.js';

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
