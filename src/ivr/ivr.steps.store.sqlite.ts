import type { Db } from '../db/open.js';
import type { Stage } from '../http/routing.js';
import type { IvrStepsStore } from './ivr.steps.store.js';

/** IVR step replies and call ids on SQLite (tables ivr_steps and ivr_calls). */
export class SqliteIvrStepsStore implements IvrStepsStore {
  private readonly getStmt;
  private readonly insertStmt;
  private readonly pruneStmt;
  private readonly seenStmt;
  private readonly pruneCallsStmt;
  private readonly saidStmt;
  private readonly lastSaidStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[Stage, string, string], string>('SELECT reply FROM ivr_steps WHERE stage = ? AND call_id = ? AND step = ?').pluck();
    // RETURNING yields the row only when it was inserted; a conflict means another reply won.
    this.insertStmt = db
      .prepare<{ stage: Stage; callId: string; step: string; reply: string; now: number }, string>(
        `INSERT INTO ivr_steps (stage, call_id, step, reply, created_at) VALUES (@stage, @callId, @step, @reply, @now)
         ON CONFLICT (stage, call_id, step) DO NOTHING RETURNING reply`,
      )
      .pluck();
    this.pruneStmt = db.prepare<[number]>('DELETE FROM ivr_steps WHERE created_at < ?');
    // One statement, so concurrent first requests agree on the first time.
    this.seenStmt = db
      .prepare<[Stage, string, number], number>(
        `INSERT INTO ivr_calls (stage, call_id, first_seen) VALUES (?, ?, ?)
         ON CONFLICT (stage, call_id) DO UPDATE SET first_seen = first_seen RETURNING first_seen`,
      )
      .pluck();
    this.pruneCallsStmt = db.prepare<[number]>('DELETE FROM ivr_calls WHERE first_seen < ?');
    this.saidStmt = db.prepare<[string, Stage, string]>('UPDATE ivr_calls SET last_said = ? WHERE stage = ? AND call_id = ?');
    this.lastSaidStmt = db.prepare<[Stage, string], string | null>('SELECT last_said FROM ivr_calls WHERE stage = ? AND call_id = ?').pluck();
  }

  async noteSaid(stage: Stage, callId: string, text: string): Promise<void> {
    this.saidStmt.run(text, stage, callId);
  }

  async lastSaid(stage: Stage, callId: string): Promise<string | undefined> {
    return this.lastSaidStmt.get(stage, callId) ?? undefined;
  }

  async firstSeen(stage: Stage, callId: string, now: number): Promise<number> {
    return this.seenStmt.get(stage, callId, now)!;
  }

  async pruneCalls(before: number): Promise<number> {
    return this.pruneCallsStmt.run(before).changes;
  }

  async get(stage: Stage, callId: string, step: string): Promise<string | undefined> {
    return this.getStmt.get(stage, callId, step);
  }

  async keep(stage: Stage, callId: string, step: string, reply: string, now: number): Promise<string> {
    return this.insertStmt.get({ stage, callId, step, reply, now }) ?? this.getStmt.get(stage, callId, step) ?? reply;
  }

  async prune(before: number): Promise<number> {
    return this.pruneStmt.run(before).changes;
  }
}
