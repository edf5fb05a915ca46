import type { Stage } from '../http/routing.js';
import type { BreakInterval, ReportAgent } from './report.js';

/**
 * Reads of breaks for reports, the supervisor board and break timers (docs/http.md §6), from the
 * pause-change log and the agents table: a change with prev_pause ends a break that ran from
 * prev_since to at with reason prev_reason. Read-only: pause state changes only through the
 * pause store. Engines: breaks.store.sqlite.ts, breaks.store.pg.ts.
 */
export interface BreaksStore {
  /** The stage's agents (one, with `cli`) ordered by cli. */
  agents(stage: Stage, cli?: string): Promise<ReportAgent[]>;
  /**
   * Every break that overlaps [from, to), unclipped, oldest start first: those that ended inside
   * the window, those that began before `to` and ended after it, and those still open. Breaks of
   * deleted agents are included.
   */
  breaks(stage: Stage, from: number, to: number, cli?: string): Promise<BreakInterval[]>;
  /** Agents on break now, in both stages (the break timer's sweep). */
  paused(): Promise<(ReportAgent & { stage: Stage; since: number })[]>;
}
