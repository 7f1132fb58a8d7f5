// Per-direction I/O statistics of one (worker, namespace) context.
import { encodeHistogram, MAX_TRACKABLE_NS, newRecordingHistogram, type Histogram } from './latency-histogram.js';
import { DOUBLE_ZERO } from '../util/double-zero.js';

export interface DirectionTotals {
  ios: number;
  bytes: number;
  latSumNs: number;
  minNs: number;
  maxNs: number;
  /** Compressed base64 HDR histogram of latencies in ns ("" when no I/O). */
  histogram: string;
  errors: number;
}

export class DirectionStats {
  ios = 0;
  bytes = DOUBLE_ZERO;
  latSumNs = DOUBLE_ZERO;
  minNs = Number.POSITIVE_INFINITY;
  maxNs = DOUBLE_ZERO;
  errors = 0;
  readonly hist: Histogram = newRecordingHistogram();

  record(latNs: number, bytes: number): void {
    this.ios++;
    this.bytes += bytes;
    this.latSumNs += latNs;
    if (latNs < this.minNs) this.minNs = latNs;
    if (latNs > this.maxNs) this.maxNs = latNs;
    this.hist.recordValue(latNs < 1 ? 1 : latNs > MAX_TRACKABLE_NS ? MAX_TRACKABLE_NS : latNs);
  }

  reset(): void {
    this.ios = 0; this.bytes = 0; this.latSumNs = 0; this.minNs = Number.POSITIVE_INFINITY; this.maxNs = 0;
    this.errors = 0;
    this.hist.reset();
  }

  totals(): DirectionTotals {
    return {
      // + 0: a counter never added to is still DOUBLE_ZERO (-0), which Intl would print as "-0".
      ios: this.ios, bytes: this.bytes + 0, latSumNs: this.latSumNs + 0,
      minNs: this.ios > 0 ? this.minNs : 0, maxNs: this.maxNs + 0,
      histogram: this.ios > 0 ? encodeHistogram(this.hist) : '',
      errors: this.errors,
    };
  }

  destroy(): void {
    this.hist.destroy();
  }
}
