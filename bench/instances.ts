import { processCpuMicros } from './cpu.js';
import type { Child } from './children.js';
import { load } from './load.js';
import { combineInstances, summarise, type InstancesRound, type InstancesRow } from './report.js';
import type { RequestShape, Scenario } from './scenario.js';

/**
 * One scenario through several instances of the service on one database (issue 12): each round
 * runs the scenario against the first instance alone (the others idle beside it, still hearing
 * its changes on the bus), then against all of them at once, the connections split evenly with
 * one load generator per instance started together. Every
 * generator draws its requests from the one shape, so the state the requests expect (each
 * agent's last state, for webhook-toggle) is the database's, shared by the instances. Each
 * instance's CPU time is read from /proc around every run.
 */

/** The first `loaded` instances under load together, every instance's CPU time read around it. */
async function together(instances: Child[], loaded: number, shape: RequestShape, s: Scenario, seconds: number, connections: number): Promise<InstancesRound> {
  const share = (i: number) => Math.floor(connections / loaded) + (i < connections % loaded ? 1 : 0);
  const before = instances.map((c) => processCpuMicros(c.pid));
  const results = await Promise.all(instances.slice(0, loaded).map((c, i) => load(c.url, shape, s, seconds, Math.max(1, share(i)))));
  const cpu = instances.map((c, i) => processCpuMicros(c.pid) - before[i]!);
  return combineInstances(instances.map((_, i) => ({ ...(results[i] ? { load: summarise(results[i]!, s.expectStatus) } : {}), cpuMicros: cpu[i]! })));
}

export async function measureInstances(opts: {
  scenario: Scenario;
  /** Two or more service processes on the same database, the first one measured alone too. */
  instances: Child[];
  /** The shape every run draws from (`scenario.request(…)` once). */
  shape: RequestShape;
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections?: number;
  log: (msg: string) => void;
}): Promise<InstancesRow[]> {
  const { scenario: s, instances, shape } = opts;
  const connections = opts.connections ?? s.connections ?? 64;
  // Every instance warmed up under load (the JIT), then the rounds.
  await together(instances, instances.length, shape, s, opts.warmupSeconds * instances.length, connections);
  const one: InstancesRound[] = [];
  const all: InstancesRound[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    opts.log(`${s.name}: instances round ${i + 1}/${opts.rounds}: one instance, then ${instances.length}, ${opts.seconds} s each`);
    one.push(await together(instances, 1, shape, s, opts.seconds, connections));
    all.push(await together(instances, instances.length, shape, s, opts.seconds, connections));
  }
  return [
    { scenario: s.name, instances: 1, rounds: one },
    { scenario: s.name, instances: instances.length, rounds: all },
  ];
}
