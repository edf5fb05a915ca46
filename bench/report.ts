import type { Result } from 'autocannon';

/** The pure half of the bench runner: summarising autocannon results, ratios, verdicts, the table. */

export interface LoadSummary {
  /** Mean requests per second over the run. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses received. */
  responses: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** Responses whose status was not one the scenario expects. */
  unexpected: number;
  statuses: Record<string, number>;
}

/** Expected statuses: the scenario's list, or any 2xx. */
export function isExpected(status: number, expect: number[] | undefined): boolean {
  return expect ? expect.includes(status) : status >= 200 && status < 300;
}

export function summarise(r: Result, expect?: number[]): LoadSummary {
  const statuses: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statuses[code] = s.count ?? 0;
  const responses = Object.values(statuses).reduce((a, b) => a + b, 0);
  const good = Object.entries(statuses)
    .filter(([code]) => isExpected(Number(code), expect))
    .reduce((a, [, n]) => a + n, 0);
  return {
    rps: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    responses,
    errors: r.errors,
    unexpected: responses - good,
    statuses,
  };
}

/** service ÷ baseline requests/s; undefined when the baseline served nothing. */
export function ratio(service: number, baseline: number): number | undefined {
  return baseline > 0 ? service / baseline : undefined;
}

export interface Target {
  ratio?: number;
  p99Ms?: number;
}

/** 'yes' when every stated goal holds and nothing failed; '-' when the scenario states no goal. */
export function verdict(s: LoadSummary, r: number | undefined, target: Target | undefined): 'yes' | 'no' | '-' {
  const failed = s.errors > 0 || s.unexpected > 0 || s.responses === 0;
  if (!target || (target.ratio === undefined && target.p99Ms === undefined)) return failed ? 'no' : '-';
  if (failed) return 'no';
  if (target.ratio !== undefined && (r === undefined || r < target.ratio)) return 'no';
  if (target.p99Ms !== undefined && s.p99Ms >= target.p99Ms) return 'no';
  return 'yes';
}

export function describeTarget(t: Target | undefined): string {
  const parts: string[] = [];
  if (t?.ratio !== undefined) parts.push(`≥ ${t.ratio}×`);
  if (t?.p99Ms !== undefined) parts.push(`p99 < ${t.p99Ms} ms`);
  return parts.length ? parts.join(', ') : '-';
}

export interface Row {
  scenario: string;
  service: LoadSummary;
  baseline: LoadSummary | undefined;
  ratio: number | undefined;
  target: string;
  met: 'yes' | 'no' | '-';
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number): string => (n >= 10 ? n.toFixed(0) : n.toFixed(1));

/** One Markdown table, ready to paste into README.md. */
export function formatTable(rows: Row[]): string {
  const head = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors / unexpected', 'baseline req/s', 'ratio', 'target', 'met'];
  const body = rows.map((r) => [
    r.scenario,
    fmtInt(r.service.rps),
    fmtMs(r.service.p50Ms),
    fmtMs(r.service.p99Ms),
    `${r.service.errors} / ${r.service.unexpected}`,
    r.baseline ? fmtInt(r.baseline.rps) : '-',
    r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}×`,
    r.target,
    r.met,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(line)].join('\n');
}

export interface MemorySample {
  /** Seconds since the soak began. */
  t: number;
  rssBytes: number;
  heapUsedBytes: number;
}

export interface MemoryVerdict {
  flat: boolean;
  rssStartMiB: number;
  rssEndMiB: number;
  heapStartMiB: number;
  heapEndMiB: number;
}

const MiB = 1024 * 1024;

/**
 * Memory is flat when the floor (minimum, which is what survives garbage collection) of the last
 * quarter of samples is within 10% or 8 MiB of the first quarter's for the heap, and within 15%
 * or 32 MiB for RSS (the allocator keeps pages it has freed). A leak grows the floor; GC noise
 * moves the peaks.
 */
export function judgeMemory(samples: MemorySample[]): MemoryVerdict | undefined {
  if (samples.length < 6) return undefined;
  const q = Math.max(3, Math.floor(samples.length / 4));
  const first = samples.slice(0, q);
  const last = samples.slice(-q);
  const floor = (xs: MemorySample[], k: 'rssBytes' | 'heapUsedBytes') => Math.min(...xs.map((x) => x[k]));
  const rss0 = floor(first, 'rssBytes');
  const rss1 = floor(last, 'rssBytes');
  const heap0 = floor(first, 'heapUsedBytes');
  const heap1 = floor(last, 'heapUsedBytes');
  const heapOk = heap1 - heap0 <= Math.max(0.1 * heap0, 8 * MiB);
  const rssOk = rss1 - rss0 <= Math.max(0.15 * rss0, 32 * MiB);
  const mib = (n: number) => Math.round((n / MiB) * 10) / 10;
  return { flat: heapOk && rssOk, rssStartMiB: mib(rss0), rssEndMiB: mib(rss1), heapStartMiB: mib(heap0), heapEndMiB: mib(heap1) };
}

/** Read the process metrics prom-client's default collectors expose on /metrics. */
export function parseProcessMemory(metricsText: string): { rssBytes: number; heapUsedBytes: number } | undefined {
  const rss = /^process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(metricsText);
  const heap = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(metricsText);
  if (!rss || !heap) return undefined;
  return { rssBytes: Number(rss[1]), heapUsedBytes: Number(heap[1]) };
}
