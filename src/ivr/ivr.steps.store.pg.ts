import type { PgPool } from '../db/pg.js';
import type { Stage } from '../http/routing.js';
import type { IvrStepsStore } from './ivr.steps.store.js';

/** IVR step replies and call ids on PostgreSQL (tables ivr_steps and ivr_calls; docs/http.md §11). */
export class PgIvrStepsStore implements IvrStepsStore {
  constructor(private readonly pool: PgPool) {}

  async get(stage: Stage, callId: string, step: string): Promise<string | undefined> {
    const r = await this.pool.query<{ reply: string }>('SELECT reply FROM ivr_steps WHERE stage = $1 AND call_id = $2 AND step = $3', [
      stage,
      callId,
      step,
    ]);
    return r.rows[0]?.reply;
  }

  async keep(stage: Stage, callId: string, step: string, reply: string, now: number): Promise<string> {
    // RETURNING yields the row only when it was inserted; on a conflict the first reply is read.
    const r = await this.pool.query<{ reply: string }>(
      `INSERT INTO ivr_steps (stage, call_id, step, reply, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (stage, call_id, step) DO NOTHING RETURNING reply`,
      [stage, callId, step, reply, now],
    );
    return r.rows[0]?.reply ?? (await this.get(stage, callId, step)) ?? reply;
  }

  async firstSeen(stage: Stage, callId: string, now: number): Promise<number> {
    // One statement: concurrent first requests on any instance agree on the first time.
    const r = await this.pool.query<{ first_seen: number }>(
      `INSERT INTO ivr_calls (stage, call_id, first_seen) VALUES ($1, $2, $3)
       ON CONFLICT (stage, call_id) DO UPDATE SET first_seen = ivr_calls.first_seen RETURNING first_seen`,
      [stage, callId, now],
    );
    return r.rows[0]!.first_seen;
  }

  async noteSaid(stage: Stage, callId: string, text: string): Promise<void> {
    await this.pool.query('UPDATE ivr_calls SET last_said = $1 WHERE stage = $2 AND call_id = $3', [text, stage, callId]);
  }

  async lastSaid(stage: Stage, callId: string): Promise<string | undefined> {
    const r = await this.pool.query<{ last_said: string | null }>('SELECT last_said FROM ivr_calls WHERE stage = $1 AND call_id = $2', [stage, callId]);
    return r.rows[0]?.last_said ?? undefined;
  }

  async prune(before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM ivr_steps WHERE created_at < $1', [before])).rowCount ?? 0;
  }

  async pruneCalls(before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM ivr_calls WHERE first_seen < $1', [before])).rowCount ?? 0;
  }
}
