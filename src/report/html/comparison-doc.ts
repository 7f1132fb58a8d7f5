// The mode comparison document as written by --compare-modes (report/comparison.ts), with its runs' results.
import type { ComparisonRow, ModeComparison } from '../comparison.js';
import type { PerfResult } from '../result-types.js';

export interface ComparisonDoc extends ModeComparison {
  schemaVersion: number;
  kind: 'mode-comparison';
  tool: { name: string; version: string };
  timestamp: string;
  commandLine: string[];
}

export interface LoadedComparison {
  doc: ComparisonDoc;
  /** The result of each entry of doc.runs, in order. */
  results: PerfResult[];
}

export type { ComparisonRow };
