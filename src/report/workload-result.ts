// The parts of a result that describe the workload shape (bssplit, distribution, range, verify,
// job file) and the verification outcome summed over workers.
import type { PerfConfig } from '../engine/config.js';
import type { WorkerResult } from '../engine/worker-result.js';
import { formatDistribution, type SizeOrPercent } from '../engine/workload-spec.js';
import type { ResolvedConfig, VerifySummary, WorkloadSource } from './result-types.js';
import { compactSize } from './result-writer.js';

export interface ResultExtras {
  config: Pick<ResolvedConfig, 'bssplit' | 'randomDistribution' | 'range' | 'verify' | 'thinktimeUs'>;
  workload?: WorkloadSource;
  verify?: VerifySummary;
  /** One line for the run's error when verification found mismatches. */
  verifyError?: string;
}

const sizeText = (v: SizeOrPercent): string => (v.percent !== undefined ? `${v.percent}%` : String(v.bytes ?? 0));

export function resultExtras(c: PerfConfig, results: readonly WorkerResult[]): ResultExtras {
  const config: ResultExtras['config'] = {};
  if (c.bssplit) config.bssplit = c.bssplit.map((e) => ({ bytes: e.bytes, percent: e.percent }));
  if (c.distribution.kind !== 'random') config.randomDistribution = formatDistribution(c.distribution);
  if (c.range) config.range = { offset: sizeText(c.range.offset), ...(c.range.size ? { size: sizeText(c.range.size) } : {}) };
  if (c.verify) config.verify = true;
  if (c.thinktimeUs > 0) config.thinktimeUs = c.thinktimeUs;
  const out: ResultExtras = { config };
  if (c.workload) out.workload = { file: c.workload.file, section: c.workload.section, sections: [...c.workload.sections] };
  if (c.verify) {
    const v: VerifySummary = { blocksWritten: 0, blocksChecked: 0, mismatches: 0, details: [] };
    for (const r of results) {
      for (const ctx of r.contexts) {
        if (!ctx.verify) continue;
        v.blocksWritten += ctx.verify.blocksWritten;
        v.blocksChecked += ctx.verify.blocksChecked;
        v.mismatches += ctx.verify.mismatches;
        for (const d of ctx.verify.details) v.details.push({ nsid: ctx.nsid, lba: d.lba, what: d.what });
      }
    }
    out.verify = v;
    if (v.mismatches > 0) {
      const first = v.details[0];
      out.verifyError = `verify: ${v.mismatches} block(s) did not match what was written`
        + (first ? `; first: NSID ${first.nsid} LBA ${first.lba}: ${first.what}` : '');
    }
  }
  return out;
}

/** Summary lines for the text report (empty when the run did not verify or come from a job file). */
export function workloadLines(r: { config: ResolvedConfig; verify?: VerifySummary; workload?: WorkloadSource }): string[] {
  const lines: string[] = [];
  if (r.workload) lines.push(`job file ${r.workload.file}, section [${r.workload.section}]`);
  const c = r.config, shape: string[] = [];
  if (c.bssplit) shape.push(`bssplit ${c.bssplit.map((e) => `${compactSize(e.bytes)}/${+e.percent.toFixed(2)}%`).join(' ')}`);
  if (c.randomDistribution) shape.push(`offsets ${c.randomDistribution}`);
  if (c.range) shape.push(`range offset ${c.range.offset}${c.range.size ? `, size ${c.range.size}` : ''}`);
  if (c.thinktimeUs) shape.push(`thinktime ${c.thinktimeUs} us`);
  if (shape.length > 0) lines.push(`workload: ${shape.join('; ')}`);
  const v = r.verify;
  if (v) {
    lines.push(`verify: ${v.blocksWritten} blocks written, ${v.blocksChecked} blocks checked, ${v.mismatches} mismatch(es)`);
    for (const d of v.details.slice(0, 10)) lines.push(`  mismatch NSID ${d.nsid} LBA ${d.lba}: ${d.what}`);
    if (v.mismatches > 10) lines.push(`  … ${v.mismatches - Math.min(10, v.details.length)} more (see the result JSON for up to 20 per worker)`);
  }
  return lines;
}
