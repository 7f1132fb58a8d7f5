// What a run needs from the workload shape beyond the basic plan: the extra plan fields, each
// context's block range (--range; under --verify split so each block has one writer), and checks.
import type { PerfConfig } from './config.js';
import type { WorkloadPlan } from './plan.js';
import { resolveRange, splitRange, type BlockRange } from './io-range.js';
import { MAX_VERIFY_BLOCKS } from './verifier.js';

export function workloadExtras(c: PerfConfig): Pick<WorkloadPlan, 'bssplit' | 'distribution' | 'verify' | 'thinktimeUs'> {
  return { ...(c.bssplit ? { bssplit: c.bssplit } : {}), distribution: c.distribution, verify: c.verify, thinktimeUs: c.thinktimeUs };
}

/** Why the bssplit sizes do not suit a namespace of this block size, or undefined. */
export function bssplitProblem(c: PerfConfig, blockSize: number): string | undefined {
  const bad = c.bssplit?.find((e) => e.bytes % blockSize !== 0);
  return bad ? `--bssplit size ${bad.bytes} is not a multiple of the block size ${blockSize}` : undefined;
}

interface NsShape { blockSize: number; sizeBlocks: number }

/**
 * Per (worker, namespace) the block range, or a one-line problem naming --range/--verify.
 * `assign[w]` lists the namespace indexes worker w drives.
 */
export function contextRanges(c: PerfConfig, assign: number[][], namespaces: readonly NsShape[]):
  ((worker: number, nsIndex: number) => BlockRange) | string {
  const base: BlockRange[] = [];
  for (const ns of namespaces) {
    const r = resolveRange(c.range, ns.sizeBlocks, ns.blockSize);
    if (typeof r === 'string') return `--range: ${r}`;
    const minBytes = c.bssplit ? Math.min(...c.bssplit.map((e) => e.bytes)) : c.ioSize;
    if (r.rangeBlocks * ns.blockSize < c.ioSize || r.rangeBlocks * ns.blockSize < minBytes) {
      return `--range: ${r.rangeBlocks * ns.blockSize} bytes is smaller than the I/O size ${c.ioSize}`;
    }
    base.push(r);
  }
  // Under --verify, each namespace's range is split between the workers driving it.
  const sharers = namespaces.map(() => [] as number[]);
  assign.forEach((list, w) => { for (const i of list) sharers[i]!.push(w); });
  const out = new Map<string, BlockRange>();
  for (let i = 0; i < namespaces.length; i++) {
    const ns = namespaces[i]!;
    const ws = sharers[i]!;
    ws.forEach((w, k) => {
      const align = c.ioSize / ns.blockSize;
      const r = c.verify ? splitRange(base[i]!, ws.length, k, align) : base[i]!;
      out.set(`${w}/${i}`, r);
    });
    if (c.verify) {
      const r = out.get(`${ws[0]}/${i}`);
      if (r && r.rangeBlocks * ns.blockSize < c.ioSize) return `--verify: the range split between ${ws.length} workers leaves less than one I/O each`;
      if (r && r.rangeBlocks > MAX_VERIFY_BLOCKS) {
        return `--verify: ${r.rangeBlocks} blocks per worker is more than the ${MAX_VERIFY_BLOCKS} one verifier tracks; narrow it with --range`;
      }
    }
  }
  return (w, nsIndex) => out.get(`${w}/${nsIndex}`)!;
}
