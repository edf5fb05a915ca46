import type { PgPool } from '../db/pg.js';
import type { Stage } from '../http/routing.js';
import type { BreakInterval, ReportAgent } from './report.js';
import type { BreaksStore } from './breaks.store.js';

/**
 * Breaks on PostgreSQL (docs/http.md §11), the same three parts as breaks.store.sqlite.ts, each
 * served by an index of migrations-pg: breaks that ended inside [from, to) (partial index
 * pause_events_break_ends), breaks that began before `to` and ended after it (the first change
 * after `to` per agent, pause_events_stage_cli_at), and breaks still open (agents paused since
 * before `to`). One statement, so the three parts come from one snapshot.
 */

interface AgentRow {
  cli: string;
  name: string | null;
  pause: boolean;
  reason: string | null;
  since: number | null;
}

export function createPgBreaksStore(pool: PgPool): BreaksStore {
  const cliFilter = '($2::text IS NULL OR cli = $2)';
  return {
    async agents(stage: Stage, cli?: string): Promise<ReportAgent[]> {
      const r = await pool.query<AgentRow>(`SELECT cli, name, pause, reason, since FROM agents WHERE stage = $1 AND ${cliFilter} ORDER BY cli`, [
        stage,
        cli ?? null,
      ]);
      return r.rows;
    },
    async breaks(stage: Stage, from: number, to: number, cli?: string): Promise<BreakInterval[]> {
      const r = await pool.query<BreakInterval>(
        `SELECT cli, prev_since AS start, at AS "end", prev_reason AS reason
           FROM pause_events
          WHERE stage = $1 AND prev_pause AND at > $3 AND at <= $4 AND ${cliFilter}
         UNION ALL
         SELECT e.cli, e.prev_since, e.at, e.prev_reason
           FROM agents a
           CROSS JOIN LATERAL (
             SELECT x.cli, x.prev_since, x.at, x.prev_reason, x.prev_pause FROM pause_events x
              WHERE x.stage = a.stage AND x.cli = a.cli AND x.at > $4
              ORDER BY x.at, x.id LIMIT 1) e
          WHERE a.stage = $1 AND ($2::text IS NULL OR a.cli = $2) AND e.prev_pause AND e.prev_since < $4
         UNION ALL
         SELECT cli, since, NULL, reason FROM agents
          WHERE stage = $1 AND pause AND since < $4 AND ${cliFilter}`,
        [stage, cli ?? null, from, to],
      );
      return r.rows.sort((a, b) => a.start - b.start);
    },
    async paused(): Promise<(ReportAgent & { stage: Stage; since: number })[]> {
      const r = await pool.query<AgentRow & { stage: Stage; since: number }>(
        'SELECT stage, cli, name, pause, reason, since FROM agents WHERE pause AND since IS NOT NULL',
      );
      return r.rows;
    },
  };
}
