import type { Options } from 'autocannon';

/**
 * One HTTP benchmark scenario. `npm run bench` starts the service (temp database, limits off)
 * and a bare Express JSON echo as the baseline, runs every scenario against both in the same
 * run, and reports requests/s, p50/p99 latency, errors and the ratio to the baseline.
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
  /** What autocannon sends; `path` is relative to the service. */
  request(ctx: BenchContext): RequestShape;
  /** Goals from the issues, shown next to the measurement. */
  target?: { ratio?: number; p99Ms?: number };
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
