import { Worker } from 'node:worker_threads';
import type { RequestShape } from './scenario.js';
import { isExpected, percentile, type LoadSummary } from './report.js';
import { watchSteal, type StealSummary } from './steal.js';

/**
 * Open-loop load at a fixed rate: request i is due at t0 + i / rate, whatever the replies do, and
 * its latency is counted from that due time (so time spent queued behind a slow reply counts, no
 * coordinated omission). autocannon's `overallRate` is not used for this: each of its connections
 * sends its per-second quota back to back at the start of every second and then waits
 * (autocannon 9, lib/httpClient.js `_doRequest` / `rateInterval`), so its "fixed rate" is a burst
 * at full speed followed by silence and its p99 is the p99 of the burst.
 *
 * At most `maxSockets` requests are on the wire at once, one per keep-alive connection; the rest
 * wait in a queue (their wait is part of their latency). The sending is bench/pacedWorker.mjs's:
 * its own thread and heap, and HTTP/1.1 written and read by hand (about half the CPU of node:http's client).
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
  /** CPU time the hypervisor took from this machine during the window (bench/steal.ts), when Linux says. */
  steal?: StealSummary;
}

export async function paced(
  baseUrl: string,
  shape: RequestShape,
  opts: { rate: number; seconds: number; expect?: number[]; maxSockets?: number; timeoutMs?: number },
): Promise<PacedResult> {
  // Every request is made here, in order, before sending starts (a shape's per-request state runs
  // on as it would request by request); the sending is bench/pacedWorker.mjs's, on its own thread.
  const next = requestMaker(shape);
  const total = Math.max(1, Math.floor(opts.rate * opts.seconds));
  const requests = Array.from({ length: total }, () => {
    const r = next();
    // A Buffer reaches the worker as a Uint8Array (structured clone).
    return r;
  });
  const worker = new Worker(new URL('./pacedWorker.mjs', import.meta.url), {
    workerData: { baseUrl, requests, rate: opts.rate, maxSockets: opts.maxSockets ?? 64, timeoutMs: opts.timeoutMs ?? 10_000 },
  });
  const steal = watchSteal();
  const out = await new Promise<{ latencies: Float64Array; statuses: Record<string, number>; errors: number; sent: number; elapsedMs: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const stolen = steal.stop();
  await worker.terminate();
  const latencies = Array.from(out.latencies).sort((a, b) => a - b);
  const responses = latencies.length;
  const good = Object.entries(out.statuses)
    .filter(([code]) => isExpected(Number(code), opts.expect))
    .reduce((a, [, n]) => a + n, 0);
  const elapsedS = Math.max(1e-3, out.elapsedMs / 1000);
  return {
    targetRate: opts.rate,
    sent: out.sent,
    rps: responses / elapsedS,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    responses,
    errors: out.errors,
    unexpected: responses - good,
    statuses: out.statuses,
    ...(stolen ? { steal: stolen } : {}),
  };
}
