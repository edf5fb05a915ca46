import type { Db } from '../db/open.js';
import type { Stage } from '../http/routing.js';
import type { BreakInterval, ReportAgent } from './report.js';
import type { BreaksStore } from './breaks.store.js';

/**
 * Breaks on SQLite, for a window [from, to), in three parts, each served by an index:
 * - breaks that ended inside the window: rows with prev_pause = 1 and from < at <= to
 *   (pause_events_by_time, 091: covering, prev_pause checked in the index);
 * - breaks that began before `to` and ended after it: per agent, the first change after `to`
 *   (pause_events_stage_cli_at), when it ended a break;
 * - breaks still open: agents paused since before `to`.
 * Breaks of agents that were deleted are returned too; the report lists only existing agents.
 */

interface IntervalRow {
  cli: string;
  start: number;
  end: number | null;
  reason: string | null;
}

interface AgentRow {
  cli: string;
  name: string | null;
  pause: number;
  reason: string | null;
  since: number | null;
}

export function createSqliteBreaksStore(db: Db): BreaksStore {
  const cliFilter = '(@cli IS NULL OR cli = @cli)';
  const endedIn = db.prepare<{ stage: Stage; from: number; to: number; cli: string | null }, IntervalRow>(
    `SELECT cli, prev_since AS start, at AS "end", prev_reason AS reason
       FROM pause_events INDEXED BY pause_events_by_time
      WHERE stage = @stage AND prev_pause = 1 AND at > @from AND at <= @to AND ${cliFilter}`,
  );
  const straddling = db.prepare<{ stage: Stage; to: number; cli: string | null }, IntervalRow>(
    `SELECT e.cli AS cli, e.prev_since AS start, e.at AS "end", e.prev_reason AS reason
       FROM agents a
       JOIN pause_events e ON e.id = (
            SELECT x.id FROM pause_events x
             WHERE x.stage = a.stage AND x.cli = a.cli AND x.at > @to
             ORDER BY x.at, x.id LIMIT 1)
      WHERE a.stage = @stage AND (@cli IS NULL OR a.cli = @cli) AND e.prev_pause = 1 AND e.prev_since < @to`,
  );
  const open = db.prepare<{ stage: Stage; to: number; cli: string | null }, IntervalRow>(
    `SELECT cli, since AS start, NULL AS "end", reason FROM agents
      WHERE stage = @stage AND pause = 1 AND since < @to AND ${cliFilter}`,
  );
  const agents = db.prepare<{ stage: Stage; cli: string | null }, AgentRow>(
    `SELECT cli, name, pause, reason, since FROM agents WHERE stage = @stage AND ${cliFilter} ORDER BY cli`,
  );
  const paused = db.prepare<[], AgentRow & { stage: Stage }>(
    'SELECT stage, cli, name, pause, reason, since FROM agents WHERE pause = 1 AND since IS NOT NULL',
  );

  return {
    async agents(stage: Stage, cli?: string): Promise<ReportAgent[]> {
      return agents.all({ stage, cli: cli ?? null }).map((r) => ({ ...r, pause: r.pause === 1 }));
    },
    async breaks(stage: Stage, from: number, to: number, cli?: string): Promise<BreakInterval[]> {
      const c = cli ?? null;
      const rows = [...endedIn.all({ stage, from, to, cli: c }), ...straddling.all({ stage, to, cli: c }), ...open.all({ stage, to, cli: c })];
      return rows.sort((a, b) => a.start - b.start);
    },
    async paused(): Promise<(ReportAgent & { stage: Stage; since: number })[]> {
      return paused.all().map((r) => ({ ...r, pause: true, since: r.since! }));
    },
  };
}
