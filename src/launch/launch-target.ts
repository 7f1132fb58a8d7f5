// Launch the target a perf run asked for (--target builtin|spdk|linux).
import { launchBuiltinTarget } from './builtin-target.js';
import { launchLinuxTarget } from './linux-target.js';
import { launchSpdkTarget } from './spdk-target.js';
import type { LaunchOptions, LaunchedTarget, TargetLaunchSpec } from './launched-target.js';

export function launchTarget(spec: TargetLaunchSpec, opts: LaunchOptions): Promise<LaunchedTarget> {
  if (spec.kind === 'spdk') {
    if (spec.spdkBin === undefined) throw new Error('launchTarget: the nvmf_tgt binary was not resolved');
    return launchSpdkTarget({ ...opts, bin: spec.spdkBin, args: spec.spdkArgs ?? [] });
  }
  if (spec.kind === 'linux') return launchLinuxTarget(opts);
  return launchBuiltinTarget(opts);
}
