import { describe, expect, it } from 'vitest';
import type { Result } from 'autocannon';
import {
  combineInstances,
  cpuPerRequest,
  cpuRatio,
  formatAgainstTable,
  formatEnginesTable,
  formatInstancesTable,
  formatLoadTable,
  notSlower,
  pairedRatios,
  formatTable,
  formatTargets,
  judgeMemory,
  parseProcessMemory,
  percentile,
  spread,
  summarise,
  verdict,
  type LoadSummary,
  type Round,
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
      fixed: { ...ok, p99Ms: 12.34, targetRate: 475, sent: 1900, steal: { stealPct: 0.42, worstPct: 3.14 } },
      target: { cpuRatio: 0.6, fixedP99Ms: 25 },
      met: 'no',
    };
    const lines = formatTable([row, { ...row, scenario: 'redirect', comparator: 'echo', fixed: undefined, ratio: undefined, target: undefined, met: '-' }]).split('\n');
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[2]).toMatch(/^\| ivr-toggle +\| twin \| 550 +\| 310 +\| 0\.56 \(0\.50–0\.64\) +\| ≥ 0\.6, p99 < 25 ms \| 950 +\| 1,450 +\| 2\.0 \/ 20 +\| 475\/s +\| 12 +\| 0\.4 \/ 3\.1 +\| 0 \/ 0 +\| no +\|$/);
    expect(lines[3]).toMatch(/^\| redirect +\| echo \| 550 +\| 310 +\| - +\| - +\| 950 .*\| - +\| - +\| - +\| 0 \/ 0 +\| - +\|$/);

    // On PostgreSQL each side also shows its database server's CPU per request (median); the ratio stays the processes' own.
    const withDb = (rounds: Row['service'], db: number[]) => rounds.map((x, i) => ({ ...x, dbCpuPerRequestUs: db[i] }));
    const pg = formatTable([{ ...row, service: withDb(row.service, [200, 180, 190]), other: withDb(row.other, [400, 420, 410]) }]).split('\n');
    expect(pg[2]).toMatch(/^\| ivr-toggle +\| twin \| 550 \+ db 190 +\| 310 \+ db 410 +\| 0\.56 \(0\.50–0\.64\) /);

    const targets = formatTargets([row]).split('\n');
    expect(targets[2]).toMatch(/^\| ivr-toggle +\| CPU ratio vs twin +\| 0\.56 +\| ≥ 0\.6 +\| NOT met \|$/);
    expect(targets[3]).toMatch(/^\| ivr-toggle +\| p99 ms at 475\/s +\| 12 +\| < 25 +\| met +\|$/);

    // A missed p99 stays missed; when the hypervisor took a large share of the CPU in the window, the line says so.
    const missed = (worstPct: number) => formatTargets([{ ...row, fixed: { ...row.fixed!, p99Ms: 40, steal: { stealPct: 2, worstPct } } }]).split('\n')[3];
    expect(missed(31.6)).toMatch(/\| 40 +\| < 25 +\| NOT met \(steal up to 32 % in a ¼ s\) \|$/);
    expect(missed(4)).toMatch(/\| 40 +\| < 25 +\| NOT met +\|$/);
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

const runOf = (us: number, rps: number, over: Partial<LoadSummary> = {}): Round => ({ ...ok, rps, ...over, cpuMicros: us * ok.responses, cpuPerRequestUs: us });
const rowOf = (scenario: string, rounds: Round[], fixed?: { p99Ms: number; targetRate: number }, note?: string): Row => ({
  scenario,
  comparator: 'twin',
  service: rounds,
  other: rounds,
  ratio: undefined,
  fixed: fixed && { ...ok, ...fixed, sent: fixed.targetRate * 4 },
  target: undefined,
  met: '-',
  ...(note ? { note } : {}),
});

describe('bench report: engines, instances and an older revision', () => {
  it('when two engines measured the write scenarios, then each scenario is one line with both engines side by side', () => {
    const sqlite = [rowOf('webhook-toggle', [runOf(360, 2600), runOf(380, 2500), runOf(370, 2700)], { p99Ms: 16.2, targetRate: 1300 }), rowOf('userprefs', [runOf(320, 3200)], { p99Ms: 4.56, targetRate: 1600 })];
    const pg = [
      rowOf('webhook-toggle', [{ ...runOf(1300, 330, { errors: 1 }), dbCpuPerRequestUs: 610 }, { ...runOf(1200, 350), dbCpuPerRequestUs: 590 }], { p99Ms: 27, targetRate: 165 }),
      rowOf('userprefs', [runOf(900, 300)], undefined, 'the service wrote no user_preferences rows to PostgreSQL'),
      rowOf('shorturl-create', [runOf(700, 400)], { p99Ms: 9, targetRate: 200 }),
    ];
    const lines = formatEnginesTable([
      { engine: 'SQLite', rows: sqlite },
      { engine: 'PostgreSQL', rows: pg },
    ]).split('\n');
    expect(lines).toHaveLength(5);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[0]).toMatch(/^\| scenario +\| SQLite req\/s \| PostgreSQL req\/s \| SQLite µs\/req \| PostgreSQL µs\/req \| SQLite p99 ms at fixed rate \| PostgreSQL p99 ms at fixed rate \| errors \/ unexpected \(SQLite; PostgreSQL\) \| note +\|$/);
    // Medians (nearest rank: of two rounds the lower): 2,600 req/s and 370 µs on SQLite, 330 and
    // 1,200 on PostgreSQL plus 590 µs in the database server, whose error is counted in its cell.
    expect(lines[2]).toMatch(/^\| webhook-toggle +\| 2,600 +\| 330 +\| 370 +\| 1,200 \+ db 590 +\| 16 at 1,300\/s +\| 27 at 165\/s +\| 0 \/ 0; 1 \/ 0 +\| - +\|$/);
    // A row the engine did not judge shows '-' for that engine and says why.
    expect(lines[3]).toMatch(/^\| userprefs +\| 3,200 +\| - +\| 320 +\| - +\| 4\.6 at 1,600\/s +\| - +\| 0 \/ 0; - +\| PostgreSQL: the service wrote no user_preferences rows to PostgreSQL \|$/);
    // A scenario only one engine measured.
    expect(lines[4]).toMatch(/^\| shorturl-create +\| - +\| 400 +\| - +\| 700 +\| - +\| 9\.0 at 200\/s +\| -; 0 \/ 0 +\| - +\|$/);
  });

  it('when instances share the load, then requests/s add up, latency is the worst one\'s and CPU per request is each process\'s own', () => {
    const a = { load: { ...ok, rps: 300, responses: 1200, p50Ms: 80, p99Ms: 200, statuses: { '200': 1200 } }, cpuMicros: 1_200_000 };
    const b = { load: { ...ok, rps: 250, responses: 1000, unexpected: 200, p50Ms: 90, p99Ms: 150, statuses: { '200': 800, '409': 200 } }, cpuMicros: 1_600_000 };
    const r = combineInstances([a, b]);
    expect(r).toMatchObject({ rps: 550, responses: 2200, unexpected: 200, p50Ms: 90, p99Ms: 200, statuses: { '200': 2000, '409': 200 } });
    // 1.2 s over 1,200 good; 1.6 s over 800 good; 2.8 s over 2,000 good.
    expect(r.cpuPerRequestUs).toEqual([1000, 2000]);
    expect(r.totalCpuPerRequestUs).toBe(1400);

    expect(r.idle).toEqual([false, false]);

    // The first instance alone; the second, idle, spends 0.12 s on the first one's changes.
    const one = combineInstances([a, { cpuMicros: 120_000 }]);
    expect(one).toMatchObject({ rps: 300, responses: 1200, idle: [false, true], rpsPerInstance: [300, 0], cpuPerRequestUs: [1000, 100], totalCpuPerRequestUs: 1100 });
    const lines = formatInstancesTable([
      { scenario: 'webhook-toggle', instances: 1, rounds: [one, { ...one, rps: 320 }, { ...one, rps: 280 }] },
      { scenario: 'webhook-toggle', instances: 2, rounds: [r, { ...r, rps: 600 }] },
    ]).split('\n');
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[2]).toMatch(/^\| webhook-toggle \| 1 +\| 300 \(280–320\) +\| 300 \/ 0 +\| 1,000 \/ idle 100 +\| 1,100 +\| 80 \/ 200 +\| 0 \/ 0 +\|$/);
    expect(lines[3]).toMatch(/^\| webhook-toggle \| 2 +\| 550 \(550–600\) +\| 300 \/ 250 +\| 1,000 \/ 2,000 +\| 1,400 +\| 90 \/ 200 +\| 0 \/ 400 +\|$/);
  });

  it('when this code is measured against an older revision, then each round pairs the two runs and "not slower" needs a median ratio of at least 1 with no failures', () => {
    const faster = { scenario: 'ivr-toggle', current: [runOf(500, 1900), runOf(520, 1800), runOf(510, 2000)], old: [runOf(900, 1000), runOf(950, 1200), runOf(920, 800)] };
    // The machine got busier after round 1, for both alike: per round this code is 0.96× at best.
    const slower = { scenario: 'webhook-toggle', current: [runOf(400, 2400), runOf(410, 1200), runOf(405, 600)], old: [runOf(380, 2600), runOf(390, 1250), runOf(385, 640)] };
    expect(pairedRatios(faster)).toEqual({ median: 1.9, min: 1.5, max: 2.5 });
    expect(notSlower(faster)).toBe(true);
    expect(notSlower(slower)).toBe(false);
    expect(notSlower({ ...faster, current: [runOf(500, 1900, { errors: 3 }), ...faster.current.slice(1)] })).toBe(false);
    expect(notSlower({ ...faster, old: [] })).toBe(false);
    // Equal is not slower.
    expect(notSlower({ scenario: 'x', current: [runOf(500, 1000)], old: [runOf(500, 1000)] })).toBe(true);

    const lines = formatAgainstTable([faster, slower], '08cd41f').split('\n');
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[0]).toMatch(/^\| scenario +\| this code req\/s \(min–max\) \| 08cd41f req\/s \(min–max\) \| this ÷ old req\/s per round \(min–max\) \| this code µs\/req \| 08cd41f µs\/req \| errors \/ unexpected \(this; old\) \| not slower \|$/);
    expect(lines[2]).toMatch(/^\| ivr-toggle +\| 1,900 \(1,800–2,000\) +\| 1,000 \(800–1,200\) +\| 1\.90 \(1\.50–2\.50\) +\| 510 +\| 920 +\| 0 \/ 0; 0 \/ 0 +\| yes +\|$/);
    expect(lines[3]).toMatch(/^\| webhook-toggle +\| 1,200 \(600–2,400\) +\| 1,250 \(640–2,600\) +\| 0\.94 \(0\.92–0\.96\) +\| 405 +\| 385 +\| 0 \/ 0; 0 \/ 0 +\| NO +\|$/);
  });
});
