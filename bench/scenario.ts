import type { Options } from 'autocannon';

/**
 * One HTTP benchmark scenario. `npm run bench` starts the service (temp database, limits off),
 * the scenario's same-work twin (or the bare Express echo when it has none) and measures both in
 * the same run: each process's own CPU µs per successful request, their ratio, requests/s,
 * p50/p99 under full load, and the service's p99 at a fixed rate of half its measured maximum.
 */
export interface BenchContext {
  /** e.g. http://127.0.0.1:40123 — the service under test. */
  baseUrl: string;
  /** Send one request to the service during setup; resolves to the parsed JSON reply. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<unknown>;
}

export interface RequestShape {
  method?: Options['method'];
  path: string;
  headers?: Record<string, string>;
  body?: string;
  requests?: Options['requests'];
}

export interface Scenario {
  name: string;
  /** Prepare data (agents, clients, links) on the service before measuring. */
  setup?(ctx: BenchContext): Promise<void>;
  /**
   * What is sent; `path` is relative to the process. Called once per process measured (the
   * service, the twin or the echo) and the shape is reused for every run against that process, so
   * per-request state (counters, each agent's last state) continues across that process's runs.
   */
  request(ctx: BenchContext): RequestShape;
  /**
   * The same-work minimal twin (`bench/twins/`): the file to run with `node --import tsx`, and
   * settings it reads at start (for example the agents to seed). Without one the comparator is
   * the bare echo (`bench/baseline.ts`).
   */
  twin?: { file: string; env?: Record<string, string> };
  /** The table each successful request writes to (with `--engine pg`, proof the service's store ran on PostgreSQL). */
  writes?: string;
  /** Goals from the issues: comparator ÷ service CPU per request, and p99 at the fixed rate. */
  target?: { cpuRatio?: number; fixedP99Ms?: number };
  /** Connections (default 64). */
  connections?: number;
  /** Status codes that count as success (default 2xx). */
  expectStatus?: number[];
}

/** A non-HTTP measurement (scheduler drain, parse+map ops/s, report on a large database). */
export interface Measurement {
  name: string;
  /** `ctx` reaches the service the runner started, for measurements that compare requests. */
  run(ctx: BenchContext): Promise<Record<string, number | string>>;
}
