// The once-a-second progress line on stderr, and the printer that keeps it in place on a terminal.
import type { TimelinePoint } from './result-types.js';

/** 212345.6 → "212,346" (no locale dependency). */
export function groupThousands(v: number): string {
  const s = String(Math.round(Math.abs(v)));
  const grouped = s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return v < 0 && Math.round(v) !== 0 ? `-${grouped}` : grouped;
}

/**
 * `[  3/10 s] 212,345 IOPS  829.47 MiB/s  avg 150.21 us  busy w0 99% w1 98%`.
 * Mixed reads and writes add the split after the IOPS (`r 70% w 30%`); warm-up lines say `warmup`;
 * the target's CPU is appended when known. `elapsedSec`/`totalSec` count warm-up plus run.
 */
export function formatProgressLine(p: TimelinePoint, phase: 'warmup' | 'run', elapsedSec: number, totalSec: number): string {
  const total = String(Math.round(totalSec));
  const elapsed = String(Math.round(elapsedSec)).padStart(Math.max(3, total.length));
  const parts: string[] = [`[${elapsed}/${total} s]`];
  if (phase === 'warmup') parts.push('warmup');
  let iops = `${groupThousands(p.iops)} IOPS`;
  if (p.readIops > 0 && p.writeIops > 0) {
    const rw = p.readIops + p.writeIops;
    const r = Math.round((p.readIops / rw) * 100);
    iops += ` (r ${r}% w ${100 - r}%)`;
  }
  parts.push(iops);
  parts.push(` ${p.mibps.toFixed(2)} MiB/s`);
  parts.push(` avg ${p.avgLatUs.toFixed(2)} us`);
  if (p.busyPct.length > 0) parts.push(` busy ${p.busyPct.map((b, i) => `w${i} ${Math.round(b)}%`).join(' ')}`);
  if (p.targetCpuCores !== undefined) parts.push(` target ${p.targetCpuCores.toFixed(2)} cores`);
  return parts.join(' ');
}

/** What the printer needs of a stream (process.stderr fits). */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): boolean;
}

const CLEAR_LINE = '\r\x1b[2K';

/**
 * Prints progress lines: on a terminal each line replaces the previous one (`\r` + clear line);
 * otherwise (a pipe, a log file) one plain line each. Prints nothing when disabled.
 */
export class ProgressPrinter {
  private open = false;

  constructor(private readonly stream: ProgressStream | NodeJS.WriteStream, private readonly enabled: boolean) {}

  line(text: string): void {
    if (!this.enabled) return;
    if (this.stream.isTTY) {
      // A line longer than the terminal wraps, and `\r` would then only go back to its last row.
      const cols = this.stream.columns;
      const shown = cols !== undefined && cols > 1 && text.length >= cols ? text.slice(0, cols - 1) : text;
      this.stream.write(CLEAR_LINE + shown);
      this.open = true;
    } else {
      this.stream.write(text + '\n');
    }
  }

  /** Ends the in-place line (call before anything else is printed, and at the end). */
  done(): void {
    if (this.open) {
      this.stream.write('\n');
      this.open = false;
    }
  }
}
