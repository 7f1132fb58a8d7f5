// Samples a target's reactors once a second (framework_get_reactors over its RPC socket).
import type { ReactorSample } from './run-record.js';

export interface TargetSampler {
  /** Latest reactor counters (cumulative busy/idle ticks as the target reports them). */
  sample(): ReactorSample[] | undefined;
}
