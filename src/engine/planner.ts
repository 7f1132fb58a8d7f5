// Spread namespaces over workers the way spdk_nvme_perf associates them: walk max(#namespaces,
// #workers) entries round-robin, so every worker gets at least one namespace and every namespace
// at least one worker. Each (worker, namespace) pair then gets -P qpairs.

/** For each worker, the namespace indexes it drives. */
export function assignNamespaces(numNamespaces: number, numWorkers: number): number[][] {
  if (numNamespaces < 1 || numWorkers < 1) throw new RangeError('need at least one namespace and one worker');
  const out: number[][] = Array.from({ length: numWorkers }, () => []);
  const count = Math.max(numNamespaces, numWorkers);
  for (let i = 0; i < count; i++) out[i % numWorkers]!.push(i % numNamespaces);
  return out;
}

/** How many I/O qpairs each target (by index) needs for a given assignment. */
export function qpairsPerTarget(assign: number[][], nsTarget: number[], numQpairs: number, numTargets: number): number[] {
  const n = new Array<number>(numTargets).fill(0);
  for (const list of assign) for (const ns of list) n[nsTarget[ns]!]! += numQpairs;
  return n;
}
