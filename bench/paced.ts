import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RequestShape } from './scenario.js';
import { isExpected, percentile, type LoadSummary } from './report.js';

/**
 * Open-loop load at a fixed rate: request i is due at t0 + i / rate, whatever the replies do, and
 * its latency is counted from that due time (so time spent queued behind a slow reply counts, no
 * coordinated omission). autocannon's `overallRate` is not used for this: each of its connections
 * sends its per-second quota back to back at the start of every second and then waits
 * (autocannon 9, lib/httpClient.js `_doRequest` / `rateInterval`), so its "fixed rate" is a burst
 * at full speed followed by silence and its p99 is the p99 of the burst.
 *
 * At most `maxSockets` requests are on the wire at once over keep-alive connections; the rest
 * wait in the agent's queue (their wait is part of their latency).
 */

interface OneRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

type SetupRequest = (req: Record<string, unknown>) => Record<string, unknown>;

/** The next request of a shape: its own fields, then the first `requests[]` entry, then its `setupRequest`. */
export function requestMaker(shape: RequestShape): () => OneRequest {
  const entry = (shape.requests?.[0] ?? {}) as Record<string, unknown> & { setupRequest?: SetupRequest };
  const { setupRequest, ...fixed } = entry;
  return () => {
    let req: Record<string, unknown> = {
      method: shape.method ?? 'GET',
      path: shape.path,
      headers: { ...(shape.headers ?? {}) },
      ...(shape.body !== undefined ? { body: shape.body } : {}),
      ...fixed,
    };
    if (typeof setupRequest === 'function') req = setupRequest(req);
    return {
      method: String(req.method ?? 'GET'),
      path: String(req.path ?? shape.path),
      headers: { ...((req.headers as Record<string, string> | undefined) ?? shape.headers ?? {}) },
      body: req.body as string | Buffer | undefined,
    };
  };
}

export interface PacedResult extends LoadSummary {
  /** The rate asked for, requests/s. */
  targetRate: number;
  /** Requests sent. */
  sent: number;
}

export async function paced(
  baseUrl: string,
  shape: RequestShape,
  opts: { rate: number; seconds: number; expect?: number[]; maxSockets?: number; timeoutMs?: number },
): Promise<PacedResult> {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64 });
  const next = requestMaker(shape);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let sent = 0;
  let inFlight = 0;
  let finishedAt = 0;
  const intervalMs = 1000 / opts.rate;
  const total = Math.max(1, Math.floor(opts.rate * opts.seconds));

  const fire = (due: number) => {
    const r = next();
    sent += 1;
    inFlight += 1;
    const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    const headers = { ...r.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
    const req = http.request(
      { host: url.hostname, port: url.port, method: r.method, path: r.path, headers, agent, timeout: opts.timeoutMs ?? 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - due);
          const code = String(res.statusCode ?? 0);
          statuses[code] = (statuses[code] ?? 0) + 1;
          inFlight -= 1;
          finishedAt = performance.now();
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      errors += 1;
      inFlight -= 1;
      finishedAt = performance.now();
    });
    req.end(body);
  };

  const t0 = performance.now() + 5;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      while (sent < total && t0 + sent * intervalMs <= now) fire(t0 + sent * intervalMs);
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const drainDeadline = performance.now() + (opts.timeoutMs ?? 10_000) + 1_000;
  while (inFlight > 0 && performance.now() < drainDeadline) await new Promise((r) => setTimeout(r, 5));
  agent.destroy();

  latencies.sort((a, b) => a - b);
  const responses = latencies.length;
  const good = Object.entries(statuses)
    .filter(([code]) => isExpected(Number(code), opts.expect))
    .reduce((a, [, n]) => a + n, 0);
  const elapsedS = Math.max(1e-3, (finishedAt - t0) / 1000);
  return {
    targetRate: opts.rate,
    sent,
    rps: responses / elapsedS,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    responses,
    errors: errors + Math.max(0, inFlight),
    unexpected: responses - good,
    statuses,
  };
}
