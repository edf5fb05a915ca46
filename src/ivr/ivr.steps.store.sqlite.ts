import type { Db } from '../db/open.js';
import type { Stage } from '../http/routing.js';
import type { CallStep, KeptReply } from '../pause/pause.store.js';
import type { IvrStepsStore, KeepResult } from './ivr.steps.store.js';

/**
 * A call's step and record on SQLite (tables ivr_steps and ivr_calls), as statements run inside a
 * caller's IMMEDIATE transaction: this store's `keep`, and the pause store's change that keeps
 * its reply (`PauseChange.alsoKeep`), so one IVR callback is one transaction.
 */
export class SqliteCallSteps {
  private readonly firstSeenStmt;
  private readonly storedStmt;
  private readonly insertStepStmt;
  private readonly recordCallStmt;

  constructor(db: Db) {
    this.firstSeenStmt = db.prepare<[Stage, string], number>('SELECT first_seen FROM ivr_calls WHERE stage = ? AND call_id = ?').pluck();
    this.storedStmt = db.prepare<[Stage, string, string], string>('SELECT reply FROM ivr_steps WHERE stage = ? AND call_id = ? AND step = ?').pluck();
    // Run only after `check` found no reply, inside the same transaction: it never conflicts.
    this.insertStepStmt = db.prepare<[Stage, string, string, string, number]>(
      'INSERT INTO ivr_steps (stage, call_id, step, reply, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    // A known call keeps its first time; its last words change only when the reply spoke some.
    this.recordCallStmt = db.prepare<[Stage, string, number, string | null]>(
      `INSERT INTO ivr_calls (stage, call_id, first_seen, last_said) VALUES (?, ?, ?, ?)
       ON CONFLICT (stage, call_id) DO UPDATE SET last_said = coalesce(excluded.last_said, last_said)`,
    );
  }

  /** Before anything is written: `expired` (docs/http.md §7.1), the reply already stored under the step, or undefined. */
  check(k: CallStep): { kind: 'expired' } | { kind: 'replayed'; reply: string } | undefined {
    if (k.refuseSeenBefore !== undefined) {
      const seen = this.firstSeenStmt.get(k.stage, k.callId);
      if (seen !== undefined && seen < k.refuseSeenBefore) return { kind: 'expired' };
    }
    const reply = this.storedStmt.get(k.stage, k.callId, k.step);
    return reply === undefined ? undefined : { kind: 'replayed', reply };
  }

  /** Store the step's reply and the call's record; only after `check` returned undefined in the same transaction. */
  keep(k: CallStep, kept: KeptReply, now: number): void {
    this.insertStepStmt.run(k.stage, k.callId, k.step, kept.reply, now);
    this.recordCallStmt.run(k.stage, k.callId, now, kept.said ?? null);
  }
}

/** IVR step replies and call ids on SQLite (tables ivr_steps and ivr_calls). */
export class SqliteIvrStepsStore implements IvrStepsStore {
  private readonly keepTx;
  private readonly pruneStmt;
  private readonly pruneCallsStmt;
  private readonly lastSaidStmt;

  constructor(db: Db) {
    const steps = new SqliteCallSteps(db);
    this.keepTx = db.transaction((k: CallStep, kept: KeptReply, now: number): KeepResult => {
      const found = steps.check(k);
      if (found) return found;
      steps.keep(k, kept, now);
      return { kind: 'kept', reply: kept.reply };
    });
    this.pruneStmt = db.prepare<[number]>('DELETE FROM ivr_steps WHERE created_at < ?');
    this.pruneCallsStmt = db.prepare<[number]>('DELETE FROM ivr_calls WHERE first_seen < ?');
    this.lastSaidStmt = db.prepare<[Stage, string], string | null>('SELECT last_said FROM ivr_calls WHERE stage = ? AND call_id = ?').pluck();
  }

  async keep(k: CallStep, kept: KeptReply, now: number): Promise<KeepResult> {
    return this.keepTx.immediate(k, kept, now);
  }

  async lastSaid(stage: Stage, callId: string): Promise<string | undefined> {
    return this.lastSaidStmt.get(stage, callId) ?? undefined;
  }

  async prune(before: number): Promise<number> {
    return this.pruneStmt.run(before).changes;
  }

  async pruneCalls(before: number): Promise<number> {
    return this.pruneCallsStmt.run(before).changes;
  }
}
