import type { Db } from '../db/open.js';
import type { Stage } from '../http/routing.js';

/**
 * SQL for agents and their pause-change log (tables of migration 010). Statements are prepared
 * once per repo instance. Plain SQL so a PostgreSQL implementation can follow.
 */

export type PauseSource = 'ivr' | 'webhook' | 'admin' | 'auto';

export interface AgentRecord {
  stage: Stage;
  /** E.164. */
  cli: string;
  name: string | null;
  accountId: string | null;
  language: string | null;
  pause: boolean;
  reason: string | null;
  /** When the current state began (ms); null until the first change. */
  since: number | null;
}

export interface PauseEventRecord {
  id: number;
  stage: Stage;
  /** ms since the epoch. */
  at: number;
  cli: string;
  pause: boolean;
  reason: string | null;
  source: PauseSource;
  callId: string | null;
  /** The state this change ended. */
  prevPause: boolean;
  prevReason: string | null;
  prevSince: number | null;
}

export interface AgentProfile {
  name?: string | null;
  accountId?: string | null;
  language?: string | null;
}

interface AgentRow {
  stage: Stage;
  cli: string;
  name: string | null;
  account_id: string | null;
  language: string | null;
  pause: number;
  reason: string | null;
  since: number | null;
}

interface EventRow {
  id: number;
  stage: Stage;
  at: number;
  cli: string;
  pause: number;
  reason: string | null;
  source: PauseSource;
  call_id: string | null;
  prev_pause: number;
  prev_reason: string | null;
  prev_since: number | null;
}

const AGENT_COLUMNS = 'stage, cli, name, account_id, language, pause, reason, since';

const toAgent = (r: AgentRow): AgentRecord => ({
  stage: r.stage,
  cli: r.cli,
  name: r.name,
  accountId: r.account_id,
  language: r.language,
  pause: r.pause === 1,
  reason: r.reason,
  since: r.since,
});

const toEvent = (r: EventRow): PauseEventRecord => ({
  id: r.id,
  stage: r.stage,
  at: r.at,
  cli: r.cli,
  pause: r.pause === 1,
  reason: r.reason,
  source: r.source,
  callId: r.call_id,
  prevPause: r.prev_pause === 1,
  prevReason: r.prev_reason,
  prevSince: r.prev_since,
});

export interface EventQuery {
  stage: Stage;
  cli?: string;
  /** Inclusive lower bound, ms. */
  from?: number;
  /** Exclusive upper bound, ms. */
  to?: number;
  limit: number;
}

export function createPauseRepo(db: Db) {
  const getAgent = db.prepare<[Stage, string], AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE stage = ? AND cli = ?`);
  const listAgents = db.prepare<[Stage], AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE stage = ? ORDER BY cli`);
  const insertAgent = db.prepare(
    `INSERT INTO agents (stage, cli, name, account_id, language, pause, reason, since, created_at, updated_at)
     VALUES (@stage, @cli, @name, @accountId, @language, 0, NULL, NULL, @now, @now)`,
  );
  // COALESCE-free update: the caller passes the merged profile.
  const updateProfile = db.prepare(
    `UPDATE agents SET name = @name, account_id = @accountId, language = @language, updated_at = @now
     WHERE stage = @stage AND cli = @cli`,
  );
  const deleteAgent = db.prepare<[Stage, string]>('DELETE FROM agents WHERE stage = ? AND cli = ?');
  const setState = db.prepare(
    `UPDATE agents SET pause = @pause, reason = @reason, since = @at, updated_at = @at WHERE stage = @stage AND cli = @cli`,
  );
  const insertEvent = db.prepare(
    `INSERT INTO pause_events (stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since)
     VALUES (@stage, @at, @cli, @pause, @reason, @source, @callId, @prevPause, @prevReason, @prevSince)`,
  );
  const eventColumns = 'id, stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since';
  const eventsAll = db.prepare(
    `SELECT ${eventColumns} FROM pause_events WHERE stage = @stage AND at >= @from AND at < @to ORDER BY at, id LIMIT @limit`,
  );
  const eventsByCli = db.prepare(
    `SELECT ${eventColumns} FROM pause_events WHERE stage = @stage AND cli = @cli AND at >= @from AND at < @to ORDER BY at, id LIMIT @limit`,
  );

  return {
    get(stage: Stage, cli: string): AgentRecord | undefined {
      const row = getAgent.get(stage, cli);
      return row && toAgent(row);
    },
    list(stage: Stage): AgentRecord[] {
      return listAgents.all(stage).map(toAgent);
    },
    /** Insert a new, available agent. */
    insert(stage: Stage, cli: string, profile: Required<AgentProfile>, now: number): void {
      insertAgent.run({ stage, cli, ...profile, now });
    },
    updateProfile(stage: Stage, cli: string, profile: Required<AgentProfile>, now: number): void {
      updateProfile.run({ stage, cli, ...profile, now });
    },
    delete(stage: Stage, cli: string): boolean {
      return deleteAgent.run(stage, cli).changes === 1;
    },
    setState(stage: Stage, cli: string, pause: boolean, reason: string | null, at: number): void {
      setState.run({ stage, cli, pause: pause ? 1 : 0, reason, at });
    },
    insertEvent(e: Omit<PauseEventRecord, 'id'>): PauseEventRecord {
      const info = insertEvent.run({
        ...e,
        pause: e.pause ? 1 : 0,
        prevPause: e.prevPause ? 1 : 0,
      });
      return { ...e, id: Number(info.lastInsertRowid) };
    },
    events(q: EventQuery): PauseEventRecord[] {
      const args = { stage: q.stage, from: q.from ?? 0, to: q.to ?? Number.MAX_SAFE_INTEGER, limit: q.limit };
      const rows = (q.cli ? eventsByCli.all({ ...args, cli: q.cli }) : eventsAll.all(args)) as EventRow[];
      return rows.map(toEvent);
    },
  };
}

export type PauseRepo = ReturnType<typeof createPauseRepo>;
