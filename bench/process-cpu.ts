// CPU time of another process, read from /proc, so the bench can say which side of a phase was
// saturated: on 2 cores a chat figure means little without knowing whether the server or the load
// generator ran out of CPU first. Linux only; elsewhere the figure is simply absent.

import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime in /proc/PID/stat, 100 on every mainstream Linux build. */
const ticksPerSecond = 100;

/** User + system CPU milliseconds the process has used so far, or null if /proc cannot tell. */
export function cpuMsOf(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return cpuMsFromStat(stat);
}

/** Parses a /proc/PID/stat line; the command name in parentheses may itself contain spaces. */
export function cpuMsFromStat(stat: string): number | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3 of the line, utime field 14, stime field 15.
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return ((utime + stime) * 1000) / ticksPerSecond;
}
