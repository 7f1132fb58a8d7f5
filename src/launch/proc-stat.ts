// CPU time of a process from /proc/PID/stat (utime + stime, fields 14 and 15, in USER_HZ ticks).
import { readFileSync } from 'node:fs';

/** Linux exports times in USER_HZ, which is 100 on every architecture the kernel supports today. */
const USER_HZ = 100;

/** CPU time in ns of process `pid` (all threads), or -1 when it is gone. */
export function processCpuNs(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return -1;
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14 → rest[11], stime field 15 → rest[12].
  const ticks = Number(rest[11]) + Number(rest[12]);
  return Number.isFinite(ticks) ? (ticks * 1e9) / USER_HZ : -1;
}
