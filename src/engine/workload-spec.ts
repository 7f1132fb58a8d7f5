// Workload shape beyond size/depth/pattern: mixed block sizes, skewed access, the LBA range, verify.
// Shared by the CLI (flags and job files), the plan handed to workers, and the result.

/** One bssplit entry: `bytes` for `percent` % of the I/O. */
export interface BsSplitEntry {
  bytes: number;
  percent: number;
}

export type DistributionKind = 'random' | 'zipf' | 'pareto' | 'normal';

/** fio's random_distribution: random, zipf:θ, pareto:h, normal:P[:centre]. */
export interface RandomDistribution {
  kind: DistributionKind;
  /** θ for zipf, h for pareto, deviation in % of the range for normal; 0 for random. */
  param: number;
  /** normal only: centre as a fraction of the range (default 0.5). */
  center?: number;
}

/** A value in bytes or in percent of the namespace. */
export interface SizeOrPercent {
  bytes?: number;
  percent?: number;
}

/** Where I/O goes in each namespace: `offset` from the start, `size` long (default: to the end). */
export interface IoRange {
  offset: SizeOrPercent;
  size?: SizeOrPercent;
}

export function formatDistribution(d: RandomDistribution): string {
  if (d.kind === 'random') return 'random';
  return `${d.kind}:${d.param}${d.center !== undefined ? `:${d.center}` : ''}`;
}
