import type { Db } from '../db/open.js';
import type { Stage } from '../http/routing.js';
import type {
  AgentProfile,
  AgentRecord,
  EventQuery,
  PauseChange,
  PauseChangeResult,
  PauseEventRecord,
  PauseStore,
  PauseTarget,
} from './pause.store.js';
import { SqliteCallSteps } from '../ivr/ivr.steps.store.sqlite.js';
import { AGENT_COLUMNS, changedEvent, pauseEventColumns, toAgent, toPauseEvent, type AgentRow, type PauseEventRow } from './pause.rows.js';

const EVENT_COLUMNS = pauseEventColumns();

/**
 * The pause store on SQLite (tables of migration 010). better-sqlite3 is synchronous: each method
 * runs one statement or one IMMEDIATE transaction to completion, then resolves, so `decide`,
 * `onlyIf` and `alsoKeep.reply` run inside the transaction and nothing interleaves with them.
 */
export class SqlitePauseStore implements PauseStore {
  private readonly getAgentStmt;
  private readonly listAgentsStmt;
  private readonly insertAgentStmt;
  private readonly updateProfileStmt;
  private readonly deleteAgentStmt;
  private readonly setStateStmt;
  private readonly insertEventStmt;
  private readonly eventsAllStmt;
  private readonly eventsByCliStmt;
  private readonly queueNotificationStmt;
  private readonly saveTx;
  private readonly importTx;
  private readonly changeTx;

  constructor(db: Db) {
    this.getAgentStmt = db.prepare<[Stage, string], AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE stage = ? AND cli = ?`);
    this.listAgentsStmt = db.prepare<[Stage], AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE stage = ? ORDER BY cli`);
    this.insertAgentStmt = db.prepare(
      `INSERT INTO agents (stage, cli, name, account_id, language, pause, reason, since, created_at, updated_at)
       VALUES (@stage, @cli, @name, @accountId, @language, 0, NULL, NULL, @now, @now)`,
    );
    this.updateProfileStmt = db.prepare(
      `UPDATE agents SET name = @name, account_id = @accountId, language = @language, updated_at = @now
       WHERE stage = @stage AND cli = @cli`,
    );
    this.deleteAgentStmt = db.prepare<[Stage, string]>('DELETE FROM agents WHERE stage = ? AND cli = ?');
    // A pause change's two writes bind their values by position (cheaper than by name, issue 15).
    this.setStateStmt = db.prepare<[number, string | null, number, number, Stage, string]>(
      'UPDATE agents SET pause = ?, reason = ?, since = ?, updated_at = ? WHERE stage = ? AND cli = ?',
    );
    this.insertEventStmt = db.prepare<[Stage, number, string, number, string | null, string, string | null, number, string | null, number | null]>(
      `INSERT INTO pause_events (stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.eventsAllStmt = db.prepare<{ stage: Stage; from: number; to: number; limit: number }, PauseEventRow>(
      `SELECT ${EVENT_COLUMNS} FROM pause_events WHERE stage = @stage AND at >= @from AND at < @to ORDER BY at, id LIMIT @limit`,
    );
    this.eventsByCliStmt = db.prepare<{ stage: Stage; cli: string; from: number; to: number; limit: number }, PauseEventRow>(
      // Without the hint SQLite's planner may pick pause_events_by_time and read every agent's events in the window.
      `SELECT ${EVENT_COLUMNS} FROM pause_events INDEXED BY pause_events_stage_cli_at
        WHERE stage = @stage AND cli = @cli AND at >= @from AND at < @to ORDER BY at, id LIMIT @limit`,
    );
    const callSteps = new SqliteCallSteps(db);

    this.queueNotificationStmt = db.prepare("INSERT INTO outbox (type, event_id, name) VALUES ('pause.changed', ?, ?)");

    this.saveTx = db.transaction((stage: Stage, cli: string, profile: AgentProfile, now: number) => this.upsert(stage, cli, profile, now));
    this.importTx = db.transaction((stage: Stage, rows: { cli: string; profile: AgentProfile }[], now: number) => {
      let imported = 0;
      let updated = 0;
      for (const r of rows) {
        if (this.upsert(stage, r.cli, r.profile, now).created) imported++;
        else updated++;
      }
      return { imported, updated };
    });
    this.changeTx = db.transaction(
      (stage: Stage, cli: string, decide: (a: AgentRecord) => PauseTarget | null, change: PauseChange): PauseChangeResult => {
        const keep = change.alsoKeep;
        if (keep) {
          const found = callSteps.check(keep);
          if (found) return found;
        }
        const row = this.getAgentStmt.get(stage, cli);
        if (!row) return { kind: 'notFound' };
        const cur = toAgent(row);
        if (change.onlyIf && !change.onlyIf(cur)) return { kind: 'skipped', agent: cur };
        const next = decide(cur);
        let outcome: { agent: AgentRecord; changed: boolean; event: PauseEventRecord | null };
        if (!next) {
          outcome = { agent: cur, changed: false, event: null };
        } else {
          const at = change.at;
          const callId = change.callId ?? null;
          this.setStateStmt.run(next.pause ? 1 : 0, next.reason, at, at, stage, cli);
          const info = this.insertEventStmt.run(
            stage,
            at,
            cli,
            next.pause ? 1 : 0,
            next.reason,
            change.source,
            callId,
            cur.pause ? 1 : 0,
            cur.reason,
            cur.since,
          );
          const id = Number(info.lastInsertRowid);
          if (change.notify) this.queueNotificationStmt.run(id, cur.name);
          const event = changedEvent(id, stage, cli, at, next, change.source, callId, cur);
          outcome = { agent: { ...cur, pause: next.pause, reason: next.reason, since: at }, changed: true, event };
        }
        if (!keep) return { kind: 'applied', ...outcome };
        const kept = keep.reply(outcome);
        callSteps.keep(keep, kept, change.at);
        return { kind: 'applied', ...outcome, reply: kept.reply };
      },
    );
  }

  /** Create or merge; runs inside the caller's transaction. */
  private upsert(stage: Stage, cli: string, profile: AgentProfile, now: number): { agent: AgentRecord; created: boolean } {
    const row = this.getAgentStmt.get(stage, cli);
    if (!row) {
      const agent: AgentRecord = {
        stage,
        cli,
        name: profile.name ?? null,
        accountId: profile.accountId ?? null,
        language: profile.language ?? null,
        pause: false,
        reason: null,
        since: null,
      };
      this.insertAgentStmt.run({ stage, cli, name: agent.name, accountId: agent.accountId, language: agent.language, now });
      return { agent, created: true };
    }
    const cur = toAgent(row);
    const agent: AgentRecord = {
      ...cur,
      name: profile.name !== undefined ? profile.name : cur.name,
      accountId: profile.accountId !== undefined ? profile.accountId : cur.accountId,
      language: profile.language !== undefined ? profile.language : cur.language,
    };
    this.updateProfileStmt.run({ stage, cli, name: agent.name, accountId: agent.accountId, language: agent.language, now });
    return { agent, created: false };
  }

  async getAgent(stage: Stage, cli: string): Promise<AgentRecord | undefined> {
    const row = this.getAgentStmt.get(stage, cli);
    return row && toAgent(row);
  }

  async listAgents(stage: Stage): Promise<AgentRecord[]> {
    return this.listAgentsStmt.all(stage).map(toAgent);
  }

  async saveAgent(stage: Stage, cli: string, profile: AgentProfile, now: number) {
    return this.saveTx.immediate(stage, cli, profile, now);
  }

  async importAgents(stage: Stage, rows: { cli: string; profile: AgentProfile }[], now: number) {
    return rows.length === 0 ? { imported: 0, updated: 0 } : this.importTx.immediate(stage, rows, now);
  }

  async deleteAgent(stage: Stage, cli: string): Promise<boolean> {
    return this.deleteAgentStmt.run(stage, cli).changes === 1;
  }

  async applyPauseChange(
    stage: Stage,
    cli: string,
    decide: (agent: AgentRecord) => PauseTarget | null,
    change: PauseChange,
  ): Promise<PauseChangeResult> {
    return this.changeTx.immediate(stage, cli, decide, change);
  }

  async events(q: EventQuery): Promise<PauseEventRecord[]> {
    const args = { stage: q.stage, from: q.from ?? 0, to: q.to ?? Number.MAX_SAFE_INTEGER, limit: q.limit };
    const rows = q.cli ? this.eventsByCliStmt.all({ ...args, cli: q.cli }) : this.eventsAllStmt.all(args);
    return rows.map(toPauseEvent);
  }
}
