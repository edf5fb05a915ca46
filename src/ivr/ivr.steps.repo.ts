import type { Db } from '../db/open.js';
import type { Stage } from '../http/routing.js';

/**
 * Replies already given per call id + step (table ivr_steps), for platform retries (docs/http.md
 * §4), and when each call id was first seen (table ivr_calls, docs/http.md §7.1).
 */
export function createIvrStepsRepo(db: Db) {
  const get = db.prepare<[Stage, string, string], string>('SELECT reply FROM ivr_steps WHERE stage = ? AND call_id = ? AND step = ?').pluck();
  const insert = db.prepare(
    `INSERT INTO ivr_steps (stage, call_id, step, reply, created_at) VALUES (@stage, @callId, @step, @reply, @now)
     ON CONFLICT (stage, call_id, step) DO NOTHING`,
  );
  const prune = db.prepare<[number]>('DELETE FROM ivr_steps WHERE created_at < ?');
  const seen = db
    .prepare<[Stage, string, number], number>(
      `INSERT INTO ivr_calls (stage, call_id, first_seen) VALUES (?, ?, ?)
       ON CONFLICT (stage, call_id) DO UPDATE SET first_seen = first_seen RETURNING first_seen`,
    )
    .pluck();
  const pruneCalls = db.prepare<[number]>('DELETE FROM ivr_calls WHERE first_seen < ?');
  return {
    get: (stage: Stage, callId: string, step: string): string | undefined => get.get(stage, callId, step),
    /** Store the reply unless one is stored already; returns the stored reply (first one wins). */
    keep(stage: Stage, callId: string, step: string, reply: string, now: number): string {
      insert.run({ stage, callId, step, reply, now });
      return get.get(stage, callId, step) ?? reply;
    },
    /** When this call id was first seen: now, for a new one (one statement, so concurrent first requests agree). */
    firstSeen: (stage: Stage, callId: string, now: number): number => seen.get(stage, callId, now)!,
    prune: (before: number): number => prune.run(before).changes,
    pruneCalls: (before: number): number => pruneCalls.run(before).changes,
  };
}

export type IvrStepsRepo = ReturnType<typeof createIvrStepsRepo>;
