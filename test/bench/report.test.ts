import { describe, expect, it } from 'vitest';
import type { Result } from 'autocannon';
import { formatTable, judgeMemory, parseProcessMemory, ratio, summarise, verdict, type LoadSummary } from '../../bench/report.js';

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

  it('when the baseline served nothing, then there is no ratio', () => {
    expect(ratio(600, 1000)).toBeCloseTo(0.6);
    expect(ratio(600, 0)).toBeUndefined();
  });

  it('when the ratio and p99 goals hold and nothing failed, then the target is met; any miss or error is not', () => {
    expect(verdict(ok, 0.6, { ratio: 0.6 })).toBe('yes');
    expect(verdict(ok, 0.59, { ratio: 0.6 })).toBe('no');
    expect(verdict(ok, 0.9, { ratio: 0.6, p99Ms: 20 })).toBe('no');
    expect(verdict({ ...ok, unexpected: 1 }, 0.9, { ratio: 0.6 })).toBe('no');
    expect(verdict({ ...ok, errors: 1 }, 0.9, undefined)).toBe('no');
    expect(verdict(ok, 0.9, undefined)).toBe('-');
  });

  it('when rows are formatted, then one aligned Markdown table shows rates, latencies, errors and the ratio', () => {
    const table = formatTable([
      { scenario: 'webhook-unknown-method', service: { ...ok, rps: 6543.2, p50Ms: 9.4 }, baseline: { ...ok, rps: 10_000 }, ratio: 0.65432, target: '≥ 0.6×', met: 'yes' },
      { scenario: 'soak', service: { ...ok, errors: 2, unexpected: 3 }, baseline: undefined, ratio: undefined, target: '-', met: 'no' },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[2]).toMatch(/^\| webhook-unknown-method \| 6,543 \| 9\.4 +\| 20 +\| 0 \/ 0 +\| 10,000 +\| 0\.65× \| ≥ 0\.6× \| yes \|$/);
    expect(lines[3]).toContain('| 2 / 3 ');
    expect(lines[3]).toMatch(/\| - +\| - +\| - +\| no +\|$/);
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
