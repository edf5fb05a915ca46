import { describe, expect, it } from 'vitest';
import type { Result } from 'autocannon';
import {
  cpuPerRequest,
  cpuRatio,
  formatLoadTable,
  formatTable,
  formatTargets,
  judgeMemory,
  parseProcessMemory,
  percentile,
  spread,
  summarise,
  verdict,
  type LoadSummary,
  type Row,
} from '../../bench/report.js';

const MiB = 1024 * 1024;

function result(statusCodeStats: Record<string, { count: number }>, extra: Partial<Result> = {}): Result {
  return {
    requests: { average: 1234.5 },
    latency: { p50: 3, p99: 42 },
    errors: 0,
    statusCodeStats,
    ...extra,
  } as unknown as Result;
}

const ok: LoadSummary = { rps: 1000, p50Ms: 2, p99Ms: 20, responses: 10_000, errors: 0, unexpected: 0, statuses: { '200': 10_000 } };

describe('bench report', () => {
  it('when a scenario expects 400, then 400s are successes and 200s and 500s are unexpected', () => {
    const s = summarise(result({ '400': { count: 90 }, '200': { count: 7 }, '500': { count: 3 } }), [400]);
    expect(s).toMatchObject({ responses: 100, unexpected: 10, rps: 1234.5, p50Ms: 3, p99Ms: 42 });
  });

  it('when a scenario states no statuses, then any 2xx is a success', () => {
    const s = summarise(result({ '200': { count: 5 }, '204': { count: 5 }, '302': { count: 1 } }));
    expect(s.unexpected).toBe(1);
  });

  it('when CPU per request is computed, then only successful responses count and the ratio is comparator ÷ service', () => {
    expect(cpuPerRequest(1_000_000, { ...ok, responses: 2_500, unexpected: 500 })).toBe(500);
    expect(cpuPerRequest(1_000_000, { ...ok, responses: 10, unexpected: 10 })).toBeUndefined();
    expect(cpuRatio(500, 300)).toBeCloseTo(0.6);
    expect(cpuRatio(undefined, 300)).toBeUndefined();
    expect(spread([0.5, undefined, 0.7, 0.6])).toEqual({ median: 0.6, min: 0.5, max: 0.7 });
    expect(spread([undefined])).toBeUndefined();
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([], 50)).toBe(0);
  });

  it('when the CPU ratio and the fixed-rate p99 goals hold and nothing failed, then the target is met; any miss or error is not', () => {
    const r = (median: number) => ({ median, min: median, max: median });
    const target = { cpuRatio: 0.6, fixedP99Ms: 25 };
    expect(verdict([ok], r(0.6), { ...ok, p99Ms: 24 }, target)).toBe('yes');
    expect(verdict([ok], r(0.59), { ...ok, p99Ms: 24 }, target)).toBe('no');
    expect(verdict([ok], r(0.9), { ...ok, p99Ms: 25 }, target)).toBe('no');
    expect(verdict([ok], r(0.9), undefined, target)).toBe('no');
    expect(verdict([ok, { ...ok, unexpected: 1 }], r(0.9), ok, target)).toBe('no');
    expect(verdict([ok], r(0.9), { ...ok, errors: 1 }, { cpuRatio: 0.6 })).toBe('no');
    expect(verdict([{ ...ok, errors: 1 }], r(0.9), ok, undefined)).toBe('no');
    expect(verdict([ok], r(0.9), ok, undefined)).toBe('-');
  });

  it('when rows are formatted, then one aligned table shows CPU per request, the ratio with its spread, rates and the fixed-rate p99', () => {
    const round = (us: number, rps: number) => ({ ...ok, rps, cpuMicros: us * ok.responses, cpuPerRequestUs: us });
    const row: Row = {
      scenario: 'ivr-toggle',
      comparator: 'twin',
      service: [round(600, 900), round(500, 1000), round(550, 950)],
      other: [round(300, 1500), round(320, 1400), round(310, 1450)],
      ratio: { median: 0.56, min: 0.5, max: 0.64 },
      fixed: { ...ok, p99Ms: 12.34, targetRate: 475, sent: 1900 },
      target: { cpuRatio: 0.6, fixedP99Ms: 25 },
      met: 'no',
    };
    const lines = formatTable([row, { ...row, scenario: 'redirect', comparator: 'echo', fixed: undefined, ratio: undefined, target: undefined, met: '-' }]).split('\n');
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[2]).toMatch(/^\| ivr-toggle +\| twin \| 550 +\| 310 +\| 0\.56 \(0\.50–0\.64\) +\| ≥ 0\.6, p99 < 25 ms \| 950 +\| 1,450 +\| 2\.0 \/ 20 +\| 475\/s +\| 12 +\| 0 \/ 0 +\| no +\|$/);
    expect(lines[3]).toMatch(/^\| redirect +\| echo \| 550 +\| 310 +\| - +\| - +\| 950 .*\| - +\| - +\| 0 \/ 0 +\| - +\|$/);

    const targets = formatTargets([row]).split('\n');
    expect(targets[2]).toMatch(/^\| ivr-toggle +\| CPU ratio vs twin +\| 0\.56 +\| ≥ 0\.6 +\| NOT met \|$/);
    expect(targets[3]).toMatch(/^\| ivr-toggle +\| p99 ms at 475\/s +\| 12 +\| < 25 +\| met +\|$/);
  });

  it('when a soak is tabulated, then each scenario shows its totals and failures', () => {
    const lines = formatLoadTable([{ scenario: 'soak', load: { ...ok, errors: 2, unexpected: 3 } }]).split('\n');
    expect(lines[2]).toMatch(/^\| soak +\| 1,000 +\| 2\.0 +\| 20 +\| 10,000 +\| 2 \/ 3 +\|$/);
  });

  it('when the memory floor stays put while peaks swing, then memory is flat; when the floor climbs, it grew', () => {
    const steady = Array.from({ length: 20 }, (_, i) => ({ t: i * 5, rssBytes: (200 + (i % 2) * 40) * MiB, heapUsedBytes: (30 + (i % 3) * 15) * MiB }));
    expect(judgeMemory(steady)).toMatchObject({ flat: true, heapStartMiB: 30, heapEndMiB: 30 });
    const leaking = steady.map((s, i) => ({ ...s, heapUsedBytes: s.heapUsedBytes + i * 2 * MiB }));
    expect(judgeMemory(leaking)?.flat).toBe(false);
    expect(judgeMemory(steady.slice(0, 5))).toBeUndefined();
  });

  it('when /metrics text is read, then RSS and heap used come from the default process metrics', () => {
    const text = [
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      'process_resident_memory_bytes 201326592',
      'nodejs_heap_size_used_bytes 31457280',
      'nodejs_heap_size_total_bytes 50000000',
    ].join('\n');
    expect(parseProcessMemory(text)).toEqual({ rssBytes: 201326592, heapUsedBytes: 31457280 });
    expect(parseProcessMemory('nothing here')).toBeUndefined();
  });
});
