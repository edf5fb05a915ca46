import type { Result } from 'autocannon';
import type { StealSummary } from './steal.js';

/** The pure half of the bench runner: summarising load runs, CPU per request, ratios, verdicts, the tables. */

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

/** Percentile of an ascending list (nearest rank); 0 for an empty list. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

/** One timed load run against one process, with that process's CPU time during it. */
export interface Round extends LoadSummary {
  /** CPU µs the process used during the run (all its threads). */
  cpuMicros: number;
  /** cpuMicros ÷ successful responses; undefined when nothing succeeded. */
  cpuPerRequestUs: number | undefined;
  /** On PostgreSQL: the database server's backends' CPU µs ÷ successful responses (bench/pgcpu.ts). */
  dbCpuPerRequestUs?: number | undefined;
}

/** CPU µs per successful request (responses with an expected status). */
export function cpuPerRequest(cpuMicros: number, s: LoadSummary): number | undefined {
  const good = s.responses - s.unexpected;
  return good > 0 ? cpuMicros / good : undefined;
}

/** comparator CPU ÷ service CPU per request (1 = the service costs what the comparator costs). */
export function cpuRatio(serviceUs: number | undefined, comparatorUs: number | undefined): number | undefined {
  return serviceUs !== undefined && comparatorUs !== undefined && serviceUs > 0 ? comparatorUs / serviceUs : undefined;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(xs: (number | undefined)[]): Spread | undefined {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  if (v.length === 0) return undefined;
  return { median: median(v), min: Math.min(...v), max: Math.max(...v) };
}

export interface Target {
  /** Lowest acceptable comparator ÷ service CPU per request (median over the rounds). */
  cpuRatio?: number;
  /** Highest acceptable p99 (ms) at the fixed rate. */
  fixedP99Ms?: number;
}

export interface FixedRate extends LoadSummary {
  targetRate: number;
  sent: number;
  /** CPU time the hypervisor took from the machine during the window, % (bench/steal.ts). */
  steal?: StealSummary;
}

/** "0.4 / 3.1": steal over the fixed-rate window and in its worst ¼ s, % of the machine's CPU time. */
const fmtSteal = (f: FixedRate | undefined): string =>
  f?.steal ? `${f.steal.stealPct.toFixed(1)} / ${f.steal.worstPct.toFixed(1)}` : '-';

export interface Row {
  scenario: string;
  /** What the service is compared with: its same-work twin, or the bare echo. */
  comparator: 'twin' | 'echo';
  service: Round[];
  other: Round[];
  ratio: Spread | undefined;
  fixed: FixedRate | undefined;
  target: Target | undefined;
  met: 'yes' | 'no' | '-';
  /** Why the row is not judged (e.g. the service's store for it is not on the engine measured). */
  note?: string;
}

const failed = (s: LoadSummary) => s.errors > 0 || s.unexpected > 0 || s.responses === 0;

/**
 * 'yes' when every stated goal holds and nothing failed; '-' when the scenario states no goal.
 * Any connection error, timeout or unexpected status in the service's runs fails the row.
 */
export function verdict(service: LoadSummary[], ratio: Spread | undefined, fixed: LoadSummary | undefined, target: Target | undefined): 'yes' | 'no' | '-' {
  const bad = service.length === 0 || service.some(failed) || (fixed !== undefined && failed(fixed));
  if (!target || (target.cpuRatio === undefined && target.fixedP99Ms === undefined)) return bad ? 'no' : '-';
  if (bad) return 'no';
  if (target.cpuRatio !== undefined && (ratio === undefined || ratio.median < target.cpuRatio)) return 'no';
  if (target.fixedP99Ms !== undefined && (fixed === undefined || fixed.p99Ms >= target.fixedP99Ms)) return 'no';
  return 'yes';
}

export function describeTarget(t: Target | undefined): string {
  const parts: string[] = [];
  if (t?.cpuRatio !== undefined) parts.push(`≥ ${t.cpuRatio}`);
  if (t?.fixedP99Ms !== undefined) parts.push(`p99 < ${t.fixedP99Ms} ms`);
  return parts.length ? parts.join(', ') : '-';
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number): string => (n >= 10 ? n.toFixed(0) : n.toFixed(1));
const fmtOpt = (n: number | undefined, f: (n: number) => string): string => (n === undefined ? '-' : f(n));

function aligned(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(line)].join('\n');
}

/** Errors / unexpected statuses summed over runs. */
function failures(runs: LoadSummary[]): string {
  return `${runs.reduce((a, r) => a + r.errors, 0)} / ${runs.reduce((a, r) => a + r.unexpected, 0)}`;
}

/** µs per request, with '+ db n' when the database server's CPU per request was read too (PostgreSQL). */
function withDb(us: string, rounds: Round[]): string {
  const db = spread(rounds.map((x) => x.dbCpuPerRequestUs))?.median;
  return db === undefined ? us : `${us} + db ${fmtInt(db)}`;
}

/**
 * One Markdown table, ready to paste into README.md: per scenario the service's and the
 * comparator's CPU µs per request (medians over the rounds; on PostgreSQL '+ db n', the database
 * server's CPU per request for each: the ratio is of the processes' own CPU), their ratio (median, and min–max
 * over the rounds), requests/s of both, the service's p50/p99 under full load, the fixed rate and
 * the p99 there, errors / unexpected statuses, the target and whether it was met.
 */
export function formatTable(rows: Row[]): string {
  const head = ['scenario', 'vs', 'service µs/req', 'vs µs/req', 'CPU ratio (min–max)', 'target', 'req/s', 'vs req/s', 'p50 / p99 ms', 'fixed rate', 'p99 ms at fixed rate', 'steal % there (worst ¼ s)', 'errors / unexpected', 'met'];
  const body = rows.map((r) => {
    const svcUs = spread(r.service.map((x) => x.cpuPerRequestUs));
    const othUs = spread(r.other.map((x) => x.cpuPerRequestUs));
    const ratio = r.ratio ? `${r.ratio.median.toFixed(2)} (${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)})` : '-';
    return [
      r.scenario,
      r.comparator,
      withDb(fmtOpt(svcUs?.median, fmtInt), r.service),
      withDb(fmtOpt(othUs?.median, fmtInt), r.other),
      ratio,
      describeTarget(r.target),
      r.service.length ? fmtInt(median(r.service.map((x) => x.rps))) : '-',
      r.other.length ? fmtInt(median(r.other.map((x) => x.rps))) : '-',
      r.service.length ? `${fmtMs(median(r.service.map((x) => x.p50Ms)))} / ${fmtMs(median(r.service.map((x) => x.p99Ms)))}` : '-',
      r.fixed ? `${fmtInt(r.fixed.targetRate)}/s` : '-',
      r.fixed ? fmtMs(r.fixed.p99Ms) : '-',
      fmtSteal(r.fixed),
      failures([...r.service, ...(r.fixed ? [r.fixed] : [])]),
      r.met,
    ];
  });
  return aligned(head, body);
}

/** From this share of the machine's CPU stolen in a ¼ s of the window, a missed p99 is noted with it. */
const STEAL_NOTE_PCT = 10;

/**
 * The targets, one line per goal: the CPU ratio (median over the rounds) and the p99 at
 * the fixed rate, each with what it must be and 'met' / 'NOT met'.
 */
export function formatTargets(rows: Row[]): string {
  const body: string[][] = [];
  for (const r of rows) {
    if (r.note) {
      body.push([r.scenario, '-', '-', '-', `not judged: ${r.note}`]);
      continue;
    }
    const failedRuns = r.service.some(failed) || (r.fixed !== undefined && failed(r.fixed));
    const mark = (ok: boolean) => (ok && !failedRuns ? 'met' : 'NOT met');
    if (r.target?.cpuRatio !== undefined) {
      const v = r.ratio?.median;
      body.push([r.scenario, `CPU ratio vs ${r.comparator}`, fmtOpt(v, (x) => x.toFixed(2)), `≥ ${r.target.cpuRatio}`, mark(v !== undefined && v >= r.target.cpuRatio)]);
    }
    if (r.target?.fixedP99Ms !== undefined) {
      const v = r.fixed?.p99Ms;
      const at = r.fixed ? ` at ${fmtInt(r.fixed.targetRate)}/s` : '';
      const ok = v !== undefined && v < r.target.fixedP99Ms;
      // A miss while the hypervisor took a large share of the CPU is still a miss; the note says why it may be.
      const stolen = !ok && r.fixed?.steal && r.fixed.steal.worstPct >= STEAL_NOTE_PCT ? ` (steal up to ${r.fixed.steal.worstPct.toFixed(0)} % in a ¼ s)` : '';
      body.push([r.scenario, `p99 ms${at}`, fmtOpt(v, fmtMs), `< ${r.target.fixedP99Ms}`, `${mark(ok)}${stolen}`]);
    }
  }
  return aligned(['scenario', 'goal', 'measured', 'target', 'met'], body);
}

/** The soak's table: per scenario the totals over the whole soak. */
export function formatLoadTable(rows: { scenario: string; load: LoadSummary }[]): string {
  const head = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'responses', 'errors / unexpected'];
  return aligned(
    head,
    rows.map((r) => [r.scenario, fmtInt(r.load.rps), fmtMs(r.load.p50Ms), fmtMs(r.load.p99Ms), fmtInt(r.load.responses), failures([r.load])]),
  );
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

/** One engine's rows (the same scenarios measured on that engine). */
export interface EngineRows {
  /** How the engine is named in the table's head, e.g. 'SQLite', 'PostgreSQL'. */
  engine: string;
  rows: Row[];
}

/**
 * The engines side by side, one line per scenario measured on any of them: per engine the
 * service's requests/s and CPU µs per request (medians over the rounds; '+ db n' when the
 * database server's CPU per request was read too), its p99 at the fixed
 * rate (with that rate), and errors / unexpected statuses (one column, engines in order); a scenario an engine did not measure,
 * or whose row that engine did not judge (its `note`), shows '-' there and the note at the end.
 */
export function formatEnginesTable(engines: EngineRows[]): string {
  const names: string[] = [];
  for (const e of engines) for (const r of e.rows) if (!names.includes(r.scenario)) names.push(r.scenario);
  const head = [
    'scenario',
    ...engines.map((e) => `${e.engine} req/s`),
    ...engines.map((e) => `${e.engine} µs/req`),
    ...engines.map((e) => `${e.engine} p99 ms at fixed rate`),
    `errors / unexpected (${engines.map((e) => e.engine).join('; ')})`,
    'note',
  ];
  const body = names.map((name) => {
    const per = engines.map((e) => e.rows.find((r) => r.scenario === name));
    const judged = per.map((r) => (r && !r.note ? r : undefined));
    const notes = per.flatMap((r, i) => (r?.note ? [`${engines[i]!.engine}: ${r.note}`] : []));
    return [
      name,
      ...judged.map((r) => (r?.service.length ? fmtInt(median(r.service.map((x) => x.rps))) : '-')),
      ...judged.map((r) => {
        const us = fmtOpt(r && spread(r.service.map((x) => x.cpuPerRequestUs))?.median, fmtInt);
        const db = r && spread(r.service.map((x) => x.dbCpuPerRequestUs))?.median;
        return db === undefined ? us : `${us} + db ${fmtInt(db)}`;
      }),
      ...judged.map((r) => (r?.fixed ? `${fmtMs(r.fixed.p99Ms)} at ${fmtInt(r.fixed.targetRate)}/s` : '-')),
      judged.map((r) => (r ? failures([...r.service, ...(r.fixed ? [r.fixed] : [])]) : '-')).join('; '),
      notes.length ? notes.join('; ') : '-',
    ];
  });
  return aligned(head, body);
}

/** One timed run against some of several instances on one database, every instance's CPU read. */
export interface InstancesRound extends LoadSummary {
  /**
   * Per instance, in start order: the CPU µs it used ÷ the successful responses it gave, or, for
   * an instance no load was sent to (`idle`), ÷ every successful response: what it spent on the
   * others' changes (the bus: LISTEN/NOTIFY and re-reading the rows) per request served elsewhere.
   */
  cpuPerRequestUs: (number | undefined)[];
  /** Per instance: requests/s it served (0 when idle). */
  rpsPerInstance: number[];
  idle: boolean[];
  /** Every instance's CPU µs summed ÷ every successful response. */
  totalCpuPerRequestUs: number | undefined;
}

/**
 * A run against several instances: those with a `load` got their share of the connections (one
 * load generator each, started together), the others none. Requests/s is the sum over the
 * loaded instances, p50/p99 the worst one's, CPU per request each process's own.
 */
export function combineInstances(perInstance: { load?: LoadSummary; cpuMicros: number }[]): InstancesRound {
  const loads = perInstance.flatMap((p) => (p.load ? [p.load] : []));
  const statuses: Record<string, number> = {};
  for (const l of loads) for (const [k, v] of Object.entries(l.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const sum = (f: (l: LoadSummary) => number) => loads.reduce((a, l) => a + f(l), 0);
  const all: LoadSummary = {
    rps: sum((l) => l.rps),
    p50Ms: Math.max(0, ...loads.map((l) => l.p50Ms)),
    p99Ms: Math.max(0, ...loads.map((l) => l.p99Ms)),
    responses: sum((l) => l.responses),
    errors: sum((l) => l.errors),
    unexpected: sum((l) => l.unexpected),
    statuses,
  };
  return {
    ...all,
    cpuPerRequestUs: perInstance.map((p) => cpuPerRequest(p.cpuMicros, p.load ?? all)),
    rpsPerInstance: perInstance.map((p) => p.load?.rps ?? 0),
    idle: perInstance.map((p) => !p.load),
    totalCpuPerRequestUs: cpuPerRequest(
      perInstance.reduce((a, p) => a + p.cpuMicros, 0),
      all,
    ),
  };
}

export interface InstancesRow {
  scenario: string;
  /** How many service processes got load (all on one database; the others ran idle beside them). */
  instances: number;
  rounds: InstancesRound[];
}

const fmtSpread = (s: Spread | undefined): string => (s ? `${fmtInt(s.median)} (${fmtInt(s.min)}–${fmtInt(s.max)})` : '-');

/**
 * One line per count of instances under load: total requests/s (median and min–max over the
 * rounds), each process's requests/s and CPU µs per request ('idle n' for one that got no load) and all
 * processes' together (medians), p50 / p99 under full load (the worst process's, medians) and
 * errors / unexpected statuses summed.
 */
export function formatInstancesTable(rows: InstancesRow[]): string {
  const head = ['scenario', 'instances under load', 'req/s, all instances (min–max)', 'req/s per instance', 'µs/req per instance', 'µs/req, all instances', 'p50 / p99 ms', 'errors / unexpected'];
  const body = rows.map((r) => {
    const n = Math.max(0, ...r.rounds.map((x) => x.cpuPerRequestUs.length));
    const per = Array.from({ length: n }, (_, i) => {
      const us = fmtOpt(spread(r.rounds.map((x) => x.cpuPerRequestUs[i]))?.median, fmtInt);
      return r.rounds.some((x) => x.idle[i]) ? `idle ${us}` : us;
    });
    const rps = Array.from({ length: n }, (_, i) => fmtOpt(spread(r.rounds.map((x) => x.rpsPerInstance[i]))?.median, fmtInt));
    return [
      r.scenario,
      String(r.instances),
      fmtSpread(spread(r.rounds.map((x) => x.rps))),
      rps.join(' / '),
      per.join(' / '),
      fmtOpt(spread(r.rounds.map((x) => x.totalCpuPerRequestUs))?.median, fmtInt),
      r.rounds.length ? `${fmtMs(median(r.rounds.map((x) => x.p50Ms)))} / ${fmtMs(median(r.rounds.map((x) => x.p99Ms)))}` : '-',
      failures(r.rounds),
    ];
  });
  return aligned(head, body);
}

/** One scenario measured on this checkout's service and on an older revision's, alternately. */
export interface AgainstRow {
  scenario: string;
  /** Round i of each ran back to back (in alternating order), so `current[i]` pairs with `old[i]`. */
  current: Round[];
  old: Round[];
}

/**
 * This code's requests/s ÷ the old revision's, per round: the two runs of a round follow each
 * other, so the machine's other load (a shared machine's noise) is nearly the same for both.
 */
export function pairedRatios(r: AgainstRow): Spread | undefined {
  return spread(r.current.map((c, i) => (r.old[i] && r.old[i]!.rps > 0 ? c.rps / r.old[i]!.rps : undefined)));
}

/**
 * Not slower: the median over the rounds of this code's requests/s ÷ the old revision's in the
 * same round is at least 1, and no run of this code failed (errors, unexpected statuses or no answer).
 */
export function notSlower(r: AgainstRow): boolean {
  if (r.current.length === 0 || r.old.length === 0 || r.current.some(failed)) return false;
  const p = pairedRatios(r);
  return p !== undefined && p.median >= 1;
}

/**
 * This code against `rev`: requests/s of each (median and min–max over the rounds), this ÷ old
 * per round (median and min–max), CPU µs per request of each (medians), errors / unexpected
 * statuses of each, and whether this code is not slower.
 */
export function formatAgainstTable(rows: AgainstRow[], rev: string): string {
  const head = [
    'scenario',
    'this code req/s (min–max)',
    `${rev} req/s (min–max)`,
    'this ÷ old req/s per round (min–max)',
    'this code µs/req',
    `${rev} µs/req`,
    'errors / unexpected (this; old)',
    'not slower',
  ];
  const body = rows.map((r) => {
    const p = pairedRatios(r);
    return [
      r.scenario,
      fmtSpread(spread(r.current.map((x) => x.rps))),
      fmtSpread(spread(r.old.map((x) => x.rps))),
      p ? `${p.median.toFixed(2)} (${p.min.toFixed(2)}–${p.max.toFixed(2)})` : '-',
      fmtOpt(spread(r.current.map((x) => x.cpuPerRequestUs))?.median, fmtInt),
      fmtOpt(spread(r.old.map((x) => x.cpuPerRequestUs))?.median, fmtInt),
      `${failures(r.current)}; ${failures(r.old)}`,
      notSlower(r) ? 'yes' : 'NO',
    ];
  });
  return aligned(head, body);
}
