import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time of another process, read from Linux's `/proc/<pid>/stat`: `utime` + `stime` (fields
 * 14 and 15) count every thread of the process (the event loop, libuv's pool, V8's GC and
 * compiler threads), in clock ticks of `getconf CLK_TCK` (100 a second on Linux).
 */

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * utime + stime in µs from the text of `/proc/<pid>/stat`. The second field (the command name)
 * is in brackets and may itself contain spaces and brackets, so fields are counted from the last `)`.
 */
export function parseProcStat(text: string, ticks: number): number {
  const end = text.lastIndexOf(')');
  if (end < 0) throw new Error('not a /proc/<pid>/stat line');
  // After ")": field 3 (state) is index 0, so utime (field 14) is index 11 and stime index 12.
  const fields = text.slice(end + 2).trim().split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('no utime/stime in the /proc/<pid>/stat line');
  return ((utime + stime) * 1e6) / ticks;
}

/** CPU µs the process has used so far (all threads). Linux only. */
export function processCpuMicros(pid: number): number {
  return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicks());
}
