import { readFileSync } from 'node:fs';

/**
 * CPU time the hypervisor took from this virtual machine ("steal", the 8th number of the `cpu`
 * line of Linux's /proc/stat), read around the fixed-rate run, its sender's 1 s warm-up included:
 * on a shared host a vCPU can be descheduled for tens of ms, which stalls the service and its
 * sender alike and shows up as a p99 miss that no change of the service can mend. The bench reports it beside the p99 (README
 * "Benchmarks"); it changes no verdict.
 */

export interface CpuTimes {
  /** Ticks stolen, all CPUs together. */
  steal: number;
  /** All ticks counted (user, nice, system, idle, iowait, irq, softirq, steal), all CPUs together. */
  total: number;
}

/** The `cpu` line of /proc/stat's text; undefined when there is none (not Linux). */
export function parseCpuTimes(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const n = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (n.length < 8 || n.some((x) => !Number.isFinite(x))) return undefined;
  return { steal: n[7]!, total: n.reduce((a, b) => a + b, 0) };
}

export interface StealSummary {
  /** Share of the machine's CPU time stolen over the whole window, %. */
  stealPct: number;
  /** The highest share in any one sample interval of the window, %. */
  worstPct: number;
}

function read(): CpuTimes | undefined {
  try {
    return parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

const pct = (a: CpuTimes, b: CpuTimes) => (b.total > a.total ? (100 * (b.steal - a.steal)) / (b.total - a.total) : 0);

/** Samples /proc/stat every `everyMs` until `stop()`, which gives the window's steal (undefined off Linux). */
export function watchSteal(everyMs = 250): { stop(): StealSummary | undefined } {
  const first = read();
  let last = first;
  let worst = 0;
  const sample = () => {
    const now = read();
    if (last && now) worst = Math.max(worst, pct(last, now));
    last = now;
  };
  const timer = setInterval(sample, everyMs).unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      return first && last ? { stealPct: pct(first, last), worstPct: worst } : undefined;
    },
  };
}
