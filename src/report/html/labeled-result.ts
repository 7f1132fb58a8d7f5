import type { PerfResult } from '../result-types.js';

/** A result and the name the report gives it (its file name, or --label). */
export interface LabeledResult {
  label: string;
  result: PerfResult;
}

export type Direction = 'read' | 'write';

/** Directions the workload issued: read for read patterns, write for write patterns, both for mixes. */
export function directionsOf(rwmixread: number): Direction[] {
  return rwmixread >= 100 ? ['read'] : rwmixread <= 0 ? ['write'] : ['read', 'write'];
}
