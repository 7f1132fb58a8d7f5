// The mode comparison document: one row per (load level, mode), each pointing at its run's result file.
import { writeFileSync } from 'node:fs';
import { ensureDir } from '../util/ensure-dir.js';
import { join } from 'node:path';
import type { PerfResult } from './result-types.js';
import type { PerfConfig, ReactorMode } from '../engine/config.js';
import { SCHEMA_VERSION } from './result-types.js';
import { TOOL_VERSION } from '../version.js';

/** poll; interrupt = sleep after the first empty pass (--spin-us 0); adaptive = spin, then sleep. */
export type ModeVariant = 'poll' | 'interrupt' | 'adaptive';

export interface ModeRun {
  label: string;
  mode: ReactorMode;
  variant: ModeVariant;
  /** Spin window of initiator and target in µs (0 in poll and plain interrupt mode). */
  spinUs: number;
  rateIops: number;
  resultPath: string;
  result: PerfResult;
  /** Target CPU in cores during the idle period after the run (-1 unknown). */
  targetIdleCores: number;
  exitCode: number;
}

export interface ComparisonRow {
  label: string;
  mode: ReactorMode;
  variant: ModeVariant;
  spinUs: number;
  rateIops: number;
  iops: number;
  mibps: number;
  avgUs: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  /** CPU actually used, in cores (1.0 = one core busy all the time). */
  initiatorCores: number;
  initiatorBusyPct: number;
  targetCores: number;
  initiatorUsPerIo: number;
  targetUsPerIo: number;
  targetIdleCores: number;
  /** epoll sleeps per I/O (−1 unknown): how often each side paid for a sleep and a wake-up. */
  initiatorSleepsPerIo: number;
  targetSleepsPerIo: number;
  sustained: boolean;
}

export interface ModeComparison {
  pollMaxIops: number;
  idleSec: number;
  runs: Omit<ModeRun, 'result'>[];
  rows: ComparisonRow[];
}

export function writeComparison(c: ModeComparison, config: PerfConfig): string {
  ensureDir(config.resultsDir);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const path = join(config.resultsDir, `nvmf-perf-compare-modes-${config.pattern}-q${config.ioDepth}-${config.ioSize}-${stamp}.json`);
  const doc = { schemaVersion: SCHEMA_VERSION, kind: 'mode-comparison', tool: { name: 'nvmf-perf', version: TOOL_VERSION },
    timestamp: new Date().toISOString(), commandLine: config.commandLine, ...c };
  try {
    writeFileSync(path, JSON.stringify(doc, null, 2) + '\n');
  } catch (e) {
    throw new Error(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return path;
}
