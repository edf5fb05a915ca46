import autocannon from 'autocannon';
import { processCpuMicros } from './cpu.js';
import type { Child } from './children.js';
import { cpuPerRequest, summarise, type Round } from './report.js';
import type { RequestShape, Scenario } from './scenario.js';

/** Closed-loop load with autocannon, and one timed run against one process with its CPU time. */

/** `connections` overrides the scenario's own count (default 64). */
export async function load(baseUrl: string, shape: RequestShape, s: Scenario, seconds: number, connections?: number): Promise<autocannon.Result> {
  return autocannon({
    url: baseUrl + shape.path,
    method: shape.method ?? 'GET',
    headers: shape.headers,
    body: shape.body,
    requests: shape.requests,
    connections: connections ?? s.connections ?? 64,
    duration: seconds,
    timeout: 10,
  });
}

/** One timed run against one process, with the CPU time that process used during it. */
export async function round(
  child: Child,
  shape: RequestShape,
  s: Scenario,
  seconds: number,
  expect: number[] | undefined,
  connections?: number,
): Promise<Round> {
  const before = processCpuMicros(child.pid);
  const result = await load(child.url, shape, s, seconds, connections);
  const cpuMicros = processCpuMicros(child.pid) - before;
  const summary = summarise(result, expect);
  return { ...summary, cpuMicros, cpuPerRequestUs: cpuPerRequest(cpuMicros, summary) };
}
