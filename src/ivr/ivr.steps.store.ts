import type { Stage } from '../http/routing.js';

/**
 * Replies already given per call id + step (table ivr_steps), so a platform retry of the same
 * step gets the same reply and changes nothing twice (docs/http.md §4), and when each call id was
 * first seen and what it last heard (table ivr_calls, docs/http.md §7.1, §10). A reply that goes with a
 * pause change is stored by the pause store in the change's own transaction
 * (`PauseChange.alsoKeep`); this store keeps the others and prunes old ones.
 * Engines: ivr.steps.store.sqlite.ts, ivr.steps.store.pg.ts.
 */
export interface IvrStepsStore {
  get(stage: Stage, callId: string, step: string): Promise<string | undefined>;
  /** Store the reply unless one is stored already; returns the stored reply (the first one wins). */
  keep(stage: Stage, callId: string, step: string, reply: string, now: number): Promise<string>;
  /** When this call id was first seen: `now` for a new one (concurrent first requests agree). */
  firstSeen(stage: Stage, callId: string, now: number): Promise<number>;
  /** Note what the call's latest reply spoke (ivr_calls.last_said; docs/http.md §10). */
  noteSaid(stage: Stage, callId: string, text: string): Promise<void>;
  /** What the call's latest reply spoke, if a reply was given. */
  lastSaid(stage: Stage, callId: string): Promise<string | undefined>;
  /** Delete replies stored before `before`; returns how many. */
  prune(before: number): Promise<number>;
  /** Forget call ids first seen before `before`; returns how many. */
  pruneCalls(before: number): Promise<number>;
}
